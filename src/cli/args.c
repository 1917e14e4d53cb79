/*
 * Numbers on the command line. strtol alone takes "12x" as 12 and "" as
 * 0: an operator's typo would quietly become another value (a thousand
 * persons instead of a refusal), so every numeric option goes through here.
 * And the commands that take one option share its parsing.
 */
#include <errno.h>
#include <getopt.h>
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

int cli_one_option(int argc, char **argv, const char *name,
		   const char **value)
{
	const struct option opts[] = {{name, required_argument, NULL, 'o'},
				      {NULL, 0, NULL, 0}};
	int c;
	*value = NULL;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'o')
			return -1;
		*value = optarg;
	}
	return optind < argc ? -1 : 0;
}
