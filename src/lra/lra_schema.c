/*
 * src/lra's tables. Identification records are kept ten years, as the
 * audit trail is (seed 003: "De logs worden in een audit trail beveiligd
 * bewaard gedurende 10 jaar"): a trigger refuses deleting a younger one.
 * Migration numbers are global (src/store/migrations.c).
 */
#include "lra/lra.h"

static const struct store_migration migrations[] = {
	{20, "lra",
	 /* The usage conditions an officer accepted: the text as they read
	  * it, with its version and the date. */
	 "CREATE TABLE lra_conditions_acceptance ("
	 "  officer TEXT NOT NULL, office TEXT NOT NULL,"
	 "  version TEXT NOT NULL, text TEXT NOT NULL,"
	 "  accepted_at INTEGER NOT NULL,"
	 "  PRIMARY KEY (officer, version)) WITHOUT ROWID;"
	 "CREATE TABLE lra_identification ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL, office TEXT NOT NULL, officer TEXT NOT NULL,"
	 "  purpose TEXT NOT NULL,"
	 "  document_type TEXT NOT NULL CHECK (document_type IN"
	 "    ('be_eid', 'foreign_id', 'passport', 'residence_permit')),"
	 "  document_number TEXT NOT NULL,"
	 "  document_valid_until TEXT NOT NULL,"
	 "  issuing_country TEXT NOT NULL,"
	 "  photo_compared INTEGER NOT NULL, document_genuine INTEGER NOT NULL,"
	 "  document_not_expired INTEGER NOT NULL,"
	 "  person_present INTEGER NOT NULL,"
	 "  outcome TEXT NOT NULL CHECK (outcome IN ('identified', 'failed')),"
	 "  created_at INTEGER NOT NULL);"
	 "CREATE INDEX lra_identification_by_person ON lra_identification"
	 "  (insz, id);"
	 "CREATE TRIGGER lra_identification_kept BEFORE DELETE ON"
	 "  lra_identification WHEN old.created_at >"
	 "  CAST(strftime('%s', 'now') AS INTEGER) - 3653 * 86400 BEGIN"
	 "  SELECT RAISE(ABORT, 'identification records are kept ten years');"
	 "  END;",
	 NULL},
};

const struct store_schema lra_schema = {
	"lra", migrations, KP_NELEM(migrations)};
