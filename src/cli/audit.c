/*
 * `kruispunt audit vkey --data DIR`: the log's verifier key as a C2SP
 * signed-note key ("<origin>+<key ID>+<base64>"), for any tlog tool to
 * check /log/checkpoint with; an installation publishes it.
 *
 * `kruispunt audit verify --data DIR [--public-key FILE] [--newest-key
 * VKEY_OR_FILE]`: recompute the audit log's tree from the database and
 * check every signed checkpoint, then list the chain's signing keys and
 * their terms. Exit 0 only if intact; 1 names the first bad event; 2 for
 * usage errors; 3 when the log cannot be read. An auditor passes a key
 * obtained elsewhere rather than trusting the one in the data directory;
 * its path is taken from the working directory, as any command-line tool
 * does. --newest-key requires the chain to end at that key: a retired key
 * that leaked may sign a rewritten chain that still starts from it, but
 * cannot make it end at a key its thief does not hold.
 *
 * `kruispunt audit purge --data DIR [--apply]`: remove the entries of the
 * events past the retention period, keeping the tree (audit_purge). A dry
 * run unless --apply: what goes is personal data, kept for ten years.
 *
 * `kruispunt audit key rotate --data DIR`: audit_rotate.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <sodium.h>

#include "audit/audit.h"
#include "cli/cli.h"

static int usage(void)
{
	return cli_usage("audit");
}

/* A key an auditor names: a signed-note verifier key, or a file of the
 * 32 raw bytes (from the working directory). Returns 0, or -1 with e. */
static int auditor_key(const char *arg, uint8_t pk[ED25519_PK_LEN],
		       struct error *e)
{
	char name[AUDIT_ORIGIN_MAX + 1];
	if (strchr(arg, '+') &&
	    audit_vkey_parse(arg, AUDIT_SIG_ED25519, name, pk) == 0)
		return 0;
	return cli_read_key_file(arg, pk, ED25519_PK_LEN, e);
}

/* Each key of the checked chain and its term, so that an auditor sees
 * which key the chain ends at. */
static void print_keys(const struct cli_config *cfg,
		       const struct audit_verify_report *rep, uint64_t size)
{
	char origin[AUDIT_ORIGIN_MAX + 1], vkey[AUDIT_VKEY_MAX];
	cli_log_origin(cfg, origin);
	for (uint64_t i = 0; i < rep->keys && i < AUDIT_KEYS_MAX; i++) {
		audit_note_vkey(origin, rep->key_pk[i], vkey);
		uint64_t to = i + 1 < rep->keys ? rep->key_from[i + 1] : size;
		printf("signing key %llu: %s, tree sizes %llu to %llu%s\n",
		       (unsigned long long)i, vkey,
		       (unsigned long long)rep->key_from[i],
		       (unsigned long long)to,
		       i + 1 == rep->keys ? " (the newest: the chain ends here)"
					  : "");
	}
}

static int verify_failed(const struct audit_verify_report *rep)
{
	fprintf(stderr, "audit log NOT intact: ");
	if (rep->has_bad_seq)
		fprintf(stderr, "first bad event seq %llu: ",
			(unsigned long long)rep->first_bad_seq);
	fprintf(stderr, "%s\n", rep->problem);
	return 1;
}

static void print_intact(const struct audit_verify_report *rep, double secs)
{
	printf("audit log intact: %llu events, %llu signed checkpoints "
	       "verified, %llu events after the newest checkpoint (%.2f s)\n",
	       (unsigned long long)rep->events,
	       (unsigned long long)rep->checkpoints,
	       (unsigned long long)rep->unsigned_tail, secs);
	if (rep->keys > 1)
		printf("%llu signing keys, each accepted through the signed "
		       "hand-overs from the trusted one\n",
		       (unsigned long long)rep->keys);
	if (rep->purged)
		printf("%llu events past the retention period have no entry "
		       "any more (purged); their leaves verify the tree\n",
		       (unsigned long long)rep->purged);
}

/* The anchor: the auditor's public key file, else their newest key,
 * else the data directory's own (the operator's). */
static int anchor_key(const struct cli_config *cfg, const char *key_file,
		      const char *newest, uint8_t pk[ED25519_PK_LEN],
		      struct error *e)
{
	if (key_file)
		return cli_read_key_file(key_file, pk, ED25519_PK_LEN, e);
	if (newest)
		return auditor_key(newest, pk, e);
	return cli_read_key(cfg, "keys/audit-signing.pub", pk, ED25519_PK_LEN, e);
}

int cli_audit_verify(const char *cmd, const char *data, const char *key_file,
		     const char *newest)
{
	struct cli_config cfg;
	struct error e;
	uint8_t pk[ED25519_PK_LEN], end[ED25519_PK_LEN];
	struct store *s;
	if (cli_open_data(data, &cfg, NULL, &e) != 0 ||
	    anchor_key(&cfg, key_file, newest, pk, &e) != 0 ||
	    (newest && auditor_key(newest, end, &e) != 0) ||
	    cli_open_store(&cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt %s: %s\n", cmd, e.detail);
		return 3;
	}
	struct audit_verify_report *rep = xcalloc(1, sizeof(*rep));
	uint64_t t0 = time_mono_ns();
	int rc = audit_verify(s, pk, rep);
	double secs = (double)(time_mono_ns() - t0) / 1e9;
	store_close(s);
	if (rc < 0)
		fprintf(stderr, "kruispunt %s: the log cannot be read\n", cmd);
	else if (rc > 0)
		verify_failed(rep);
	else
		print_intact(rep, secs);
	if (rc >= 0 && rep->keys > 0)
		print_keys(&cfg, rep, rep->events + rep->purged);
	if (rc == 0 && newest &&
	    sodium_memcmp(rep->key_pk[rep->keys - 1], end, sizeof(end)) != 0) {
		fprintf(stderr, "audit log NOT trusted: the chain of signing "
				"keys does not end at the newest key you gave: "
				"a later hand-over is unknown to you, or the "
				"chain was rewritten from a retired key\n");
		rc = 1;
	}
	free(rep);
	return rc < 0 ? 3 : rc;
}

static int purge(const char *data, bool apply)
{
	struct cli_config cfg;
	struct error e;
	struct store *s = NULL;
	struct audit *log = NULL;
	struct audit_purge_report rep;
	if (cli_open_data(data, &cfg, &s, &e) != 0 ||
	    cli_open_log(&cfg, s, &log, &e) != 0 ||
	    audit_purge(log, &cli_operator, apply, &rep, &e) != 0) {
		fprintf(stderr, "kruispunt audit purge: %s\n", e.detail);
		audit_close(log);
		store_close(s);
		return 1;
	}
	audit_close(log);
	store_close(s);
	char before[RFC3339_LEN];
	time_format_rfc3339(rep.before_ms / 1000, before);
	if (rep.events == 0)
		printf("nothing to purge: no entry recorded before %s is left\n",
		       before);
	else
		printf("%s the entries of %llu events recorded before %s "
		       "(seq %llu to %llu)%s\n",
		       apply ? "removed" : "would remove",
		       (unsigned long long)rep.events, before,
		       (unsigned long long)rep.first_seq,
		       (unsigned long long)rep.last_seq,
		       apply ? "; their leaves keep the tree"
			     : "; run again with --apply to remove them");
	return 0;
}

/* Every key of the chain as the database records it, for an operator
 * to compare a key file with (`audit verify` checks them). */
static int vkey_chain(const struct cli_config *cfg)
{
	struct store *s = NULL;
	struct error e;
	if (cli_open_store(cfg, &s, &e) != 0) {
		fprintf(stderr, "kruispunt audit vkey: %s\n", e.detail);
		return 3;
	}
	struct audit_key_info *keys = xcalloc(AUDIT_KEYS_MAX, sizeof(*keys));
	int n = audit_keys_list(s, keys, AUDIT_KEYS_MAX);
	store_close(s);
	if (n < 0)
		fprintf(stderr, "kruispunt audit vkey: the key chain cannot be "
				"read\n");
	if (n == 0)
		printf("signing key 0 (never rotated)\n");
	for (int i = 0; i < n; i++)
		printf("signing key %llu: %s, from tree size %llu%s\n",
		       (unsigned long long)keys[i].key_id, keys[i].vkey,
		       (unsigned long long)keys[i].from_size,
		       i + 1 == n ? " (the newest)" : "");
	free(keys);
	return n < 0 ? 3 : 0;
}

static int vkey(const char *data, bool chain)
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
	return chain ? vkey_chain(&cfg) : 0;
}

int cmd_audit(int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "";
	if (strcmp(verb, "key") == 0) {
		const char *data;
		optind = 1;
		if (argc < 3 || strcmp(argv[2], "rotate") != 0 ||
		    cli_one_option(argc - 2, argv + 2, "data", &data) != 0 ||
		    !data)
			return usage();
		return cli_audit_rotate(data);
	}
	bool is_purge = strcmp(verb, "purge") == 0;
	bool is_vkey = strcmp(verb, "vkey") == 0;
	if (!is_purge && !is_vkey && strcmp(verb, "verify") != 0)
		return usage();
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"public-key", required_argument, NULL, 'k'},
		{"newest-key", required_argument, NULL, 'n'},
		{"apply", no_argument, NULL, 'a'},
		{"chain", no_argument, NULL, 'c'},
		{NULL, 0, NULL, 0}};
	const char *data = NULL, *key = NULL, *newest = NULL;
	bool apply = false, chain = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "d:k:n:ac", opts, NULL)) != -1) {
		bool verify = !is_purge && !is_vkey;
		if (c == 'd')
			data = optarg;
		else if (c == 'k' && verify)
			key = optarg;
		else if (c == 'n' && verify)
			newest = optarg;
		else if (c == 'a' && is_purge)
			apply = true;
		else if (c == 'c' && is_vkey)
			chain = true;
		else
			return usage();
	}
	if (!data)
		return usage();
	if (is_purge)
		return purge(data, apply);
	return is_vkey ? vkey(data, chain)
		       : cli_audit_verify("audit verify", data, key, newest);
}
