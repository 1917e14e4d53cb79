/* Request bodies and the text that reaches logs and problem documents:
 * bounded JSON parsing must never crash, whatever it accepts must serialise
 * and parse back, and hostile bytes escaped into a log line or a problem
 * detail must still make valid JSON. Dates and times come along: they are
 * parsed from the same bodies. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "fuzz.h"

static void check_log_line(const char *s, size_t n)
{
	struct log_line l;
	struct error e;
	log_set_level(LV_DEBUG);
	log_begin(&l, LV_INFO, "fuzz", "fuzz");
	log_strn(&l, "v", s, n);
	l.buf[l.len] = '}';
	json_t *j = jsonx_parse(l.buf, l.len + 1, &e);
	if (!j)
		abort();
	json_decref(j);
}

static void check_dates(const char *s, size_t n)
{
	char tmp[64];
	if (n >= sizeof(tmp))
		return;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	struct date d;
	int64_t t;
	char out[RFC3339_LEN];
	if (date_parse(tmp, &d) == 0) {
		date_format(d, out);
		if (strcmp(out, tmp) != 0)
			abort();
	}
	if (time_parse_rfc3339(tmp, &t) == 0) {
		time_format_rfc3339(t, out);
		int64_t back;
		if (time_parse_rfc3339(out, &back) != 0 || back != t)
			abort();
	}
}

int fuzz_json(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct error e;
	json_t *j = jsonx_parse(s, size, &e);
	if (j) {
		char *dump = jsonx_dump(j);
		json_t *back = jsonx_parse(dump, strlen(dump), &e);
		if (!back || !json_equal(j, back))
			abort();
		json_decref(back);
		free(dump);
		json_decref(j);
	}
	check_log_line(s, size);
	check_dates(s, size);
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_json(data, size);
}
#endif
