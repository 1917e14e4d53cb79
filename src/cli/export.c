/*
 * kruispunt export --data DIR --to postgresql URL: an installation's SQLite
 * database moved into a new PostgreSQL database (store_export), which is
 * migrated to this binary's schema first and whose audit log is verified
 * afterwards with the installation's own public key. The installation
 * keeps running on SQLite until its operator switches [store] over.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct export_opts {
	const char *data, *url, *password_file;
};

static int parse(int argc, char **argv, struct export_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			o->data = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 2 < argc &&
			 strcmp(argv[i + 1], "postgresql") == 0) {
			o->url = argv[i + 2];
			i += 2;
		} else if (strcmp(argv[i], "--password-file") == 0 &&
			   i + 1 < argc)
			o->password_file = argv[++i];
		else
			return -1;
	}
	return o->data && o->url ? 0 : -1;
}

/* The target: the source's configuration with [store] pointed at url. */
static int open_target(const struct cli_config *src,
		       const struct export_opts *o, struct store **out,
		       struct error *e)
{
	struct cli_config cfg = *src;
	cfg.store.backend = STORE_POSTGRESQL;
	if (!str_copy(cfg.store.url, sizeof(cfg.store.url), o->url))
		return err_set(e, ERR_INVALID, "store_url_invalid",
			       "the URL is too long");
	cfg.store.password_file[0] = '\0';
	if (o->password_file &&
	    !str_copy(cfg.store.password_file, sizeof(cfg.store.password_file),
		      o->password_file))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	/* Migrated only when new: a URL naming some older database by
	 * mistake must not have its schema changed before it is refused. */
	return cli_open_store_mode(&cfg, STORE_MIGRATE_FRESH, out, e);
}

static int verify(struct store *s, const struct cli_config *cfg,
		  struct error *e)
{
	uint8_t pk[ED25519_PK_LEN];
	if (cli_read_key(cfg, "keys/audit-signing.pub", pk, sizeof(pk), e) != 0)
		return -1;
	struct audit_verify_report rep;
	int rc = audit_verify(s, pk, &rep);
	if (rc != 0)
		return err_set(e, ERR_INTERNAL, "export_not_intact",
			       "the copied audit log does not verify: %s",
			       rc < 0 ? "it cannot be read" : rep.problem);
	printf("audit log on the target intact: %llu events, %llu signed "
	       "checkpoints verified\n", (unsigned long long)rep.events,
	       (unsigned long long)rep.checkpoints);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o;
	if (parse(argc, argv, &o) != 0)
		return cli_usage("export");
	struct cli_config cfg;
	struct error e;
	struct store *dst = NULL;
	char db[LIMIT_PATH];
	struct store_export rep;
	int rc = cli_open_data(o.data, &cfg, NULL, &e);
	if (rc == 0 && cfg.store.backend != STORE_SQLITE)
		rc = err_set(&e, ERR_INVALID, "export_failed",
			     "%s already runs on PostgreSQL", o.data);
	if (rc == 0 && config_path(cfg.base.data_dir, cfg.store.database, db,
				   sizeof(db)) != 0)
		rc = err_set(&e, ERR_INVALID, "bad_path", "path too long");
	if (rc == 0)
		rc = open_target(&cfg, &o, &dst, &e);
	if (rc == 0)
		rc = store_export(db, dst, &rep, &e);
	if (rc == 0) {
		printf("exported %lld rows of %d tables (schema %d) to "
		       "PostgreSQL\n", (long long)rep.rows, rep.tables,
		       rep.version);
		rc = verify(dst, &cfg, &e);
	}
	store_close(dst);
	if (rc != 0) {
		fprintf(stderr, "kruispunt export: %s\n", e.detail);
		return 1;
	}
	printf("now set [store] backend = postgresql and url = %s in the "
	       "configuration, and restart\n", o.url);
	return 0;
}
