/*
 * An officer looks up the person in front of them (seed 003: "enkel
 * personen ... opzoeken met het oog op het verzenden van de activatielink
 * en -code"): by number, or by names and birth date; never more than a
 * handful of persons, each one returned recorded about them.
 */
#include <stdlib.h>
#include <string.h>

#include "lra/lra_internal.h"

#define PURPOSE_MAX 200

/* Why q cannot be asked: NULL, or bad filled. */
static const struct error *query_refusal(const struct lra_query *q,
					 char insz[INSZ_BUF],
					 struct error *bad)
{
	if (!q->purpose || !q->purpose[0] ||
	    !text_plain(q->purpose, PURPOSE_MAX))
		return (err_set(bad, ERR_INVALID, "invalid_field",
				"purpose: why you look this person up "
				"(plain text, at most %d bytes)", PURPOSE_MAX),
			bad);
	insz[0] = '\0';
	if (q->insz && q->insz[0]) {
		struct insz z;
		if (insz_parse(q->insz, strlen(q->insz), &z) != ID_OK)
			return (err_set(bad, ERR_INVALID, "invalid_insz",
					"insz: not a valid national register "
					"or BIS number"), bad);
		str_copy(insz, INSZ_BUF, z.digits);
		return NULL;
	}
	const char *fields[] = {q->last_name, q->first_name, q->birth_date};
	for (size_t i = 0; i < KP_NELEM(fields); i++)
		if (!fields[i] || !fields[i][0] ||
		    !text_plain(fields[i], REGISTRY_NAME_MAX))
			return (err_set(bad, ERR_INVALID, "invalid_field",
					"search by insz, or by last_name, "
					"first_name and birth_date together"),
				bad);
	return NULL;
}

/* The persons q names: registry_find's, or the one with the number. */
static int find(struct store *s, const struct lra_query *q, const char *insz,
		struct registry_person **out, int *n, struct error *e)
{
	if (!insz[0])
		return registry_find(s, q->last_name, q->first_name,
				     q->birth_date, out, n, LRA_SEARCH_MAX + 1,
				     e);
	*out = xcalloc(1, sizeof(**out));
	int rc = registry_get(s, insz, *out, e);
	*n = rc == 0;
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc < 0 ? -1 : 0;
}

int lra_search(struct audit *log, const struct lra_officer *o,
	       const struct lra_query *q, struct registry_person **out,
	       int *n, struct error *e)
{
	struct store *s = audit_store(log);
	char insz[INSZ_BUF];
	struct error bad;
	*out = NULL;
	*n = 0;
	const struct error *refusal = query_refusal(q, insz, &bad);
	if (!refusal && lra_officer_check(s, o, true, &bad) != 0)
		refusal = &bad;
	if (refusal) {
		*e = *refusal;
		return lra_refused(log, o, "lra_search", q->purpose, refusal);
	}
	if (find(s, q, insz, out, n, e) != 0)
		return -1;
	if (*n > LRA_SEARCH_MAX) {
		free(*out);
		*out = NULL;
		*n = 0;
		err_set(e, ERR_INVALID, "too_many_matches",
			"more than %d persons match: add the birth date's "
			"exact day or the full first names", LRA_SEARCH_MAX);
		return lra_refused(log, o, "lra_search", q->purpose, e);
	}
	/* One event per person seen: each finds in their own log which
	 * office looked them up, when and why. */
	struct audit_event evs[LRA_SEARCH_MAX];
	for (int i = 0; i < *n; i++)
		evs[i] = lra_event(o, "lra_search", (*out)[i].insz,
				   q->purpose);
	if (*n == 0)
		evs[0] = lra_event(o, "lra_search", NULL, q->purpose);
	/* A search changes nothing: its events are all there is to commit,
	 * in one group. */
	int rc = audit_commit(log, evs, *n ? (size_t)*n : 1, audit_no_change,
			      NULL, e);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
