/*
 * src/registry's tables: the National Register and the BIS register,
 * parent links and mutations.
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "registry/registry.h"

static const struct store_migration migrations[] = {
	{4, "registry",
	 /* src/registry: the National Register and the BIS register. Every
	  * change is also a row of person_mutation, with its ticket and the
	  * values before and after; the hub forwards those rows. */
	 "CREATE TABLE person ("
	 "  insz TEXT PRIMARY KEY CHECK (length(insz) = 11),"
	 "  register TEXT NOT NULL CHECK (register IN ('RR', 'BIS')),"
	 "  last_name TEXT NOT NULL,"
	 "  first_names TEXT NOT NULL,"
	 "  birth_date TEXT, birth_place TEXT,"
	 "  sex TEXT CHECK (sex IN ('M', 'F')),"
	 "  nationality TEXT, street TEXT, postal_code TEXT, municipality TEXT,"
	 "  country TEXT, language TEXT, deceased_on TEXT,"
	 "  version INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL"
	 ") WITHOUT ROWID;"
	 "CREATE INDEX person_by_name ON person"
	 "  (last_name COLLATE NOCASE, first_names COLLATE NOCASE, birth_date);"
	 "CREATE TABLE person_parent ("
	 "  child TEXT NOT NULL REFERENCES person(insz),"
	 "  parent TEXT NOT NULL REFERENCES person(insz),"
	 "  PRIMARY KEY (child, parent)"
	 ") WITHOUT ROWID;"
	 "CREATE INDEX person_parent_by_parent ON person_parent(parent, child);"
	 "CREATE TABLE person_mutation ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL REFERENCES person(insz),"
	 "  type TEXT NOT NULL CHECK (type IN ('address','death','birth','name')),"
	 "  ticket TEXT NOT NULL UNIQUE,"
	 "  effective_on TEXT NOT NULL,"
	 "  recorded_at INTEGER NOT NULL,"
	 "  institution_id INTEGER,"
	 "  before TEXT, after TEXT"
	 ");"
	 "CREATE INDEX person_mutation_by_person ON person_mutation(insz, id);",
	 NULL},
	{18, "person_by_birth_date",
	 /* A registration office finds a person by names and birth date,
	  * names compared without accents: the birth date narrows ten
	  * million persons to a few hundred, whose names are folded in C. */
	 "CREATE INDEX person_by_birth_date ON person(birth_date);",
	 NULL},
	{21, "pension_status",
	 /* Whether a person is retired, and since when (NULL: unknown).
	  * The values are checked in C, not by a CHECK: a value added
	  * later must not mean rebuilding a table of ten million persons.
	  * A change of it is a mutation of its own type; SQLite cannot
	  * alter a CHECK, so person_mutation is rebuilt with the type
	  * added, keeping every id (the hub's forwarder's cursor and the
	  * mailbox messages name mutations by id). */
	 "ALTER TABLE person ADD COLUMN pension_status TEXT;"
	 "ALTER TABLE person ADD COLUMN pension_since TEXT;"
	 "CREATE TABLE person_mutation_new ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL REFERENCES person(insz),"
	 "  type TEXT NOT NULL CHECK (type IN"
	 "    ('address','death','birth','name','pension')),"
	 "  ticket TEXT NOT NULL UNIQUE,"
	 "  effective_on TEXT NOT NULL,"
	 "  recorded_at INTEGER NOT NULL,"
	 "  institution_id INTEGER,"
	 "  before TEXT, after TEXT"
	 ");"
	 "INSERT INTO person_mutation_new (id, insz, type, ticket, "
	 "  effective_on, recorded_at, institution_id, before, after)"
	 "  SELECT id, insz, type, ticket, effective_on, recorded_at,"
	 "  institution_id, before, after FROM person_mutation;"
	 "DROP TABLE person_mutation;"
	 "ALTER TABLE person_mutation_new RENAME TO person_mutation;"
	 "CREATE INDEX person_mutation_by_person ON person_mutation(insz, id);",
	 NULL},
};

const struct store_schema registry_schema = {
	"registry", migrations, KP_NELEM(migrations)};
