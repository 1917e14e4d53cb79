/* The organisations module's configuration keys (org.h). */
#include "org/org.h"

const struct config_key org_config_keys[] = {
	{"org", "role_max_months", CONFIG_INT,
	 CONFIG_FIELD(struct org_config, role_max_months),
	 KP_XSTR(ORG_ROLE_MAX_MONTHS), 1, 120, NULL,
	 "longest validity of a role, in months (renewed after)"},
	{"org", "internal_control_keep_days", CONFIG_INT,
	 CONFIG_FIELD(struct org_config, internal_control_keep_days),
	 KP_XSTR(ORG_CONTROL_KEEP_DAYS), 731, 3653, NULL,
	 "internal-control records are kept this long, then removed (seed "
	 "001: two years)"},
};
const size_t org_config_nkeys = KP_NELEM(org_config_keys);
