/*
 * `kruispunt demo`: init + dev PKI + demo data + serve, in the foreground.
 * DIR/demo.json appears once the server listens (tests wait for it).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "demo/demo.h"

struct demo_ctx {
	const char *dir;  /* absolute */
	const char *shown; /* as the user typed it, for the banner */
};

static int on_ready(void *ctx, struct http_server *srv, const char *pub,
		    const char *net)
{
	KP_UNUSED(srv);
	struct demo_ctx *d = ctx;
	struct error e;
	if (demo_manifest(d->dir, pub, net, &e) != 0) {
		log_error("%s", e.detail);
		return -1;
	}
	printf("\nkruispunt demo is running.\n\n"
	       "  public API + portal   %s\n"
	       "  network API           %s   (institutions: TLS client "
	       "certificate)\n"
	       "  manifest              %s/demo.json\n\n"
	       "Try:\n"
	       "  curl --cacert %s/pki/ca.pem %s/healthz\n"
	       "  curl --cacert %s/pki/ca.pem \\\n"
	       "       --cert %s/pki/institutions/0411111140.crt \\\n"
	       "       --key %s/pki/institutions/0411111140.key \\\n"
	       "       %s/api/v1/network/whoami\n\n"
	       "Stop with Ctrl-C.\n\n",
	       pub, net, d->shown, d->shown, pub, d->shown, d->shown, d->shown,
	       net);
	fflush(stdout);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: kruispunt demo --data DIR [--port N]\n"
			"  --port N   public listener on N, network on N+1 "
			"(default 8443; 0: any free ports)\n");
	return 2;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"port", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0}};
	const char *data = NULL;
	long port = 8443;
	int c;
	while ((c = getopt_long(argc, argv, "d:p:", opts, NULL)) != -1) {
		char *end;
		if (c == 'd') {
			data = optarg;
		} else if (c == 'p') {
			port = strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65534)
				return usage();
		} else {
			return usage();
		}
	}
	if (!data)
		return usage();
	struct error e;
	char abs[LIMIT_PATH];
	if (cli_mkdir_p(data, &e) != 0 || !realpath(data, abs)) {
		fprintf(stderr, "kruispunt demo: cannot use %s\n", data);
		return 1;
	}
	struct config cfg;
	demo_config(&cfg, abs, (int)port);
	char mail[LIMIT_PATH];
	struct store *store = NULL;
	if (cli_init_dir(&cfg, &e) != 0 || demo_pki(abs, &e) != 0 ||
	    config_path(&cfg, "mail", mail, sizeof(mail)) != 0 ||
	    cli_mkdir_p(mail, &e) != 0 || cli_open_store(&cfg, &store, &e) != 0 ||
	    demo_seed(abs, store, &cfg, &e) != 0) {
		fprintf(stderr, "kruispunt demo: %s\n", e.detail);
		store_close(store);
		return 1;
	}
	struct demo_ctx ctx = {abs, data};
	return cli_serve(&cfg, store, on_ready, &ctx);
}
