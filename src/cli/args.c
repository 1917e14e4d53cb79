/*
 * Numbers on the command line. strtol alone takes "12x" as 12 and "" as
 * 0: an operator's typo would quietly become another value (a thousand
 * persons instead of a refusal), so every numeric option goes through here.
 */
#include <errno.h>
#include <stdlib.h>

#include "cli/cli.h"

int cli_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
