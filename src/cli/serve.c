/*
 * `kruispunt serve`: open the subsystems in order, start the listeners,
 * wait for SIGINT or SIGTERM, and shut down in the reverse order (stop
 * accepting, finish requests in flight, close the store).
 *
 * What is opened, and in which order, is one table (steps[] below): each
 * step has an open and the close that undoes it. A failed open closes the
 * steps already opened, last first; shutdown closes them all the same way.
 * A subsystem is added by adding its row, never by another close list.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"

/* Everything `kruispunt serve` holds while it runs: the handlers' shared
 * state (app), filled by the steps in order, and the listeners. */
struct serve_ctx {
	const struct cli_config *cfg;
	struct app app;
	/* Read by the authentication step, copied by the notification step,
	 * wiped once the steps have opened: only auth and notify keep it. */
	uint8_t master_key[32];
	struct http_server *srv;
	struct witness_push *witnesses; /* NULL: none configured */
};

_Static_assert(sizeof(((struct auth_options *)0)->master_key) ==
	       sizeof(((struct serve_ctx *)0)->master_key) &&
	       sizeof(((struct notify_options *)0)->master_key) ==
	       sizeof(((struct serve_ctx *)0)->master_key),
	       "one master key for auth and notify");

/* "https://localhost:8443": the demo certificate names localhost. */
static void listener_url(const struct listener_config *lc, int port,
			 char *out, size_t n)
{
	const char *host = lc->address;
	bool v6 = strchr(host, ':') != NULL;
	if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0)
		host = "localhost", v6 = false;
	snprintf(out, n, "%s://%s%s%s:%d", lc->tls ? "https" : "http",
		 v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* ------------------------------------------------------------- the steps */

/* The caller opened the store (the demo seeds it first) and hands it
 * over: there is nothing to open, but it is closed last, after everything
 * that writes to it. */
static int store_step_open(struct serve_ctx *c, struct error *e)
{
	KP_UNUSED(c);
	KP_UNUSED(e);
	return 0;
}

static void store_step_close(struct serve_ctx *c)
{
	store_close(c->app.store);
}

/* The signing key is needed only by the audit log, which keeps its own
 * copy: ours is wiped at once. */
static int audit_step_open(struct serve_ctx *c, struct error *e)
{
	return cli_open_log(c->cfg, c->app.store, &c->app.audit, e);
}

static void audit_step_close(struct serve_ctx *c)
{
	audit_close(c->app.audit);
}

void cli_auth_options(const struct cli_config *cfg, struct auth_options *o)
{
	*o = (struct auth_options){
		.argon2_ops = (uint64_t)cfg->auth.argon2_ops,
		.argon2_mem = (size_t)cfg->auth.argon2_mem_kib * 1024,
		.max_failures = cfg->auth.max_failures,
		.max_code_failures = cfg->auth.max_code_failures,
		.throttle_free = cfg->auth.throttle_free,
		.throttle_max_s = cfg->auth.throttle_max_s,
		.code_sends_per_hour = cfg->auth.code_sends_per_hour,
		.code_sends_per_day = cfg->auth.code_sends_per_day,
		.session_absolute_s = cfg->auth.session_absolute_s,
		.session_idle_s = cfg->auth.session_idle_s,
		.logins_per_minute = cfg->auth.logins_per_minute,
		.code_ttl_s = cfg->auth.code_ttl_s,
		.totp_step_s = cfg->auth.totp_step_s,
		.registration_code_ttl_s = cfg->auth.registration_code_ttl_s,
		.failure_window_s = cfg->auth.failure_window_s,
		.activation_ttl_s = cfg->auth.activation_ttl_s,
		.activation_max_failures = cfg->auth.activation_max_failures,
	};
	str_copy(o->public_url, sizeof(o->public_url), cfg->auth.public_url);
	str_copy(o->eid_url, sizeof(o->eid_url), cfg->auth.eid_url);
}

int cli_auth_open(const struct cli_config *cfg, struct audit *log,
		  struct auth **out, struct error *e)
{
	struct auth_options ao;
	*out = NULL;
	cli_auth_options(cfg, &ao);
	int rc = cli_read_key(cfg, "keys/master.key", ao.master_key,
			      sizeof(ao.master_key), e);
	if (rc == 0)
		rc = auth_open(log, &ao, out, e);
	secret_wipe(ao.master_key, sizeof(ao.master_key));
	return rc;
}

void cli_notify_options(const struct cli_config *cfg,
			struct notify_options *o)
{
	memset(o, 0, sizeof(*o));
	str_copy(o->smtp_url, sizeof(o->smtp_url), cfg->notify.smtp_url);
	str_copy(o->smtp_from, sizeof(o->smtp_from), cfg->notify.smtp_from);
	str_copy(o->sms_url, sizeof(o->sms_url), cfg->notify.sms_url);
}

static int auth_step_open(struct serve_ctx *c, struct error *e)
{
	const struct cli_config *cfg = c->cfg;
	struct auth_options auo;
	cli_auth_options(cfg, &auo);
	int rc = cli_read_key(cfg, "keys/master.key", c->master_key,
			      sizeof(c->master_key), e);
	if (rc == 0) {
		memcpy(auo.master_key, c->master_key, sizeof(auo.master_key));
		rc = auth_open(c->app.audit, &auo, &c->app.auth, e);
	}
	if (rc == 0 && auth_sweeper_start(c->app.auth, e) != 0) {
		auth_close(c->app.auth);
		rc = -1;
	}
	secret_wipe(auo.master_key, sizeof(auo.master_key));
	return rc;
}

static void auth_step_close(struct serve_ctx *c)
{
	auth_close(c->app.auth);
}

static int notify_step_open(struct serve_ctx *c, struct error *e)
{
	struct notify_options no;
	cli_notify_options(c->cfg, &no);
	memcpy(no.master_key, c->master_key, sizeof(no.master_key));
	int rc = notify_open(c->app.store, &no, &c->app.notify, e);
	secret_wipe(no.master_key, sizeof(no.master_key));
	/* Notices of keys added and removed go out with the change. */
	if (rc == 0)
		auth_set_notify(c->app.auth, c->app.notify);
	return rc;
}

static void notify_step_close(struct serve_ctx *c)
{
	auth_set_notify(c->app.auth, NULL);
	notify_close(c->app.notify);
}

/* The hub, with its provider identity and batch directory from cfg. */
static int hub_step_open(struct serve_ctx *c, struct error *e)
{
	const struct cli_config *cfg = c->cfg;
	struct hub_options o = {
		.provider_timeout_ms = cfg->hub.provider_timeout_ms,
		.provider_concurrency = cfg->hub.provider_concurrency,
		.batch_max_lines = cfg->hub.batch_max_lines,
		.batch_workers = cfg->hub.batch_workers,
	};
	const char *dir = cfg->base.data_dir;
	if ((cfg->hub.client_cert[0] &&
	     (config_path(dir, cfg->hub.client_cert, o.client_cert,
			  sizeof(o.client_cert)) != 0 ||
	      config_path(dir, cfg->hub.client_key, o.client_key,
			  sizeof(o.client_key)) != 0 ||
	      config_path(dir, cfg->hub.provider_ca, o.provider_ca,
			  sizeof(o.provider_ca)) != 0)) ||
	    config_path(dir, "batch", o.batch_dir, sizeof(o.batch_dir)) != 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "a hub path is too long");
	return hub_open(c->app.store, c->app.audit, &o, &c->app.hub, e);
}

static void hub_step_close(struct serve_ctx *c)
{
	hub_close(c->app.hub);
}

/* The OpenID Provider, its signing keys in keys/oidc (made there the
 * first time). */
static int oidc_step_open(struct serve_ctx *c, struct error *e)
{
	char dir[LIMIT_PATH];
	if (config_path(c->cfg->base.data_dir, "keys/oidc", dir, sizeof(dir)))
		return err_set(e, ERR_INVALID, "config_invalid",
			       "the data directory's path is too long");
	return oidc_open(c->app.audit, c->app.auth, &c->cfg->oidc, dir,
			 &c->app.oidc, e);
}

static void oidc_step_close(struct serve_ctx *c)
{
	oidc_close(c->app.oidc);
}

/* External providers whose keys open sessions (src/federation). */
static int federation_step_open(struct serve_ctx *c, struct error *e)
{
	return federation_open(c->app.audit, c->app.auth, &c->app.federation,
			       e);
}

static void federation_step_close(struct serve_ctx *c)
{
	federation_close(c->app.federation);
}

/* The witnesses get the log's checkpoints from their own thread: a slow
 * or absent witness never holds up an append. */
static int witness_step_open(struct serve_ctx *c, struct error *e)
{
	char ca[LIMIT_PATH];
	if (config_path(c->cfg->base.data_dir, c->cfg->witness.ca_file, ca,
			sizeof(ca)) != 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "audit.witness_ca is too long");
	return witness_push_start(c->app.audit, &c->cfg->witness, ca,
				  &c->witnesses, e);
}

static void witness_step_close(struct serve_ctx *c)
{
	witness_push_stop(c->witnesses);
}

/* Last: requests may reach every subsystem above the moment a listener
 * accepts, and on shutdown they are stopped first (they may still
 * append to the audit log). */
static int listeners_step_open(struct serve_ctx *c, struct error *e)
{
	char web[LIMIT_PATH];
	c->app.started_at = time_now();
	if (cli_web_dir(c->cfg, web, sizeof(web)) != 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "portal.web_dir is too long");
	struct http_server_options opt = {
		.cfg = &c->cfg->http,
		.data_dir = c->cfg->base.data_dir,
		.routes = api_routes,
		.nroutes = api_nroutes,
		.app = &c->app,
		.resolve_institution = api_resolve_institution,
		.resolve_session = api_resolve_session,
		.has_role = api_has_role,
		.csrf = api_csrf,
		.public_url = api_public_url,
		.web_dir = web,
	};
	if (http_server_start(&opt, &c->srv, e) != 0)
		return -1;
	/* The demo's portal is where its public listener is (the kernel may
	 * choose the port): set before anyone can know the port to send a
	 * request to. */
	const struct listener_config *pub = &c->cfg->http.public_listener;
	if (c->cfg->public_url_follows && pub->enabled) {
		char url[128];
		listener_url(pub, http_server_port(c->srv, LISTENER_PUBLIC), url,
			     sizeof(url));
		auth_set_public_url(c->app.auth, url);
	}
	/* Unless configured, the eID host is the eID listener itself. */
	const struct listener_config *eid = &c->cfg->http.eid_listener;
	if ((c->cfg->public_url_follows || !c->cfg->auth.eid_url[0]) &&
	    eid->enabled) {
		char url[128];
		listener_url(eid, http_server_port(c->srv, LISTENER_EID), url,
			     sizeof(url));
		auth_set_eid_url(c->app.auth, url);
	}
	return 0;
}

int cli_web_dir(const struct cli_config *cfg, char *out, size_t n)
{
	if (cfg->http.web_dir[0])
		return config_path(cfg->base.data_dir, cfg->http.web_dir, out, n);
	char self[LIMIT_PATH];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = len > 0 ? (self[len] = '\0', strrchr(self, '/')) : NULL;
	struct stat st;
	if (slash) { /* PREFIX/bin/kruispunt: PREFIX */
		*slash = '\0';
		slash = strrchr(self, '/');
	}
	if (slash) {
		*slash = '\0';
		int w = snprintf(out, n, "%s/share/kruispunt/web", self);
		if (w > 0 && (size_t)w < n && stat(out, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			return 0;
	}
	int w = snprintf(out, n, "%s", KP_WEB_SOURCE_DIR);
	return w > 0 && (size_t)w < n ? 0 : -1;
}

static void listeners_step_close(struct serve_ctx *c)
{
	http_server_stop(c->srv);
}

/* The subsystems in the order they open; they close in reverse: requests
 * first (they may still append), then the hub's workers, notifications,
 * sessions, the audit log (its final checkpoint), the database last. */
static const struct serve_step {
	const char *name; /* "cannot start <name>" */
	int (*open)(struct serve_ctx *c, struct error *e);
	void (*close)(struct serve_ctx *c);
} steps[] = {
	{"the store", store_step_open, store_step_close},
	{"the audit log", audit_step_open, audit_step_close},
	{"authentication", auth_step_open, auth_step_close},
	{"notifications", notify_step_open, notify_step_close},
	{"the hub", hub_step_open, hub_step_close},
	{"OpenID Connect", oidc_step_open, oidc_step_close},
	{"federation", federation_step_open, federation_step_close},
	{"the witnesses", witness_step_open, witness_step_close},
	{"the listeners", listeners_step_open, listeners_step_close},
};

/* Close the first n steps, the last opened first. */
static void steps_close(struct serve_ctx *c, size_t n)
{
	while (n > 0)
		steps[--n].close(c);
}

/* Open every step in order. Returns 0, or -1 with e set when one failed:
 * the failure is logged with the step's name and the steps before it are
 * closed. */
static int steps_open(struct serve_ctx *c, struct error *e)
{
	size_t i = 0;
	while (i < KP_NELEM(steps) && steps[i].open(c, e) == 0)
		i++;
	/* The master key lives in auth and notify now (or nowhere). */
	secret_wipe(c->master_key, sizeof(c->master_key));
	if (i == KP_NELEM(steps))
		return 0;
	log_error("cannot start %s: %s", steps[i].name, e->detail);
	steps_close(c, i);
	return -1;
}

/* ------------------------------------------------------------ the service */

/* The main thread has nothing else to do while the listeners' threads
 * work: it waits for SIGINT or SIGTERM and meanwhile writes out the
 * buffered access log every quarter second. */
int cli_wait_for_signal(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	const struct timespec tick = {0, 250 * 1000 * 1000};
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &tick);
		log_flush();
		if (sig > 0)
			return sig;
	}
}

/* Tell the service manager our state (systemd's Type=notify): one
 * datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, '@' meaning the
 * abstract namespace. The protocol is this one sendto, so no libsystemd.
 * Best effort: without the variable nothing is sent, a failed send is
 * only logged, and systemd's start timeout reports a daemon that never
 * said READY. */
static void service_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = name ? strlen(name) : 0;
	if (n < 2 || n >= sizeof(sa.sun_path) || (name[0] != '/' && name[0] != '@'))
		return;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (const struct sockaddr *)&sa, len) < 0)
		log_warn("cannot notify the service manager: %s", strerror(errno));
	close(fd);
}

/* Log where the listeners are, then hand over to ready (the demo) or
 * wait for a signal. Returns the exit code. */
static int run(struct serve_ctx *c, cli_ready_fn ready, void *ctx)
{
	const struct cli_config *cfg = c->cfg;
	struct cli_urls u = {"", "", ""};
	const struct {
		const struct listener_config *lc;
		enum http_listener id;
		char *out;
	} ls[] = {
		{&cfg->http.public_listener, LISTENER_PUBLIC, u.public_url},
		{&cfg->http.network_listener, LISTENER_NETWORK, u.network_url},
		{&cfg->http.eid_listener, LISTENER_EID, u.eid_url},
	};
	for (size_t i = 0; i < KP_NELEM(ls); i++)
		if (ls[i].lc->enabled)
			listener_url(ls[i].lc,
				     http_server_port(c->srv, ls[i].id),
				     ls[i].out, sizeof(u.public_url));
	struct log_line l;
	log_begin(&l, LV_INFO, __func__, "listening");
	log_str(&l, "public_url", u.public_url);
	log_str(&l, "network_url", u.network_url);
	log_str(&l, "eid_url", u.eid_url);
	log_end(&l);
	if (ready && ready(ctx, c->srv, &u) != 0)
		return 1;
	service_notify("READY=1");
	int sig = cli_wait_for_signal();
	service_notify("STOPPING=1");
	log_info("stopping on signal %d", sig);
	return 0;
}

int cli_serve(const struct cli_config *cfg, struct store *store,
	      cli_ready_fn ready, void *ctx, struct error *e)
{
	log_set_level((enum log_level)cfg->base.log_level);
	struct serve_ctx c = {.cfg = cfg, .app = {.store = store}};
	if (steps_open(&c, e) != 0)
		return -1;
	int rc = run(&c, ready, ctx);
	steps_close(&c, KP_NELEM(steps));
	log_flush();
	log_info("stopped");
	return rc;
}
void cli_start_failed(const char *cmd, const struct error *e)
{
	fprintf(stderr, "kruispunt %s: %s\n", cmd, e->detail);
	/* The one failure an operator fixes from the command line. */
	if (e->code && strcmp(e->code, "listen_failed") == 0)
		fprintf(stderr, "kruispunt %s: is another kruispunt running? "
				"Stop it, or choose other ports with --port N "
				"(public N, network N+1, eID N+2)\n", cmd);
}

/* --port N: public listener on N, network on N+1, eID on N+2, as for
 * the demo. */
void cli_set_ports(struct cli_config *cfg, int port)
{
	cfg->http.public_listener.port = port;
	cfg->http.network_listener.port = port ? port + 1 : 0;
	cfg->http.eid_listener.port = port ? port + 2 : 0;
}

/* Load the configuration serve was given. Without one the daemon would
 * run on built-in defaults nobody chose (a data directory relative to
 * wherever it was started): it refuses, and says how to make one.
 * Returns 0, or the exit code (2: no --config, 1: an unusable one). */
static int serve_config(const char *path, struct cli_config *cfg)
{
	static const char hint[] =
		"kruispunt serve: `kruispunt init --data DIR` writes a "
		"configuration at DIR/kruispunt.ini; then run `kruispunt serve "
		"--config DIR/kruispunt.ini`\n";
	struct error e;
	struct stat st;
	if (!path) {
		fprintf(stderr, "kruispunt serve: no configuration: --config "
				"FILE is required\n%s", hint);
		return cli_usage("serve");
	}
	if (cli_config_load(path, cfg, &e) != 0) {
		fprintf(stderr, "kruispunt serve: %s\n%s", e.detail,
			stat(path, &st) != 0 ? hint : "");
		return 1;
	}
	if (stat(cfg->base.data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kruispunt serve: data directory %s (data_dir "
				"in %s) is missing: run `kruispunt init --data "
				"%s`\n", cfg->base.data_dir, path,
			cfg->base.data_dir);
		return 1;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"port", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0}};
	const char *path = NULL;
	long long port = -1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c != 'p' || cli_number(optarg, 0, 65534, &port) != 0)
			return cli_usage("serve");
	}
	if (optind < argc)
		return cli_usage("serve");
	struct cli_config cfg;
	struct error e;
	struct store *store;
	int rc = serve_config(path, &cfg);
	if (rc != 0)
		return rc;
	if (port >= 0)
		cli_set_ports(&cfg, (int)port);
	if (cli_open_store(&cfg, &store, &e) != 0) {
		fprintf(stderr, "kruispunt serve: %s\n", e.detail);
		return 1;
	}
	rc = cli_serve(&cfg, store, NULL, NULL, &e);
	if (rc < 0)
		cli_start_failed("serve", &e);
	return rc < 0 ? 1 : rc;
}

int cmd_config(int argc, char **argv)
{
	const char *path;
	if (cli_one_option(argc, argv, "config", &path) != 0)
		return cli_usage("config");
	struct cli_config cfg;
	struct error e;
	if (cli_config_load(path, &cfg, &e) != 0) {
		fprintf(stderr, "kruispunt config: %s\n", e.detail);
		return 1;
	}
	cli_config_describe(&cfg, stdout);
	return 0;
}
