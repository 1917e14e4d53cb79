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
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "cli/cli.h"

#define PASSPHRASE_ENV "KRUISPUNT_BACKUP_PASSPHRASE"

struct opts {
	const char *data, *file, *pass_file, *key_file;
	const char *url, *password_file; /* restore --to postgresql URL */
	bool allow_superuser;
};

/* restore's --to postgresql URL: the word, then the URL. */
static int parse_to(int argc, char **argv, struct opts *o)
{
	if (strcmp(optarg, "postgresql") != 0 || optind >= argc)
		return -1;
	o->url = argv[optind++];
	return 0;
}

/* --data, --to or --from (into file), --passphrase-file, --key-file; for
 * restore (file_opt "from") also --to postgresql URL, --password-file,
 * --allow-superuser. */
static int parse(int argc, char **argv, const char *file_opt,
		 struct opts *o)
{
	bool restore = strcmp(file_opt, "from") == 0;
	const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{file_opt, required_argument, NULL, 'f'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"key-file", required_argument, NULL, 'k'},
		{restore ? "to" : "-", required_argument, NULL, 't'},
		{restore ? "password-file" : "-", required_argument, NULL, 'w'},
		{restore ? "allow-superuser" : "-", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0}};
	memset(o, 0, sizeof(*o));
	int c, rc = 0;
	optind = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			o->data = optarg;
		else if (c == 'f')
			o->file = optarg;
		else if (c == 'p')
			o->pass_file = optarg;
		else if (c == 'k')
			o->key_file = optarg;
		else if (c == 't')
			rc = parse_to(argc, argv, o);
		else if (c == 'w')
			o->password_file = optarg;
		else if (c == 's')
			o->allow_superuser = true;
		else
			rc = -1;
	}
	return rc != 0 || optind < argc || !o->data || !o->file ||
			       (o->pass_file && o->key_file) ||
			       ((o->password_file || o->allow_superuser) &&
				!o->url)
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
	char password[256] = "";
	int rc = secret(&o, &sec, &e);
	if (rc == 0)
		rc = cli_open_data(o.data, &cfg, NULL, &e);
	bool pg = rc == 0 && cfg.store.backend == STORE_POSTGRESQL;
	if (pg && cfg.store.password_file[0])
		rc = cli_store_password(&cfg, password, sizeof(password), &e);
	if (rc == 0) {
		struct store_options so = {
			.busy_timeout_ms = cfg.store.busy_timeout_ms,
			.schemas = cli_schemas,
			.nschemas = cli_nschemas,
			.password = password[0] ? password : NULL};
		struct backup_source src = {cfg.base.data_dir,
					    cfg.store.database,
					    pg ? cfg.store.url : NULL, &so};
		rc = backup_create(&src, o.file, &sec, &m, &e);
	}
	secret_wipe(password, sizeof(password));
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

/* restore --to postgresql URL: the target and its password. The password
 * file is kept by its absolute path in the restored configuration (the
 * operator's relative path means the working directory, not the data
 * directory). */
static int pg_target(const struct opts *o, struct backup_pg_target *t,
		     char *password, size_t n, char *abs, struct error *e)
{
	memset(t, 0, sizeof(*t));
	if (!store_location_is_pg(o->url) || strlen(o->url) >= LIMIT_PATH)
		return err_set(e, ERR_INVALID, "store_url_invalid",
			       "--to postgresql needs a URL "
			       "postgresql://user@host:port/database");
	t->url = o->url;
	t->allow_privileged = o->allow_superuser;
	if (!o->password_file)
		return 0;
	struct cli_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (!realpath(o->password_file, abs) ||
	    !str_copy(cfg.store.password_file,
		      sizeof(cfg.store.password_file), abs))
		return err_set(e, ERR_INVALID, "store_password_file",
			       "cannot read %s", o->password_file);
	if (cli_store_password(&cfg, password, n, e) != 0)
		return -1;
	t->password = password[0] ? password : NULL;
	t->password_file = abs;
	return 0;
}

/* The restored log verified as by `kruispunt audit verify`, then its
 * newest checkpoint. */
static int verify_restored(const char *data)
{
	int rc = cli_audit_verify("restore", data, NULL, NULL);
	if (rc == 0)
		print_checkpoint(data);
	else
		fprintf(stderr, "kruispunt restore: the restored audit log "
				"did not verify; %s is left for inspection\n",
			data);
	return rc == 0 ? 0 : 1;
}

int cmd_restore(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, "from", &o) != 0)
		return cli_usage("restore");
	struct backup_secret sec;
	struct backup_manifest m;
	struct backup_pg_target pg;
	char password[256] = "", abs[PATH_MAX];
	struct error e;
	int rc = secret(&o, &sec, &e);
	if (rc == 0 && o.url)
		rc = pg_target(&o, &pg, password, sizeof(password), abs, &e);
	if (rc == 0)
		rc = backup_restore_to(o.file, &sec, o.data,
				       cli_schema_latest(), o.url ? &pg : NULL,
				       &m, &e);
	secret_wipe(password, sizeof(password));
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
	if (o.url)
		printf("the database went into %s; %s/kruispunt.ini names it\n",
		       o.url, o.data);
	/* The same check as `kruispunt audit verify`: a restore is only
	 * done once the log it brought back is intact. */
	return verify_restored(o.data);
}
