/*
 * The archive: a clear header, then libsodium's secretstream over the
 * entries (backup.h, docs/BACKUP.md).
 *
 * Every chunk but the last holds exactly BACKUP_CHUNK plaintext bytes and
 * is tagged MESSAGE; the last holds at most that many and is tagged FINAL.
 * So the reader needs no length field of the file's to know where a chunk
 * ends, a file cut at a chunk boundary lacks its FINAL tag, and one cut
 * inside a chunk fails that chunk's authentication. The header's first 40
 * bytes are every chunk's additional data: a header changed after the fact
 * (its version, its KDF limits) fails the first chunk.
 */
#include <sodium.h>
#include <string.h>

#include "backup/backup.h"

#define AD_LEN 40           /* the header up to the stream header */
#define CIPHER_CHUNK (BACKUP_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)
enum { KDF_KEY = 0, KDF_ARGON2ID = 1 };

struct backup_writer {
	FILE *out;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t ad[AD_LEN];
	uint8_t buf[BACKUP_CHUNK];
	size_t len;
	uint64_t left; /* bytes the current entry still owes */
	uint8_t cbuf[CIPHER_CHUNK];
};

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The archive's key from what the operator gave and what the header says:
 * a key file's bytes, or Argon2id over the passphrase. */
static int derive(const struct backup_secret *sec, const uint8_t *hdr,
		  uint8_t key[BACKUP_KEY_LEN], struct error *e)
{
	if (hdr[9] == KDF_KEY) {
		if (sec->passphrase)
			return err_set(e, ERR_INVALID, "backup_wrong_key",
				       "this backup was made with a key file, "
				       "not a passphrase (--key-file)");
		memcpy(key, sec->key, BACKUP_KEY_LEN);
		return 0;
	}
	if (!sec->passphrase)
		return err_set(e, ERR_INVALID, "backup_wrong_key",
			       "this backup was made with a passphrase, not "
			       "a key file (--passphrase-file)");
	if (crypto_pwhash(key, BACKUP_KEY_LEN, sec->pass, sec->pass_len,
			  hdr + 24, get_be(hdr + 12, 4),
			  (size_t)get_be(hdr + 16, 8),
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return err_set(e, ERR_INTERNAL, "backup_kdf_failed",
			       "the key cannot be derived from the passphrase "
			       "(out of memory)");
	return 0;
}

static void header_make(const struct backup_secret *sec, uint8_t *hdr)
{
	memset(hdr, 0, BACKUP_HEADER_LEN);
	memcpy(hdr, BACKUP_MAGIC, 8);
	hdr[8] = BACKUP_FORMAT;
	if (!sec->passphrase)
		return;
	hdr[9] = KDF_ARGON2ID;
	put_be(hdr + 12, sec->opslimit ? sec->opslimit
				       : crypto_pwhash_OPSLIMIT_MODERATE, 4);
	put_be(hdr + 16, sec->memlimit ? sec->memlimit
				       : crypto_pwhash_MEMLIMIT_MODERATE, 8);
	rand_bytes(hdr + 24, crypto_pwhash_SALTBYTES);
}

int backup_writer_open(FILE *out, const struct backup_secret *sec,
		       struct backup_writer **w, struct error *e)
{
	uint8_t hdr[BACKUP_HEADER_LEN], key[BACKUP_KEY_LEN];
	header_make(sec, hdr);
	if (derive(sec, hdr, key, e) != 0)
		return -1;
	struct backup_writer *n = xcalloc(1, sizeof(*n));
	n->out = out;
	memcpy(n->ad, hdr, AD_LEN);
	crypto_secretstream_xchacha20poly1305_init_push(&n->st, hdr + AD_LEN,
							key);
	secret_wipe(key, sizeof(key));
	if (fwrite(hdr, 1, sizeof(hdr), out) != sizeof(hdr)) {
		backup_writer_free(n);
		return err_set(e, ERR_INTERNAL, "backup_write_failed",
			       "the backup cannot be written");
	}
	*w = n;
	return 0;
}

static int push(struct backup_writer *w, bool final, struct error *e)
{
	unsigned long long clen;
	crypto_secretstream_xchacha20poly1305_push(
		&w->st, w->cbuf, &clen, w->buf, w->len, w->ad, AD_LEN,
		final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
		      : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
	w->len = 0;
	if (fwrite(w->cbuf, 1, (size_t)clen, w->out) != clen)
		return err_set(e, ERR_INTERNAL, "backup_write_failed",
			       "the backup cannot be written");
	return 0;
}

int backup_writer_raw(struct backup_writer *w, const void *p, size_t n,
		      struct error *e)
{
	const uint8_t *b = p;
	while (n > 0) {
		size_t take = BACKUP_CHUNK - w->len;
		if (take > n)
			take = n;
		memcpy(w->buf + w->len, b, take);
		w->len += take;
		b += take;
		n -= take;
		/* Full chunks go out at once: the last, FINAL one is then
		 * whatever finish finds, never a MESSAGE of the same size. */
		if (w->len == BACKUP_CHUNK && push(w, false, e) != 0)
			return -1;
	}
	return 0;
}

int backup_writer_entry(struct backup_writer *w, const char *name,
			uint64_t size, struct error *e)
{
	size_t len = strlen(name);
	if (w->left != 0 || !backup_name_valid(name, len) ||
	    size > BACKUP_FILE_SIZE_MAX)
		return err_set(e, ERR_INTERNAL, "backup_entry_invalid",
			       "cannot back up an entry called %s", name);
	uint8_t frame[8];
	put_be(frame, len, 2);
	if (backup_writer_raw(w, frame, 2, e) != 0 ||
	    backup_writer_raw(w, name, len, e) != 0)
		return -1;
	put_be(frame, size, 8);
	w->left = size;
	return backup_writer_raw(w, frame, 8, e);
}

int backup_writer_data(struct backup_writer *w, const void *p, size_t n,
		       struct error *e)
{
	if (n > w->left)
		return err_set(e, ERR_INTERNAL, "backup_entry_invalid",
			       "a file grew while it was backed up");
	w->left -= n;
	return backup_writer_raw(w, p, n, e);
}

int backup_writer_finish(struct backup_writer *w, struct error *e)
{
	if (w->left != 0)
		return err_set(e, ERR_INTERNAL, "backup_entry_invalid",
			       "a file shrank while it was backed up");
	if (push(w, true, e) != 0 || fflush(w->out) != 0)
		return err_set(e, ERR_INTERNAL, "backup_write_failed",
			       "the backup cannot be written");
	return 0;
}

void backup_writer_free(struct backup_writer *w)
{
	if (!w)
		return;
	sodium_memzero(w, sizeof(*w));
	free(w);
}

/* ------------------------------------------------------------- reading */

struct reader {
	FILE *in;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t ad[AD_LEN];
	uint8_t buf[BACKUP_CHUNK];
	size_t len, pos;
	bool final, first;
	uint8_t cbuf[CIPHER_CHUNK];
};

static int truncated(struct error *e)
{
	return err_set(e, ERR_INVALID, "backup_truncated",
		       "the backup is incomplete: it was cut short");
}

static int damaged(struct error *e, const char *what)
{
	return err_set(e, ERR_INVALID, "backup_damaged",
		       "the backup is damaged: %s", what);
}

/* The next chunk, authenticated, into r->buf. */
static int next_chunk(struct reader *r, struct error *e)
{
	size_t n = fread(r->cbuf, 1, sizeof(r->cbuf), r->in);
	if (ferror(r->in))
		return err_set(e, ERR_INVALID, "backup_unreadable",
			       "the backup cannot be read");
	if (n < crypto_secretstream_xchacha20poly1305_ABYTES)
		return truncated(e);
	unsigned long long mlen;
	uint8_t tag;
	if (crypto_secretstream_xchacha20poly1305_pull(
		    &r->st, r->buf, &mlen, &tag, r->cbuf, n, r->ad,
		    AD_LEN) != 0)
		return r->first ? err_set(e, ERR_INVALID, "backup_wrong_key",
					  "the backup cannot be decrypted: "
					  "wrong key or passphrase, or a "
					  "damaged or incomplete file")
				: damaged(e, "a chunk fails its authentication");
	r->first = false;
	r->len = (size_t)mlen;
	r->pos = 0;
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		r->final = true;
		if (fgetc(r->in) != EOF)
			return damaged(e, "bytes follow its end");
		return 0;
	}
	if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
		return damaged(e, "a chunk has an unknown tag");
	return n == sizeof(r->cbuf) ? 0 : truncated(e);
}

/* 1 when plaintext is left, 0 at the end of the stream, -1 with e. */
static int more(struct reader *r, struct error *e)
{
	while (r->pos == r->len) {
		if (r->final)
			return 0;
		if (next_chunk(r, e) != 0)
			return -1;
	}
	return 1;
}

static int take(struct reader *r, void *out, size_t n, struct error *e)
{
	uint8_t *o = out;
	while (n > 0) {
		int rc = more(r, e);
		if (rc <= 0)
			return rc == 0 ? truncated(e) : -1;
		size_t k = r->len - r->pos < n ? r->len - r->pos : n;
		memcpy(o, r->buf + r->pos, k);
		r->pos += k;
		o += k;
		n -= k;
	}
	return 0;
}

/* The clear header: format, how the key is made, and Argon2id limits
 * within bounds a restore can afford (a hostile header could otherwise
 * ask for all the machine's memory). */
static int header_check(const uint8_t *hdr, struct error *e)
{
	if (hdr[8] != BACKUP_FORMAT)
		return err_set(e, ERR_INVALID, "backup_not_a_backup",
			       "backup format %d is not known to this version "
			       "(it reads format %d)", hdr[8], BACKUP_FORMAT);
	uint64_t ops = get_be(hdr + 12, 4), mem = get_be(hdr + 16, 8);
	bool ok = hdr[10] == 0 && hdr[11] == 0;
	if (hdr[9] == KDF_KEY)
		ok = ok && ops == 0 && mem == 0 && sodium_is_zero(hdr + 24, 16);
	else if (hdr[9] != KDF_ARGON2ID ||
		 ops < crypto_pwhash_OPSLIMIT_MIN || ops > BACKUP_OPSLIMIT_MAX ||
		 mem < crypto_pwhash_MEMLIMIT_MIN || mem > BACKUP_MEMLIMIT_MAX)
		ok = false;
	return ok ? 0 : damaged(e, "its header is not valid");
}

static int reader_open(struct reader *r, FILE *in,
		       const struct backup_secret *sec, struct error *e)
{
	uint8_t hdr[BACKUP_HEADER_LEN], key[BACKUP_KEY_LEN];
	size_t n = fread(hdr, 1, sizeof(hdr), in);
	if (n < 8 || memcmp(hdr, BACKUP_MAGIC, 8) != 0)
		return err_set(e, ERR_INVALID, "backup_not_a_backup",
			       "this is not a kruispunt backup");
	if (n < sizeof(hdr))
		return truncated(e);
	if (header_check(hdr, e) != 0 || derive(sec, hdr, key, e) != 0)
		return -1;
	r->in = in;
	r->first = true;
	memcpy(r->ad, hdr, AD_LEN);
	int rc = crypto_secretstream_xchacha20poly1305_init_pull(
		&r->st, hdr + AD_LEN, key);
	secret_wipe(key, sizeof(key));
	return rc == 0 ? 0 : damaged(e, "its header is not valid");
}

/* An entry's framing: its name (checked) and its size (bounded). */
static int entry_head(struct reader *r, char name[BACKUP_NAME_MAX + 1],
		      uint64_t *size, struct error *e)
{
	uint8_t b[8];
	if (take(r, b, 2, e) != 0)
		return -1;
	size_t len = (size_t)get_be(b, 2);
	if (len == 0 || len > BACKUP_NAME_MAX)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the backup names a file with %zu bytes", len);
	if (take(r, name, len, e) != 0)
		return -1;
	name[len] = '\0';
	if (!backup_name_valid(name, len))
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the backup holds a file whose name is not a "
			       "plain relative name");
	if (take(r, b, 8, e) != 0)
		return -1;
	*size = get_be(b, 8);
	if (*size > BACKUP_FILE_SIZE_MAX)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "%s is too large", name);
	return 0;
}

static int read_manifest(struct reader *r, struct backup_manifest *m,
			 struct error *e)
{
	char name[BACKUP_NAME_MAX + 1];
	uint64_t size;
	int rc = more(r, e);
	if (rc == 0)
		return truncated(e);
	if (rc < 0 || entry_head(r, name, &size, e) != 0)
		return -1;
	if (strcmp(name, BACKUP_MANIFEST_NAME) != 0 ||
	    size > BACKUP_MANIFEST_MAX)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "the backup does not start with its manifest");
	char *text = xmalloc((size_t)size + 1);
	rc = take(r, text, (size_t)size, e);
	if (rc == 0)
		rc = backup_manifest_parse(text, (size_t)size, m, e);
	free(text);
	return rc;
}

/* One file: framing against the manifest, bytes to the sink, digest. */
static int read_file(struct reader *r, struct backup_manifest *m, bool *seen,
		     const struct backup_sink *sink, struct error *e)
{
	char name[BACKUP_NAME_MAX + 1];
	uint64_t size;
	if (entry_head(r, name, &size, e) != 0)
		return -1;
	size_t i = 0;
	while (i < m->nfiles && strcmp(m->files[i].name, name) != 0)
		i++;
	if (i == m->nfiles || seen[i] || m->files[i].size != size)
		return err_set(e, ERR_INVALID, "backup_entry_invalid",
			       "%s is not in the manifest as it is in the "
			       "backup", name);
	seen[i] = true;
	if (sink && sink->begin(sink->ctx, &m->files[i], e) != 0)
		return -1;
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	while (size > 0) {
		int rc = more(r, e);
		if (rc <= 0)
			return rc == 0 ? truncated(e) : -1;
		size_t k = r->len - r->pos;
		if (k > size)
			k = (size_t)size;
		crypto_hash_sha256_update(&h, r->buf + r->pos, k);
		if (sink && sink->data(sink->ctx, r->buf + r->pos, k, e) != 0)
			return -1;
		r->pos += k;
		size -= k;
	}
	uint8_t d[SHA256_LEN];
	crypto_hash_sha256_final(&h, d);
	if (memcmp(d, m->files[i].sha256, SHA256_LEN) != 0)
		return err_set(e, ERR_INVALID, "backup_damaged",
			       "%s does not match its SHA-256 in the manifest",
			       name);
	return sink ? sink->end(sink->ctx, e) : 0;
}

static int read_all(struct reader *r, const struct backup_sink *sink,
		    struct backup_manifest *m, struct error *e)
{
	if (read_manifest(r, m, e) != 0)
		return -1;
	bool seen[BACKUP_FILES_MAX] = {false};
	int rc;
	while ((rc = more(r, e)) == 1)
		if (read_file(r, m, seen, sink, e) != 0)
			return -1;
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < m->nfiles; i++)
		if (!seen[i])
			return err_set(e, ERR_INVALID, "backup_truncated",
				       "the backup lacks %s, which its "
				       "manifest lists", m->files[i].name);
	return 0;
}

int backup_read(FILE *in, const struct backup_secret *sec,
		const struct backup_sink *sink, struct backup_manifest *m,
		struct error *e)
{
	struct reader *r = xcalloc(1, sizeof(*r));
	int rc = reader_open(r, in, sec, e);
	if (rc == 0)
		rc = read_all(r, sink, m, e);
	sodium_memzero(r, sizeof(*r));
	free(r);
	return rc;
}
