/* The batch splitter (hub_ndjson_lines): never reads outside its input,
 * reports every non-blank line once, in order, without its line end. */
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "fuzz.h"

struct seen {
	const char *p;
	size_t n;
	int64_t count, last_no;
	size_t next_off;
};

static void line(void *ctx, size_t off, size_t len, int64_t no)
{
	struct seen *s = ctx;
	if (off < s->next_off || off + len > s->n || no <= s->last_no ||
	    memchr(s->p + off, '\n', len) || len == 0)
		abort();
	s->next_off = off + len;
	s->last_no = no;
	s->count++;
}

int fuzz_ndjson(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches a read past it. */
	char *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	struct seen s = {p, size, 0, 0, 0};
	int64_t n = hub_ndjson_lines(p, size, line, &s);
	if (n != s.count || hub_ndjson_lines(p, size, NULL, NULL) != n)
		abort();
	free(p);
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_ndjson(data, size);
}
#endif
