/*
 * `kruispunt witness`: run a transparency-log witness (src/witness) for
 * other logs, kruispunt's or any C2SP one. Its data directory is its own:
 * DIR/witness.key (its Ed25519 key, 0600) and DIR/witness.db (its name,
 * the logs it follows and what it cosigned of each).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "witness/witness.h"

struct witness_args {
	const char *data, *name, *vkey, *listen, *cert, *key;
};

static int usage(void)
{
	return cli_usage("witness");
}

/* DIR/<file> into out (LIMIT_PATH bytes). */
static int in_dir(const char *dir, const char *file, char *out,
		  struct error *e)
{
	if (config_path(dir, file, out, LIMIT_PATH) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	return 0;
}

static int open_db(const char *dir, struct store **s, struct error *e)
{
	char path[LIMIT_PATH];
	if (in_dir(dir, "witness.db", path, e) != 0)
		return -1;
	return witness_db_open(path, s, e);
}

/* init: the directory, the key (kept when there is one), the name. */
static int init(const struct witness_args *a, struct error *e)
{
	char path[LIMIT_PATH];
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	struct store *s = NULL;
	if (cli_mkdir_p(a->data, e) != 0 ||
	    in_dir(a->data, "witness.key", path, e) != 0)
		return -1;
	int rc = cli_ed25519_key(path, sk, e);
	if (rc == 0)
		rc = open_db(a->data, &s, e);
	if (rc == 0)
		rc = witness_name_set(s, a->name, e);
	if (s)
		store_close(s);
	memcpy(pk, sk + 32, sizeof(pk)); /* libsodium's sk is seed || pk */
	secret_wipe(sk, sizeof(sk));
	char vkey[AUDIT_VKEY_MAX];
	if (rc == 0 && witness_vkey(a->name, pk, vkey) > 0)
		printf("%s\n", vkey);
	return rc;
}

static int add_log(const struct witness_args *a, struct error *e)
{
	struct store *s;
	if (open_db(a->data, &s, e) != 0)
		return -1;
	int rc = witness_log_add(s, a->vkey, e);
	store_close(s);
	return rc;
}

/* "HOST:PORT", "[v6]:PORT" into l. */
static int parse_listen(const char *hp, struct witness_listen *l)
{
	const char *colon = strrchr(hp, ':');
	long long port;
	if (!colon || cli_number(colon + 1, 0, 65535, &port) != 0)
		return -1;
	const char *h = hp;
	size_t n = (size_t)(colon - hp);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
		h++, n -= 2;
	if (n == 0 || n >= sizeof(l->address))
		return -1;
	memcpy(l->address, h, n);
	l->address[n] = '\0';
	l->port = (int)port;
	return 0;
}

static int serve(const struct witness_args *a, struct error *e)
{
	struct witness_listen l = {.port = 0};
	char path[LIMIT_PATH];
	if (parse_listen(a->listen, &l) != 0)
		return err_set(e, ERR_INVALID, "bad_listen",
			       "--listen wants HOST:PORT");
	if (!realpath(a->cert, l.cert) || !realpath(a->key, l.key))
		return err_set(e, ERR_INVALID, "bad_path",
			       "cannot find the certificate or key file");
	uint8_t sk[ED25519_SK_LEN];
	struct store *s = NULL;
	struct witness *w = NULL;
	struct http_server *srv = NULL;
	int rc = in_dir(a->data, "witness.key", path, e);
	if (rc == 0)
		rc = cli_read_key_file(path, sk, sizeof(sk), e);
	if (rc == 0)
		rc = open_db(a->data, &s, e);
	if (rc == 0)
		rc = witness_open(s, sk, &w, e);
	secret_wipe(sk, sizeof(sk));
	if (rc == 0)
		rc = witness_serve_start(w, &l, &srv, e);
	if (rc == 0) {
		printf("witness %s listening on https://%s:%d\n",
		       witness_name(w), l.address,
		       http_server_port(srv, LISTENER_PUBLIC));
		fflush(stdout);
		log_info("witness stopping on signal %d", cli_wait_for_signal());
		http_server_stop(srv);
	}
	witness_close(w);
	if (s)
		store_close(s);
	return rc;
}

int cmd_witness(int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "";
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"name", required_argument, NULL, 'n'},
		{"vkey", required_argument, NULL, 'v'},
		{"listen", required_argument, NULL, 'l'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0}};
	struct witness_args a = {.data = NULL};
	const char **slot[] = {['d'] = &a.data, ['n'] = &a.name,
			       ['v'] = &a.vkey, ['l'] = &a.listen,
			       ['c'] = &a.cert, ['k'] = &a.key};
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (c < 0 || (size_t)c >= KP_NELEM(slot) || !slot[c])
			return usage();
		*slot[c] = optarg;
	}
	if (optind < argc - 1 || !a.data)
		return usage();
	struct error e;
	int rc;
	if (strcmp(verb, "init") == 0 && a.name)
		rc = init(&a, &e);
	else if (strcmp(verb, "add-log") == 0 && a.vkey)
		rc = add_log(&a, &e);
	else if (strcmp(verb, "serve") == 0 && a.listen && a.cert && a.key)
		rc = serve(&a, &e);
	else
		return usage();
	if (rc != 0)
		fprintf(stderr, "kruispunt witness %s: %s\n", verb, e.detail);
	return rc != 0 ? 1 : 0;
}
