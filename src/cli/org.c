/*
 * `kruispunt org add|grant|revoke|roles --data DIR ...`: the operator
 * registers organisations and appoints their first access manager; after
 * that, access managers manage roles themselves (through the API, once
 * sessions exist). Every grant and revoke is an audit event, appended
 * through the audit module: a running daemon notices and numbers its own
 * events after them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "http/http.h"
#include "org/org.h"
#include "registry/registry.h"

struct org_args {
	const char *data, *kbo, *name, *insz, *role, *from, *until;
	const char *actor_type, *branch, *endpoint, *cert, *timeout;
	const char *categories[8];
	int ncategories;
	int64_t id;
};

static int usage(void)
{
	return cli_usage("org");
}

static int parse(int argc, char **argv, struct org_args *a)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"kbo", required_argument, NULL, 'k'},
		{"name", required_argument, NULL, 'n'},
		{"category", required_argument, NULL, 'c'},
		{"insz", required_argument, NULL, 'i'},
		{"role", required_argument, NULL, 'r'},
		{"from", required_argument, NULL, 'f'},
		{"until", required_argument, NULL, 'u'},
		{"id", required_argument, NULL, 'x'},
		{"actor-type", required_argument, NULL, 'a'},
		{"branch", required_argument, NULL, 'b'},
		{"endpoint", required_argument, NULL, 'e'},
		{"cert", required_argument, NULL, 'C'},
		{"timeout-ms", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0}};
	long long n;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->data = optarg; break;
		case 'k': a->kbo = optarg; break;
		case 'n': a->name = optarg; break;
		case 'i': a->insz = optarg; break;
		case 'r': a->role = optarg; break;
		case 'f': a->from = optarg; break;
		case 'u': a->until = optarg; break;
		case 'x':
			if (cli_number(optarg, 1, INT64_MAX, &n) != 0)
				return -1;
			a->id = (int64_t)n;
			break;
		case 'a': a->actor_type = optarg; break;
		case 'b': a->branch = optarg; break;
		case 'e': a->endpoint = optarg; break;
		case 't': a->timeout = optarg; break;
		case 'C': a->cert = optarg; break;
		case 'c':
			if (a->ncategories == 8)
				return -1;
			a->categories[a->ncategories++] = optarg;
			break;
		default: return -1;
		}
	}
	return a->data && a->kbo ? 0 : -1;
}

static int grant(struct audit *log, const struct org_args *a, struct error *e)
{
	struct org_role r;
	memset(&r, 0, sizeof(r));
	if (!a->insz || !a->role || !a->until)
		return err_set(e, ERR_INVALID, "usage", "grant needs --insz, "
			       "--role and --until");
	str_copy(r.kbo, sizeof(r.kbo), a->kbo);
	str_copy(r.insz, sizeof(r.insz), a->insz);
	str_copy(r.role, sizeof(r.role), a->role);
	str_copy(r.valid_from, sizeof(r.valid_from), a->from ? a->from : "");
	str_copy(r.valid_until, sizeof(r.valid_until), a->until);
	if (org_role_grant(log, &cli_operator, &r, e) != 0)
		return -1;
	printf("granted %s to %s at %s until %s (id %lld)\n", r.role, r.insz,
	       r.kbo, r.valid_until, (long long)r.id);
	return 0;
}

static int roles(struct store *s, const char *kbo, struct error *e)
{
	struct org_role *l;
	int n;
	if (org_roles(s, kbo, &l, &n, e) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		printf("%lld\t%s\t%s\t%s..%s\t%s\n", (long long)l[i].id,
		       l[i].insz, l[i].role, l[i].valid_from, l[i].valid_until,
		       l[i].revoked ? "revoked" : "active");
	free(l);
	return 0;
}

/* Make an organisation an institution of the network. */
static int institution(struct audit *log, const struct org_args *a,
		       struct error *e)
{
	int64_t id;
	if (!a->actor_type || !a->branch)
		return err_set(e, ERR_INVALID, "usage",
			       "institution needs --actor-type and --branch");
	if (org_institution_add(log, &cli_operator, a->kbo, a->actor_type,
				a->branch, a->endpoint, &id, e) != 0)
		return -1;
	printf("institution %s (%s, %s), id %lld\n", a->kbo, a->actor_type,
	       a->branch, (long long)id);
	return 0;
}

/* Bind a client certificate to an organisation (several: rollover): an
 * institution, or a mandate holder whose systems consult on the network. */
static int certificate(struct audit *log, const struct org_args *a,
		       struct error *e)
{
	struct http_client_cert c;
	if (!a->cert)
		return err_set(e, ERR_INVALID, "usage", "cert needs --cert");
	if (http_cert_file(a->cert, &c, e) != 0 ||
	    org_cert_add(log, &cli_operator, a->kbo, c.fingerprint, c.subject,
			 c.not_before, c.not_after, e) != 0)
		return -1;
	char fp[2 * SHA256_LEN + 1];
	hex_encode(c.fingerprint, SHA256_LEN, fp);
	printf("certificate %s now identifies %s\n", fp, a->kbo);
	return 0;
}

/* `org endpoint`: where and how long the hub asks a provider. */
static int endpoint(struct audit *log, const struct org_args *a,
		    struct error *e)
{
	struct store *s = audit_store(log);
	if (!a->endpoint && !a->timeout)
		return err_set(e, ERR_INVALID, "usage",
			       "endpoint needs --endpoint URL or --timeout-ms N");
	if (a->endpoint &&
	    org_institution_set_endpoint(log, &cli_operator, a->kbo,
					 a->endpoint, e) != 0)
		return -1;
	if (a->timeout) {
		char *end;
		long ms = strtol(a->timeout, &end, 10);
		if (*end || ms < 0 || ms > 120000)
			return err_set(e, ERR_INVALID, "invalid_timeout",
				       "--timeout-ms: 0 or 50 to 120000");
		if (org_institution_set_timeout(log, &cli_operator, a->kbo,
						(int)ms, e) != 0)
			return -1;
	}
	struct org_institution inst;
	if (org_institution_by_kbo(s, a->kbo, &inst) != 0)
		return 0;
	const char *url = inst.endpoint[0] ? inst.endpoint : "(nothing)";
	if (inst.timeout_ms)
		printf("%s answers the hub at %s within %d ms\n", a->kbo, url,
		       inst.timeout_ms);
	else
		printf("%s answers the hub at %s within the hub's timeout\n",
		       a->kbo, url);
	return 0;
}

static int run(const char *verb, struct audit *log, const struct org_args *a,
	       struct error *e)
{
	if (strcmp(verb, "institution") == 0)
		return institution(log, a, e);
	if (strcmp(verb, "cert") == 0)
		return certificate(log, a, e);
	if (strcmp(verb, "endpoint") == 0)
		return endpoint(log, a, e);
	if (strcmp(verb, "add") == 0) {
		if (!a->name)
			return err_set(e, ERR_INVALID, "usage",
				       "add needs --name");
		if (org_organisation_add(log, &cli_operator, a->kbo, a->name,
					 e) != 0)
			return -1;
		for (int i = 0; i < a->ncategories; i++)
			if (org_category_add(log, &cli_operator, a->kbo,
					     a->categories[i], e) != 0)
				return -1;
		printf("registered %s\n", a->kbo);
		return 0;
	}
	if (strcmp(verb, "grant") == 0)
		return grant(log, a, e);
	if (strcmp(verb, "revoke") == 0) {
		struct org_role r;
		if (org_role_revoke(log, &cli_operator, a->kbo, a->id, &r,
				    e) != 0)
			return -1;
		printf("revoked %lld\n", (long long)a->id);
		return 0;
	}
	return roles(audit_store(log), a->kbo, e);
}

int cmd_org(int argc, char **argv)
{
	struct org_args a;
	memset(&a, 0, sizeof(a));
	if (argc < 2 || parse(argc, argv, &a) != 0)
		return usage();
	const char *verb = argv[1];
	static const char *verbs[] = {"add", "grant", "revoke", "roles",
				      "institution", "cert", "endpoint"};
	bool known = false;
	for (size_t i = 0; i < KP_NELEM(verbs); i++)
		known |= strcmp(verb, verbs[i]) == 0;
	if (!known)
		return usage();
	/* Formatted input ("0203.201.340") is fine; from here on, digits. */
	char kbo[11];
	if (kbo_parse(a.kbo, strlen(a.kbo), kbo) != ID_OK) {
		fprintf(stderr, "kruispunt org: not a valid enterprise number\n");
		return 1;
	}
	a.kbo = kbo;
	struct cli_config cfg;
	struct store *s;
	struct error e;
	if (cli_open_data(a.data, &cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt org: %s\n", e.detail);
		return 1;
	}
	struct audit *log = NULL;
	int rc = cli_open_log(&cfg, s, &log, &e);
	if (rc == 0)
		rc = run(verb, log, &a, &e);
	audit_close(log);
	if (rc != 0)
		fprintf(stderr, "kruispunt org: %s (%s)\n", e.detail,
			e.code ? e.code : "error");
	store_close(s);
	return rc == 0 ? 0 : 1;
}
