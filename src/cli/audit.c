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
 *
 * `kruispunt audit purge --data DIR [--apply]`: remove the entries of the
 * events past the retention period, keeping the tree (audit_purge). A dry
 * run unless --apply: what goes is personal data, kept for ten years.
 *
 * `kruispunt audit key rotate --data DIR`: a new signing key takes over
 * (audit_key_rotate). The new secret key is written beside the old one
 * first (keys/audit-signing.key.new), so that a rotation the database
 * recorded is never left without its key; once recorded, it replaces
 * keys/audit-signing.key (the old secret key is gone: it can sign nothing
 * the log accepts any more, and a key that exists can leak), and the old
 * public key is kept as keys/audit-signing-<n>.pub.
 */
#include <errno.h>
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

int cli_audit_verify(const char *cmd, const char *data, const char *key_file)
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
		fprintf(stderr, "kruispunt %s: %s\n", cmd, e.detail);
		return 3;
	}
	struct audit_verify_report rep;
	uint64_t t0 = time_mono_ns();
	int rc = audit_verify(s, pk, &rep);
	double secs = (double)(time_mono_ns() - t0) / 1e9;
	store_close(s);
	if (rc < 0) {
		fprintf(stderr, "kruispunt %s: the log cannot be read\n", cmd);
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
	if (rep.keys > 1)
		printf("%llu signing keys, each accepted through the signed "
		       "hand-overs from the trusted one\n",
		       (unsigned long long)rep.keys);
	if (rep.purged)
		printf("%llu events past the retention period have no entry "
		       "any more (purged); their leaves verify the tree\n",
		       (unsigned long long)rep.purged);
	return 0;
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


/* The key files of a rotation, by their role. */
struct key_paths {
	char key[LIMIT_PATH], pub[LIMIT_PATH], next[LIMIT_PATH];
	char old_pub[LIMIT_PATH];
};

static int key_paths(const struct cli_config *cfg, uint64_t old_id,
		     struct key_paths *p, struct error *e)
{
	const char *d = cfg->base.data_dir;
	char old[64];
	snprintf(old, sizeof(old), "keys/audit-signing-%llu.pub",
		 (unsigned long long)old_id);
	if (config_path(d, "keys/audit-signing.key", p->key, sizeof(p->key)) ||
	    config_path(d, "keys/audit-signing.pub", p->pub, sizeof(p->pub)) ||
	    config_path(d, "keys/audit-signing.key.new", p->next,
			sizeof(p->next)) ||
	    config_path(d, old, p->old_pub, sizeof(p->old_pub)))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	return 0;
}

/* The recorded rotation's files: the old public key kept under its
 * number, the new key pair in place (renames: never half a file). */
static int install_keys(const struct key_paths *p,
			const uint8_t pk[ED25519_PK_LEN], struct error *e)
{
	char tmp[LIMIT_PATH + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->pub);
	unlink(tmp);
	if ((link(p->pub, p->old_pub) != 0 && errno != EEXIST) ||
	    cli_write_new(tmp, pk, ED25519_PK_LEN, e) != 0 ||
	    rename(p->next, p->key) != 0 || rename(tmp, p->pub) != 0)
		return err_set(e, ERR_INTERNAL, "rotate_failed",
			       "the rotation is recorded, but its key files "
			       "could not be installed (%s): move "
			       "keys/audit-signing.key.new to "
			       "keys/audit-signing.key by hand",
			       strerror(errno));
	return 0;
}

static void print_rotation(const struct audit_handover *h)
{
	printf("audit signing key %llu took over after tree size %llu\n"
	       "old verifier key: %s\nnew verifier key: %s\n"
	       "publish the new verifier key and this hand-over, tell the "
	       "witnesses (docs/AUDIT.md), and give every other node the "
	       "new keys/audit-signing.key:\n%s",
	       (unsigned long long)h->key_id, (unsigned long long)h->tree_size,
	       h->old_vkey, h->new_vkey, h->note);
}

static int rotate_fail(const char *detail)
{
	fprintf(stderr, "kruispunt audit key rotate: %s\n", detail);
	return 1;
}

static int rotate(const char *data)
{
	struct cli_config cfg;
	struct error e;
	struct store *s = NULL;
	struct audit *log = NULL;
	struct audit_handover h;
	struct key_paths p;
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	if (cli_open_data(data, &cfg, NULL, &e) != 0 ||
	    key_paths(&cfg, 0, &p, &e) != 0)
		return rotate_fail(e.detail);
	if (access(p.next, F_OK) == 0)
		return rotate_fail("keys/audit-signing.key.new is left by a "
				   "rotation that did not finish: if `kruispunt "
				   "audit verify` names it, install it as "
				   "keys/audit-signing.key, else remove it");
	ed25519_keypair(pk, sk);
	int rc = cli_write_new(p.next, sk, sizeof(sk), &e);
	if (rc == 0)
		rc = cli_open_store(&cfg, &s, &e);
	if (rc == 0)
		rc = cli_open_log(&cfg, s, &log, &e);
	if (rc == 0)
		rc = audit_key_rotate(log, &cli_operator, sk, &h, &e);
	secret_wipe(sk, sizeof(sk));
	audit_close(log);
	store_close(s);
	if (rc != 0) {
		unlink(p.next);
		return rotate_fail(e.detail);
	}
	if (key_paths(&cfg, h.key_id - 1, &p, &e) != 0 ||
	    install_keys(&p, pk, &e) != 0)
		return rotate_fail(e.detail);
	print_rotation(&h);
	return 0;
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
		return rotate(data);
	}
	bool is_purge = strcmp(verb, "purge") == 0;
	bool is_vkey = strcmp(verb, "vkey") == 0;
	if (!is_purge && !is_vkey && strcmp(verb, "verify") != 0)
		return usage();
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"public-key", required_argument, NULL, 'k'},
		{"apply", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0}};
	const char *data = NULL, *key = NULL;
	bool apply = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "d:k:a", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'k' && !is_purge && !is_vkey)
			key = optarg;
		else if (c == 'a' && is_purge)
			apply = true;
		else
			return usage();
	}
	if (!data)
		return usage();
	if (is_purge)
		return purge(data, apply);
	return is_vkey ? vkey(data) : cli_audit_verify("audit verify", data, key);
}
