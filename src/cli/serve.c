/*
 * `kruispunt serve`: start the listeners, wait for SIGINT or SIGTERM, and
 * shut down in order (stop accepting, finish requests in flight, close the
 * store).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"

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

/* The hub, with its provider identity and batch directory from cfg. */
static int open_hub(const struct config *cfg, struct store *store,
		    struct audit *audit, struct hub **out, struct error *e)
{
	struct hub_options o = {
		.provider_timeout_ms = cfg->hub_provider_timeout_ms,
		.provider_concurrency = cfg->hub_provider_concurrency,
		.batch_max_lines = cfg->hub_batch_max_lines,
		.batch_workers = cfg->hub_batch_workers,
	};
	if ((cfg->hub_client_cert[0] &&
	     (config_path(cfg, cfg->hub_client_cert, o.client_cert,
			  sizeof(o.client_cert)) != 0 ||
	      config_path(cfg, cfg->hub_client_key, o.client_key,
			  sizeof(o.client_key)) != 0 ||
	      config_path(cfg, cfg->hub_provider_ca, o.provider_ca,
			  sizeof(o.provider_ca)) != 0)) ||
	    config_path(cfg, "batch", o.batch_dir, sizeof(o.batch_dir)) != 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "a hub path is too long");
	return hub_open(store, audit, &o, out, e);
}

/* The main thread has nothing else to do while the listeners' threads
 * work: it waits for SIGINT or SIGTERM and meanwhile writes out the
 * buffered access log every quarter second. */
static int wait_for_signal(void)
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

int cli_serve(const struct config *cfg, struct store *store,
	      cli_ready_fn ready, void *ctx)
{
	enum log_level lv = LV_INFO;
	log_level_parse(cfg->log_level, &lv);
	log_set_level(lv);
	struct error e;
	struct audit *audit = NULL;
	uint8_t sk[ED25519_SK_LEN];
	struct audit_options ao = {
		.checkpoint_interval_ms = cfg->audit_checkpoint_interval_ms,
		.index_batch = cfg->audit_index_batch,
		.retention_days = cfg->audit_retention_days,
	};
	int rc = cli_read_key(cfg, "keys/audit-signing.key", sk, sizeof(sk), &e);
	if (rc == 0)
		rc = audit_open(store, sk, &ao, &audit, &e);
	secret_wipe(sk, sizeof(sk));
	if (rc != 0) {
		log_error("cannot open the audit log: %s", e.detail);
		store_close(store);
		return 1;
	}
	struct auth *auth = NULL;
	struct auth_options auo = {
		.argon2_ops = (uint64_t)cfg->auth_argon2_ops,
		.argon2_mem = (size_t)cfg->auth_argon2_mem_kib * 1024,
		.max_failures = cfg->auth_max_failures,
		.session_absolute_s = cfg->auth_session_absolute_s,
		.session_idle_s = cfg->auth_session_idle_s,
		.logins_per_minute = cfg->auth_logins_per_minute,
	};
	if (cli_read_key(cfg, "keys/master.key", auo.master_key,
			 sizeof(auo.master_key), &e) != 0 ||
	    auth_open(store, &auo, &auth, &e) != 0) {
		secret_wipe(auo.master_key, sizeof(auo.master_key));
		log_error("cannot start authentication: %s", e.detail);
		audit_close(audit);
		store_close(store);
		return 1;
	}
	struct notify *notify = NULL;
	struct notify_options no = {0};
	str_copy(no.smtp_url, sizeof(no.smtp_url), cfg->notify_smtp_url);
	str_copy(no.smtp_from, sizeof(no.smtp_from), cfg->notify_smtp_from);
	str_copy(no.sms_url, sizeof(no.sms_url), cfg->notify_sms_url);
	memcpy(no.master_key, auo.master_key, sizeof(no.master_key));
	secret_wipe(auo.master_key, sizeof(auo.master_key));
	rc = notify_open(store, &no, &notify, &e);
	secret_wipe(no.master_key, sizeof(no.master_key));
	if (rc != 0) {
		log_error("cannot start notifications: %s", e.detail);
		auth_close(auth);
		audit_close(audit);
		store_close(store);
		return 1;
	}
	struct hub *hub = NULL;
	if (open_hub(cfg, store, audit, &hub, &e) != 0) {
		log_error("cannot start the hub: %s", e.detail);
		notify_close(notify);
		auth_close(auth);
		audit_close(audit);
		store_close(store);
		return 1;
	}
	struct app app = {.cfg = cfg, .store = store, .audit = audit,
			  .auth = auth, .notify = notify, .hub = hub,
			  .started_at = time_now()};
	struct http_server_options opt = {
		.cfg = cfg,
		.routes = api_routes,
		.nroutes = api_nroutes,
		.app = &app,
		.resolve_institution = api_resolve_institution,
		.resolve_session = api_resolve_session,
		.has_role = api_has_role,
	};
	struct http_server *srv;
	if (http_server_start(&opt, &srv, &e) != 0) {
		log_error("cannot start: %s", e.detail);
		hub_close(hub);
		notify_close(notify);
		auth_close(auth);
		audit_close(audit);
		store_close(store);
		return 1;
	}
	char pub[128] = "", net[128] = "";
	if (cfg->public_listener.enabled)
		listener_url(&cfg->public_listener,
			     http_server_port(srv, LISTENER_PUBLIC), pub,
			     sizeof(pub));
	if (cfg->network_listener.enabled)
		listener_url(&cfg->network_listener,
			     http_server_port(srv, LISTENER_NETWORK), net,
			     sizeof(net));
	struct log_line l;
	log_begin(&l, LV_INFO, __func__, "listening");
	log_str(&l, "public_url", pub);
	log_str(&l, "network_url", net);
	log_end(&l);
	rc = 0;
	if (ready && ready(ctx, srv, pub, net) != 0)
		rc = 1;
	else
		log_info("stopping on signal %d", wait_for_signal());
	/* Requests first (they may still append), then the log (its final
	 * checkpoint), then the database. */
	http_server_stop(srv);
	hub_close(hub);
	notify_close(notify);
	auth_close(auth);
	audit_close(audit);
	store_close(store);
	log_flush();
	log_info("stopped");
	return rc;
}

/* Parse the one option both commands take. Returns 0, or 2 (usage). */
static int config_option(int argc, char **argv, const char *usage,
			 const char **path)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
	int c;
	*path = NULL;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c != 'c') {
			fprintf(stderr, "usage: %s\n", usage);
			return 2;
		}
		*path = optarg;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	const char *path;
	if (config_option(argc, argv, "kruispunt serve --config FILE", &path))
		return 2;
	struct config cfg;
	struct error e;
	struct store *store;
	if (config_load(path, &cfg, &e) != 0 ||
	    cli_open_store(&cfg, &store, &e) != 0) {
		fprintf(stderr, "kruispunt serve: %s\n", e.detail);
		return 1;
	}
	return cli_serve(&cfg, store, NULL, NULL);
}

int cmd_config(int argc, char **argv)
{
	const char *path;
	if (config_option(argc, argv, "kruispunt config [--config FILE]", &path))
		return 2;
	struct config cfg;
	struct error e;
	if (config_load(path, &cfg, &e) != 0) {
		fprintf(stderr, "kruispunt config: %s\n", e.detail);
		return 1;
	}
	config_describe(&cfg, stdout);
	return 0;
}
