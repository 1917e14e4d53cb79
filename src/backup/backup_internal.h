/*
 * Shared between the files of src/backup only: the spool that holds a
 * PostgreSQL dump, encrypted, between pg_dump and the archive.
 *
 * The archive's manifest comes first and gives each file's size and
 * SHA-256 (docs/BACKUP.md), which a dump only has once pg_dump finished.
 * So the dump goes through a spool: an unlinked temporary file in the data
 * directory, XChaCha20-encrypted with a one-time key that lives only in
 * this process's memory. The clear dump never touches the disk, the
 * format stays the one old archives have, and when the process dies the
 * file vanishes with it.
 */
#ifndef KP_BACKUP_INTERNAL_H
#define KP_BACKUP_INTERNAL_H

#include "backup/backup.h"

struct backup_spool;

/* A new spool in dir. Returns it (backup_spool_free), or NULL with e. */
struct backup_spool *backup_spool_open(const char *dir, struct error *e);
/* Append n bytes. Returns 0, or -1 with e. */
int backup_spool_write(struct backup_spool *sp, const void *p, size_t n,
		       struct error *e);
/* The last bytes out; *size and sha256 receive what was written. Then the
 * spool reads from its start. Returns 0, or -1 with e. */
int backup_spool_finish(struct backup_spool *sp, uint64_t *size,
			uint8_t sha256[SHA256_LEN], struct error *e);
/* The next at most BACKUP_CHUNK clear bytes into buf: returns how many
 * (0 at the end), or -1 with e. */
long backup_spool_read(struct backup_spool *sp, uint8_t *buf,
		       struct error *e);
/* Close the spool (its file vanishes) and wipe its key; NULL is a no-op. */
void backup_spool_free(struct backup_spool *sp);

#endif
