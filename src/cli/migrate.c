/*
 * kruispunt migrate: bring the database's schema to this binary's, when
 * the operator says so. On PostgreSQL the daemon never migrates by itself
 * (several nodes share the database, and a rolling upgrade must not have
 * the first restarted node change the schema under the others); on
 * SQLite it does, and this command only says where the schema stands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int report(struct store *s, const char *verb)
{
	printf("database schema %d (%s; this binary's: %d)\n",
	       store_schema_version(s), verb, cli_schema_latest());
	store_close(s);
	return 0;
}

int cmd_migrate(int argc, char **argv)
{
	const char *data = NULL;
	bool check = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strcmp(argv[i], "--check") == 0)
			check = true;
		else
			return cli_usage("migrate");
	}
	if (!data)
		return cli_usage("migrate");
	struct cli_config cfg;
	struct store *s;
	struct error e;
	if (cli_open_data(data, &cfg, NULL, &e) != 0) {
		fprintf(stderr, "kruispunt migrate: %s\n", e.detail);
		return 3;
	}
	if (cli_open_store_mode(&cfg, STORE_MIGRATE_CHECK, &s, &e) == 0)
		return report(s, "up to date");
	if (strcmp(e.code, "store_migrate_needed") != 0 || check) {
		fprintf(stderr, "kruispunt migrate: %s\n", e.detail);
		return strcmp(e.code, "store_migrate_needed") == 0 ? 1 : 3;
	}
	if (cli_open_store_mode(&cfg, STORE_MIGRATE_APPLY, &s, &e) != 0) {
		fprintf(stderr, "kruispunt migrate: %s\n", e.detail);
		return 3;
	}
	return report(s, "migrated");
}
