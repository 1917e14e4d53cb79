/*
 * `kruispunt oidc provider add|list|remove`: the external OpenID Providers
 * whose keys open sessions (src/federation, docs/OIDC.md "External keys
 * by federation"). The client secret is read from a file, never from the
 * command line (where ps and the shell's history would show it), and is
 * kept sealed under the master key. Changes are audit events; a running
 * daemon sees them at once.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "federation/federation.h"

struct provider_args {
	const char *data, *secret_file, *ca_file;
	struct federation_provider_spec spec;
};

static int parse(int argc, char **argv, struct provider_args *a)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"id", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'n'},
		{"issuer", required_argument, NULL, 's'},
		{"client-id", required_argument, NULL, 'c'},
		{"client-secret-file", required_argument, NULL, 'f'},
		{"key-type", required_argument, NULL, 'k'},
		{"nrn-claim", required_argument, NULL, 'r'},
		{"acr", required_argument, NULL, 'A'},
		{"ca", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0}};
	struct federation_provider_spec *s = &a->spec;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 2, argv + 2, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->data = optarg; break;
		case 'i': s->id = optarg; break;
		case 'n': s->name = optarg; break;
		case 's': s->issuer = optarg; break;
		case 'c': s->client_id = optarg; break;
		case 'f': a->secret_file = optarg; break;
		case 'k': s->key_type = optarg; break;
		case 'r': s->nrn_claim = optarg; break;
		case 'A': s->acr = optarg; break;
		case 'a': a->ca_file = optarg; break;
		default: return -1;
		}
	}
	return a->data ? 0 : -1;
}

/* The text of file path, at most max bytes, one trailing newline cut
 * (caller frees, wiping it when it is a secret); NULL with e. */
static char *read_text(const char *path, size_t max, struct error *e)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (!f) {
		err_set(e, ERR_INVALID, "invalid_field", "cannot read %s",
			path ? path : "(no file given)");
		return NULL;
	}
	char *buf = xmalloc(max + 2);
	size_t n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		secret_wipe(buf, max + 2);
		free(buf);
		err_set(e, ERR_INVALID, "invalid_field", "%s is too long", path);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return buf;
}

/* Open authentication (for the master key and the key types) and the
 * relying party on log. Returns 0 with *au and *f, or -1 with e. */
static int open_rp(const struct cli_config *cfg, struct audit *log,
		   struct auth **au, struct federation **f, struct error *e)
{
	*f = NULL;
	int rc = cli_auth_open(cfg, log, au, e);
	if (rc == 0)
		rc = federation_open(log, *au, f, e);
	return rc;
}

int cli_federation_add(const struct cli_config *cfg, struct audit *log,
		       const struct federation_provider_spec *spec,
		       bool replace, struct error *e)
{
	struct auth *au;
	struct federation *f;
	int rc = open_rp(cfg, log, &au, &f, e);
	struct error gone;
	if (rc == 0 && replace)
		federation_provider_remove(f, &cli_operator, spec->id, &gone);
	if (rc == 0)
		rc = federation_provider_add(f, &cli_operator, spec, e);
	federation_close(f);
	auth_close(au);
	return rc;
}

static void print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2));
	if (text)
		puts(text);
	free(text);
	json_decref(j);
}

static int verb(const char *v, struct provider_args *a,
		const struct cli_config *cfg, struct audit *log,
		struct error *e)
{
	if (strcmp(v, "add") == 0) {
		char *secret = read_text(a->secret_file, FEDERATION_SECRET_MAX, e);
		char *ca = secret && a->ca_file
				   ? read_text(a->ca_file, FEDERATION_CA_MAX, e)
				   : NULL;
		int rc = !secret || (a->ca_file && !ca) ? -1 : 0;
		a->spec.client_secret = secret;
		a->spec.ca_pem = ca;
		if (rc == 0)
			rc = cli_federation_add(cfg, log, &a->spec, false, e);
		if (secret)
			secret_wipe(secret, strlen(secret));
		free(secret);
		free(ca);
		if (rc == 0)
			printf("provider %s added\n", a->spec.id);
		return rc;
	}
	struct auth *au;
	struct federation *f;
	int rc = open_rp(cfg, log, &au, &f, e);
	if (rc == 0 && strcmp(v, "list") == 0) {
		json_t *l = federation_provider_list(f, false, e);
		rc = l ? 0 : -1;
		if (l)
			print_json(l);
	} else if (rc == 0 && strcmp(v, "remove") == 0) {
		rc = federation_provider_remove(f, &cli_operator, a->spec.id, e);
		if (rc == 0)
			printf("provider %s removed\n", a->spec.id);
	} else if (rc == 0)
		rc = err_set(e, ERR_INVALID, "usage", "unknown verb %s", v);
	federation_close(f);
	auth_close(au);
	return rc;
}

int cli_oidc_provider(int argc, char **argv)
{
	struct provider_args a;
	memset(&a, 0, sizeof(a));
	if (argc < 3 || parse(argc, argv, &a) != 0)
		return cli_usage("oidc");
	struct cli_config cfg;
	struct store *s = NULL;
	struct audit *log = NULL;
	struct error e;
	int rc = cli_open_data(a.data, &cfg, &s, &e);
	if (rc == 0)
		rc = cli_open_log(&cfg, s, &log, &e);
	if (rc == 0)
		rc = verb(argv[2], &a, &cfg, log, &e);
	audit_close(log);
	if (rc != 0)
		fprintf(stderr, "kruispunt oidc provider: %s (%s)\n", e.detail,
			e.code ? e.code : "error");
	store_close(s);
	return rc == 0 ? 0 : 1;
}
