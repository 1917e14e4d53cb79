/*
 * `kruispunt authz add|list --data DIR ...`: the operator publishes and
 * lists authorizations (Information Security Committee deliberations).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz/authz.h"
#include "cli/cli.h"
#include "directory/directory.h"

static int usage(void)
{
	return cli_usage("authz");
}

static int list(struct store *s)
{
	struct authz_authorization *l;
	int n;
	struct error e;
	if (authz_list(s, &l, &n, &e) != 0) {
		fprintf(stderr, "kruispunt authz: %s\n", e.detail);
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%s\t%s\t%03d\t%s\t%s\t%s..%s\tphase>=%d\n", l[i].reference,
		       l[i].requester_actor_type, l[i].capacity, l[i].data_type,
		       l[i].purpose, l[i].valid_from,
		       l[i].valid_until[0] ? l[i].valid_until : "", l[i].min_phase);
	free(l);
	return 0;
}

/* `authz add`: published as the operator, recorded in the audit log. */
static int publish(const struct cli_config *cfg, struct store *s,
		   struct authz_authorization *z)
{
	struct audit *log = NULL;
	struct error e;
	int rc = cli_open_log(cfg, s, &log, &e);
	if (rc == 0)
		rc = authz_add(log, &cli_operator, z, &e);
	audit_close(log);
	if (rc != 0) {
		fprintf(stderr, "kruispunt authz: %s (%s)\n", e.detail,
			e.code ? e.code : "error");
		return 1;
	}
	printf("published %s (id %lld)\n", z->reference, (long long)z->id);
	return 0;
}

int cmd_authz(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"reference", required_argument, NULL, 'r'},
		{"actor-type", required_argument, NULL, 'a'},
		{"capacity", required_argument, NULL, 'c'},
		{"data-type", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'},
		{"from", required_argument, NULL, 'f'},
		{"until", required_argument, NULL, 'u'},
		{"min-phase", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0}};
	if (argc < 2)
		return usage();
	bool add = strcmp(argv[1], "add") == 0;
	if (!add && strcmp(argv[1], "list") != 0)
		return usage();
	struct authz_authorization z;
	memset(&z, 0, sizeof(z));
	z.min_phase = 1;
	z.capacity = -1;
	const char *data = NULL;
	long long n;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'r': str_copy(z.reference, sizeof(z.reference), optarg); break;
		case 'a': str_copy(z.requester_actor_type, sizeof(z.requester_actor_type), optarg); break;
		case 'c': z.capacity = directory_capacity_parse(optarg); break;
		case 't': str_copy(z.data_type, sizeof(z.data_type), optarg); break;
		case 'p': str_copy(z.purpose, sizeof(z.purpose), optarg); break;
		case 'f': str_copy(z.valid_from, sizeof(z.valid_from), optarg); break;
		case 'u': str_copy(z.valid_until, sizeof(z.valid_until), optarg); break;
		case 'm':
			if (cli_number(optarg, 1, 99, &n) != 0)
				return usage();
			z.min_phase = (int)n;
			break;
		default: return usage();
		}
	}
	struct cli_config cfg;
	struct store *s;
	if (!data)
		return usage();
	struct error e;
	if (cli_open_data(data, &cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt authz: %s\n", e.detail);
		return 1;
	}
	int rc = add ? publish(&cfg, s, &z) : list(s);
	store_close(s);
	return rc;
}
