/*
 * `kruispunt restore`: an archive back into a new data directory.
 *
 * Nothing is put in place before the whole archive verified: the files go
 * into a new directory beside the target (same file system, so the final
 * rename is atomic), each checked against the manifest as it is read, and
 * that directory becomes the target only after the FINAL chunk. A target
 * with anything in it is refused: restoring over a live installation would
 * mix two databases' secrets.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backup/backup.h"

/* A file's path in the restore's directory: the directory, '/', a name. */
#define RESTORE_PATH (LIMIT_PATH + BACKUP_NAME_MAX + 2)

/* What the restore made, to remove it all when the archive fails; and,
 * for a PostgreSQL archive, pg_restore and the dump's last bytes. */
struct restore_sink {
	char dir[LIMIT_PATH];
	char made[BACKUP_FILES_MAX * BACKUP_NAME_DEPTH][BACKUP_NAME_MAX + 1];
	size_t nmade;
	int fd;
	char current[BACKUP_NAME_MAX + 1];
	const struct backup_manifest *m; /* filled before the first file */
	int schema_max;
	const struct backup_pg_target *pg; /* NULL: a SQLite restore */
	bool checked;                      /* the kind of archive */
	bool dumping;                      /* the current file is the dump */
	struct backup_tool tool;           /* pg_restore (pid -1: none) */
	/* The dump's newest bytes, held back from pg_restore until the
	 * whole archive verified: without its end pg_restore cannot reach
	 * its COMMIT, so a damaged or cut archive restores nothing. */
	uint8_t hold[BACKUP_CHUNK];
	size_t hold_fill;
	/* pg_restore committed: the database holds the restore, and the
	 * directory its keys, which are then never removed. */
	bool committed;
	const char *target; /* the data directory asked for */
};

static int write_failed(struct restore_sink *r, struct error *e)
{
	return err_set(e, ERR_INTERNAL, "restore_write_failed",
		       "cannot write %s/%s: %s", r->dir, r->current,
		       strerror(errno));
}

/* name's directories under r->dir, 0700, remembered for the cleanup. */
static int make_parents(struct restore_sink *r, const char *name,
			struct error *e)
{
	char rel[BACKUP_NAME_MAX + 1], path[RESTORE_PATH];
	str_copy(rel, sizeof(rel), name);
	for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		snprintf(path, sizeof(path), "%s/%s", r->dir, rel);
		if (mkdir(path, 0700) == 0)
			str_copy(r->made[r->nmade++], BACKUP_NAME_MAX + 1, rel);
		else if (errno != EEXIST)
			return write_failed(r, e);
		*s = '/';
	}
	return 0;
}

/* Once, at the first file (the manifest is read by then): the archive's
 * kind against the restore's, and a dump's schema against this binary's,
 * before anything reaches a database. */
static int check_kind(struct restore_sink *r, struct error *e)
{
	r->checked = true;
	bool is_pg = backup_manifest_is_pg(r->m);
	if (is_pg && !r->pg)
		return err_set(e, ERR_INVALID, "backup_backend",
			       "this is a backup of a PostgreSQL installation: "
			       "restore it with --to postgresql URL (a new, "
			       "empty database)");
	if (!is_pg && r->pg)
		return err_set(e, ERR_INVALID, "backup_backend",
			       "this is a backup of a SQLite installation: "
			       "restore it without --to, then move it with "
			       "kruispunt export");
	if (is_pg && r->m->schema_version > r->schema_max)
		return err_set(e, ERR_INVALID, "restore_schema_newer",
			       "the backup's database has schema %d; this "
			       "kruispunt knows up to %d: restore with kruispunt "
			       "%s or newer", r->m->schema_version,
			       r->schema_max, r->m->version);
	return 0;
}

static int dump_begin(struct restore_sink *r, struct error *e)
{
	const char *argv[] = {"pg_restore", "--no-owner", "--single-transaction",
			      "--exit-on-error", "--dbname", r->pg->url, NULL};
	r->dumping = true;
	return backup_tool_start(&r->tool, argv, true, r->pg->password, e);
}

static int feed(struct restore_sink *r, const uint8_t *p, size_t n,
		struct error *e)
{
	while (n > 0) {
		ssize_t w = write(r->tool.fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			/* pg_restore stopped reading: its own error says why. */
			return backup_tool_wait(&r->tool, e) != 0
				       ? -1
				       : err_set(e, ERR_INTERNAL,
						 "restore_write_failed",
						 "pg_restore ended early");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The dump's bytes to pg_restore, all but the newest BACKUP_CHUNK. */
static int dump_data(struct restore_sink *r, const uint8_t *p, size_t n,
		     struct error *e)
{
	size_t cap = sizeof(r->hold);
	if (r->hold_fill + n > cap) {
		size_t out = r->hold_fill + n - cap;
		size_t from_hold = out < r->hold_fill ? out : r->hold_fill;
		if (feed(r, r->hold, from_hold, e) != 0)
			return -1;
		memmove(r->hold, r->hold + from_hold, r->hold_fill - from_hold);
		r->hold_fill -= from_hold;
		if (feed(r, p, out - from_hold, e) != 0)
			return -1;
		p += out - from_hold;
		n -= out - from_hold;
	}
	memcpy(r->hold + r->hold_fill, p, n);
	r->hold_fill += n;
	return 0;
}

static int sink_begin(void *ctx, const struct backup_file *f, struct error *e)
{
	struct restore_sink *r = ctx;
	str_copy(r->current, sizeof(r->current), f->name);
	r->dumping = false;
	if (!r->checked && check_kind(r, e) != 0)
		return -1;
	if (r->pg && strcmp(f->name, BACKUP_PG_DUMP_NAME) == 0)
		return dump_begin(r, e);
	/* The checkpoint's text is for reading the archive, not restoring. */
	if (strcmp(f->name, BACKUP_CHECKPOINT_NAME) == 0)
		return 0;
	char path[RESTORE_PATH];
	if (make_parents(r, f->name, e) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", r->dir, f->name);
	r->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     0600);
	if (r->fd < 0)
		return write_failed(r, e);
	str_copy(r->made[r->nmade++], BACKUP_NAME_MAX + 1, f->name);
	return 0;
}

static int sink_data(void *ctx, const void *p, size_t n, struct error *e)
{
	struct restore_sink *r = ctx;
	if (r->dumping)
		return dump_data(r, p, n, e);
	const char *b = p;
	while (r->fd >= 0 && n > 0) {
		ssize_t w = write(r->fd, b, n);
		if (w <= 0)
			return write_failed(r, e);
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int sink_end(void *ctx, struct error *e)
{
	struct restore_sink *r = ctx;
	if (r->fd < 0)
		return 0;
	int rc = fsync(r->fd);
	rc = close(r->fd) == 0 && rc == 0 ? 0 : -1;
	r->fd = -1;
	return rc == 0 ? 0 : write_failed(r, e);
}

/* Remove what the restore made, newest first, then its directory. */
static void sink_undo(struct restore_sink *r)
{
	char path[RESTORE_PATH];
	if (r->fd >= 0)
		close(r->fd);
	/* Stopped before its COMMIT: the target database is as it was. */
	backup_tool_kill(&r->tool);
	sodium_memzero(r->hold, sizeof(r->hold));
	while (r->nmade > 0) {
		snprintf(path, sizeof(path), "%s/%s", r->dir,
			 r->made[--r->nmade]);
		if (unlink(path) != 0)
			rmdir(path);
	}
	rmdir(r->dir);
}

/* 0 when data_dir does not exist or is an empty directory (*exists says
 * which), -1 with e otherwise. */
static int target_check(const char *data_dir, bool *exists, struct error *e)
{
	DIR *d = opendir(data_dir);
	*exists = d != NULL;
	if (!d)
		return errno == ENOENT ? 0
				       : err_set(e, ERR_INVALID, "restore_target",
						 "cannot use %s: %s", data_dir,
						 strerror(errno));
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	if (n > 0)
		return err_set(e, ERR_INVALID, "restore_target",
			       "%s is not empty: restore into a new or empty "
			       "directory", data_dir);
	return 0;
}

/* The restored kruispunt.ini is rewritten in memory: a configuration file
 * is a few KiB, and one past this is no kruispunt.ini. */
#define RESTORE_INI_MAX (1024 * 1024)

/* The file at path (at most max bytes) as a string (the caller frees it),
 * its length in *len; NULL when it is absent, too long or unreadable. */
static char *read_small(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = xmalloc(max + 1);
	size_t got = 0;
	ssize_t n;
	while (got <= max && (n = read(fd, buf + got, max + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got > max) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* The restored kruispunt.ini with [store] naming the new database (a
 * configuration pointing at the old one would have the restored keys
 * write into it). The file is replaced, or made when the archive had none. */
static int point_ini(struct restore_sink *r, struct error *e)
{
	char path[RESTORE_PATH], tmp[RESTORE_PATH + 8];
	snprintf(path, sizeof(path), "%s/%s", r->dir, BACKUP_INI_NAME);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	str_copy(r->current, sizeof(r->current), BACKUP_INI_NAME);
	size_t len = 0;
	bool had = access(path, F_OK) == 0;
	char *old = read_small(path, RESTORE_INI_MAX, &len);
	if (had && !old)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the backup's %s cannot be read back (over %d "
			       "bytes?)", BACKUP_INI_NAME, RESTORE_INI_MAX);
	char *text = backup_ini_point_to(old ? old : "", len, r->pg->url,
					 r->pg->password_file);
	free(old);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0600);
	int rc = fd >= 0 ? 0 : -1;
	r->fd = fd;
	if (rc == 0)
		rc = sink_data(r, text, strlen(text), e);
	if (rc == 0)
		rc = sink_end(r, e);
	free(text);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0) {
		unlink(tmp);
		return write_failed(r, e);
	}
	if (!had)
		str_copy(r->made[r->nmade++], BACKUP_NAME_MAX + 1,
			 BACKUP_INI_NAME);
	return 0;
}

/* After the whole archive verified: first all that can fail without the
 * database (the configuration rewritten, the target still free), then the
 * dump's last bytes, pg_restore's COMMIT and exit status. */
static int pg_finish(struct restore_sink *r, struct error *e)
{
	bool exists;
	if (r->tool.pid < 0)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the backup lacks its database dump");
	if (point_ini(r, e) != 0 || target_check(r->target, &exists, e) != 0)
		return -1;
	int rc = feed(r, r->hold, r->hold_fill, e);
	r->hold_fill = 0;
	if (rc == 0)
		rc = backup_tool_wait(&r->tool, e);
	r->committed = rc == 0;
	return rc;
}

static int restore_into(struct restore_sink *r, const char *path,
			const struct backup_secret *sec, int schema_max,
			struct backup_manifest *m, struct error *e)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return err_set(e, ERR_INVALID, "backup_unreadable",
			       "cannot read %s: %s", path, strerror(errno));
	struct backup_sink sink = {r, sink_begin, sink_data, sink_end};
	r->m = m;
	r->schema_max = schema_max;
	int rc = backup_read(in, sec, &sink, m, e);
	fclose(in);
	if (rc == 0 && !r->checked)
		rc = check_kind(r, e);
	if (rc == 0 && m->schema_version > schema_max)
		rc = err_set(e, ERR_INVALID, "restore_schema_newer",
			     "the backup's database has schema %d; this "
			     "kruispunt knows up to %d: restore with kruispunt "
			     "%s or newer", m->schema_version, schema_max,
			     m->version);
	if (rc == 0 && r->pg)
		rc = pg_finish(r, e);
	return rc;
}

/* The database is filled but the directory could not be moved into place
 * (errno err): the directory, with the only copy of the restored keys, is
 * kept where it is, and the operator told. Returns -1. */
static int kept(const struct restore_sink *r, int err, struct error *e)
{
	return err_set(e, ERR_INTERNAL, "restore_incomplete",
		       "the database is restored but not its directory (%s): "
		       "the files are kept in %s; rename it to %s, and never "
		       "restore into that database again",
		       strerror(err), r->dir, r->target);
}

/* The target's strings go into the restored configuration, one line
 * each: a control character would add lines of its own. */
/* The restored directory renamed to the target (empty or absent, as
 * exists says). Returns 0, or -1 with e. */
static int move_into_place(struct restore_sink *r, bool exists,
			   struct error *e)
{
	if ((!exists || rmdir(r->target) == 0) &&
	    rename(r->dir, r->target) == 0)
		return 0;
	if (r->committed)
		return kept(r, errno, e);
	return err_set(e, ERR_INTERNAL, "restore_write_failed",
		       "cannot move the restored files to %s: %s", r->target,
		       strerror(errno));
}

static bool has_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int pg_target_check(const struct backup_pg_target *pg,
			   struct error *e)
{
	if (has_control(pg->url))
		return err_set(e, ERR_INVALID, "store_url_invalid",
			       "the --to URL holds a control character "
			       "(a newline?)");
	if (has_control(pg->password_file))
		return err_set(e, ERR_INVALID, "store_password_file",
			       "the --password-file path holds a control "
			       "character (a newline?)");
	return store_pg_check_target(pg->url, pg->password,
				     pg->allow_privileged, e);
}

int backup_restore(const char *path, const struct backup_secret *sec,
		   const char *data_dir, int schema_max,
		   struct backup_manifest *m, struct error *e)
{
	return backup_restore_to(path, sec, data_dir, schema_max, NULL, m, e);
}

int backup_restore_to(const char *path, const struct backup_secret *sec,
		      const char *data_dir, int schema_max,
		      const struct backup_pg_target *pg,
		      struct backup_manifest *m, struct error *e)
{
	char target[LIMIT_PATH];
	bool exists;
	str_copy(target, sizeof(target), data_dir);
	for (size_t n = strlen(target); n > 1 && target[n - 1] == '/'; n--)
		target[n - 1] = '\0';
	if (target_check(target, &exists, e) != 0 ||
	    (pg && pg_target_check(pg, e) != 0))
		return -1;
	struct restore_sink *r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->tool.pid = -1;
	r->tool.fd = -1;
	r->pg = pg;
	r->target = target;
	int rc = 0;
	bool made = snprintf(r->dir, sizeof(r->dir), "%s.restore-XXXXXX",
			     target) < (int)sizeof(r->dir) &&
		    mkdtemp(r->dir) != NULL;
	if (!made)
		rc = err_set(e, ERR_INVALID, "restore_target",
			     "cannot create a directory beside %s", target);
	if (rc == 0)
		rc = restore_into(r, path, sec, schema_max, m, e);
	if (rc == 0)
		rc = move_into_place(r, exists, e);
	/* Once the database committed the directory holds the only copy of
	 * its keys: kept, whatever failed (move_into_place said where). */
	if (rc != 0 && made && !r->committed)
		sink_undo(r);
	else if (rc != 0 && !made)
		backup_tool_kill(&r->tool);
	sodium_memzero(r->hold, sizeof(r->hold));
	free(r);
	return rc;
}
