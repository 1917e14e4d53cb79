/*
 * `kruispunt backup`: a data directory into one encrypted archive.
 *
 * SQLite: the database is copied first (store_snapshot, one read snapshot
 * while the daemon writes on), into the data directory itself: the copy is
 * as secret as the database and gets the same protection (0700), never the
 * backup's destination, which may be a shared disk. The copy, not the
 * live file, then gives the manifest its schema version and newest
 * checkpoint, so the manifest describes exactly the database it ships.
 *
 * PostgreSQL: one exported snapshot (store_snapshot_export) gives the
 * schema version and the newest checkpoint, and pg_dump adopts it; its
 * output goes, encrypted, through a spool (backup_internal.h) into the
 * archive.
 */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "backup/backup_internal.h"

/* One file to archive: on disk (path), in memory (mem) or in the spool
 * of a PostgreSQL dump. */
struct item {
	char path[LIMIT_PATH];
	const char *mem;
	size_t mem_len;
	struct backup_spool *spool;
};

struct plan {
	struct backup_manifest m;
	struct item items[BACKUP_FILES_MAX];
	char checkpoint[AUDIT_CHECKPOINT_TEXT_MAX + 160];
};

static int io_failed(struct error *e, const char *path)
{
	return err_set(e, ERR_INTERNAL, "backup_io_failed", "cannot read %s: %s",
		       path, strerror(errno));
}

/* Size and SHA-256 of a file, read to its end. */
static int digest_file(const char *path, struct backup_file *f,
		       struct error *e)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return io_failed(e, path);
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	uint8_t buf[BACKUP_CHUNK];
	size_t n;
	f->size = 0;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		crypto_hash_sha256_update(&h, buf, n);
		f->size += n;
	}
	int rc = ferror(in) ? io_failed(e, path) : 0;
	fclose(in);
	crypto_hash_sha256_final(&h, f->sha256);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

static int plan_add(struct plan *p, const char *name, const char *path,
		    struct error *e)
{
	if (p->m.nfiles == BACKUP_FILES_MAX || !backup_name_valid(name, strlen(name)))
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "cannot back up %s (too many files, or not a "
			       "plain name)", name);
	struct backup_file *f = &p->m.files[p->m.nfiles];
	str_copy(f->name, sizeof(f->name), name);
	if (!str_copy(p->items[p->m.nfiles].path, LIMIT_PATH, path))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	if (digest_file(path, f, e) != 0)
		return -1;
	p->m.nfiles++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir/sub (sub "" for dir itself) whose name ends
 * with suffix ("" for any), in name order, as sub/name. A link counts as
 * the file it names: an installed system's kruispunt.ini is a link to
 * /etc/kruispunt, and the backup must hold the configuration itself. */
static int plan_dir(struct plan *p, const char *dir, const char *sub,
		    const char *suffix, struct error *e)
{
	char path[LIMIT_PATH], name[LIMIT_PATH];
	if (snprintf(path, sizeof(path), "%s%s%s", dir, *sub ? "/" : "", sub) >=
	    (int)sizeof(path))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : io_failed(e, path);
	char *names[BACKUP_FILES_MAX];
	size_t n = 0, sl = strlen(suffix);
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < BACKUP_FILES_MAX) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] != '.' && l >= sl &&
		    strcmp(de->d_name + l - sl, suffix) == 0)
			names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		bool fits = snprintf(name, sizeof(name), "%s%s%s", sub,
				     *sub ? "/" : "", names[i]) <
				    (int)sizeof(name) &&
			    snprintf(path, sizeof(path), "%s/%s", dir, name) <
				    (int)sizeof(path);
		if (rc == 0 && !fits)
			rc = err_set(e, ERR_INVALID, "bad_path", "path too long");
		if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = plan_add(p, name, path, e);
		free(names[i]);
	}
	return rc;
}

/* The newest checkpoint s holds (read on this thread's reader: inside a
 * snapshot's transaction when one is open), as an entry an operator can
 * read. */
static int plan_checkpoint(struct plan *p, struct store *s, struct error *e)
{
	struct audit_checkpoint cp;
	int rc = audit_checkpoint_latest(s, &cp);
	if (rc < 0)
		return store_fail(e, "the copy's checkpoint cannot be read");
	if (rc > 0) {
		snprintf(p->checkpoint, sizeof(p->checkpoint),
			 "no signed checkpoint yet\n");
	} else {
		char sig[2 * sizeof(cp.signature) + 1];
		size_t n = audit_checkpoint_text(&cp, p->checkpoint);
		hex_encode(cp.signature, sizeof(cp.signature), sig);
		snprintf(p->checkpoint + n, sizeof(p->checkpoint) - n,
			 "signature %s\n", sig);
		p->m.tree_size = cp.tree_size;
	}
	struct backup_file *f = &p->m.files[p->m.nfiles];
	struct item *it = &p->items[p->m.nfiles++];
	str_copy(f->name, sizeof(f->name), BACKUP_CHECKPOINT_NAME);
	it->mem = p->checkpoint;
	it->mem_len = f->size = strlen(p->checkpoint);
	sha256_digest(it->mem, it->mem_len, f->sha256);
	return 0;
}

/* What the copy holds: its schema version and newest checkpoint. Opening
 * the copy rewrites its header (WAL mode): its digest is taken after. */
static int plan_database(struct plan *p, const char *snap,
			 const struct store_options *opt, struct error *e)
{
	struct store *s;
	if (store_open(snap, opt, &s, e) != 0)
		return -1;
	p->m.schema_version = store_schema_version(s);
	int rc = plan_checkpoint(p, s, e);
	store_close(s);
	return rc;
}

/* pg_dump's output, as it comes, into the spool. */
static int dump_into(struct backup_spool *sp, const char *snapshot,
		     const struct backup_source *src, struct error *e)
{
	char snap_opt[STORE_SNAPSHOT_ID_MAX + 16];
	snprintf(snap_opt, sizeof(snap_opt), "--snapshot=%s", snapshot);
	const char *argv[] = {"pg_dump", "--format=custom", snap_opt,
			      "--no-owner", "--no-privileges", "--dbname",
			      src->pg_url, NULL};
	struct backup_tool t;
	if (backup_tool_start(&t, argv, false, src->opt->password, e) != 0)
		return -1;
	uint8_t buf[BACKUP_CHUNK];
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = read(t.fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno != EINTR)
			rc = io_failed(e, "pg_dump's output");
		else if (n > 0)
			rc = backup_spool_write(sp, buf, (size_t)n, e);
	}
	sodium_memzero(buf, sizeof(buf));
	if (rc != 0) {
		backup_tool_kill(&t);
		return -1;
	}
	return backup_tool_wait(&t, e);
}

/* A PostgreSQL installation's database: one exported snapshot, in which
 * the newest checkpoint is read and which pg_dump adopts, so that the
 * archive's checkpoint is exactly the dump's. */
static int plan_pg(struct plan *p, const struct backup_source *src,
		   struct backup_spool *sp, struct error *e)
{
	struct store_options so = *src->opt;
	so.migrate = STORE_MIGRATE_CHECK;
	struct store *s;
	char id[STORE_SNAPSHOT_ID_MAX];
	if (store_open(src->pg_url, &so, &s, e) != 0)
		return -1;
	int rc = store_snapshot_export(s, id, &p->m.schema_version, e);
	if (rc != 0) {
		store_close(s);
		return -1;
	}
	rc = plan_checkpoint(p, s, e);
	if (rc == 0)
		rc = dump_into(sp, id, src, e);
	store_read_end(s);
	store_close(s);
	struct backup_file *f = &p->m.files[p->m.nfiles];
	if (rc == 0)
		rc = backup_spool_finish(sp, &f->size, f->sha256, e);
	if (rc == 0) {
		str_copy(f->name, sizeof(f->name), BACKUP_PG_DUMP_NAME);
		p->items[p->m.nfiles++].spool = sp;
	}
	return rc;
}

static int changed(struct error *e, const struct backup_file *f)
{
	return err_set(e, ERR_UNAVAILABLE, "backup_file_changed",
		       "%s changed while the backup was made: run it again",
		       f->name);
}

/* The dump, read back from its spool and checked against the digest
 * taken on the way in. */
static int write_spool(struct backup_writer *w, const struct backup_file *f,
		       struct backup_spool *sp, struct error *e)
{
	uint8_t buf[BACKUP_CHUNK], d[SHA256_LEN];
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	long n;
	int rc = 0;
	while (rc == 0 && (n = backup_spool_read(sp, buf, e)) > 0) {
		crypto_hash_sha256_update(&h, buf, (size_t)n);
		rc = backup_writer_data(w, buf, (size_t)n, e);
	}
	if (rc == 0 && n < 0)
		rc = -1;
	sodium_memzero(buf, sizeof(buf));
	crypto_hash_sha256_final(&h, d);
	if (rc == 0 && memcmp(d, f->sha256, SHA256_LEN) != 0)
		rc = changed(e, f);
	return rc;
}

static int write_item(struct backup_writer *w, const struct backup_file *f,
		      const struct item *it, struct error *e)
{
	if (backup_writer_entry(w, f->name, f->size, e) != 0)
		return -1;
	if (it->mem)
		return backup_writer_data(w, it->mem, it->mem_len, e);
	if (it->spool)
		return write_spool(w, f, it->spool, e);
	FILE *in = fopen(it->path, "rb");
	if (!in)
		return io_failed(e, it->path);
	uint8_t buf[BACKUP_CHUNK], d[SHA256_LEN];
	size_t n;
	int rc = 0;
	/* Hashed again as it goes in: a file rewritten (to the same size)
	 * since the manifest was made would make an archive that restore
	 * refuses, reported written. */
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
		crypto_hash_sha256_update(&h, buf, n);
		rc = backup_writer_data(w, buf, n, e);
	}
	if (rc == 0 && ferror(in))
		rc = io_failed(e, it->path);
	fclose(in);
	sodium_memzero(buf, sizeof(buf));
	crypto_hash_sha256_final(&h, d);
	if (rc == 0 && memcmp(d, f->sha256, SHA256_LEN) != 0)
		rc = changed(e, f);
	return rc;
}

static int write_archive(const struct plan *p, FILE *out,
			 const struct backup_secret *sec, struct error *e)
{
	struct backup_writer *w;
	if (backup_writer_open(out, sec, &w, e) != 0)
		return -1;
	char *json = backup_manifest_json(&p->m);
	size_t len = strlen(json);
	int rc = backup_writer_entry(w, BACKUP_MANIFEST_NAME, len, e);
	if (rc == 0)
		rc = backup_writer_data(w, json, len, e);
	free(json);
	for (size_t i = 0; rc == 0 && i < p->m.nfiles; i++)
		rc = write_item(w, &p->m.files[i], &p->items[i], e);
	if (rc == 0)
		rc = backup_writer_finish(w, e);
	backup_writer_free(w);
	return rc;
}

/* The archive into a new file beside path, renamed over it when whole. */
static int write_file(const struct plan *p, const char *path,
		      const struct backup_secret *sec, struct error *e)
{
	char tmp[LIMIT_PATH];
	if (snprintf(tmp, sizeof(tmp), "%s.partial-XXXXXX", path) >=
	    (int)sizeof(tmp))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	int fd = mkstemp(tmp);
	FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!out) {
		if (fd >= 0)
			close(fd);
		return err_set(e, ERR_INVALID, "backup_write_failed",
			       "cannot create %s: %s", tmp, strerror(errno));
	}
	int rc = write_archive(p, out, sec, e);
	if (rc == 0 && (fflush(out) != 0 || fsync(fileno(out)) != 0))
		rc = err_set(e, ERR_INTERNAL, "backup_write_failed",
			     "cannot write %s", tmp);
	if (fclose(out) != 0 && rc == 0)
		rc = err_set(e, ERR_INTERNAL, "backup_write_failed",
			     "cannot write %s", tmp);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = err_set(e, ERR_INTERNAL, "backup_write_failed",
			     "cannot rename %s to %s: %s", tmp, path,
			     strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static void plan_head(struct plan *p)
{
	p->m.format = BACKUP_FORMAT;
	time_format_rfc3339(time_now(), p->m.created_at);
	str_copy(p->m.version, sizeof(p->m.version), KP_VERSION);
}

/* What both backends back up beside the database. */
static int plan_files(struct plan *p, const struct backup_source *src,
		      struct error *e)
{
	if (plan_dir(p, src->data_dir, "keys", "", e) != 0)
		return -1;
	return plan_dir(p, src->data_dir, "", ".ini", e);
}

static int plan_make(struct plan *p, const struct backup_source *src,
		     const char *snap, struct error *e)
{
	plan_head(p);
	char db[LIMIT_PATH];
	if (config_path(src->data_dir, src->database, db, sizeof(db)) != 0)
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	if (store_snapshot(db, src->opt, snap, e) != 0 ||
	    plan_database(p, snap, src->opt, e) != 0 ||
	    plan_add(p, src->database, snap, e) != 0)
		return -1;
	return plan_files(p, src, e);
}

/* PostgreSQL: the dump through a spool (backup_internal.h), never a clear
 * file. */
static int create_pg(const struct backup_source *src, const char *path,
		     const struct backup_secret *sec, struct backup_manifest *m,
		     struct error *e)
{
	struct backup_spool *sp = backup_spool_open(src->data_dir, e);
	if (!sp)
		return -1;
	struct plan *p = xcalloc(1, sizeof(*p));
	plan_head(p);
	int rc = plan_pg(p, src, sp, e);
	if (rc == 0)
		rc = plan_files(p, src, e);
	if (rc == 0)
		rc = write_file(p, path, sec, e);
	if (rc == 0)
		*m = p->m;
	free(p);
	backup_spool_free(sp);
	return rc;
}

int backup_create(const struct backup_source *src, const char *path,
		  const struct backup_secret *sec, struct backup_manifest *m,
		  struct error *e)
{
	if (src->pg_url)
		return create_pg(src, path, sec, m, e);
	if (!backup_name_valid(src->database, strlen(src->database)))
		return err_set(e, ERR_INVALID, "backup_database_outside",
			       "the database must be a file inside the data "
			       "directory (store.database is %s)",
			       src->database);
	char snap[LIMIT_PATH];
	if (snprintf(snap, sizeof(snap), "%s/.backup-XXXXXX", src->data_dir) >=
	    (int)sizeof(snap))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	/* VACUUM INTO writes into an empty file: mkstemp makes it, 0600. */
	int fd = mkstemp(snap);
	if (fd < 0)
		return err_set(e, ERR_INVALID, "backup_io_failed",
			       "cannot create a file in %s: %s", src->data_dir,
			       strerror(errno));
	close(fd);
	struct plan *p = xcalloc(1, sizeof(*p));
	int rc = plan_make(p, src, snap, e);
	if (rc == 0)
		rc = write_file(p, path, sec, e);
	if (rc == 0)
		*m = p->m;
	free(p);
	/* Opening the copy (plan_database) may have left its WAL beside it. */
	char side[LIMIT_PATH + 8];
	snprintf(side, sizeof(side), "%s-wal", snap);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", snap);
	unlink(side);
	unlink(snap);
	return rc;
}
