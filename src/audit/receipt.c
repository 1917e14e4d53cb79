/*
 * A proof a person keeps (c2sp.org/tlog-proof@v1): that an event about
 * them is in the log everyone sees. It holds the event's canonical entry
 * (as the proof's `extra`: the bytes whose hash is the leaf), its index,
 * the inclusion path and the signed checkpoint the path leads to, so that
 * later, offline, with any tlog implementation, the person can check the
 * checkpoint's signature with the log's published key, hash the entry and
 * walk the path to the signed root. Only the person the event is about
 * gets it: the entry names them, and the organisation and person who
 * acted, as recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit_internal.h"

static const char sql_entry[] =
	"SELECT entry, leaf FROM audit_event WHERE seq = ?1";

struct raw {
	uint8_t *entry;
	size_t n;
	uint8_t leaf[SHA256_LEN];
};

static void read_raw(struct store_stmt *st, void *out)
{
	struct raw *r = out;
	size_t ln;
	const void *e = store_col_blob(st, 0, &r->n);
	const void *leaf = store_col_blob(st, 1, &ln);
	r->entry = r->n ? xmalloc(r->n) : NULL;
	if (r->n)
		memcpy(r->entry, e, r->n);
	if (ln == SHA256_LEN)
		memcpy(r->leaf, leaf, SHA256_LEN);
}

int audit_entry_of(struct store *s, uint64_t seq, const char *subject,
		   struct audit_entry *out, struct error *e)
{
	struct raw r = {0};
	struct store_stmt *st = store_prepare(store_reader(s), sql_entry);
	store_bind_int(st, 1, (int64_t)seq);
	int rc = store_one(st, read_raw, &r, e);
	if (rc < 0)
		return -1;
	struct audit_record rec;
	/* A purged entry, or one about someone else, is no one's to see. */
	if (rc > 0 || !r.entry || entry_decode(r.entry, r.n, &rec) != 0 ||
	    (subject && strcmp(rec.subject, subject) != 0)) {
		free(r.entry);
		return err_set(e, ERR_NOT_FOUND, "unknown_event",
			       "no event of yours has this number");
	}
	out->seq = seq;
	out->entry = r.entry;
	out->n = r.n;
	memcpy(out->leaf, r.leaf, SHA256_LEN);
	return 0;
}

/* base64 of n bytes, appended to buf at *len (room checked by the
 * caller's sizing). */
static void put_b64(char *buf, size_t *len, const uint8_t *p, size_t n)
{
	sodium_bin2base64(buf + *len, sodium_base64_ENCODED_LEN(
					      n, sodium_base64_VARIANT_ORIGINAL),
			  p, n, sodium_base64_VARIANT_ORIGINAL);
	*len += strlen(buf + *len);
}

int audit_receipt(struct audit *a, const char *subject, uint64_t seq,
		  char **out, size_t *n, struct error *e)
{
	struct audit_entry en;
	if (audit_entry_of(audit_store(a), seq, subject, &en, e) != 0)
		return -1;
	char note[AUDIT_NOTE_MAX];
	uint64_t size = 0;
	size_t nlen = audit_checkpoint_note(a, note, &size);
	struct audit_proof p;
	uint8_t leaf[SHA256_LEN];
	int rc = -1;
	if (nlen == 0)
		store_fail(e, "the log's checkpoint cannot be read now");
	else if (seq >= size)
		err_set(e, ERR_CONFLICT, "not_yet_signed",
			"the event is younger than the newest checkpoint "
			"(one is signed every second): ask again");
	else
		rc = audit_proof_inclusion(audit_store(a), audit_size(a), seq,
					   size, leaf, &p, e);
	if (rc == 0 && memcmp(leaf, en.leaf, SHA256_LEN) != 0)
		rc = store_fail(e, "the log's tree does not match the entry");
	if (rc != 0) {
		free(en.entry);
		return -1;
	}
	size_t cap = 64 + sodium_base64_ENCODED_LEN(en.n, 1) +
		     (size_t)p.n * 48 + nlen + 1;
	char *buf = xmalloc(cap);
	size_t len = (size_t)snprintf(buf, cap,
				      "c2sp.org/tlog-proof@v1\nextra ");
	put_b64(buf, &len, en.entry, en.n);
	len += (size_t)snprintf(buf + len, cap - len, "\nindex %llu\n",
				(unsigned long long)seq);
	for (int i = 0; i < p.n; i++) {
		put_b64(buf, &len, p.hash[i], SHA256_LEN);
		buf[len++] = '\n';
	}
	buf[len++] = '\n';
	memcpy(buf + len, note, nlen);
	len += nlen;
	buf[len] = '\0';
	free(en.entry);
	*out = buf;
	*n = len;
	return 0;
}
