/* Shared between the files of src/store only. */
#ifndef KP_STORE_INTERNAL_H
#define KP_STORE_INTERNAL_H

#include "store/store.h"

/* Run static SQL (no parameters). Returns 0, or -1 (logged). */
int store_exec(struct store_conn *c, const char *sql);
/* Apply every migration of opt's schemas newer than the database's
 * version. */
int store_migrate(struct store_conn *writer, const struct store_options *opt,
		  struct error *e);
int store_migration_current(struct store_conn *c);

#endif
