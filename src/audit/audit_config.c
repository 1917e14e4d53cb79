/* The audit log's configuration keys (audit.h). */
#include "audit/audit.h"

const struct config_key audit_config_keys[] = {
	{"audit", "retention_days", CONFIG_INT,
	 CONFIG_FIELD(struct audit_options, retention_days),
	 KP_XSTR(AUDIT_RETENTION_DAYS), AUDIT_RETENTION_DAYS, 36525, NULL,
	 "days an audit event is kept at least (>= 10 years)"},
	{"audit", "checkpoint_interval_ms", CONFIG_INT,
	 CONFIG_FIELD(struct audit_options, checkpoint_interval_ms),
	 KP_XSTR(AUDIT_CHECKPOINT_INTERVAL_MS), 10, 3600000, NULL,
	 "how often a new checkpoint is signed when the log grew"},
	{"audit", "index_batch", CONFIG_INT,
	 CONFIG_FIELD(struct audit_options, index_batch),
	 KP_XSTR(AUDIT_INDEX_BATCH), 1, 10000000, NULL,
	 "events indexed per batch, off the append path"},
	{"audit", "origin", CONFIG_STR,
	 CONFIG_FIELD(struct audit_options, origin), "", 0, 0, NULL,
	 "the log's name in its signed checkpoints; empty: the public URL "
	 "without its scheme, plus /log"},
};
const size_t audit_config_nkeys = KP_NELEM(audit_config_keys);
