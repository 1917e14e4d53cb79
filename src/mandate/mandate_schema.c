/*
 * src/mandate's table. Mandates are kept: giving and revoking one are
 * registered (annex 1: "Het verstrekken of intrekken van een mandaat wordt
 * elektronisch geregistreerd"), so a revocation sets revoked_at and
 * nothing else changes or goes. Migration numbers are global
 * (src/store/migrations.c).
 */
#include "mandate/mandate.h"

static const struct store_migration migrations[] = {
	{23, "mandate",
	 "CREATE TABLE mandate ("
	 "  id INTEGER PRIMARY KEY,"
	 "  mandator TEXT NOT NULL, type TEXT NOT NULL,"
	 "  data_set TEXT NOT NULL, holder TEXT NOT NULL,"
	 "  holder_category TEXT NOT NULL,"
	 "  valid_from TEXT NOT NULL, valid_until TEXT NOT NULL,"
	 "  conditions_version TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL, revoked_at INTEGER,"
	 "  CHECK (valid_from <= valid_until));"
	 "CREATE INDEX mandate_by_mandator ON mandate (mandator, id);"
	 "CREATE INDEX mandate_by_holder ON mandate (holder, valid_until);"
	 "CREATE TRIGGER mandate_kept BEFORE DELETE ON mandate BEGIN"
	 "  SELECT RAISE(ABORT, 'mandates are kept'); END;"
	 "CREATE TRIGGER mandate_fixed BEFORE UPDATE ON mandate"
	 "  WHEN old.revoked_at IS NOT NULL OR new.id IS NOT old.id"
	 "  OR new.mandator IS NOT old.mandator OR new.holder IS NOT old.holder"
	 "  OR new.data_set IS NOT old.data_set"
	 "  OR new.valid_until IS NOT old.valid_until BEGIN"
	 "  SELECT RAISE(ABORT, 'a mandate is only ever revoked'); END;",
	 NULL},
};

const struct store_schema mandate_schema = {
	"mandate", migrations, KP_NELEM(migrations)};
