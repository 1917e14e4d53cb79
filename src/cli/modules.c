/*
 * The list of modules (modules.h): which modules have tables. The order
 * here does not matter, the migrations' own numbers do.
 */
#include <string.h>

#include "cli/modules.h"

#include "authz/authz.h"
#include "directory/directory.h"
#include "employ/employ.h"
#include "federation/federation.h"
#include "lra/lra.h"
#include "mandate/mandate.h"
#include "oidc/oidc.h"
#include "org/org.h"
#include "registry/registry.h"

const struct store_schema *const cli_schemas[] = {
	&audit_schema, &org_schema,  &registry_schema, &directory_schema,
	&authz_schema, &auth_schema, &notify_schema,   &hub_schema,
	&lra_schema,   &employ_schema, &mandate_schema, &oidc_schema,
	&federation_schema,
};
const size_t cli_nschemas = KP_NELEM(cli_schemas);

int cli_store_open(const char *path, const struct store_options *opt,
		   struct store **out, struct error *e)
{
	struct store_options o = {0};
	if (opt)
		o = *opt;
	o.schemas = cli_schemas;
	o.nschemas = cli_nschemas;
	return store_open(path, &o, out, e);
}

int cli_schema_latest(void)
{
	return store_schema_latest(cli_schemas, cli_nschemas);
}

/* Every module's keys over its part of cfg, in the order `kruispunt
 * config` prints them. */
#define CONFIG_TABLES(cfg)                                                  \
	{                                                                   \
		{base_config_keys, base_config_nkeys, &(cfg)->base},        \
		{http_config_keys, http_config_nkeys, &(cfg)->http},        \
		{store_config_keys, store_config_nkeys, &(cfg)->store},     \
		{audit_config_keys, audit_config_nkeys, &(cfg)->audit},     \
		{witness_config_keys, witness_config_nkeys, &(cfg)->witness}, \
		{auth_config_keys, auth_config_nkeys, &(cfg)->auth},        \
		{notify_config_keys, notify_config_nkeys, &(cfg)->notify},  \
		{hub_config_keys, hub_config_nkeys, &(cfg)->hub},           \
		{org_config_keys, org_config_nkeys, &(cfg)->org},           \
		{oidc_config_keys, oidc_config_nkeys, &(cfg)->oidc},        \
	}

void cli_config_defaults(struct cli_config *cfg)
{
	const struct config_table t[] = CONFIG_TABLES(cfg);
	memset(cfg, 0, sizeof(*cfg));
	config_defaults(t, KP_NELEM(t));
}

int cli_config_load(const char *path, struct cli_config *cfg,
		    struct error *e)
{
	const struct config_table t[] = CONFIG_TABLES(cfg);
	memset(cfg, 0, sizeof(*cfg));
	int rc = config_load(path, t, KP_NELEM(t), e);
	/* src/org has no handle to open: every command that loads the
	 * configuration hands it its part here, before any role changes. */
	if (rc == 0)
		org_configure(&cfg->org);
	return rc;
}

int cli_config_env(struct cli_config *cfg, struct error *e)
{
	const struct config_table t[] = CONFIG_TABLES(cfg);
	return config_load_env(t, KP_NELEM(t), e);
}

void cli_config_describe(const struct cli_config *cfg, FILE *out)
{
	/* The tables point at what they fill; describing only reads. */
	struct cli_config copy = *cfg;
	const struct config_table t[] = CONFIG_TABLES(&copy);
	config_describe(t, KP_NELEM(t), out);
}
