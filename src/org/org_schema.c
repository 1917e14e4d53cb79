/*
 * src/org's tables: organisations, institutions, the certificates that
 * identify them on the network,
 * categories and roles, the circle of trust, and a provider's own
 * timeout (a column of institution the hub reads).
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "org/org.h"

static const struct store_migration migrations[] = {
	{2, "institutions",
	 /* src/org: organisations by enterprise number, the institutions
	  * among them, and the certificates that identify an institution on
	  * the network listener (several per institution: rollover). */
	 "CREATE TABLE organisation ("
	 "  kbo TEXT PRIMARY KEY CHECK (length(kbo) = 10),"
	 "  name TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL"
	 ") WITHOUT ROWID;"
	 "CREATE TABLE institution ("
	 "  id INTEGER PRIMARY KEY,"
	 "  kbo TEXT NOT NULL UNIQUE REFERENCES organisation(kbo),"
	 "  name TEXT NOT NULL,"
	 "  actor_type TEXT NOT NULL,"
	 "  branch TEXT NOT NULL,"
	 "  endpoint TEXT"
	 ");"
	 "CREATE TABLE institution_cert ("
	 "  fingerprint BLOB PRIMARY KEY CHECK (length(fingerprint) = 32),"
	 "  institution_id INTEGER NOT NULL REFERENCES institution(id),"
	 "  subject TEXT NOT NULL,"
	 "  not_before INTEGER NOT NULL,"
	 "  not_after INTEGER NOT NULL,"
	 "  added_at INTEGER NOT NULL"
	 ") WITHOUT ROWID;"
	 "CREATE INDEX institution_cert_by_institution"
	 "  ON institution_cert(institution_id);",
	 NULL},
	{7, "roles",
	 /* src/org: categories, and the roles organisations give persons,
	  * kept after revocation (who had which role when). */
	 "CREATE TABLE organisation_category ("
	 "  kbo TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  category TEXT NOT NULL,"
	 "  PRIMARY KEY (kbo, category)) WITHOUT ROWID;"
	 "CREATE TABLE role_assignment ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL,"
	 "  kbo TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  role TEXT NOT NULL,"
	 "  valid_from TEXT NOT NULL,"
	 "  valid_until TEXT NOT NULL,"
	 "  granted_by TEXT NOT NULL,"
	 "  granted_at INTEGER NOT NULL,"
	 "  revoked_at INTEGER, revoked_by TEXT"
	 ");"
	 "CREATE INDEX role_by_person ON role_assignment(insz, kbo, role);"
	 "CREATE INDEX role_by_org ON role_assignment(kbo, id);",
	 NULL},
	{12, "circle_of_trust",
	 /* src/org: an organisation's acceptance of the circle-of-trust
	  * criteria (seed 001), with the reference of its processing
	  * register; mandates are consulted only from inside the circle. */
	 "CREATE TABLE circle_of_trust ("
	 "  kbo TEXT PRIMARY KEY REFERENCES organisation(kbo),"
	 "  accepted_by TEXT NOT NULL, register_ref TEXT NOT NULL,"
	 "  accepted_at INTEGER NOT NULL) WITHOUT ROWID;",
	 NULL},
	{15, "provider_timeout",
	 /* A provider's own answer time, when it differs from
	  * hub.provider_timeout_ms (a slow legacy source, a fast cache). */
	 "ALTER TABLE institution ADD COLUMN timeout_ms INTEGER;",
	 NULL},
	{24, "internal_control",
	 /* An organisation's internal control (seed 001, the circle of
	  * trust): kept two years, apart from the ten-year audit log. */
	 "CREATE TABLE internal_control ("
	 "  id INTEGER PRIMARY KEY,"
	 "  kbo TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  checked_by TEXT NOT NULL, checked_on TEXT NOT NULL,"
	 "  what TEXT NOT NULL, finding TEXT NOT NULL,"
	 "  recorded_at INTEGER NOT NULL);"
	 "CREATE INDEX internal_control_by_org ON internal_control(kbo, id);"
	 "CREATE INDEX internal_control_by_age ON internal_control"
	 "  (recorded_at);",
	 NULL},
	{25, "organisation_cert",
	 /* A network certificate identifies an organisation, not only an
	  * institution: a mandate holder's system consults under its
	  * mandates with one (deliberation 25/016). One table for every
	  * certificate, so a fingerprint names one organisation. */
	 "CREATE TABLE organisation_cert ("
	 "  fingerprint BLOB PRIMARY KEY CHECK (length(fingerprint) = 32),"
	 "  kbo TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  subject TEXT NOT NULL,"
	 "  not_before INTEGER NOT NULL,"
	 "  not_after INTEGER NOT NULL,"
	 "  added_at INTEGER NOT NULL"
	 ") WITHOUT ROWID;"
	 "INSERT INTO organisation_cert (fingerprint, kbo, subject,"
	 "  not_before, not_after, added_at)"
	 "  SELECT c.fingerprint, i.kbo, c.subject, c.not_before,"
	 "  c.not_after, c.added_at FROM institution_cert c"
	 "  JOIN institution i ON i.id = c.institution_id;"
	 "DROP TABLE institution_cert;"
	 "CREATE INDEX organisation_cert_by_org ON organisation_cert(kbo);",
	 NULL},
	{27, "social_secretariat",
	 /* An employer's affiliations with a social secretariat, kept
	  * after they end (who could declare for whom, when). */
	 "CREATE TABLE secretariat_affiliation ("
	 "  id INTEGER PRIMARY KEY,"
	 "  employer TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  secretariat TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  valid_from TEXT NOT NULL, valid_until TEXT,"
	 "  created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
	 "  revoked_at INTEGER, revoked_by TEXT,"
	 "  CHECK (employer <> secretariat));"
	 "CREATE INDEX affiliation_by_employer ON secretariat_affiliation"
	 "  (employer, id);"
	 "CREATE INDEX affiliation_by_secretariat ON secretariat_affiliation"
	 "  (secretariat, employer);",
	 NULL},
};

const struct store_schema org_schema = {
	"org", migrations, KP_NELEM(migrations)};
