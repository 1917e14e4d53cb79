/*
 * `kruispunt directory capacity|data-type|availability --data DIR ...`: the
 * operator's reference data for the reference directory.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "directory/directory.h"

static int usage(void)
{
	return cli_usage("directory");
}

struct dir_args {
	const char *data, *branch, *code, *label, *source, *actor_type,
		*capacity, *data_type;
};

static int parse(int argc, char **argv, struct dir_args *a)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"branch", required_argument, NULL, 'b'},
		{"code", required_argument, NULL, 'c'},
		{"label", required_argument, NULL, 'l'},
		{"source", required_argument, NULL, 's'},
		{"actor-type", required_argument, NULL, 'a'},
		{"capacity", required_argument, NULL, 'p'},
		{"data-type", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0}};
	const char **slot[] = {['d'] = &a->data, ['b'] = &a->branch,
			       ['c'] = &a->code, ['l'] = &a->label,
			       ['s'] = &a->source, ['a'] = &a->actor_type,
			       ['p'] = &a->capacity, ['t'] = &a->data_type};
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (c < 0 || (size_t)c >= KP_NELEM(slot) || !slot[c])
			return -1;
		*slot[c] = optarg;
	}
	return a->data ? 0 : -1;
}

static int run(const char *verb, struct audit *log, const struct dir_args *a,
	       struct error *e)
{
	if (strcmp(verb, "capacity") == 0 && a->branch && a->code && a->label)
		return directory_capacity_add(log, &cli_operator, a->branch,
					      directory_capacity_parse(a->code),
					      a->label, e);
	if (strcmp(verb, "data-type") == 0 && a->code && a->source && a->label)
		return directory_data_type_add(log, &cli_operator, a->code,
					       a->source, a->label, e);
	if (strcmp(verb, "availability") == 0 && a->actor_type && a->capacity &&
	    a->data_type)
		return directory_availability_add(
			log, &cli_operator, a->actor_type,
			directory_capacity_parse(a->capacity), a->data_type, e);
	return err_set(e, ERR_INVALID, "usage", "missing options");
}

int cmd_directory(int argc, char **argv)
{
	struct dir_args a;
	memset(&a, 0, sizeof(a));
	if (argc < 2 || parse(argc, argv, &a) != 0)
		return usage();
	struct cli_config cfg;
	struct store *s;
	struct error e;
	if (cli_open_data(a.data, &cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt directory: %s\n", e.detail);
		return 1;
	}
	struct audit *log = NULL;
	int rc = cli_open_log(&cfg, s, &log, &e);
	if (rc == 0)
		rc = run(argv[1], log, &a, &e);
	audit_close(log);
	store_close(s);
	if (rc != 0) {
		fprintf(stderr, "kruispunt directory: %s (%s)\n", e.detail,
			e.code ? e.code : "error");
		return e.code && strcmp(e.code, "usage") == 0 ? usage() : 1;
	}
	printf("recorded\n");
	return 0;
}
