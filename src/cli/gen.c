/*
 * `kruispunt gen --data DIR --persons N --dossiers-per-person M [--seed S]`:
 * deterministic synthetic data for benchmarks (src/demo/gen.c); with
 * `--ndjson FILE` instead of `--data`, the same persons as a register
 * file for `kruispunt import`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "demo/demo.h"

/* The persons only, as a register file (`--ndjson FILE`): what
 * bench/import.sh loads with `kruispunt import registry --initial`. */
static int to_file(const char *path, uint64_t persons, uint64_t seed)
{
	struct error e;
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "kruispunt gen: cannot write %s\n", path);
		return 1;
	}
	int rc = demo_generate_ndjson(f, persons, seed, &e);
	if (fclose(f) != 0 && rc == 0)
		rc = err_set(&e, ERR_UNAVAILABLE, "write_failed",
			     "the file cannot be written");
	if (rc != 0) {
		fprintf(stderr, "kruispunt gen: %s: %s\n", path, e.detail);
		return 1;
	}
	printf("wrote %llu persons to %s\n", (unsigned long long)persons, path);
	return 0;
}

int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"persons", required_argument, NULL, 'p'},
		{"dossiers-per-person", required_argument, NULL, 'm'},
		{"seed", required_argument, NULL, 's'},
		{"ndjson", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0}};
	const char *data = NULL, *ndjson = NULL;
	long long persons = 0, seed = 1, per = 5;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'n')
			ndjson = optarg;
		else if (c == 'p' && cli_number(optarg, 1, INT64_MAX, &persons) == 0)
			continue;
		else if (c == 'm' && cli_number(optarg, 0, 10, &per) == 0)
			continue;
		else if (c == 's' && cli_number(optarg, 0, INT64_MAX, &seed) == 0)
			continue;
		else
			goto usage;
	}
	if (ndjson && !data && persons > 0)
		return to_file(ndjson, (uint64_t)persons, (uint64_t)seed);
	if (!data || ndjson || persons == 0)
		goto usage;
	struct cli_config cfg;
	struct store *s;
	struct error e;
	if (cli_init_dir_at(data, &cfg, &e) != 0 ||
	    cli_open_store(&cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt gen: %s\n", e.detail);
		return 1;
	}
	struct demo_gen_stats st;
	struct audit *log = NULL;
	int rc = cli_open_log(&cfg, s, &log, &e);
	if (rc == 0)
		rc = demo_generate(log, (uint64_t)persons, (int)per,
				   (uint64_t)seed, &st, &e);
	audit_close(log);
	store_close(s);
	if (rc != 0) {
		fprintf(stderr, "kruispunt gen: %s\n", e.detail);
		return 1;
	}
	printf("generated %llu persons in %.1f s and %llu dossiers in %.1f s\n",
	       (unsigned long long)st.persons, (double)st.person_ns / 1e9,
	       (unsigned long long)st.dossiers, (double)st.dossier_ns / 1e9);
	return 0;
usage:
	return cli_usage("gen");
}
