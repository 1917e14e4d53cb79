/* tlog-tiles paths (audit_tile_parse): never crash, and whatever is
 * accepted must be in the grammar's range and print back to exactly the
 * path it came from (one path per tile, so no two URLs of one tile). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/base.h"
#include "fuzz.h"

/* The canonical path of t, as c2sp.org/tlog-tiles writes it. */
static void tile_path(const struct audit_tile *t, char *out, size_t n)
{
	char groups[8][8];
	int ng = 0;
	uint64_t v = t->index;
	do {
		snprintf(groups[ng++], sizeof(groups[0]), "%03u",
			 (unsigned)(v % 1000));
		v /= 1000;
	} while (v > 0);
	size_t len = t->entries ? (size_t)snprintf(out, n, "entries/")
				: (size_t)snprintf(out, n, "%d/", t->level);
	for (int i = ng - 1; i >= 0; i--)
		len += (size_t)snprintf(out + len, n - len, "%s%s%s",
					i > 0 ? "x" : "", groups[i],
					i > 0 ? "/" : "");
	if (t->width < 256)
		snprintf(out + len, n - len, ".p/%d", t->width);
}

int fuzz_tile(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char path[257], again[300];
	memcpy(path, data, size);
	path[size] = '\0';
	struct audit_tile t;
	if (audit_tile_parse(path, &t) != 0)
		return 0;
	if (t.level < 0 || t.level > 63 || t.width < 1 || t.width > 256 ||
	    (t.entries && t.level != 0))
		abort();
	tile_path(&t, again, sizeof(again));
	if (strcmp(again, path) != 0)
		abort();
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_tile(data, size);
}
#endif
