/*
 * The canonical serialisation of an audit event: the bytes the leaf hash is
 * computed over, stored as they are, and decoded by queries and by
 * `kruispunt audit verify` with this same code.
 *
 *   kruispunt-audit-v1\n
 *   <name>:<length>:<value>\n       for each field, in this fixed order
 *
 * <length> is the value's byte count in decimal without leading zeros. A
 * value is UTF-8 without control characters. The nonce (16 random bytes in
 * hex) makes leaf hashes unguessable: without it, anyone holding an
 * inclusion proof could test guesses ("was X consulted by Y at T?") by
 * hashing candidate entries. docs/AUDIT.md has an example.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

static const char magic[] = "kruispunt-audit-v1\n";

enum field {
	F_SEQ, F_AT, F_CHANNEL, F_ACTOR, F_USER, F_PROFILE, F_SUBJECT, F_ACTION,
	F_DATA_TYPE, F_PURPOSE, F_LEGAL_BASIS, F_TICKET, F_OUTCOME, F_REASON,
	F_TIMES, F_NONCE, F_NFIELDS
};

/* "count" is the one optional line: present only for an event that
 * stands for several (count >= 2), so that every entry written before it
 * existed is still canonical, and still verifies. */
static const char *field_names[F_NFIELDS] = {
	"seq", "at", "channel", "actor", "user", "profile", "subject",
	"action", "data_type", "purpose", "legal_basis", "ticket", "outcome",
	"reason", "count", "nonce"};

static bool text_ok(const char *s)
{
	return !s || text_plain(s, AUDIT_FIELD_MAX);
}

static bool empty(const char *s)
{
	return !s || !s[0];
}

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* Copy s into out (AUDIT_FIELD_MAX + 1 bytes) as plain text: a control
 * byte, a backslash and every byte of an invalid UTF-8 sequence become
 * "\\xHH", and the result is cut on a character boundary. A hostile
 * value (a purpose with a CR in it, a name in Latin-1) is thus recorded as
 * what it was, never the reason the event is dropped. */
static const char *escape_text(const char *s, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), len = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(u + i, n - i);
		bool plain = k > 1 || (k == 1 && u[i] >= 0x20 && u[i] != 0x7f &&
				       u[i] != '\\');
		size_t need = plain ? k : 4;
		if (len + need > AUDIT_FIELD_MAX)
			break;
		if (plain) {
			memcpy(out + len, u + i, k);
		} else {
			const char esc[4] = {'\\', 'x', hex[u[i] >> 4],
					     hex[u[i] & 15]};
			memcpy(out + len, esc, 4);
		}
		len += need;
		i += plain ? k : 1;
	}
	out[len] = '\0';
	return out;
}

void entry_escape(const struct audit_event *in, struct audit_event *out,
		  struct audit_escaped *buf)
{
	*out = *in;
	const char **texts[] = {&out->profile, &out->action, &out->data_type,
				&out->purpose, &out->legal_basis, &out->ticket,
				&out->reason};
	for (size_t i = 0; i < KP_NELEM(texts); i++)
		if (*texts[i] && !text_ok(*texts[i]))
			*texts[i] = escape_text(*texts[i], buf->text[i]);
}

struct audit_event audit_event_by(const struct audit_actor *who,
				  const char *action)
{
	return (struct audit_event){
		.channel = who->channel,
		.actor = who->actor,
		.user = who->user,
		.profile = who->profile,
		.action = action,
		.outcome = AUDIT_GRANTED,
	};
}

const char *audit_subject(const char *insz)
{
	return insz && strlen(insz) == 11 && insz_valid(insz) ? insz : NULL;
}

int entry_validate(const struct audit_event *ev, struct error *e)
{
	static const char *const channels[] = {
		AUDIT_CHANNEL_API, AUDIT_CHANNEL_PORTAL, AUDIT_CHANNEL_BATCH,
		AUDIT_CHANNEL_NETWORK, AUDIT_CHANNEL_CLI, NULL};
	static const char *const outcomes[] = {AUDIT_GRANTED, AUDIT_REFUSED,
					       NULL};
	const char *texts[] = {ev->channel, ev->actor, ev->user, ev->profile,
			       ev->subject, ev->action, ev->data_type,
			       ev->purpose, ev->legal_basis, ev->ticket,
			       ev->outcome, ev->reason};
	for (size_t i = 0; i < KP_NELEM(texts); i++)
		if (!text_ok(texts[i]))
			return err_set(e, ERR_INVALID, "invalid_audit_event",
				       "a field is too long or not plain text");
	if (empty(ev->channel) || !one_of(ev->channel, channels))
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "unknown channel");
	if (empty(ev->outcome) || !one_of(ev->outcome, outcomes))
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "outcome must be granted or refused");
	if (empty(ev->action))
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "an event needs an action");
	if (ev->count > AUDIT_COUNT_MAX)
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "count is at most %d", AUDIT_COUNT_MAX);
	if (strcmp(ev->outcome, AUDIT_REFUSED) == 0 && empty(ev->reason))
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "a refusal needs its reason code");
	if ((!empty(ev->subject) && !insz_valid(ev->subject)) ||
	    (!empty(ev->user) && !insz_valid(ev->user)))
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "subject and user must be valid INSZ");
	if (!empty(ev->actor) && !kbo_valid(ev->actor))
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "actor must be a valid enterprise number");
	/* Identifiers are stored normalised so that queries find them. */
	if ((!empty(ev->subject) && strlen(ev->subject) != 11) ||
	    (!empty(ev->user) && strlen(ev->user) != 11) ||
	    (!empty(ev->actor) && strlen(ev->actor) != 10))
		return err_set(e, ERR_INVALID, "invalid_audit_event",
			       "identifiers must be given as digits only");
	return 0;
}

/* Decimal digits of v into out; returns their count. */
static size_t put_uint(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[len++] = tmp[--n];
	return len;
}

/* "<name>:<len>:<value>\n". Fields are validated to at most
 * AUDIT_FIELD_MAX bytes, so an entry always fits AUDIT_ENTRY_MAX. */
static size_t put_field(char *out, size_t at, enum field f, const char *v,
			size_t n)
{
	size_t name_len = strlen(field_names[f]);
	memcpy(out + at, field_names[f], name_len);
	at += name_len;
	out[at++] = ':';
	at += put_uint(out + at, n);
	out[at++] = ':';
	memcpy(out + at, v, n);
	at += n;
	out[at++] = '\n';
	return at;
}

static size_t put_text(char *out, size_t at, enum field f, const char *v)
{
	return put_field(out, at, f, v ? v : "", v ? strlen(v) : 0);
}

/* "2026-11-22T20:00:00.123Z" */
static void format_at(int64_t at_ms, char out[32])
{
	char secs[RFC3339_LEN];
	time_format_rfc3339(at_ms / 1000, secs);
	snprintf(out, 32, "%.19s.%03dZ", secs, (int)(at_ms % 1000));
}

size_t entry_encode(const struct audit_event *ev, uint64_t seq, int64_t at_ms,
		    const uint8_t nonce[AUDIT_NONCE_LEN], char *out)
{
	char num[24], at[32], hex[2 * AUDIT_NONCE_LEN + 1];
	size_t n = sizeof(magic) - 1;
	memcpy(out, magic, n);
	num[put_uint(num, seq)] = '\0';
	n = put_text(out, n, F_SEQ, num);
	format_at(at_ms, at);
	n = put_text(out, n, F_AT, at);
	const char *texts[] = {ev->channel, ev->actor, ev->user, ev->profile,
			       ev->subject, ev->action, ev->data_type,
			       ev->purpose, ev->legal_basis, ev->ticket,
			       ev->outcome, ev->reason};
	for (size_t i = 0; i < KP_NELEM(texts); i++)
		n = put_text(out, n, (enum field)(F_CHANNEL + i), texts[i]);
	if (ev->count > 1) {
		num[put_uint(num, ev->count)] = '\0';
		n = put_text(out, n, F_TIMES, num);
	}
	hex_encode(nonce, AUDIT_NONCE_LEN, hex);
	return put_text(out, n, F_NONCE, hex);
}

/* Read "<name>:<len>:<value>\n" at *p; copies the value into dst (size
 * cap, NUL-terminated). Returns 0, or -1. */
static int get_field(const char **p, const char *end, enum field f, char *dst,
		     size_t cap)
{
	size_t name_len = strlen(field_names[f]);
	const char *s = *p;
	if ((size_t)(end - s) < name_len + 3 ||
	    memcmp(s, field_names[f], name_len) != 0 || s[name_len] != ':')
		return -1;
	s += name_len + 1;
	size_t len = 0, digits = 0;
	while (s < end && *s >= '0' && *s <= '9' && digits < 5) {
		len = len * 10 + (size_t)(*s++ - '0');
		digits++;
	}
	/* Canonical: no leading zeros, and the value must fit. */
	if (digits == 0 || (digits > 1 && (*p)[name_len + 1] == '0') ||
	    s >= end || *s != ':' || len >= cap || (size_t)(end - s) < len + 2)
		return -1;
	s++;
	if (memchr(s, '\0', len) || s[len] != '\n')
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	*p = s + len + 1;
	return 0;
}

/* The optional count: absent is 1; present, canonical digits from 2 to
 * AUDIT_COUNT_MAX (an entry that could be written two ways is not
 * canonical). Returns 0, or -1. */
static int decode_count(const char *s, bool present, uint32_t *count)
{
	*count = 1;
	if (!present)
		return 0;
	char *tail;
	unsigned long long v = strtoull(s, &tail, 10);
	char again[24];
	again[put_uint(again, v)] = '\0';
	if (*tail || strcmp(again, s) != 0 || v < 2 || v > AUDIT_COUNT_MAX)
		return -1;
	*count = (uint32_t)v;
	return 0;
}

int entry_decode(const void *entry, size_t n, struct audit_record *r)
{
	const char *p = entry, *end = p + n;
	char num[24], times[24] = "", nonce[2 * AUDIT_NONCE_LEN + 1];
	if (n < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1) != 0)
		return -1;
	p += sizeof(magic) - 1;
	struct {
		char *dst;
		size_t cap;
	} slots[F_NFIELDS] = {
		{num, sizeof(num)},
		{r->at, sizeof(r->at)},
		{r->channel, sizeof(r->channel)},
		{r->actor, sizeof(r->actor)},
		{r->user, sizeof(r->user)},
		{r->profile, sizeof(r->profile)},
		{r->subject, sizeof(r->subject)},
		{r->action, sizeof(r->action)},
		{r->data_type, sizeof(r->data_type)},
		{r->purpose, sizeof(r->purpose)},
		{r->legal_basis, sizeof(r->legal_basis)},
		{r->ticket, sizeof(r->ticket)},
		{r->outcome, sizeof(r->outcome)},
		{r->reason, sizeof(r->reason)},
		{times, sizeof(times)},
		{nonce, sizeof(nonce)},
	};
	bool counted = false;
	for (int f = 0; f < F_NFIELDS; f++) {
		if (f == F_TIMES) {
			counted = (size_t)(end - p) > 6 &&
				  memcmp(p, "count:", 6) == 0;
			if (!counted)
				continue;
		}
		if (get_field(&p, end, (enum field)f, slots[f].dst,
			      slots[f].cap) != 0)
			return -1;
	}
	if (p != end || decode_count(times, counted, &r->count) != 0)
		return -1;
	/* Canonical means the encoder would write exactly these bytes: no
	 * leading zeros, no leap second, lower-case hex. */
	char *tail;
	r->seq = strtoull(num, &tail, 10);
	char again[32];
	again[put_uint(again, r->seq)] = '\0';
	if (*tail || strcmp(again, num) != 0 || strlen(nonce) != 32)
		return -1;
	for (const char *c = nonce; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return -1;
	int64_t secs;
	char whole[RFC3339_LEN];
	if (strlen(r->at) != 24 || r->at[19] != '.' || r->at[23] != 'Z')
		return -1;
	for (int i = 20; i < 23; i++)
		if (r->at[i] < '0' || r->at[i] > '9')
			return -1;
	snprintf(whole, sizeof(whole), "%.19sZ", r->at);
	if (time_parse_rfc3339(whole, &secs) != 0)
		return -1;
	r->at_ms = secs * 1000 + (r->at[20] - '0') * 100 +
		   (r->at[21] - '0') * 10 + (r->at[22] - '0');
	format_at(r->at_ms, again);
	if (strcmp(again, r->at) != 0)
		return -1;
	return 0;
}

/* "" back to NULL: an absent field is absent again. */
static const char *field(const char *s)
{
	return s[0] ? s : NULL;
}

void audit_record_event(const struct audit_record *r, struct audit_event *ev)
{
	*ev = (struct audit_event){
		.channel = r->channel,
		.actor = field(r->actor),
		.user = field(r->user),
		.profile = field(r->profile),
		.subject = field(r->subject),
		.action = r->action,
		.data_type = field(r->data_type),
		.purpose = field(r->purpose),
		.legal_basis = field(r->legal_basis),
		.ticket = field(r->ticket),
		.outcome = r->outcome,
		.reason = field(r->reason),
		.count = r->count,
	};
}
