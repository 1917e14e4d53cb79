/* The store's configuration keys (store.h). */
#include "store/store.h"

static const char *const backends[] = {"sqlite", "postgresql", NULL};

_Static_assert(sizeof(enum store_backend) == sizeof(int),
	       "backend is set as an int (CONFIG_ENUM)");

#define FIELD(f) CONFIG_FIELD(struct store_config, f)

const struct config_key store_config_keys[] = {
	{"store", "backend", CONFIG_ENUM, FIELD(backend), "sqlite", 0, 0,
	 backends, "sqlite | postgresql"},
	{"store", "database", CONFIG_STR, FIELD(database), "kruispunt.db", 0,
	 0, NULL, "SQLite database file"},
	{"store", "busy_timeout_ms", CONFIG_INT, FIELD(busy_timeout_ms),
	 KP_XSTR(STORE_BUSY_TIMEOUT_MS), 0, 600000, NULL,
	 "how long a connection waits for a lock"},
	{"store", "url", CONFIG_STR, FIELD(url), "", 0, 0, NULL,
	 "PostgreSQL: libpq URL (postgresql://user@host:port/db), "
	 "without a password"},
	{"store", "password_file", CONFIG_STR, FIELD(password_file), "", 0,
	 0, NULL,
	 "PostgreSQL: file holding the password (else PGPASSWORD or "
	 "~/.pgpass)"},
	{"store", "max_readers", CONFIG_INT, FIELD(max_readers), "0", 0, 4096,
	 NULL,
	 "PostgreSQL: at most this many read connections, one per reading "
	 "thread (0: no cap)"},
};
const size_t store_config_nkeys = KP_NELEM(store_config_keys);
