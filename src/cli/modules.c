/*
 * The list of modules (modules.h): which modules have tables. The order
 * here does not matter, the migrations' own numbers do.
 */
#include "cli/modules.h"

#include "audit/audit.h"
#include "auth/auth.h"
#include "authz/authz.h"
#include "directory/directory.h"
#include "hub/hub.h"
#include "notify/notify.h"
#include "org/org.h"
#include "registry/registry.h"

const struct store_schema *const cli_schemas[] = {
	&audit_schema, &org_schema,  &registry_schema, &directory_schema,
	&authz_schema, &auth_schema, &notify_schema,   &hub_schema,
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
