/*
 * `kruispunt audit vkey --data DIR`: the log's verifier key as a C2SP
 * signed-note key ("<origin>+<key ID>+<base64>"), for any tlog tool to
 * check /log/checkpoint with; an installation publishes it.
 *
 * `kruispunt audit verify --data DIR [--public-key FILE]`: recompute the
 * audit log's tree from the database and check every signed checkpoint.
 * Exit 0 only if intact; 1 names the first bad event; 2 for usage errors;
 * 3 when the log cannot be read. An auditor passes a public key obtained
 * elsewhere rather than trusting the one in the data directory; its path
 * is taken from the working directory, as any command-line tool does.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"

static int usage(void)
{
	return cli_usage("audit");
}

static int verify(const char *data, const char *key_file)
{
	struct cli_config cfg;
	struct error e;
	uint8_t pk[ED25519_PK_LEN];
	struct store *s;
	/* The auditor's own copy of the key is where they say it is (from
	 * the working directory); the data directory's is the operator's. */
	if (cli_open_data(data, &cfg, NULL, &e) != 0 ||
	    (key_file ? cli_read_key_file(key_file, pk, sizeof(pk), &e)
		      : cli_read_key(&cfg, "keys/audit-signing.pub", pk,
				     sizeof(pk), &e)) != 0 ||
	    cli_open_store(&cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt audit verify: %s\n", e.detail);
		return 3;
	}
	struct audit_verify_report rep;
	uint64_t t0 = time_mono_ns();
	int rc = audit_verify(s, pk, &rep);
	double secs = (double)(time_mono_ns() - t0) / 1e9;
	store_close(s);
	if (rc < 0) {
		fprintf(stderr, "kruispunt audit verify: the log cannot be read\n");
		return 3;
	}
	if (rc > 0) {
		fprintf(stderr, "audit log NOT intact: ");
		if (rep.has_bad_seq)
			fprintf(stderr, "first bad event seq %llu: ",
				(unsigned long long)rep.first_bad_seq);
		fprintf(stderr, "%s\n", rep.problem);
		return 1;
	}
	printf("audit log intact: %llu events, %llu signed checkpoints "
	       "verified, %llu events after the newest checkpoint (%.2f s)\n",
	       (unsigned long long)rep.events,
	       (unsigned long long)rep.checkpoints,
	       (unsigned long long)rep.unsigned_tail, secs);
	return 0;
}

static int vkey(const char *data)
{
	struct cli_config cfg;
	struct error e;
	uint8_t pk[ED25519_PK_LEN];
	if (cli_open_data(data, &cfg, NULL, &e) != 0 ||
	    cli_read_key(&cfg, "keys/audit-signing.pub", pk, sizeof(pk),
			 &e) != 0) {
		fprintf(stderr, "kruispunt audit vkey: %s\n", e.detail);
		return 3;
	}
	char origin[AUDIT_ORIGIN_MAX + 1], out[AUDIT_VKEY_MAX];
	cli_log_origin(&cfg, origin);
	if (!audit_origin_valid(origin)) {
		fprintf(stderr, "kruispunt audit vkey: audit.origin is not a "
				"valid key name\n");
		return 3;
	}
	audit_note_vkey(origin, pk, out);
	printf("%s\n", out);
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	bool is_vkey = argc >= 2 && strcmp(argv[1], "vkey") == 0;
	if (argc < 2 || (!is_vkey && strcmp(argv[1], "verify") != 0))
		return usage();
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"public-key", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0}};
	const char *data = NULL, *key = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "d:k:", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'k')
			key = optarg;
		else
			return usage();
	}
	if (!data || (is_vkey && key))
		return usage();
	return is_vkey ? vkey(data) : verify(data, key);
}
