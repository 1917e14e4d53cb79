/*
 * `kruispunt demo`: init + dev PKI + demo data + serve, in the foreground.
 * DIR/demo.json appears once the server listens (tests wait for it).
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "demo/demo.h"
#include "federation/federation.h"
#include "org/org.h"

struct demo_ctx {
	const char *dir;  /* absolute */
	const char *shown; /* as the user typed it, for the banner */
	const struct cli_config *cfg; /* what the demo runs with */
};

/* The demo sets its own configuration (ports, certificates, its mail and
 * SMS sinks) instead of reading DIR/kruispunt.ini: it writes there what it
 * runs with, the ports the listeners got included, so that `kruispunt
 * config --config DIR/kruispunt.ini` shows the truth. */
static int write_effective_config(const struct demo_ctx *d,
				  struct http_server *srv, struct error *e)
{
	struct cli_config cfg = *d->cfg;
	char path[LIMIT_PATH];
	cfg.http.public_listener.port = http_server_port(srv, LISTENER_PUBLIC);
	cfg.http.network_listener.port =
		http_server_port(srv, LISTENER_NETWORK);
	cfg.http.eid_listener.port = http_server_port(srv, LISTENER_EID);
	if (config_path(d->dir, "kruispunt.ini", path, sizeof(path)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	return cli_write_config(&cfg, path,
				"; What `kruispunt demo` runs with, rewritten "
				"each time it starts (edits are lost:\n"
				"; the demo sets its own configuration).\n",
				e);
}

static int on_ready(void *ctx, struct http_server *srv,
		    const struct cli_urls *u)
{
	struct demo_ctx *d = ctx;
	struct error e;
	const char *pub = u->public_url, *net = u->network_url;
	if (write_effective_config(d, srv, &e) != 0 ||
	    demo_manifest(d->dir, pub, net, u->eid_url, &e) != 0) {
		log_error("%s", e.detail);
		return -1;
	}
	printf("\nkruispunt demo is running.\n\n"
	       "  public API + portal   %s\n"
	       "  network API           %s   (institutions: TLS client "
	       "certificate)\n"
	       "  eID login             %s   (citizens: eID certificate)\n"
	       "  manifest              %s/demo.json\n\n"
	       "Try:\n"
	       "  curl --cacert %s/pki/ca.pem %s/healthz\n"
	       "  curl --cacert %s/pki/ca.pem \\\n"
	       "       --cert %s/pki/institutions/0411111140.crt \\\n"
	       "       --key %s/pki/institutions/0411111140.key \\\n"
	       "       %s/api/v1/network/whoami\n\n"
	       "Stop with Ctrl-C.\n\n",
	       pub, net, u->eid_url, d->shown, d->shown, pub, d->shown,
	       d->shown, d->shown, net);
	fflush(stdout);
	return 0;
}

extern char **environ;

static pid_t idp_register(const struct cli_config *cfg, const char *dir,
			  struct audit *log, pid_t pid, int fds[2],
			  const char *sfile);

/* The child's side of start_child, between fork and exec: async-signal-
 * safe calls only (the parent has threads). */
static void child_exec(char *const argv[], int fds[2], pid_t parent)
{
	/* Our main thread blocks SIGINT and SIGTERM (sigwait handles them);
	 * a child inheriting that mask could never be stopped. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	/* Die with the demo, even when it is killed (SIGKILL) and cannot stop
	 * us itself. If it died before prctl, we were reparented already and
	 * no signal would come: the getppid check closes that race. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
	if (dup2(fds[1], 1) < 0)
		_exit(127);
	close(fds[0]);
	close(fds[1]);
	execve(argv[0], argv, environ);
	_exit(127);
}

/* Start examples/<name> (built beside this binary) with arguments
 * "0" (a free loopback port) and args (up to 4). Returns its pid and
 * *port, or -1 (the demo then runs without it). */
static pid_t start_child(const char *name, const char *const *args, int nargs,
			 int *port)
{
	char self[PATH_MAX], sink[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(sink, sizeof(sink), "%s/%s", self, name);
	int fds[2];
	if (access(sink, X_OK) != 0 || pipe(fds) != 0)
		return -1;
	char *argv[7] = {sink, "0"};
	for (int i = 0; i < nargs && i < 4; i++)
		argv[2 + i] = (char *)(uintptr_t)args[i];
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0)
		child_exec(argv, fds, parent);
	close(fds[1]);
	char line[64] = "";
	FILE *f = fdopen(fds[0], "r");
	*port = 0;
	if (pid > 0 && f && fgets(line, sizeof(line), f))
		sscanf(line, "listening on %d", port);
	if (f)
		fclose(f);
	else
		close(fds[0]);
	if (pid > 0 && *port <= 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	return pid <= 0 || *port <= 0 ? -1 : pid;
}

/* The demo's external OpenID Provider (examples/external-idp, node and
 * panva's oidc-provider), registered as provider "demo-idp" with the key
 * type itsme_pin (level 450). Its TLS is the demo's server certificate,
 * verified against the demo's CA. Returns its pid, or -1: the demo then
 * runs without it (no node, or `npm ci` not run there). */
static pid_t start_idp(const struct cli_config *cfg, const char *dir,
		       struct audit *log)
{
	char script[LIMIT_PATH], mod[LIMIT_PATH], cert[LIMIT_PATH + 32],
		key[LIMIT_PATH + 32], sfile[LIMIT_PATH + 32];
	snprintf(script, sizeof(script), "%s/server.mjs", KP_EXTERNAL_IDP_DIR);
	snprintf(mod, sizeof(mod), "%s/node_modules/oidc-provider",
		 KP_EXTERNAL_IDP_DIR);
	snprintf(cert, sizeof(cert), "%s/pki/server.crt", dir);
	snprintf(key, sizeof(key), "%s/pki/server.key", dir);
	snprintf(sfile, sizeof(sfile), "%s/keys/external-idp.secret", dir);
	struct error e;
	if (access(mod, R_OK) != 0 || access("/usr/bin/env", X_OK) != 0)
		return -1;
	char secret[TOKEN_HEX_LEN];
	uint8_t h[SHA256_LEN];
	token_new(secret, h);
	if (access(sfile, F_OK) != 0 &&
	    cli_write_new(sfile, secret, strlen(secret), &e) != 0)
		return -1;
	char *argv[] = {"/usr/bin/env", "node", script, "0", cert, key, sfile,
			NULL};
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		child_exec(argv, fds, parent);
	return idp_register(cfg, dir, log, pid, fds, sfile);
}

/* The demo's authentic sources: one examples/provider process answers for
 * every institution that keeps data behind the hub, with the demo's
 * server certificate; the hub presents the Crossroads Bank's. */
static pid_t start_provider(const char *dir, struct audit *log)
{
	char cert[LIMIT_PATH + 32], key[LIMIT_PATH + 32], ca[LIMIT_PATH + 32];
	snprintf(cert, sizeof(cert), "%s/pki/server.crt", dir);
	snprintf(key, sizeof(key), "%s/pki/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/pki/ca.pem", dir);
	const char *args[] = {cert, key, ca};
	int port;
	pid_t pid = start_child("provider", args, 3, &port);
	if (pid < 0) {
		log_warn("no provider: exchanges routed to one answer 502");
		return -1;
	}
	static const char *sources[] = {"0411111140", "0422222291",
					"0722222210", "0212312313"};
	for (size_t i = 0; i < KP_NELEM(sources); i++) {
		char url[128];
		struct error e;
		snprintf(url, sizeof(url), "https://localhost:%d/providers/%s",
			 port, sources[i]);
		if (org_institution_set_endpoint(log, &cli_operator, sources[i],
						 url, &e) != 0)
			log_warn("provider %s: %s", sources[i], e.detail);
	}
	return pid;
}

/* The demo's settings on top of defaults: data_dir, ports (port 0: the
 * kernel picks), the certificate files made by demo_pki. */
static void demo_config(struct cli_config *cfg, const char *dir, int port)
{
	struct listener_config *eid = &cfg->http.eid_listener;
	cli_config_defaults(cfg);
	str_copy(cfg->base.data_dir, sizeof(cfg->base.data_dir), dir);
	cli_set_ports(cfg, port);
	/* The eID listener demands a certificate from the citizen CA,
	 * checked against its CRL; the public listener never asks. */
	eid->enabled = true;
	eid->client_cert = CLIENT_CERT_REQUIRED;
	str_copy(eid->client_ca, sizeof(eid->client_ca), "pki/citizen-ca.pem");
	str_copy(eid->crl, sizeof(eid->crl), "pki/citizen-ca.crl");
	/* The portal (cookies, the eID login's way back) is wherever the
	 * public listener got its port. */
	cfg->public_url_follows = true;
	/* Towards the providers the hub is the Crossroads Bank. */
	str_copy(cfg->hub.client_cert, sizeof(cfg->hub.client_cert),
		 "pki/institutions/0345678997.crt");
	str_copy(cfg->hub.client_key, sizeof(cfg->hub.client_key),
		 "pki/institutions/0345678997.key");
}

/* The local SMTP and SMS sinks, wired into cfg's notify settings. */
static void start_sinks(struct cli_config *cfg, const char *mail, const char *sms,
			pid_t pids[3])
{
	int port;
	pids[0] = start_child("smtp_sink", &mail, 1, &port);
	if (pids[0] > 0) {
		snprintf(cfg->notify.smtp_url, sizeof(cfg->notify.smtp_url),
			 "smtp://127.0.0.1:%d", port);
		str_copy(cfg->notify.smtp_from, sizeof(cfg->notify.smtp_from),
			 "no-reply@kruispunt.demo");
	} else {
		log_warn("no SMTP sink: e-mail codes are off in this demo");
	}
	pids[1] = start_child("sms_sink", &sms, 1, &port);
	if (pids[1] > 0)
		snprintf(cfg->notify.sms_url, sizeof(cfg->notify.sms_url),
			 "http://127.0.0.1:%d/", port);
	else
		log_warn("no SMS sink: SMS codes are off in this demo");
}

/* The demo's witness, in this process: a second party that cosigns the
 * log's checkpoints once it checked that the log only grew, as a
 * supervisory authority's would from elsewhere (docs/AUDIT.md). Its key
 * and state are in DIR/witness; it listens on a free loopback port with
 * the demo's server certificate, and cfg's audit.witnesses names it.
 * Returns its server (stop it, then witness_close, then its store), or
 * NULL: the demo then runs without one. */
struct demo_witness {
	struct http_server *srv;
	struct witness *w;
	struct store *s;
};

static int witness_setup(const char *dir, struct audit *log,
			 struct demo_witness *dw, uint8_t pk[ED25519_PK_LEN],
			 struct error *e)
{
	static const char name[] = "witness.kruispunt.demo";
	char key[LIMIT_PATH], db[LIMIT_PATH], wdir[LIMIT_PATH];
	char vkey[AUDIT_VKEY_MAX];
	uint8_t sk[ED25519_SK_LEN];
	if (config_path(dir, "witness", wdir, sizeof(wdir)) != 0 ||
	    config_path(dir, "witness/witness.key", key, sizeof(key)) != 0 ||
	    config_path(dir, "witness/witness.db", db, sizeof(db)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	if (cli_mkdir_p(wdir, e) != 0)
		return -1;
	if (cli_ed25519_key(key, sk, e) != 0)
		return -1;
	memcpy(pk, sk + 32, ED25519_PK_LEN); /* libsodium: seed || pk */
	audit_vkey(log, vkey);
	int rc = witness_db_open(db, &dw->s, e);
	if (rc == 0 && (rc = witness_name_set(dw->s, name, e)) != 0 &&
	    e->kind == ERR_CONFLICT)
		rc = 0; /* named by an earlier run */
	if (rc == 0)
		rc = witness_log_add(dw->s, vkey, e);
	if (rc == 0)
		rc = witness_open(dw->s, sk, &dw->w, e);
	secret_wipe(sk, sizeof(sk));
	return rc;
}

static void start_witness(struct cli_config *cfg, const char *dir,
			  struct audit *log, struct demo_witness *dw)
{
	struct error e;
	uint8_t pk[ED25519_PK_LEN];
	struct witness_listen l = {.address = "127.0.0.1", .port = 0};
	char vkey[AUDIT_VKEY_MAX];
	if (config_path(dir, "pki/server.crt", l.cert, sizeof(l.cert)) != 0 ||
	    config_path(dir, "pki/server.key", l.key, sizeof(l.key)) != 0 ||
	    witness_setup(dir, log, dw, pk, &e) != 0 ||
	    witness_serve_start(dw->w, &l, &dw->srv, &e) != 0 ||
	    witness_vkey(witness_name(dw->w), pk, vkey) == 0) {
		log_warn("no witness: the demo's checkpoints go uncosigned");
		witness_close(dw->w);
		if (dw->s)
			store_close(dw->s);
		*dw = (struct demo_witness){0};
		return;
	}
	snprintf(cfg->witness.witnesses, sizeof(cfg->witness.witnesses),
		 "%s https://localhost:%d", vkey,
		 http_server_port(dw->srv, LISTENER_PUBLIC));
}

static void stop_witness(struct demo_witness *dw)
{
	if (dw->srv)
		http_server_stop(dw->srv);
	witness_close(dw->w);
	if (dw->s)
		store_close(dw->s);
}

static int usage(void)
{
	return cli_usage("demo");
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
	struct cli_config cfg;
	demo_config(&cfg, abs, (int)port);
	/* KRUISPUNT_* variables still override, as everywhere: a test can
	 * shorten a lifetime (tests/interop/oidc: oidc.code_ttl_s). */
	if (cli_config_env(&cfg, &e) != 0) {
		fprintf(stderr, "kruispunt demo: %s\n", e.detail);
		return 1;
	}
	char mail[LIMIT_PATH], sms[LIMIT_PATH];
	uint8_t master[32];
	struct store *store = NULL;
	struct audit *log = NULL;
	int rc = -1;
	if (cli_init_dir(&cfg, &e) == 0 && demo_pki(abs, &e) == 0 &&
	    config_path(cfg.base.data_dir, "mail", mail, sizeof(mail)) == 0 &&
	    config_path(cfg.base.data_dir, "sms", sms, sizeof(sms)) == 0 &&
	    cli_mkdir_p(mail, &e) == 0 && cli_mkdir_p(sms, &e) == 0 &&
	    cli_read_key(&cfg, "keys/master.key", master, sizeof(master),
			 &e) == 0 &&
	    cli_open_store(&cfg, &store, &e) == 0 &&
	    cli_open_log(&cfg, store, &log, &e) == 0)
		rc = demo_seed(abs, log, &cfg.auth, master, &e);
	if (rc == 0)
		rc = cli_oidc_demo_client(&cfg, log, &e);
	secret_wipe(master, sizeof(master));
	if (rc != 0) {
		fprintf(stderr, "kruispunt demo: %s\n", e.detail);
		audit_close(log);
		store_close(store);
		return 1;
	}
	pid_t sinks[4];
	start_sinks(&cfg, mail, sms, sinks);
	sinks[2] = start_provider(abs, log);
	sinks[3] = start_idp(&cfg, abs, log);
	struct demo_witness dw = {0};
	start_witness(&cfg, abs, log, &dw);
	/* The daemon opens the log again, as its own first step. */
	audit_close(log);
	struct demo_ctx ctx = {abs, data, &cfg};
	rc = cli_serve(&cfg, store, on_ready, &ctx, &e);
	if (rc < 0)
		cli_start_failed("demo", &e);
	stop_witness(&dw);
	for (int i = 0; i < 4; i++) {
		if (sinks[i] > 0) {
			kill(sinks[i], SIGTERM);
			waitpid(sinks[i], NULL, 0);
		}
	}
	return rc < 0 ? 1 : rc;
}

/* The text of a small file (caller frees), or NULL. */
static char *slurp(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *b = xmalloc(max + 1);
	size_t n = fread(b, 1, max, f);
	fclose(f);
	b[n] = '\0';
	return b;
}

/* Wait for the provider's "listening on N", register it, and name it in
 * external-idp.json for the manifest. Returns pid, or -1 (stopped). */
static pid_t idp_register(const struct cli_config *cfg, const char *dir,
			  struct audit *log, pid_t pid, int fds[2],
			  const char *sfile)
{
	close(fds[1]);
	char line[64] = "", issuer[64] = "", path[LIMIT_PATH + 32];
	int port = 0;
	FILE *f = fdopen(fds[0], "r");
	if (pid > 0 && f && fgets(line, sizeof(line), f))
		sscanf(line, "listening on %d", &port);
	if (f)
		fclose(f);
	else
		close(fds[0]);
	snprintf(issuer, sizeof(issuer), "https://localhost:%d", port);
	snprintf(path, sizeof(path), "%s/pki/ca.pem", dir);
	char *secret = slurp(sfile, FEDERATION_SECRET_MAX);
	char *ca = slurp(path, FEDERATION_CA_MAX);
	struct federation_provider_spec spec = {
		.id = "demo-idp", .name = "Demo IdP (itsme-like)",
		.issuer = issuer, .client_id = "kruispunt",
		.client_secret = secret, .key_type = "itsme_pin",
		.nrn_claim = "egovNRN", .ca_pem = ca};
	struct error e;
	int rc = port > 0 && secret && ca
			 ? cli_federation_add(cfg, log, &spec, true, &e)
			 : err_set(&e, ERR_UNAVAILABLE, "no_idp", "no port");
	if (secret)
		secret_wipe(secret, strlen(secret));
	free(secret);
	free(ca);
	json_t *j = json_pack("{s:s,s:s,s:s,s:i}", "id", spec.id, "issuer",
			      issuer, "key_type", spec.key_type, "level", 450);
	snprintf(path, sizeof(path), "%s/external-idp.json", dir);
	if (rc == 0 && json_dump_file(j, path, JSON_INDENT(2)) != 0)
		rc = err_set(&e, ERR_INTERNAL, "no_idp", "cannot write %s", path);
	json_decref(j);
	if (rc != 0) {
		log_warn("no external provider: %s", e.detail);
		if (pid > 0) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	return pid;
}
