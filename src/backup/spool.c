/*
 * The spool of a PostgreSQL dump (backup_internal.h says why it exists).
 *
 * Bytes are encrypted in blocks of BACKUP_CHUNK with
 * crypto_stream_xchacha20 at the block counter of their offset, so that
 * each block can be decrypted on its own as it is read back. No
 * authentication: the file lives only as long as this process, in the
 * data directory, and whatever is read back is hashed again against the
 * digest taken on the way in before it reaches the archive (create.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/backup_internal.h"

/* crypto_stream_xchacha20 counts blocks of this many bytes. */
#define SPOOL_BLOCK 64

struct backup_spool {
	int fd;
	uint8_t key[crypto_stream_xchacha20_KEYBYTES];
	uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES];
	uint8_t buf[BACKUP_CHUNK];
	size_t fill;
	uint64_t off; /* bytes written (or read back) before buf */
	crypto_hash_sha256_state h;
};

static int spool_failed(struct error *e)
{
	return err_set(e, ERR_INTERNAL, "backup_io_failed",
		       "cannot write the dump's spool: %s", strerror(errno));
}

struct backup_spool *backup_spool_open(const char *dir, struct error *e)
{
	char path[LIMIT_PATH];
	if (snprintf(path, sizeof(path), "%s/.backup-XXXXXX", dir) >=
	    (int)sizeof(path)) {
		err_set(e, ERR_INVALID, "bad_path", "path too long");
		return NULL;
	}
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		err_set(e, ERR_INVALID, "backup_io_failed",
			"cannot create a file in %s: %s", dir, strerror(errno));
		return NULL;
	}
	unlink(path);
	struct backup_spool *sp = xcalloc(1, sizeof(*sp));
	sp->fd = fd;
	crypto_stream_xchacha20_keygen(sp->key);
	randombytes_buf(sp->nonce, sizeof(sp->nonce));
	crypto_hash_sha256_init(&sp->h);
	return sp;
}

/* buf's fill bytes, encrypted in place, to the file. */
static int flush(struct backup_spool *sp, struct error *e)
{
	crypto_stream_xchacha20_xor_ic(sp->buf, sp->buf, sp->fill, sp->nonce,
				       sp->off / SPOOL_BLOCK, sp->key);
	for (size_t done = 0; done < sp->fill;) {
		ssize_t w = write(sp->fd, sp->buf + done, sp->fill - done);
		if (w <= 0)
			return spool_failed(e);
		done += (size_t)w;
	}
	sp->off += sp->fill;
	sp->fill = 0;
	return 0;
}

int backup_spool_write(struct backup_spool *sp, const void *p, size_t n,
		       struct error *e)
{
	const uint8_t *b = p;
	crypto_hash_sha256_update(&sp->h, b, n);
	while (n > 0) {
		size_t k = sizeof(sp->buf) - sp->fill;
		k = k < n ? k : n;
		memcpy(sp->buf + sp->fill, b, k);
		sp->fill += k;
		b += k;
		n -= k;
		if (sp->fill == sizeof(sp->buf) && flush(sp, e) != 0)
			return -1;
	}
	return 0;
}

int backup_spool_finish(struct backup_spool *sp, uint64_t *size,
			uint8_t sha256[SHA256_LEN], struct error *e)
{
	if (sp->fill > 0 && flush(sp, e) != 0)
		return -1;
	crypto_hash_sha256_final(&sp->h, sha256);
	*size = sp->off;
	sp->off = 0;
	if (lseek(sp->fd, 0, SEEK_SET) != 0)
		return spool_failed(e);
	return 0;
}

long backup_spool_read(struct backup_spool *sp, uint8_t *buf,
		       struct error *e)
{
	size_t got = 0;
	while (got < BACKUP_CHUNK) {
		ssize_t r = read(sp->fd, buf + got, BACKUP_CHUNK - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, ERR_INTERNAL, "backup_io_failed",
				       "cannot read the dump's spool: %s",
				       strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	crypto_stream_xchacha20_xor_ic(buf, buf, got, sp->nonce,
				       sp->off / SPOOL_BLOCK, sp->key);
	sp->off += got;
	return (long)got;
}

void backup_spool_free(struct backup_spool *sp)
{
	if (!sp)
		return;
	close(sp->fd);
	sodium_memzero(sp, sizeof(*sp));
	free(sp);
}
