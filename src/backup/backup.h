/*
 * backup: an installation's encrypted backup archive (`kruispunt backup`,
 * `kruispunt restore`; the format is docs/BACKUP.md).
 *
 * A backup holds every secret of the installation: the database (ten
 * years of audit log, sealed TOTP secrets), keys/master.key that unseals
 * them, the audit signing key, the configuration. So it is encrypted for
 * the operator, never written in the clear:
 *
 *   header   64 bytes in the clear: magic, format version, how the key is
 *            made (a key file, or Argon2id over a passphrase with its
 *            limits and salt), the secretstream header;
 *   stream   libsodium crypto_secretstream_xchacha20poly1305 chunks of
 *            BACKUP_CHUNK plaintext bytes, the last one tagged FINAL: a
 *            file cut short, or with bytes after its end, is refused;
 *   entries  inside the stream: manifest.json first (what follows, each
 *            file's size and SHA-256), then each file as
 *            name length (u16 BE), name, size (u64 BE), bytes.
 *
 * On restore a backup is untrusted input: every length it declares is
 * bounded here, every name is a plain relative name, and each file must
 * match the manifest's size and digest before anything is put in place.
 *
 * Uses audit (the newest checkpoint, for the manifest), store (the
 * snapshot), base (+ libsodium).
 */
#ifndef KP_BACKUP_H
#define KP_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"
#include "store/store.h"

/* The archive format this code writes and the only one it reads. */
#define BACKUP_FORMAT 1
#define BACKUP_MAGIC "KPBACKUP"
#define BACKUP_HEADER_LEN 64
/* Plaintext bytes per encrypted chunk: large enough that the 17 bytes of
 * each chunk's tag do not matter, small enough to keep in memory. */
#define BACKUP_CHUNK (64 * 1024)
#define BACKUP_KEY_LEN 32

/* Bounds on what a backup file may declare (it is untrusted on restore). */
/* An entry's name: "keys/audit-signing.key" and the like. */
#define BACKUP_NAME_MAX 128
/* Path components in a name ("keys/x" is two). */
#define BACKUP_NAME_DEPTH 3
/* Files in one backup: a data directory holds a handful. */
#define BACKUP_FILES_MAX 64
/* The manifest, JSON: a few lines per file. */
#define BACKUP_MANIFEST_MAX (64 * 1024)
/* One file: the database may be large, but not larger than this (1 TiB). */
#define BACKUP_FILE_SIZE_MAX ((uint64_t)1 << 40)
/* A passphrase file's contents. */
#define BACKUP_PASSPHRASE_MAX 1024
/* Argon2id limits a header may ask a restore to spend: above these a
 * hostile file would only make restore use all memory or run for hours. */
#define BACKUP_OPSLIMIT_MAX 16
#define BACKUP_MEMLIMIT_MAX ((uint64_t)1 << 30)

/* The names the archive itself gives. */
#define BACKUP_MANIFEST_NAME "manifest.json"
#define BACKUP_CHECKPOINT_NAME "audit-checkpoint.txt"
/* A PostgreSQL installation's database: pg_dump's custom format. Its
 * presence in the manifest is what makes an archive a PostgreSQL one. */
#define BACKUP_PG_DUMP_NAME "postgresql.dump"
/* The configuration file a restore points at its new database. */
#define BACKUP_INI_NAME "kruispunt.ini"

/* What the operator gives to make the archive's key. */
struct backup_secret {
	bool passphrase;             /* passphrase (Argon2id) or key */
	uint8_t key[BACKUP_KEY_LEN]; /* a key file's bytes */
	char pass[BACKUP_PASSPHRASE_MAX + 1];
	size_t pass_len;
	/* Argon2id limits for a new backup (0: the defaults,
	 * crypto_pwhash's MODERATE ones). A restore takes the header's. */
	uint32_t opslimit;
	uint64_t memlimit;
};

/* Fill sec from a key file: 32 raw bytes, or 64 hex digits and an
 * optional newline. Returns 0, or -1 with e. The caller wipes sec
 * (backup_secret_wipe). */
int backup_secret_key_file(const char *path, struct backup_secret *sec,
			   struct error *e);
/* Fill sec from a passphrase file: its contents without one trailing
 * newline, 1 to BACKUP_PASSPHRASE_MAX bytes. Returns 0, or -1 with e. */
int backup_secret_passphrase_file(const char *path, struct backup_secret *sec,
				  struct error *e);
/* Fill sec from a passphrase given as text (KRUISPUNT_BACKUP_PASSPHRASE).
 * Returns 0, or -1 with e. */
int backup_secret_passphrase(const char *text, struct backup_secret *sec,
			     struct error *e);
void backup_secret_wipe(struct backup_secret *sec);

/* Write a new key file at path: 32 random bytes as hex and a newline,
 * mode 0600, never over an existing file. Returns 0, or -1 with e. */
int backup_key_generate(const char *path, struct error *e);

/* ------------------------------------------------------------ archive */

struct backup_writer;

/* Start an archive on out: its header, then the stream. Returns 0 and *w
 * (backup_writer_free), or -1 with e. */
int backup_writer_open(FILE *out, const struct backup_secret *sec,
		       struct backup_writer **w, struct error *e);
/* Begin an entry of size bytes called name (a plain relative name); its
 * bytes follow through backup_writer_data, exactly size of them. */
int backup_writer_entry(struct backup_writer *w, const char *name,
			uint64_t size, struct error *e);
int backup_writer_data(struct backup_writer *w, const void *p, size_t n,
		       struct error *e);
/* Bytes into the stream as they are, without an entry's framing: for the
 * tests and the fuzz target, which build hostile archives with a valid
 * encryption. Not for backups. */
int backup_writer_raw(struct backup_writer *w, const void *p, size_t n,
		      struct error *e);
/* The last chunk, tagged FINAL, and a flush. Returns 0, or -1 with e. */
int backup_writer_finish(struct backup_writer *w, struct error *e);
/* Release w (wiping its key); NULL is a no-op. */
void backup_writer_free(struct backup_writer *w);

/* One file as the manifest lists it. */
struct backup_file {
	char name[BACKUP_NAME_MAX + 1];
	uint64_t size;
	uint8_t sha256[SHA256_LEN];
};

/* The manifest: what the archive holds. */
struct backup_manifest {
	int format;
	char created_at[RFC3339_LEN];
	char version[32];       /* kruispunt's, that made the backup */
	int schema_version;     /* of the database copy */
	uint64_t tree_size;     /* of the newest signed checkpoint (0: none) */
	size_t nfiles;
	struct backup_file files[BACKUP_FILES_MAX];
};

/* The manifest as JSON (the caller frees it), and back. backup_manifest_
 * parse refuses what this code would not write: unknown format, bad names,
 * repeated names, sizes beyond the bounds. Returns 0, or -1 with e. */
char *backup_manifest_json(const struct backup_manifest *m);
int backup_manifest_parse(const char *text, size_t len,
			  struct backup_manifest *m, struct error *e);

/* True when name is a plain relative name: 1 to BACKUP_NAME_MAX bytes,
 * at most BACKUP_NAME_DEPTH components of [A-Za-z0-9._-] separated by
 * '/', none empty or starting with '.' (so no "..", no hidden file),
 * never absolute. */
bool backup_name_valid(const char *name, size_t len);

/* Where the files of an archive go while it is read. Each file is given
 * as begin, its bytes in pieces, then end once its size and digest
 * matched the manifest; a failure stops the read (the sink cleans up). */
struct backup_sink {
	void *ctx;
	int (*begin)(void *ctx, const struct backup_file *f, struct error *e);
	int (*data)(void *ctx, const void *p, size_t n, struct error *e);
	int (*end)(void *ctx, struct error *e);
};

/* Read and check a whole archive from in: header, every chunk, the
 * manifest (into *m), each file against it, the FINAL tag, nothing after
 * it. sink may be NULL (check only). Returns 0 only when the archive is
 * whole and every file matched; -1 with e otherwise (ERR_INVALID, codes
 * backup_not_a_backup, backup_wrong_key, backup_damaged,
 * backup_truncated, backup_entry_invalid). */
int backup_read(FILE *in, const struct backup_secret *sec,
		const struct backup_sink *sink, struct backup_manifest *m,
		struct error *e);

/* ----------------------------------------------------- data directory */

/* What `kruispunt backup` backs up: a data directory's database (running
 * or not), every file under keys/, its *.ini files, and
 * the newest checkpoint's text. */
struct backup_source {
	const char *data_dir;
	const char *database; /* SQLite: the database's name inside data_dir */
	/* PostgreSQL: the database's URL (without a password; opt->password
	 * carries it); NULL for SQLite. */
	const char *pg_url;
	/* How the database is opened: its busy timeout and the modules'
	 * schemas (the copy is opened with them to read its version and
	 * checkpoint; the store refuses a database newer than them). */
	const struct store_options *opt;
};

/* Write the encrypted archive of src to path (made beside it, then
 * renamed: no half archive is ever at path), mode 0600. *m receives its
 * manifest. Returns 0, or -1 with e. */
int backup_create(const struct backup_source *src, const char *path,
		  const struct backup_secret *sec, struct backup_manifest *m,
		  struct error *e);

/* Restore the archive at path into data_dir, which must not exist or be
 * empty: every file is written and checked in a new directory beside
 * data_dir, which is renamed into place only when the whole archive
 * verified. Files are mode 0600, directories 0700. A database copy newer
 * than schema_max (what this binary knows) is refused. Returns 0 and *m,
 * or -1 with e (nothing left behind). */
int backup_restore(const char *path, const struct backup_secret *sec,
		   const char *data_dir, int schema_max,
		   struct backup_manifest *m, struct error *e);

/* Where a PostgreSQL archive is restored: a new, empty database. */
struct backup_pg_target {
	const char *url;           /* without a password */
	const char *password;      /* given to pg_restore only; may be NULL */
	const char *password_file; /* for the restored configuration; may
				    * be NULL (libpq then looks itself) */
	/* pg_restore runs the archive's SQL as url's role: a superuser
	 * (or a role with CREATEROLE, BYPASSRLS, or that can become such a
	 * role) is refused unless this is set (--allow-superuser). */
	bool allow_privileged;
};

/* True when m describes a PostgreSQL installation's archive. */
bool backup_manifest_is_pg(const struct backup_manifest *m);

/* backup_restore for both kinds of archive: pg NULL restores a SQLite
 * archive as backup_restore does; otherwise the archive must be a
 * PostgreSQL one, whose dump is fed to pg_restore into pg->url (which
 * must hold nothing yet, and whose role must not be privileged unless
 * pg->allow_privileged: store_pg_check_target) in one transaction that
 * commits only after the whole archive verified, and whose kruispunt.ini
 * is rewritten with [store] naming pg->url and pg->password_file (neither
 * may hold a control character). The other kind of archive is refused
 * (backup_backend) before anything is written. Returns 0 and *m, or -1
 * with e: nothing left behind and the target database untouched, except
 * when the restored directory cannot be moved to data_dir after the
 * database committed (restore_incomplete): the database then holds the
 * restore and the directory, with the only copy of its keys, is kept
 * beside data_dir, e's detail naming it. */
int backup_restore_to(const char *path, const struct backup_secret *sec,
		      const char *data_dir, int schema_max,
		      const struct backup_pg_target *pg,
		      struct backup_manifest *m, struct error *e);

/* ---------------------------------------------- PostgreSQL (pg.c) */

/* text, an ini file of len bytes, with its [store] section's backend,
 * url, password_file and database keys replaced by backend = postgresql,
 * url and password_file (omitted when NULL), every other line kept as it
 * is; a [store] section is added when there is none. url and
 * password_file are each shorter than LIMIT_PATH. Returns the new text
 * (the caller frees it). */
char *backup_ini_point_to(const char *text, size_t len, const char *url,
			  const char *password_file);

/* A child process (pg_dump, pg_restore) run without a shell. */
struct backup_tool {
	int pid;
	int fd;    /* its stdout (reading) or stdin (feeding); -1 when closed */
	int err;   /* its stderr, kept in an unlinked temporary file */
	char name[32];
};

/* Start argv[0] (looked up in PATH) with argv; with feed, t->fd writes
 * its stdin (its stdout is discarded), otherwise t->fd reads its stdout
 * (its stdin is /dev/null). password, when not NULL, reaches the child
 * only, as PGPASSWORD in its environment (in place of the operator's):
 * never an argument, never a file; NULL leaves the operator's PGPASSWORD,
 * if any, to the child, as libpq in this process uses it. Returns 0, or -1 with e (backup_tool_missing when argv[0] is not
 * installed). */
int backup_tool_start(struct backup_tool *t, const char *const *argv,
		      bool feed, const char *password, struct error *e);
/* Close t->fd and wait for the child (t->pid is -1 afterwards). Returns 0
 * when it exited 0; -1 with e otherwise, whose detail holds the first error line the child
 * printed (control characters removed). */
int backup_tool_wait(struct backup_tool *t, struct error *e);
/* Stop the child (SIGTERM) and wait for it: a pg_restore stopped before
 * its end rolls its transaction back. */
void backup_tool_kill(struct backup_tool *t);

#endif
