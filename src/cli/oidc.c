/*
 * `kruispunt oidc client add|list|rotate-secret|remove` and `kruispunt oidc
 * key list|rotate|retire` (`oidc provider`: federation.c): the operator registers the applications that
 * rely on kruispunt (docs/OIDC.md) and rolls the signing keys. Client
 * changes are audit events; a running daemon sees them at once (clients
 * are read from the store on every request), and new keys at its next
 * start.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "oidc/oidc.h"

struct oidc_args {
	const char *data, *alg, *kid, *jwks_file;
	struct oidc_client_spec spec;
	char redirects[2048], logouts[2048];
};

/* Append one URI to a space-separated list. */
static int add_uri(char *list, size_t n, const char *uri)
{
	size_t l = strlen(list);
	int w = snprintf(list + l, n - l, "%s%s", l ? " " : "", uri);
	return w > 0 && (size_t)w < n - l ? 0 : -1;
}

static int parse(int argc, char **argv, struct oidc_args *a)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"id", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'n'},
		{"kbo", required_argument, NULL, 'k'},
		{"app", required_argument, NULL, 'a'},
		{"auth-method", required_argument, NULL, 'm'},
		{"redirect-uri", required_argument, NULL, 'r'},
		{"post-logout-uri", required_argument, NULL, 'p'},
		{"scopes", required_argument, NULL, 's'},
		{"jwks", required_argument, NULL, 'j'},
		{"id-token-alg", required_argument, NULL, 'g'},
		{"subject-type", required_argument, NULL, 't'},
		{"min-level", required_argument, NULL, 'l'},
		{"alg", required_argument, NULL, 'A'},
		{"kid", required_argument, NULL, 'K'},
		{NULL, 0, NULL, 0}};
	struct oidc_client_spec *s = &a->spec;
	long long n;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 2, argv + 2, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->data = optarg; break;
		case 'i': s->id = optarg; break;
		case 'n': s->name = optarg; break;
		case 'k': s->kbo = optarg; break;
		case 'a': s->app = optarg; break;
		case 'm': s->auth_method = optarg; break;
		case 's': s->scopes = optarg; break;
		case 'j': a->jwks_file = optarg; break;
		case 'g': s->id_token_alg = optarg; break;
		case 't': s->subject_type = optarg; break;
		case 'A': a->alg = optarg; break;
		case 'K': a->kid = optarg; break;
		case 'r':
			if (add_uri(a->redirects, sizeof(a->redirects), optarg))
				return -1;
			break;
		case 'p':
			if (add_uri(a->logouts, sizeof(a->logouts), optarg))
				return -1;
			break;
		case 'l':
			if (cli_number(optarg, 100, 500, &n) != 0)
				return -1;
			s->min_level = (int)n;
			break;
		default: return -1;
		}
	}
	s->redirect_uris = a->redirects;
	s->post_logout_uris = a->logouts;
	if (!s->auth_method)
		s->auth_method = "client_secret_basic";
	return a->data ? 0 : -1;
}

static void print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2));
	if (text)
		puts(text);
	free(text);
	json_decref(j);
}

static int key_verb(const char *verb, const struct oidc_args *a,
		    const char *dir, struct error *e)
{
	char kid[64];
	if (strcmp(verb, "rotate") == 0) {
		if (oidc_key_rotate(dir, a->alg ? a->alg : "ES256", kid, e))
			return -1;
		printf("new signing key %s (published now; it signs from the "
		       "daemon's next start)\n", kid);
		return 0;
	}
	if (strcmp(verb, "retire") == 0) {
		if (!a->kid)
			return err_set(e, ERR_INVALID, "usage",
				       "retire needs --kid");
		if (oidc_key_retire(dir, a->kid, e) != 0)
			return -1;
		printf("retired %s\n", a->kid);
		return 0;
	}
	json_t *l = oidc_key_list(dir, e);
	if (!l)
		return -1;
	print_json(l);
	return 0;
}

/* Read --jwks FILE into spec (the text stays in *text, caller frees). */
static int read_jwks(struct oidc_args *a, char **text, struct error *e)
{
	*text = NULL;
	if (!a->jwks_file)
		return 0;
	json_t *j = json_load_file(a->jwks_file, 0, NULL);
	if (!j)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "--jwks: %s is not a JSON file", a->jwks_file);
	*text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	a->spec.jwks = *text;
	return 0;
}

static int client_verb(const char *verb, struct oidc_args *a, struct oidc *o,
		       struct error *e)
{
	char secret[OIDC_SECRET_HEX] = "";
	int rc = 0;
	if (strcmp(verb, "list") == 0) {
		json_t *l = oidc_client_list(o, e);
		if (!l)
			return -1;
		print_json(l);
		return 0;
	}
	if (!a->spec.id)
		return err_set(e, ERR_INVALID, "usage", "%s needs --id", verb);
	if (strcmp(verb, "add") == 0) {
		char *jwks = NULL;
		rc = read_jwks(a, &jwks, e) ||
		     oidc_client_add(o, &cli_operator, &a->spec, secret, e);
		free(jwks);
	} else if (strcmp(verb, "rotate-secret") == 0)
		rc = oidc_client_rotate_secret(o, &cli_operator, a->spec.id,
					       secret, e);
	else if (strcmp(verb, "remove") == 0)
		rc = oidc_client_remove(o, &cli_operator, a->spec.id, e);
	else
		return err_set(e, ERR_INVALID, "usage", "unknown verb %s",
			       verb);
	if (rc != 0)
		return -1;
	/* The secret is shown once, here, and never kept. */
	json_t *out = json_pack("{s:s,s:s}", "client_id", a->spec.id, "status",
				strcmp(verb, "remove") ? "ok" : "removed");
	if (secret[0])
		json_object_set_new(out, "client_secret", json_string(secret));
	secret_wipe(secret, sizeof(secret));
	print_json(out);
	return 0;
}

/* Open authentication and the provider on log (keys in dir). Returns 0
 * with *au and *o (cli_oidc_close), or -1 with e. */
static int provider_open(const struct cli_config *cfg, struct audit *log,
			 const char *dir, struct auth **au, struct oidc **o,
			 struct error *e)
{
	*o = NULL;
	int rc = cli_auth_open(cfg, log, au, e);
	if (rc == 0)
		rc = oidc_open(log, *au, &cfg->oidc, dir, o, e);
	return rc;
}

static void provider_close(struct auth *au, struct oidc *o)
{
	oidc_close(o);
	auth_close(au);
}

/* Open authentication and the provider on log, run the client verb. */
static int with_provider(const struct cli_config *cfg, struct audit *log,
			 const char *dir, const char *verb,
			 struct oidc_args *a, struct error *e)
{
	struct auth *au;
	struct oidc *o;
	int rc = provider_open(cfg, log, dir, &au, &o, e);
	if (rc == 0)
		rc = client_verb(verb, a, o, e);
	provider_close(au, o);
	return rc;
}

int cli_oidc_demo_client(const struct cli_config *cfg, struct audit *log,
			 struct error *e)
{
	char path[LIMIT_PATH], dir[LIMIT_PATH];
	if (config_path(cfg->base.data_dir, CLI_OIDC_DEMO_CLIENT, path,
			sizeof(path)) != 0 ||
	    config_path(cfg->base.data_dir, "keys/oidc", dir, sizeof(dir)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	if (access(path, F_OK) == 0)
		return 0;
	static const char uris[] = "http://127.0.0.1:8080/callback "
				   "http://localhost:8080/callback";
	struct oidc_client_spec spec = {
		.id = "demo-app", .name = "Demo application (MyPension)",
		.kbo = "0236600024", .app = "mypension",
		.auth_method = "client_secret_basic", .redirect_uris = uris,
		.post_logout_uris = "http://127.0.0.1:8080/",
		.scopes = "openid profile email egovnrn"};
	struct auth *au;
	struct oidc *o;
	char secret[OIDC_SECRET_HEX] = "";
	int rc = provider_open(cfg, log, dir, &au, &o, e);
	if (rc == 0)
		rc = oidc_client_add(o, &cli_operator, &spec, secret, e);
	provider_close(au, o);
	if (rc != 0)
		return -1;
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "client_id", spec.id,
			      "client_secret", secret, "redirect_uris", uris,
			      "scopes", spec.scopes);
	char *text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	secret_wipe(secret, sizeof(secret));
	rc = text ? cli_write_new(path, text, strlen(text), e) : -1;
	if (text) {
		secret_wipe(text, strlen(text));
		free(text);
	}
	return rc;
}

int cmd_oidc(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "provider") == 0)
		return cli_oidc_provider(argc, argv);
	struct oidc_args a;
	memset(&a, 0, sizeof(a));
	if (argc < 3 || parse(argc, argv, &a) != 0 ||
	    (strcmp(argv[1], "client") && strcmp(argv[1], "key")))
		return cli_usage("oidc");
	struct cli_config cfg;
	struct store *s = NULL;
	struct error e;
	bool keys = strcmp(argv[1], "key") == 0;
	char dir[LIMIT_PATH];
	int rc = cli_open_data(a.data, &cfg, keys ? NULL : &s, &e);
	if (rc == 0 && config_path(cfg.base.data_dir, "keys/oidc", dir,
				   sizeof(dir)) != 0)
		rc = err_set(&e, ERR_INVALID, "bad_path", "path too long");
	struct audit *log = NULL;
	if (rc == 0 && keys)
		rc = key_verb(argv[2], &a, dir, &e);
	else if (rc == 0 && (rc = cli_open_log(&cfg, s, &log, &e)) == 0)
		rc = with_provider(&cfg, log, dir, argv[2], &a, &e);
	audit_close(log);
	if (rc != 0)
		fprintf(stderr, "kruispunt oidc: %s (%s)\n", e.detail,
			e.code ? e.code : "error");
	store_close(s);
	return rc == 0 ? 0 : 1;
}
