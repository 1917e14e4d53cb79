/*
 * `kruispunt init`: the data directory, its secrets and its database.
 *
 *   DIR/keys/master.key          32 random bytes: seals secrets at rest
 *   DIR/keys/audit-signing.key   Ed25519 secret key (checkpoint signatures)
 *   DIR/keys/audit-signing.pub   its public key (raw 32 bytes)
 *   DIR/kruispunt.db             the database, migrated to the newest schema
 *   DIR/kruispunt.ini            the configuration, every key described
 *
 * Keys are created once with O_EXCL and mode 0600 and never overwritten:
 * replacing the audit key would orphan every signed checkpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"

int cli_mkdir_p(const char *path, struct error *e)
{
	char tmp[LIMIT_PATH];
	if (!str_copy(tmp, sizeof(tmp), path))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return err_set(e, ERR_INVALID, "bad_path",
				       "cannot create %s: %s", tmp,
				       strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_INVALID, "bad_path", "cannot create %s: %s",
			       tmp, strerror(errno));
	return 0;
}

/* Write a new file with mode 0600; an existing one is left alone. */
int cli_write_new(const char *path, const void *data, size_t n,
		  struct error *e)
{
	int rc = cli_write_excl(path, data, n, e);
	return rc == 1 ? 0 : rc;
}

int cli_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

int cli_write_excl(const char *path, const void *data, size_t n,
		   struct error *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		bool exists = errno == EEXIST;
		err_set(e, ERR_INTERNAL, "init_failed", "cannot create %s: %s",
			path, strerror(errno));
		return exists ? 1 : -1;
	}
	ssize_t w = write(fd, data, n);
	int rc = w == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
	close(fd);
	if (rc != 0) {
		unlink(path);
		return err_set(e, ERR_INTERNAL, "init_failed",
			       "cannot write %s", path);
	}
	return 0;
}

static int make_keys(const struct cli_config *cfg, struct error *e)
{
	const char *data = cfg->base.data_dir;
	char dir[LIMIT_PATH], path[LIMIT_PATH];
	if (config_path(data, "keys", dir, sizeof(dir)) != 0 || cli_mkdir_p(dir, e) != 0)
		return -1;
	uint8_t master[32];
	rand_bytes(master, sizeof(master));
	if (config_path(data, "keys/master.key", path, sizeof(path)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	int rc = cli_write_new(path, master, sizeof(master), e);
	secret_wipe(master, sizeof(master));
	if (rc != 0)
		return -1;
	if (config_path(data, "keys/audit-signing.key", path, sizeof(path)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	if (access(path, F_OK) == 0)
		return 0;
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	ed25519_keypair(pk, sk);
	rc = cli_write_new(path, sk, sizeof(sk), e);
	secret_wipe(sk, sizeof(sk));
	if (rc != 0 || config_path(data, "keys/audit-signing.pub", path, sizeof(path)) != 0)
		return -1;
	return cli_write_new(path, pk, sizeof(pk), e);
}

int cli_write_config(const struct cli_config *cfg, const char *path,
		     const char *header, struct error *e)
{
	/* Beside it, then renamed over it: a reader never sees half a file. */
	char tmp[LIMIT_PATH];
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	FILE *f = fopen(tmp, "w");
	if (!f)
		return err_set(e, ERR_INTERNAL, "init_failed",
			       "cannot create %s: %s", tmp, strerror(errno));
	fprintf(f, "%s; Every key can be overridden by the environment "
		   "variable named beside it.\n\n", header);
	cli_config_describe(cfg, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return err_set(e, ERR_INTERNAL, "init_failed",
			       "cannot write %s", path);
	}
	return 0;
}

/* An installation's kruispunt.ini is its operator's: written by the first
 * init, never replaced by a later one. The first init may find one the
 * operator started (a PostgreSQL installation names its database before
 * init): it is written out whole, with the operator's values in it and
 * the data directory named, or `kruispunt serve --config` would look for
 * the default data directory. */
static int write_config(const struct cli_config *cfg, bool first,
			struct error *e)
{
	char path[LIMIT_PATH];
	if (config_path(cfg->base.data_dir, "kruispunt.ini", path, sizeof(path)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	bool found = access(path, F_OK) == 0;
	if (found && !first)
		return 0;
	return cli_write_config(cfg, path,
				found ? "; kruispunt configuration, written by "
					"`kruispunt init` with the values of the "
					"kruispunt.ini it found.\n"
				      : "; kruispunt configuration, written by "
					"`kruispunt init`.\n",
				e);
}

int cli_read_key(const struct cli_config *cfg, const char *rel, uint8_t *out,
		 size_t len, struct error *e)
{
	char path[LIMIT_PATH];
	if (config_path(cfg->base.data_dir, rel, path, sizeof(path)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	if (access(path, F_OK) != 0)
		return err_set(e, ERR_INVALID, "key_missing",
			       "cannot read %s: %s (run kruispunt init --data "
			       "%s)", path, strerror(errno),
			       cfg->base.data_dir);
	return cli_read_key_file(path, out, len, e);
}

int cli_read_key_file(const char *path, uint8_t *out, size_t len,
		      struct error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_INVALID, "key_missing",
			       "cannot read %s: %s", path, strerror(errno));
	ssize_t n = read(fd, out, len);
	uint8_t extra;
	ssize_t more = read(fd, &extra, 1);
	close(fd);
	if (n != (ssize_t)len || more != 0)
		return err_set(e, ERR_INVALID, "key_invalid",
			       "%s is not a key of %zu bytes", path, len);
	return 0;
}

/* The file holds a secret: refused when others may read it, as ssh
 * refuses a readable key. */
int cli_store_password(const struct cli_config *cfg, char *out, size_t n,
		       struct error *e)
{
	char path[LIMIT_PATH];
	if (config_path(cfg->base.data_dir, cfg->store.password_file, path,
			sizeof(path)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return err_set(e, ERR_INVALID, "store_password_file",
			       "cannot read %s: %s", path, strerror(errno));
	}
	if (st.st_mode & 077) {
		close(fd);
		return err_set(e, ERR_INVALID, "store_password_file",
			       "%s may be read by others: chmod 600 it", path);
	}
	ssize_t got = read(fd, out, n - 1);
	close(fd);
	if (got < 0)
		return err_set(e, ERR_INVALID, "store_password_file",
			       "cannot read %s", path);
	if ((size_t)got == n - 1 && !memchr(out, '\n', (size_t)got))
		return err_set(e, ERR_INVALID, "store_password_file",
			       "%s: the password is longer than %zu bytes",
			       path, n - 2);
	out[got] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

int cli_open_store_mode(const struct cli_config *cfg,
			enum store_migrate_mode mode, struct store **out,
			struct error *e)
{
	struct store_options so = {.busy_timeout_ms = cfg->store.busy_timeout_ms,
				   .max_readers = cfg->store.max_readers,
				   .migrate = mode};
	if (cfg->store.backend == STORE_SQLITE) {
		char db[LIMIT_PATH];
		if (config_path(cfg->base.data_dir, cfg->store.database, db,
				sizeof(db)) != 0)
			return err_set(e, ERR_INVALID, "bad_path",
				       "path too long");
		return cli_store_open(db, &so, out, e);
	}
	if (!store_location_is_pg(cfg->store.url))
		return err_set(e, ERR_INVALID, "store_url_invalid",
			       "store.backend = postgresql needs store.url = "
			       "postgresql://user@host:port/database");
	char password[256] = "";
	if (cfg->store.password_file[0] &&
	    cli_store_password(cfg, password, sizeof(password), e) != 0)
		return -1;
	so.password = password[0] ? password : NULL;
	int rc = cli_store_open(cfg->store.url, &so, out, e);
	secret_wipe(password, sizeof(password));
	return rc;
}

int cli_open_store(const struct cli_config *cfg, struct store **out,
		   struct error *e)
{
	/* One SQLite file has one kruispunt: it brings the schema up to
	 * date itself. Several nodes share one PostgreSQL: the schema
	 * changes when the operator says so (kruispunt migrate), not when
	 * whichever node restarts first runs a newer binary. */
	return cli_open_store_mode(cfg,
				   cfg->store.backend == STORE_SQLITE
					   ? STORE_MIGRATE_APPLY
					   : STORE_MIGRATE_CHECK,
				   out, e);
}

int cli_open_data(const char *data, struct cli_config *cfg, struct store **s,
		  struct error *e)
{
	char ini[LIMIT_PATH];
	snprintf(ini, sizeof(ini), "%s/kruispunt.ini", data);
	if (cli_config_load(access(ini, F_OK) == 0 ? ini : NULL, cfg, e) != 0)
		return -1;
	str_copy(cfg->base.data_dir, sizeof(cfg->base.data_dir), data);
	return s ? cli_open_store(cfg, s, e) : 0;
}

int cli_init_dir(const struct cli_config *cfg, struct error *e)
{
	struct store *s;
	char master[LIMIT_PATH];
	if (config_path(cfg->base.data_dir, "keys/master.key", master,
			sizeof(master)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	bool first = access(master, F_OK) != 0;
	if (cli_mkdir_p(cfg->base.data_dir, e) != 0 || make_keys(cfg, e) != 0)
		return -1;
	if (cli_open_store_mode(cfg, STORE_MIGRATE_APPLY, &s, e) != 0)
		return -1;
	store_close(s);
	return write_config(cfg, first, e);
}

int cli_init_dir_at(const char *data, struct cli_config *cfg, struct error *e)
{
	char abs[LIMIT_PATH], ini[LIMIT_PATH];
	/* The operator's own kruispunt.ini, when there is one already (a
	 * PostgreSQL installation names its database there before init),
	 * and the environment's KRUISPUNT_* over the defaults. */
	snprintf(ini, sizeof(ini), "%s/kruispunt.ini", data);
	if (cli_config_load(access(ini, F_OK) == 0 ? ini : NULL, cfg, e) != 0)
		return -1;
	if (cli_mkdir_p(data, e) != 0)
		return -1;
	if (!realpath(data, abs))
		return err_set(e, ERR_INVALID, "bad_path", "cannot use %s", data);
	str_copy(cfg->base.data_dir, sizeof(cfg->base.data_dir), abs);
	return cli_init_dir(cfg, e);
}

int cmd_init(int argc, char **argv)
{
	const char *data;
	if (cli_one_option(argc, argv, "data", &data) != 0 || !data)
		return cli_usage("init");
	struct cli_config cfg;
	struct error e;
	if (cli_init_dir_at(data, &cfg, &e) != 0) {
		fprintf(stderr, "kruispunt init: %s\n", e.detail);
		return 1;
	}
	const char *abs = cfg.base.data_dir;
	printf("initialised %s\nrun: kruispunt serve --config %s/kruispunt.ini\n",
	       abs, abs);
	return 0;
}

const struct audit_actor cli_operator = {AUDIT_CHANNEL_CLI, NULL, NULL,
					 "operator"};

void cli_log_origin(const struct cli_config *cfg, char *out)
{
	if (cfg->audit.origin[0])
		str_copy(out, AUDIT_ORIGIN_MAX + 1, cfg->audit.origin);
	else
		audit_origin_default(cfg->auth.public_url, out);
}

/* The log's key_load: the key file as it is now, which a rotation (here
 * or, copied by the operator, on another node) replaced. */
static int load_signing_key(const void *ctx, uint8_t sk[ED25519_SK_LEN])
{
	struct error e;
	return cli_read_key(ctx, "keys/audit-signing.key", sk, ED25519_SK_LEN,
			    &e);
}

int cli_open_log(const struct cli_config *cfg, struct store *s,
		 struct audit **out, struct error *e)
{
	uint8_t sk[ED25519_SK_LEN];
	struct audit_options opt = cfg->audit;
	cli_log_origin(cfg, opt.origin);
	opt.key_load = load_signing_key;
	opt.key_load_ctx = cfg;
	int rc = cli_read_key(cfg, "keys/audit-signing.key", sk, sizeof(sk), e);
	if (rc == 0)
		rc = audit_open(s, sk, &opt, out, e);
	secret_wipe(sk, sizeof(sk));
	return rc;
}

int cli_ed25519_key(const char *path, uint8_t sk[ED25519_SK_LEN],
		    struct error *e)
{
	if (access(path, F_OK) != 0) {
		uint8_t pk[ED25519_PK_LEN];
		ed25519_keypair(pk, sk);
		int rc = cli_write_new(path, sk, ED25519_SK_LEN, e);
		secret_wipe(sk, ED25519_SK_LEN);
		if (rc != 0)
			return -1;
	}
	return cli_read_key_file(path, sk, ED25519_SK_LEN, e);
}
