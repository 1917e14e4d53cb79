/* The store's configuration keys (store.h). */
#include "store/store.h"

const struct config_key store_config_keys[] = {
	{"store", "database", CONFIG_STR,
	 CONFIG_FIELD(struct store_config, database), "kruispunt.db", 0, 0,
	 NULL, "SQLite database file"},
	{"store", "busy_timeout_ms", CONFIG_INT,
	 CONFIG_FIELD(struct store_config, busy_timeout_ms),
	 KP_XSTR(STORE_BUSY_TIMEOUT_MS), 0, 600000, NULL,
	 "how long a connection waits for a lock"},
};
const size_t store_config_nkeys = KP_NELEM(store_config_keys);
