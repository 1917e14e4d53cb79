/* INSZ and KBO parsing: never crash, and whatever is accepted must be a
 * canonical number that re-composes to itself. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "fuzz.h"

int fuzz_ids(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct insz z;
	if (insz_parse(s, size, &z) == ID_OK) {
		char again[INSZ_BUF];
		if (strlen(z.digits) != 11 ||
		    insz_compose(z.kind, z.birth_year, z.birth_month,
				 z.birth_day, z.sex != SEX_UNKNOWN ||
						      z.kind == INSZ_RR,
				 z.sequence, again) != ID_OK ||
		    strcmp(again, z.digits) != 0)
			abort();
	}
	char kbo[11];
	if (kbo_parse(s, size, kbo) == ID_OK &&
	    (strlen(kbo) != 10 || kbo_parse(kbo, 10, NULL) != ID_OK))
		abort();
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_ids(data, size);
}
#endif
