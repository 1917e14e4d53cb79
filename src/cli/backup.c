/*
 * `kruispunt backup --data DIR --to FILE [--passphrase-file F|--key-file F]`:
 * an encrypted archive of the data directory, taken while the daemon runs.
 * `kruispunt backup key --to FILE`: a new random backup key (0600).
 * `kruispunt restore --from FILE --data DIR [--passphrase-file F|--key-file
 * F]`: the archive into a new data directory, then its audit log verified.
 *
 * The passphrase never comes from the command line (every user of the
 * machine can read another's arguments): a file, or for automation the
 * environment variable KRUISPUNT_BACKUP_PASSPHRASE. The archive itself is
 * src/backup's; this file only translates options and prints.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "cli/cli.h"

#define PASSPHRASE_ENV "KRUISPUNT_BACKUP_PASSPHRASE"

struct opts {
	const char *data, *file, *pass_file, *key_file;
};

/* --data, --to or --from (into file), --passphrase-file, --key-file. */
static int parse(int argc, char **argv, const char *file_opt,
		 struct opts *o)
{
	const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{file_opt, required_argument, NULL, 'f'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"key-file", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0}};
	memset(o, 0, sizeof(*o));
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			o->data = optarg;
		else if (c == 'f')
			o->file = optarg;
		else if (c == 'p')
			o->pass_file = optarg;
		else if (c == 'k')
			o->key_file = optarg;
		else
			return -1;
	}
	return optind < argc || !o->data || !o->file ||
			       (o->pass_file && o->key_file)
		       ? -1
		       : 0;
}

static int secret(const struct opts *o, struct backup_secret *sec,
		  struct error *e)
{
	if (o->pass_file)
		return backup_secret_passphrase_file(o->pass_file, sec, e);
	if (o->key_file)
		return backup_secret_key_file(o->key_file, sec, e);
	const char *env = getenv(PASSPHRASE_ENV);
	if (env)
		return backup_secret_passphrase(env, sec, e);
	return err_set(e, ERR_INVALID, "backup_key_missing",
		       "give --passphrase-file FILE or --key-file FILE (or set "
		       PASSPHRASE_ENV ")");
}

static int make_key(int argc, char **argv)
{
	const char *to;
	struct error e;
	if (cli_one_option(argc - 1, argv + 1, "to", &to) != 0 || !to)
		return cli_usage("backup");
	if (backup_key_generate(to, &e) != 0) {
		fprintf(stderr, "kruispunt backup key: %s\n", e.detail);
		return 1;
	}
	printf("backup key written to %s (mode 0600): keep it away from the "
	       "backups it opens\n", to);
	return 0;
}

int cmd_backup(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "key") == 0)
		return make_key(argc, argv);
	struct opts o;
	if (parse(argc, argv, "to", &o) != 0)
		return cli_usage("backup");
	struct cli_config cfg;
	struct backup_secret sec;
	struct backup_manifest m;
	struct error e;
	int rc = secret(&o, &sec, &e);
	if (rc == 0)
		rc = cli_open_data(o.data, &cfg, NULL, &e);
	if (rc == 0 && cfg.store.backend != STORE_SQLITE)
		rc = err_set(&e, ERR_INVALID, "backup_backend",
			     "kruispunt backup copies a SQLite database; "
			     "back a PostgreSQL one up with pg_dump or "
			     "pg_basebackup and DIR/keys (docs/STORE.md)");
	if (rc == 0) {
		struct store_options so = {
			.busy_timeout_ms = cfg.store.busy_timeout_ms,
			.schemas = cli_schemas,
			.nschemas = cli_nschemas};
		struct backup_source src = {cfg.base.data_dir,
					    cfg.store.database, &so};
		rc = backup_create(&src, o.file, &sec, &m, &e);
	}
	backup_secret_wipe(&sec);
	if (rc != 0) {
		fprintf(stderr, "kruispunt backup: %s\n", e.detail);
		return 1;
	}
	printf("backup written to %s: %zu files, database schema %d, audit "
	       "log signed up to tree size %llu\n",
	       o.file, m.nfiles, m.schema_version,
	       (unsigned long long)m.tree_size);
	return 0;
}

/* The restored log's newest checkpoint, as the operator compares it with
 * the one published before the loss. */
static void print_checkpoint(const char *data)
{
	struct cli_config cfg;
	struct store *s;
	struct error e;
	struct audit_checkpoint cp;
	if (cli_open_data(data, &cfg, &s, &e) != 0)
		return;
	if (audit_checkpoint_latest(s, &cp) == 0) {
		char root[2 * SHA256_LEN + 1];
		hex_encode(cp.root, SHA256_LEN, root);
		printf("newest checkpoint: tree size %llu, root %s, signed %s\n",
		       (unsigned long long)cp.tree_size, root, cp.timestamp);
	}
	store_close(s);
}

int cmd_restore(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, "from", &o) != 0)
		return cli_usage("restore");
	struct backup_secret sec;
	struct backup_manifest m;
	struct error e;
	int rc = secret(&o, &sec, &e);
	if (rc == 0)
		rc = backup_restore(o.file, &sec, o.data, cli_schema_latest(),
				    &m, &e);
	backup_secret_wipe(&sec);
	if (rc != 0) {
		fprintf(stderr, "kruispunt restore: %s\n", e.detail);
		return 1;
	}
	printf("restored %s from a backup of %zu files made %s by kruispunt "
	       "%s, database schema %d, audit log signed up to tree size "
	       "%llu\n",
	       o.data, m.nfiles, m.created_at, m.version,
	       m.schema_version, (unsigned long long)m.tree_size);
	/* The same check as `kruispunt audit verify`: a restore is only
	 * done once the log it brought back is intact. */
	rc = cli_audit_verify("restore", o.data, NULL);
	if (rc == 0)
		print_checkpoint(o.data);
	else
		fprintf(stderr, "kruispunt restore: the restored audit log "
				"did not verify; %s is left for inspection\n",
			o.data);
	return rc == 0 ? 0 : 1;
}
