/*
 * `kruispunt audit key rotate --data DIR`: a new signing key takes over
 * (audit_key_rotate). The new secret key is written beside the old one
 * first (keys/audit-signing.key.new) and made durable, so that a rotation
 * the database recorded is never left without its key; once recorded, it
 * replaces keys/audit-signing.key and the old public key is kept as
 * keys/audit-signing-<n>.pub.
 *
 * Once the hand-over's commit was tried, the new key is the log's key as
 * soon as the database says so, whatever this command was told: its file
 * is removed only when the chain's newest key, read back, is another. A
 * file left over is finished on the next run when the chain ends at it,
 * and otherwise named with the chain's newest key for the operator to
 * compare. One rotation at a time: the keys directory is locked (flock)
 * for the whole of it.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/audit.h"
#include "cli/cli.h"

/* The key files of a rotation, by their role. */
struct key_paths {
	char dir[LIMIT_PATH], key[LIMIT_PATH], pub[LIMIT_PATH];
	char next[LIMIT_PATH], old_pub[LIMIT_PATH];
};

static int key_paths(const struct cli_config *cfg, uint64_t old_id,
		     struct key_paths *p, struct error *e)
{
	const char *d = cfg->base.data_dir;
	char old[64];
	snprintf(old, sizeof(old), "keys/audit-signing-%llu.pub",
		 (unsigned long long)old_id);
	if (config_path(d, "keys", p->dir, sizeof(p->dir)) ||
	    config_path(d, "keys/audit-signing.key", p->key, sizeof(p->key)) ||
	    config_path(d, "keys/audit-signing.pub", p->pub, sizeof(p->pub)) ||
	    config_path(d, "keys/audit-signing.key.new", p->next,
			sizeof(p->next)) ||
	    config_path(d, old, p->old_pub, sizeof(p->old_pub)))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	return 0;
}

/* The recorded rotation's files: the old public key kept under its
 * number, the new key pair in place (renames: never half a file), all of
 * it durable before the command says it is done. */
static int install_keys(const struct key_paths *p,
			const uint8_t pk[ED25519_PK_LEN], struct error *e)
{
	char tmp[LIMIT_PATH + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->pub);
	unlink(tmp);
	if ((link(p->pub, p->old_pub) != 0 && errno != EEXIST) ||
	    cli_write_excl(tmp, pk, ED25519_PK_LEN, e) != 0 ||
	    rename(p->next, p->key) != 0 || rename(tmp, p->pub) != 0 ||
	    cli_fsync_dir(p->dir) != 0)
		return err_set(e, ERR_INTERNAL, "rotate_failed",
			       "the rotation is recorded, but its key files "
			       "could not be installed (%s): run `kruispunt "
			       "audit key rotate` again to finish it",
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

KP_PRINTF(1, 2)
static int rotate_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kruispunt audit key rotate: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return 1;
}

/* The chain's newest key as the database records it into newest
 * (AUDIT_VKEY_MAX bytes) and its number into *id. Returns 0, or -1 when
 * the database cannot be read. */
static int chain_newest(const struct cli_config *cfg, char *newest,
			uint64_t *id, struct error *e)
{
	struct store *s = NULL;
	if (cli_open_store(cfg, &s, e) != 0)
		return -1;
	struct audit_key_info *keys = xcalloc(AUDIT_KEYS_MAX, sizeof(*keys));
	int n = audit_keys_list(s, keys, AUDIT_KEYS_MAX);
	store_close(s);
	uint8_t pk[ED25519_PK_LEN];
	char origin[AUDIT_ORIGIN_MAX + 1];
	int rc = 0;
	if (n > 0) {
		str_copy(newest, AUDIT_VKEY_MAX, keys[n - 1].vkey);
		*id = keys[n - 1].key_id;
	} else if (n == 0 && cli_read_key(cfg, "keys/audit-signing.pub", pk,
					  sizeof(pk), e) == 0) {
		cli_log_origin(cfg, origin);
		audit_note_vkey(origin, pk, newest);
		*id = 0;
	} else {
		rc = n < 0 ? store_fail(e, "the key chain cannot be read") : -1;
	}
	free(keys);
	return rc;
}

/* A keys/audit-signing.key.new a rotation left: installed when the chain
 * ends at it (the rotation was recorded), else named beside the chain's
 * newest key and kept for the operator to judge. */
static int finish_leftover(const struct cli_config *cfg, struct key_paths *p)
{
	struct error e;
	uint8_t sk[ED25519_SK_LEN], pk[ED25519_PK_LEN];
	char origin[AUDIT_ORIGIN_MAX + 1], mine[AUDIT_VKEY_MAX],
		newest[AUDIT_VKEY_MAX];
	uint64_t id = 0;
	if (cli_read_key_file(p->next, sk, sizeof(sk), &e) != 0)
		return rotate_fail("keys/audit-signing.key.new is left by a "
				   "rotation that did not finish, and cannot "
				   "be read: %s", e.detail);
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	secret_wipe(sk, sizeof(sk));
	cli_log_origin(cfg, origin);
	audit_note_vkey(origin, pk, mine);
	if (chain_newest(cfg, newest, &id, &e) != 0)
		return rotate_fail("keys/audit-signing.key.new (%s) is left by a "
				   "rotation that did not finish, and the "
				   "log's key chain cannot be read to tell "
				   "whether it was recorded (%s): try again",
				   mine, e.detail);
	if (strcmp(mine, newest) != 0)
		return rotate_fail("keys/audit-signing.key.new holds %s, but the "
				   "log's newest signing key is %s (`kruispunt "
				   "audit vkey --data DIR --chain` lists them "
				   "all): that rotation was not recorded; remove "
				   "keys/audit-signing.key.new and rotate again",
				   mine, newest);
	if (id == 0 || key_paths(cfg, id - 1, p, &e) != 0 ||
	    install_keys(p, pk, &e) != 0)
		return rotate_fail("%s", id == 0 ? "the chain has no hand-over"
						 : e.detail);
	printf("audit signing key %llu, recorded by a rotation that did not "
	       "finish, is installed now\nnew verifier key: %s\n",
	       (unsigned long long)id, mine);
	return 0;
}

/* Record the hand-over to (pk, sk), whose file p->next is written. */
static int hand_over(const struct cli_config *cfg, struct key_paths *p,
		     const uint8_t pk[ED25519_PK_LEN], uint8_t *sk)
{
	struct error e;
	struct store *s = NULL;
	struct audit *log = NULL;
	struct audit_handover h;
	memset(&e, 0, sizeof(e));
	int rc = cli_open_store(cfg, &s, &e);
	if (rc == 0)
		rc = cli_open_log(cfg, s, &log, &e);
	if (rc == 0)
		rc = audit_key_rotate(log, &cli_operator, sk, &h, &e);
	secret_wipe(sk, ED25519_SK_LEN);
	audit_close(log);
	store_close(s);
	if (rc < 0) {
		unlink(p->next);
		cli_fsync_dir(p->dir);
		return rotate_fail("nothing was recorded: %s", e.detail);
	}
	if (rc == AUDIT_ROTATE_UNKNOWN)
		return rotate_fail("the hand-over may have been recorded (%s): "
				   "keys/audit-signing.key.new is kept; run "
				   "`kruispunt audit key rotate` again to "
				   "finish the rotation, or to be told it was "
				   "not recorded", e.detail);
	char pending[LIMIT_ERROR_DETAIL];
	str_copy(pending, sizeof(pending), e.detail);
	if (key_paths(cfg, h.key_id - 1, p, &e) != 0 ||
	    install_keys(p, pk, &e) != 0)
		return rotate_fail("%s", e.detail);
	print_rotation(&h);
	if (rc == AUDIT_ROTATE_PENDING)
		fprintf(stderr, "kruispunt audit key rotate: the hand-over is "
			"recorded and the new key installed, but its first "
			"checkpoint is pending (%s): the daemon signs it\n",
			pending);
	return 0;
}

static int rotate_locked(const struct cli_config *cfg, struct key_paths *p)
{
	struct error e;
	if (access(p->next, F_OK) == 0)
		return finish_leftover(cfg, p);
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	ed25519_keypair(pk, sk);
	/* Made durable before the database may name it. */
	if (cli_write_excl(p->next, sk, sizeof(sk), &e) != 0) {
		secret_wipe(sk, sizeof(sk));
		return rotate_fail("%s", e.detail);
	}
	if (cli_fsync_dir(p->dir) != 0) {
		secret_wipe(sk, sizeof(sk));
		unlink(p->next);
		return rotate_fail("cannot make keys/audit-signing.key.new "
				   "durable: %s", strerror(errno));
	}
	return hand_over(cfg, p, pk, sk);
}

int cli_audit_rotate(const char *data)
{
	struct cli_config cfg;
	struct error e;
	struct key_paths p;
	if (cli_open_data(data, &cfg, NULL, &e) != 0 ||
	    key_paths(&cfg, 0, &p, &e) != 0)
		return rotate_fail("%s", e.detail);
	int fd = open(p.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rotate_fail("cannot open %s: %s", p.dir, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return rotate_fail("another rotation of this data directory's "
				   "key is under way (%s is locked)", p.dir);
	}
	int rc = rotate_locked(&cfg, &p);
	close(fd); /* and with it the lock */
	return rc;
}
