/*
 * Configuration: built-in defaults, then an INI file (inih), then
 * environment variables KRUISPUNT_<SECTION>_<KEY>. The keys are a table, so
 * that parsing, the environment override and `kruispunt config` (which
 * prints them all) cannot drift apart. An unknown key is an error: a typo in
 * a security setting must not be silently ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "base/base.h"

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL, OPT_CERT_MODE };

struct opt {
	const char *section;
	const char *key;
	enum opt_type type;
	size_t offset;
	size_t size;
	const char *def;
	long min, max;
	const char *help;
};

#define CFG(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define LST(l, field) offsetof(struct config, l) + offsetof(struct listener_config, field), \
		      sizeof(((struct listener_config *)0)->field)

/* The two listeners share their keys; only section, defaults and help
 * differ. */
#define LISTENER_OPTS(sec, l, def_port, def_mode, def_ca, what)                       \
	{sec, "enabled", OPT_BOOL, LST(l, enabled), "true", 0, 1,              \
	 "serve the " what " listener"},                                       \
	{sec, "address", OPT_STR, LST(l, address), "127.0.0.1", 0, 0,          \
	 "address to bind (loopback by default: secure by default)"},          \
	{sec, "port", OPT_INT, LST(l, port), def_port, 0, 65535,                   \
	 "TCP port (0: let the kernel choose)"},                               \
	{sec, "tls", OPT_BOOL, LST(l, tls), "true", 0, 1,                      \
	 "serve TLS; plain HTTP is refused unless bound to loopback"},         \
	{sec, "tls_cert", OPT_STR, LST(l, tls_cert), "pki/server.crt", 0, 0,   \
	 "server certificate (PEM)"},                                          \
	{sec, "tls_key", OPT_STR, LST(l, tls_key), "pki/server.key", 0, 0,     \
	 "server private key (PEM)"},                                          \
	{sec, "client_ca", OPT_STR, LST(l, client_ca), def_ca, 0, 0,               \
	 "CA bundle that client certificates must chain to"},                  \
	{sec, "crl", OPT_STR, LST(l, crl), "", 0, 0,                           \
	 "certificate revocation list (PEM) for client certificates"},         \
	{sec, "client_cert", OPT_CERT_MODE, LST(l, client_cert), def_mode, 0, \
	 0, "none | optional | required"},                                     \
	{sec, "behind_proxy", OPT_BOOL, LST(l, behind_proxy), "false", 0, 1,   \
	 "a TLS-terminating proxy verified the client certificate"},           \
	{sec, "proxy_addresses", OPT_STR, LST(l, proxy_addresses), "", 0, 0,   \
	 "comma-separated proxy IP addresses whose header is believed"},       \
	{sec, "proxy_cert_header", OPT_STR, LST(l, proxy_cert_header),         \
	 "X-Client-Cert", 0, 0,                                                \
	 "header with the client certificate: PEM (URL-encoded or not), "      \
	 "base64 DER, or its SHA-256 fingerprint in hex"}

static const struct opt options[] = {
	{"server", "data_dir", OPT_STR, CFG(data_dir), "./var/kruispunt", 0, 0,
	 "data directory: database, keys, PKI"},
	{"server", "threads", OPT_INT, CFG(threads), "0", 0, 256,
	 "HTTP worker threads per listener (0: one per core)"},
	{"server", "log_level", OPT_STR, CFG(log_level), "info", 0, 0,
	 "debug | info | warn | error"},
	{"store", "database", OPT_STR, CFG(database), "kruispunt.db", 0, 0,
	 "SQLite database file"},
	{"store", "busy_timeout_ms", OPT_INT, CFG(db_busy_timeout_ms), "5000",
	 0, 600000, "how long a connection waits for a lock"},
	/* OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane. */
	{"auth", "argon2_ops", OPT_INT, CFG(auth_argon2_ops), "2", 1, 10,
	 "Argon2id passes"},
	{"auth", "argon2_mem_kib", OPT_INT, CFG(auth_argon2_mem_kib), "19456",
	 8, 1048576, "Argon2id memory in KiB (19 MiB)"},
	{"auth", "max_failures", OPT_INT, CFG(auth_max_failures), "5", 1, 100,
	 "consecutive failures that lock a key"},
	{"auth", "session_absolute_s", OPT_INT, CFG(auth_session_absolute_s),
	 "28800", 1, 604800, "a session ends this long after login"},
	{"auth", "session_idle_s", OPT_INT, CFG(auth_session_idle_s), "1800",
	 1, 86400, "a session ends this long after its last use"},
	{"auth", "logins_per_minute", OPT_INT, CFG(auth_logins_per_minute),
	 "10", 1, 100000, "login attempts per username per minute (429)"},
	{"server", "anonymous_posts_per_second", OPT_INT,
	 CFG(public_posts_per_second), "20", 1, 1000000,
	 "unauthenticated POSTs per client address per second (429)"},
	{"notify", "smtp_url", OPT_STR, CFG(notify_smtp_url), "", 0, 0,
	 "SMTP server for e-mail codes (smtp://host:port); empty: none"},
	{"notify", "smtp_from", OPT_STR, CFG(notify_smtp_from),
	 "kruispunt@localhost", 0, 0, "sender address of e-mail codes"},
	{"notify", "sms_url", OPT_STR, CFG(notify_sms_url), "", 0, 0,
	 "SMS gateway URL (JSON POST {to, text}); empty: none"},
	/* Seeds 001 and 003: logs are kept at least ten years. */
	{"audit", "retention_days", OPT_INT, CFG(audit_retention_days), "3653",
	 3653, 36525, "days an audit event is kept at least (>= 10 years)"},
	{"audit", "checkpoint_interval_ms", OPT_INT,
	 CFG(audit_checkpoint_interval_ms), "1000", 10, 3600000,
	 "how often a new checkpoint is signed when the log grew"},
	{"audit", "index_batch", OPT_INT, CFG(audit_index_batch), "50000", 1,
	 10000000, "events indexed per batch, off the append path"},
	/* The hub towards the authentic sources (mutual TLS). Seed 004: the
	 * network answers online exchanges end to end within 4 s. */
	{"hub", "client_cert", OPT_STR, CFG(hub_client_cert), "", 0, 0,
	 "the hub's certificate towards providers (PEM); empty: no providers"},
	{"hub", "client_key", OPT_STR, CFG(hub_client_key), "", 0, 0,
	 "its private key (PEM)"},
	{"hub", "provider_ca", OPT_STR, CFG(hub_provider_ca), "pki/ca.pem", 0,
	 0, "CA that providers' server certificates chain to"},
	{"hub", "provider_timeout_ms", OPT_INT, CFG(hub_provider_timeout_ms),
	 "4000", 50, 120000, "how long the hub waits for a provider (504)"},
	{"hub", "provider_concurrency", OPT_INT,
	 CFG(hub_provider_concurrency), "16", 1, 1024,
	 "calls in flight per provider; more answer 503 provider_busy"},
	{"hub", "batch_max_lines", OPT_INT, CFG(hub_batch_max_lines), "1000000",
	 1, 100000000, "exchange requests one batch may hold"},
	{"hub", "batch_workers", OPT_INT, CFG(hub_batch_workers), "4", 1, 256,
	 "batch chunks run at once (each keeps its 1000 lines in flight)"},
	LISTENER_OPTS("public", public_listener, "8443", "none", "",
		      "public (portal + user API)"),
	LISTENER_OPTS("network", network_listener, "8444", "required",
		      "pki/ca.pem", "network (institution API)"),
};

static int parse_bool(const char *v, bool *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < KP_NELEM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int set_option(struct config *cfg, const struct opt *o, const char *v,
		      struct error *e)
{
	char *field = (char *)cfg + o->offset;
	switch (o->type) {
	case OPT_STR:
		if (!str_copy(field, o->size, v))
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.%s is too long", o->section, o->key);
		return 0;
	case OPT_INT: {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < o->min || n > o->max)
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.%s must be a number from %ld to %ld",
				       o->section, o->key, o->min, o->max);
		*(int *)(void *)field = (int)n;
		return 0;
	}
	case OPT_BOOL:
		if (parse_bool(v, (bool *)(void *)field) != 0)
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.%s must be true or false",
				       o->section, o->key);
		return 0;
	case OPT_CERT_MODE: {
		enum client_cert_mode *m = (enum client_cert_mode *)(void *)field;
		if (strcmp(v, "none") == 0)
			*m = CLIENT_CERT_NONE;
		else if (strcmp(v, "optional") == 0)
			*m = CLIENT_CERT_OPTIONAL;
		else if (strcmp(v, "required") == 0)
			*m = CLIENT_CERT_REQUIRED;
		else
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.%s must be none, optional or required",
				       o->section, o->key);
		return 0;
	}
	}
	return -1;
}

static const struct opt *find_option(const char *section, const char *key)
{
	for (size_t i = 0; i < KP_NELEM(options); i++)
		if (strcmp(options[i].section, section) == 0 &&
		    strcmp(options[i].key, key) == 0)
			return &options[i];
	return NULL;
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < KP_NELEM(options); i++)
		if (set_option(cfg, &options[i], options[i].def, NULL) != 0)
			abort(); /* a bad default is a programming error */
}

struct ini_ctx {
	struct config *cfg;
	struct error *e;
	bool failed;
};

static int on_ini_line(void *user, const char *section, const char *key,
		       const char *value)
{
	struct ini_ctx *c = user;
	if (c->failed)
		return 0;
	const struct opt *o = find_option(section, key);
	if (!o) {
		err_set(c->e, ERR_INVALID, "config_invalid",
			"unknown key %s.%s", section, key);
		c->failed = true;
		return 0;
	}
	if (set_option(c->cfg, o, value, c->e) != 0) {
		c->failed = true;
		return 0;
	}
	return 1;
}

static int load_file(const char *path, struct config *cfg, struct error *e)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "cannot read %s: %s", path, strerror(errno));
	if (st.st_size > LIMIT_CONFIG_FILE)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s is larger than %d bytes", path,
			       LIMIT_CONFIG_FILE);
	struct ini_ctx c = {cfg, e, false};
	int rc = ini_parse(path, on_ini_line, &c);
	if (c.failed)
		return -1;
	if (rc != 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s: syntax error on line %d", path, rc);
	return 0;
}

static void env_name(const struct opt *o, char *out, size_t n)
{
	snprintf(out, n, "KRUISPUNT_%s_%s", o->section, o->key);
	for (char *p = out; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

static int load_env(struct config *cfg, struct error *e)
{
	char name[96];
	for (size_t i = 0; i < KP_NELEM(options); i++) {
		env_name(&options[i], name, sizeof(name));
		const char *v = getenv(name);
		if (v && set_option(cfg, &options[i], v, e) != 0)
			return -1;
	}
	return 0;
}

int config_load(const char *path, struct config *cfg, struct error *e)
{
	config_defaults(cfg);
	if (path && load_file(path, cfg, e) != 0)
		return -1;
	if (load_env(cfg, e) != 0)
		return -1;
	enum log_level lv;
	if (log_level_parse(cfg->log_level, &lv) != 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "server.log_level must be debug, info, warn or "
			       "error");
	return 0;
}

int config_path(const struct config *cfg, const char *p, char *out, size_t n)
{
	int w = p[0] == '/' ? snprintf(out, n, "%s", p)
			    : snprintf(out, n, "%s/%s", cfg->data_dir, p);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static void describe_value(const struct config *cfg, const struct opt *o,
			   FILE *out)
{
	const char *field = (const char *)cfg + o->offset;
	static const char *modes[] = {"none", "optional", "required"};
	switch (o->type) {
	case OPT_STR:
		fprintf(out, "%s", field);
		break;
	case OPT_INT:
		fprintf(out, "%d", *(const int *)(const void *)field);
		break;
	case OPT_BOOL:
		fprintf(out, "%s", *(const bool *)(const void *)field ? "true" : "false");
		break;
	case OPT_CERT_MODE:
		fprintf(out, "%s", modes[*(const enum client_cert_mode *)(const void *)field]);
		break;
	}
}

void config_describe(const struct config *cfg, FILE *out)
{
	const char *section = "";
	char name[96];
	for (size_t i = 0; i < KP_NELEM(options); i++) {
		const struct opt *o = &options[i];
		if (strcmp(section, o->section) != 0) {
			fprintf(out, "%s[%s]\n", i ? "\n" : "", o->section);
			section = o->section;
		}
		env_name(o, name, sizeof(name));
		fprintf(out, "; %s (env %s)\n%s = ", o->help, name, o->key);
		describe_value(cfg, o, out);
		fputc('\n', out);
	}
}
