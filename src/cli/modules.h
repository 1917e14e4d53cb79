/*
 * The modules kruispunt is made of, as the command layer assembles them:
 * every module's migrations (and, below, configuration keys) in one list.
 * Base and the store know no module; they iterate over what this list
 * hands them. A new module with tables adds its schema here, once.
 *
 * Built as its own small library (kpmodules), so that the tests, tools
 * and benchmarks open a store with exactly the schema the daemon has.
 */
#ifndef KP_CLI_MODULES_H
#define KP_CLI_MODULES_H

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"
#include "http/http.h"
#include "hub/hub.h"
#include "notify/notify.h"
#include "oidc/oidc.h"
#include "org/org.h"
#include "store/store.h"
#include "witness/witness.h"

/* Every module's migrations, for store_options.schemas. */
extern const struct store_schema *const cli_schemas[];
extern const size_t cli_nschemas;

/* store_open with every module's schema (opt may be NULL; its schemas
 * are replaced). Returns 0 and *out (store_close), or -1 with e set. */
int cli_store_open(const char *path, const struct store_options *opt,
		   struct store **out, struct error *e);

/* Newest schema version of this binary. */
int cli_schema_latest(void);

/* The whole configuration: each module's own part, filled from its own
 * keys. src/cli hands each module its part and nothing else. */
struct cli_config {
	struct base_config base;     /* [server] data_dir, log_level */
	struct http_config http;     /* [server] threads, ...; listeners */
	struct store_config store;   /* [store] */
	struct org_config org;       /* [org] */
	struct audit_options audit;  /* [audit] */
	struct auth_config auth;     /* [auth] */
	struct notify_config notify; /* [notify] */
	struct hub_config hub;       /* [hub] */
	struct witness_config witness; /* [audit] witnesses, witness_* */
	struct oidc_config oidc;     /* [oidc] */
	/* No key: the demo's portal is wherever its public listener got its
	 * port, while auth.public_url (which names the audit log, set once)
	 * stays as configured. */
	bool public_url_follows;
};

/* Every key to its default. */
void cli_config_defaults(struct cli_config *cfg);
/* config_load over every module's keys. Returns 0, or -1 with e set. */
int cli_config_load(const char *path, struct cli_config *cfg,
		    struct error *e);
/* config_load_env over every module's keys, on top of cfg. Returns 0,
 * or -1 with e set. */
int cli_config_env(struct cli_config *cfg, struct error *e);
/* config_describe over every module's keys. */
void cli_config_describe(const struct cli_config *cfg, FILE *out);

#endif
