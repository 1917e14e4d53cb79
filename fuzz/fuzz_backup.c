/* The backup archive's reader (backup_read), which restore runs on a file
 * nobody vouches for. Random bytes never pass a chunk's authentication,
 * so the first byte chooses what the rest is: odd, a whole file as it is
 * (header and stream); even, the plaintext of the stream, encrypted here
 * with a fixed key, so that the entry framing and the manifest behind
 * the encryption are what the fuzzer explores. Never crash; whatever is
 * accepted must be whole: a manifest within its bounds, every file in it
 * given to the sink with exactly its size. */
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "fuzz.h"

struct count {
	uint64_t want, got;
	size_t files;
};

static int c_begin(void *ctx, const struct backup_file *f, struct error *e)
{
	KP_UNUSED(e);
	struct count *c = ctx;
	if (!backup_name_valid(f->name, strlen(f->name)))
		abort();
	c->want = f->size;
	c->got = 0;
	return 0;
}

static int c_data(void *ctx, const void *p, size_t n, struct error *e)
{
	KP_UNUSED(p);
	KP_UNUSED(e);
	((struct count *)ctx)->got += n;
	return 0;
}

static int c_end(void *ctx, struct error *e)
{
	KP_UNUSED(e);
	struct count *c = ctx;
	if (c->got != c->want)
		abort();
	c->files++;
	return 0;
}

/* data as the plaintext of an archive under key: a whole file. */
static char *encrypt(const struct backup_secret *key, const uint8_t *data,
		     size_t size, size_t *n)
{
	char *p = NULL;
	FILE *f = open_memstream(&p, n);
	struct backup_writer *w;
	if (!f || backup_writer_open(f, key, &w, NULL) != 0)
		abort();
	if (backup_writer_raw(w, data, size, NULL) != 0 ||
	    backup_writer_finish(w, NULL) != 0)
		abort();
	backup_writer_free(w);
	fclose(f);
	return p;
}

int fuzz_backup(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	static bool ready;
	if (!ready && crypto_setup() != 0)
		abort();
	ready = true;
	struct backup_secret key = {0};
	memset(key.key, 0x5a, sizeof(key.key));
	size_t n = size - 1;
	char *file = data[0] & 1 ? xcalloc(1, n + 1)
				 : encrypt(&key, data + 1, n, &n);
	if (data[0] & 1)
		memcpy(file, data + 1, n);
	FILE *in = fmemopen(file, n ? n : 1, "rb");
	if (!in)
		abort();
	if (n == 0)
		fgetc(in); /* fmemopen needs a size: read past the one byte */
	struct count c = {0};
	struct backup_sink sink = {&c, c_begin, c_data, c_end};
	struct backup_manifest m;
	struct error e;
	if (backup_read(in, &key, &sink, &m, &e) == 0 &&
	    (m.nfiles > BACKUP_FILES_MAX || c.files != m.nfiles))
		abort();
	fclose(in);
	free(file);
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_backup(data, size);
}
#endif
