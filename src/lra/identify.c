/*
 * The identification procedure, documented for every person who presents
 * themselves (seed 003, "Identificatie van de personen"), and the
 * activation code that only a successful one leads to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lra/lra_internal.h"
#include "notify/notify.h"
#include "org/org.h"

static const char sql_add[] =
	"INSERT INTO lra_identification (insz, office, officer, purpose, "
	"document_type, document_number, document_valid_until, "
	"issuing_country, photo_compared, document_genuine, "
	"document_not_expired, person_present, outcome, created_at) VALUES "
	"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
	"RETURNING id";
static const char sql_get[] =
	"SELECT insz, office, outcome, created_at, document_valid_until "
	"FROM lra_identification WHERE id = ?1";

static const char *const documents[] = {
	[LRA_DOC_BE_EID] = "be_eid",
	[LRA_DOC_FOREIGN_ID] = "foreign_id",
	[LRA_DOC_PASSPORT] = "passport",
	[LRA_DOC_RESIDENCE_PERMIT] = "residence_permit",
};

enum lra_document lra_document_parse(const char *s)
{
	for (size_t i = 1; s && i < KP_NELEM(documents); i++)
		if (strcmp(s, documents[i]) == 0)
			return (enum lra_document)i;
	return 0;
}

const char *lra_document_name(enum lra_document d)
{
	return d > 0 && (size_t)d < KP_NELEM(documents) ? documents[d] : "";
}

static bool country_ok(const char *c)
{
	return c && strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' &&
	       c[1] >= 'A' && c[1] <= 'Z';
}

/* Why in cannot be recorded: NULL, or bad filled (naming the field). */
static const struct error *identification_refusal(
	const struct lra_identification *in, struct error *bad)
{
	const char *field = NULL;
	struct date until;
	if (!in->purpose || !in->purpose[0] || !text_plain(in->purpose, 200))
		field = "purpose";
	else if (!lra_document_parse(lra_document_name(in->document)))
		field = "document_type (be_eid, foreign_id, passport, "
			"residence_permit)";
	else if (!in->document_number || !in->document_number[0] ||
		 !text_plain(in->document_number, 40))
		field = "document_number";
	else if (!in->document_valid_until ||
		 date_parse(in->document_valid_until, &until) != 0)
		field = "document_valid_until (YYYY-MM-DD)";
	else if (!country_ok(in->issuing_country))
		field = "issuing_country (ISO 3166 alpha-2, upper case)";
	if (!field)
		return NULL;
	return (err_set(bad, ERR_INVALID, "invalid_field", "%s", field), bad);
}

/* Identified only when every check holds and the document is valid
 * today: a check ticked against a document past its date is no check. */
static bool identified(const struct lra_identification *in)
{
	struct date until;
	return in->photo_compared && in->document_genuine &&
	       in->document_not_expired && in->person_present &&
	       date_parse(in->document_valid_until, &until) == 0 &&
	       date_cmp(until, date_today()) >= 0;
}

struct identification {
	const struct lra_identification *in;
	const struct lra_officer *o;
	const char *insz;
	bool identified;
	int64_t id;
};

static int identify_change(struct store_conn *w, void *ctx,
			   struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct identification *c = ctx;
	const struct lra_identification *in = c->in;
	struct store_stmt *st = store_prepare(w, sql_add);
	const char *texts[] = {c->insz, c->o->office, c->o->insz, in->purpose,
			       lra_document_name(in->document),
			       in->document_number, in->document_valid_until,
			       in->issuing_country};
	for (size_t i = 0; i < KP_NELEM(texts); i++)
		store_bind_text(st, (int)i + 1, texts[i]);
	const bool checks[] = {in->photo_compared, in->document_genuine,
			       in->document_not_expired, in->person_present};
	for (size_t i = 0; i < KP_NELEM(checks); i++)
		store_bind_int(st, 9 + (int)i, checks[i]);
	store_bind_text(st, 13, c->identified ? "identified" : "failed");
	store_bind_int(st, 14, time_now());
	if (store_insert(st, &c->id, NULL, e) != 0)
		return -1;
	/* The outcome is part of the record: a failed identification is
	 * kept, and its event says so. */
	if (!c->identified)
		evs[0].action = "lra_identification_failed";
	return 0;
}

int lra_identify(struct audit *log, const struct lra_officer *o,
		 const struct lra_identification *in, int64_t *id,
		 bool *is_identified, struct error *e)
{
	struct store *s = audit_store(log);
	struct error bad;
	struct insz z;
	const struct error *refusal = identification_refusal(in, &bad);
	if (!refusal && (!in->insz || insz_parse(in->insz, strlen(in->insz),
						 &z) != ID_OK))
		refusal = (err_set(&bad, ERR_INVALID, "invalid_insz",
				   "insz: not a valid national register or "
				   "BIS number"), &bad);
	if (!refusal && lra_officer_check(s, o, true, &bad) != 0)
		refusal = &bad;
	struct registry_person p;
	int known = refusal ? 0 : registry_get(s, z.digits, &p, e);
	if (known < 0)
		return -1;
	if (!refusal && known > 0)
		refusal = (err_set(&bad, ERR_NOT_FOUND, "unknown_person",
				   "no such person in the National Register "
				   "or the BIS register"), &bad);
	/* Nobody identifies themselves, and a deceased person's document
	 * in someone else's hands opens nothing. */
	if (!refusal && strcmp(z.digits, o->insz) == 0)
		refusal = (err_set(&bad, ERR_FORBIDDEN, "own_identification",
				   "another officer identifies you"), &bad);
	if (!refusal && p.deceased_on[0])
		refusal = (err_set(&bad, ERR_CONFLICT, "person_deceased",
				   "the register records this person as "
				   "deceased"), &bad);
	struct audit_event ev = lra_event(o, "lra_identification",
					  refusal ? NULL : z.digits,
					  in->purpose);
	struct identification c = {in, o, z.digits, identified(in), 0};
	int rc = audit_change(log, &ev, identify_change, &c, refusal, e);
	*id = c.id;
	*is_identified = rc == 0 && c.identified;
	return rc;
}

/* ------------------------------------------------------------ activation */

struct identification_row {
	char insz[INSZ_BUF], office[11], outcome[16];
	char valid_until[DATE_LEN];
	int64_t created_at;
};

static void read_row(struct store_stmt *st, void *out)
{
	struct identification_row *r = out;
	str_copy(r->insz, sizeof(r->insz), store_col_text(st, 0));
	str_copy(r->office, sizeof(r->office), store_col_text(st, 1));
	str_copy(r->outcome, sizeof(r->outcome), store_col_text(st, 2));
	r->created_at = store_col_int(st, 3);
	str_copy(r->valid_until, sizeof(r->valid_until), store_col_text(st, 4));
}

/* Why identification id gives o no code: NULL, or bad filled. r is the
 * record when there is one (r->insz "" otherwise). */
static const struct error *activation_refusal(struct store *s,
					      const struct lra_officer *o,
					      int64_t id,
					      struct identification_row *r,
					      struct error *bad)
{
	memset(r, 0, sizeof(*r));
	if (lra_officer_check(s, o, true, bad) != 0)
		return bad;
	struct store_stmt *st = store_prepare(store_reader(s), sql_get);
	store_bind_int(st, 1, id);
	int rc = store_one(st, read_row, r, bad);
	if (rc < 0)
		return bad;
	/* Another office's record is none of this one's business. */
	if (rc > 0 || strcmp(r->office, o->office) != 0) {
		memset(r, 0, sizeof(*r));
		return (err_set(bad, ERR_NOT_FOUND, "unknown_identification",
				"no identification %lld at this office",
				(long long)id), bad);
	}
	if (strcmp(r->outcome, "identified") != 0)
		return (err_set(bad, ERR_CONFLICT, "not_identified",
				"this identification failed: only a validly "
				"identified person gets an activation code"),
			bad);
	struct date until;
	/* Identified in the evening, its document ending that day: by
	 * morning the document no longer identifies anyone. */
	if (time_now() - r->created_at >= LRA_IDENTIFICATION_VALID_S ||
	    date_parse(r->valid_until, &until) != 0 ||
	    date_cmp(until, date_today()) < 0)
		return (err_set(bad, ERR_CONFLICT, "identification_stale",
				"identify the person again: a code follows "
				"the identification at the desk"), bad);
	return NULL;
}

int lra_activation(struct audit *log, struct auth *auth,
		   const struct lra_officer *o, int64_t id, const char *email,
		   const char *phone, const char *language,
		   struct auth_activation_issued *out, char **letter,
		   struct error *e)
{
	struct identification_row r;
	struct error bad;
	memset(out, 0, sizeof(*out));
	const struct error *refusal =
		activation_refusal(audit_store(log), o, id, &r, &bad);
	if (refusal) {
		*e = *refusal;
		struct audit_event ev = lra_event(o, "activation_issue",
						  r.insz[0] ? r.insz : NULL,
						  "activation");
		return audit_refused(log, &ev, refusal);
	}
	struct audit_actor by = {o->channel, o->office, o->insz, o->profile};
	struct auth_activation_request req = {
		.insz = r.insz, .email = email, .phone = phone,
		.language = language, .identification_id = id,
		.office = o->office};
	if (auth_activation_issue(auth, &by, &req, out, e) != 0)
		return -1;
	/* The activation stands whatever happens to the letter: the code
	 * is in the answer too, and the officer can copy it by hand. */
	struct error le;
	if (letter && lra_letter(audit_store(log), auth, o, r.insz, language,
				 out, letter, &le) != 0) {
		log_warn("lra: the letter could not be made: %s", le.detail);
		*letter = NULL;
	}
	return 0;
}

/* The host part of a URL ("https://h:8443/x" -> "h:8443"). */
static void url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t len = strcspn(p, "/?#");
	str_copy(out, len + 1 < n ? len + 1 : n, p);
}

int lra_letter(struct store *s, struct auth *auth, const struct lra_officer *o,
	       const char *insz, const char *language,
	       const struct auth_activation_issued *issued, char **html,
	       struct error *e)
{
	struct registry_person p;
	char office[256], host[256], until[RFC3339_LEN], name[256], minutes[16];
	if (registry_get(s, insz, &p, e) != 0 ||
	    org_name(s, o->office, office, sizeof(office), e) != 0)
		return e->kind ? -1 : err_set(e, ERR_INTERNAL, "lra_failed",
					      "the letter's person or office "
					      "is gone");
	snprintf(name, sizeof(name), "%s %s", p.first_names, p.last_name);
	url_host(auth_public_url(auth), host, sizeof(host));
	/* As a person reads a date on paper (day/month/year, the Belgian
	 * order), with the time and its zone: the code ends to the minute. */
	time_t end = (time_t)issued->expires_at;
	struct tm tm;
	gmtime_r(&end, &tm);
	strftime(until, sizeof(until), "%d/%m/%Y %H:%M UTC", &tm);
	/* The registration code's life as configured, in whole minutes. */
	snprintf(minutes, sizeof(minutes), "%d",
		 (auth_registration_code_ttl(auth) + 59) / 60);
	const char *const vars[][2] = {{"name", name},
				       {"minutes", minutes},
				       {"code", issued->code},
				       {"expires_at", until},
				       {"office", office},
				       {"link_host", host}};
	return notify_letter(language, vars, KP_NELEM(vars), html, e);
}

/* ------------------------------------------------------- the officer's log */

int lra_actions(struct audit *log, const struct lra_officer *o, int limit,
		struct audit_record **out, int *n, struct error *e)
{
	*out = NULL;
	*n = 0;
	if (lra_officer_check(audit_store(log), o, false, e) != 0)
		return lra_refused(log, o, "lra_actions", NULL, e);
	/* Recent: the last thirty days, which also bounds the scan. */
	struct audit_filter f = {.actor = o->office, .user = o->insz,
				 .from_ms = time_now_ms() -
					    30LL * 86400 * 1000,
				 .limit = AUDIT_QUERY_MAX};
	struct audit_record *all = NULL;
	bool more = true;
	uint64_t next = 0;
	int got = 0;
	/* Oldest first by the log's order: page to the end, keep the
	 * newest limit. */
	while (more) {
		struct audit_record *page;
		int k;
		if (audit_query(log, &f, &page, &k, &more, &next, e) != 0) {
			free(all);
			return -1;
		}
		all = xrealloc(all, (size_t)(got + k) * sizeof(*all) + 1);
		memcpy(all + got, page, (size_t)k * sizeof(*page));
		got += k;
		free(page);
		f.after = next;
		f.has_after = true;
		if (got > 4 * AUDIT_QUERY_MAX) {
			memmove(all, all + got - limit,
				(size_t)limit * sizeof(*all));
			got = limit;
		}
	}
	int keep = got < limit ? got : limit;
	*out = xcalloc((size_t)keep + 1, sizeof(**out));
	for (int i = 0; i < keep; i++)
		(*out)[i] = all[got - 1 - i];
	*n = keep;
	free(all);
	return 0;
}
