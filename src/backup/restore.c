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

#include "backup/backup.h"

/* A file's path in the restore's directory: the directory, '/', a name. */
#define RESTORE_PATH (LIMIT_PATH + BACKUP_NAME_MAX + 2)

/* What the restore made, to remove it all when the archive fails. */
struct restore_sink {
	char dir[LIMIT_PATH];
	char made[BACKUP_FILES_MAX * BACKUP_NAME_DEPTH][BACKUP_NAME_MAX + 1];
	size_t nmade;
	int fd;
	char current[BACKUP_NAME_MAX + 1];
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

static int sink_begin(void *ctx, const struct backup_file *f, struct error *e)
{
	struct restore_sink *r = ctx;
	str_copy(r->current, sizeof(r->current), f->name);
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

static int restore_into(struct restore_sink *r, const char *path,
			const struct backup_secret *sec, int schema_max,
			struct backup_manifest *m, struct error *e)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return err_set(e, ERR_INVALID, "backup_unreadable",
			       "cannot read %s: %s", path, strerror(errno));
	struct backup_sink sink = {r, sink_begin, sink_data, sink_end};
	int rc = backup_read(in, sec, &sink, m, e);
	fclose(in);
	if (rc == 0 && m->schema_version > schema_max)
		rc = err_set(e, ERR_INVALID, "restore_schema_newer",
			     "the backup's database has schema %d; this "
			     "kruispunt knows up to %d: restore with kruispunt "
			     "%s or newer", m->schema_version, schema_max,
			     m->version);
	return rc;
}

int backup_restore(const char *path, const struct backup_secret *sec,
		   const char *data_dir, int schema_max,
		   struct backup_manifest *m, struct error *e)
{
	char target[LIMIT_PATH];
	bool exists;
	str_copy(target, sizeof(target), data_dir);
	for (size_t n = strlen(target); n > 1 && target[n - 1] == '/'; n--)
		target[n - 1] = '\0';
	if (target_check(target, &exists, e) != 0)
		return -1;
	struct restore_sink *r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	int rc = 0;
	bool made = snprintf(r->dir, sizeof(r->dir), "%s.restore-XXXXXX",
			     target) < (int)sizeof(r->dir) &&
		    mkdtemp(r->dir) != NULL;
	if (!made)
		rc = err_set(e, ERR_INVALID, "restore_target",
			     "cannot create a directory beside %s", target);
	if (rc == 0)
		rc = restore_into(r, path, sec, schema_max, m, e);
	if (rc == 0 && ((exists && rmdir(target) != 0) ||
			rename(r->dir, target) != 0))
		rc = err_set(e, ERR_INTERNAL, "restore_write_failed",
			     "cannot move the restored files to %s: %s",
			     target, strerror(errno));
	if (rc != 0 && made)
		sink_undo(r);
	free(r);
	return rc;
}
