/*
 * A consultation under a mandate (deliberation 25/016): a person acting for
 * the holder organisation, with a substantial key, the mandate_consult
 * role there, and the organisation in the circle of trust, asks one data
 * set about a mandator. Only an active mandate of that data set, from that
 * person to that organisation, opens it, and only that data set answers:
 * the hours of student work left this year, or whether a flexi-job is
 * possible; nothing else about the person. Every consultation, granted or
 * refused, is an event with its ticket (the circle of trust's criterion 4:
 * who, for which organisation, when, how, which data, about whom).
 * The organisation's own system asks the same on the network with its
 * certificate, naming the person it asks for: the event records both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "employ/employ.h"
#include "mandate/mandate.h"
#include "org/org.h"

/* The newest mandate of mandator to holder for data_set. */
static const char sql_newest[] =
	"SELECT valid_from, valid_until, revoked_at IS NOT NULL FROM mandate "
	"WHERE mandator = ?1 AND holder = ?2 AND data_set = ?3 "
	"ORDER BY id DESC LIMIT 1";

struct newest {
	char from[DATE_LEN], until[DATE_LEN];
	bool revoked;
};

static void read_newest(struct store_stmt *st, void *out)
{
	struct newest *m = out;
	str_copy(m->from, sizeof(m->from), store_col_text(st, 0));
	str_copy(m->until, sizeof(m->until), store_col_text(st, 1));
	m->revoked = store_col_int(st, 2) != 0;
}

/* Why by may not consult as the holder kbo: NULL, or bad filled. On the
 * network the organisation's certificate stands for the key: it vouches
 * for the person it names (criterion 4 makes it answer for that), whose
 * role is still checked here. */
static const struct error *holder_refusal(struct store *s,
					  const struct audit_actor *by,
					  int level, const char *kbo,
					  struct error *bad)
{
	bool network = strcmp(by->channel, AUDIT_CHANNEL_NETWORK) == 0;
	if (network && !by->user)
		err_set(bad, ERR_INVALID, "on_behalf_of_required",
			"name the person of your organisation who asks "
			"(on_behalf_of)");
	else if (!network && level < MANDATE_LEVEL)
		err_set(bad, ERR_FORBIDDEN, "insufficient_level",
			"this needs a digital key of level %d", MANDATE_LEVEL);
	else if (!kbo || !by->user ||
		 !org_role_valid(s, by->user, kbo, "mandate_consult",
				 date_to_days(date_today())))
		err_set(bad, ERR_FORBIDDEN, "role_required", "%s",
			network ? "the person you name holds no mandate_consult "
				  "role at your organisation"
				: "this needs the mandate_consult role at the "
				  "organisation you act for");
	else if (!org_in_circle(s, kbo))
		err_set(bad, ERR_FORBIDDEN, "circle_of_trust_missing",
			"the organisation has not registered that it applies "
			"the circle of trust's criteria");
	else
		return NULL;
	return bad;
}

/* Why the mandate asked for does not open: NULL, or bad filled. */
static const struct error *mandate_refusal(struct store *s, const char *kbo,
					   const char *mandator,
					   const char *data_set,
					   struct error *bad)
{
	struct newest m;
	struct store_stmt *st = store_prepare(store_reader(s), sql_newest);
	store_bind_text(st, 1, mandator);
	store_bind_text(st, 2, kbo);
	store_bind_text(st, 3, data_set);
	int rc = store_one(st, read_newest, &m, bad);
	if (rc < 0)
		return bad;
	char today[DATE_LEN];
	date_format(date_today(), today);
	if (rc > 0)
		err_set(bad, ERR_FORBIDDEN, "no_mandate",
			"this person gave your organisation no mandate for "
			"%s", data_set);
	else if (m.revoked)
		err_set(bad, ERR_FORBIDDEN, "mandate_revoked",
			"the person revoked the mandate");
	else if (strcmp(today, m.from) < 0 || strcmp(today, m.until) > 0)
		err_set(bad, ERR_FORBIDDEN, "mandate_expired",
			"the mandate is not valid today");
	else
		return NULL;
	return bad;
}

/* The one data set's answer. Returns 0 with *data, or -1 with e. */
static int answer(struct store *s, const char *kbo, const char *mandator,
		  const char *data_set, json_t **data, struct error *e)
{
	char today[DATE_LEN];
	date_format(date_today(), today);
	if (strcmp(data_set, "student_contingent") == 0) {
		int year = date_today().y, hours;
		if (employ_student_hours_left(s, mandator, year, &hours, e))
			return -1;
		*data = json_pack("{s:i,s:i}", "year", year, "hours_left",
				  hours > 0 ? hours : 0);
		return 0;
	}
	bool eligible;
	const char *why;
	if (employ_flexi_eligible(s, mandator, kbo, today, &eligible, &why,
				  e) != 0)
		return -1;
	/* Yes or no: the reason would tell the employer about the
	 * person's other work or pension. */
	*data = json_pack("{s:b}", "flexi_eligible", eligible);
	return 0;
}

/* The event of a consultation of data_set about mandator by by. */
static struct audit_event consult_event(const struct audit_actor *by,
					const char *mandator,
					const char *data_set, bool known,
					const char *ticket)
{
	struct audit_event ev = audit_event_by(by, "mandate_consult");
	ev.subject = mandator ? audit_subject(mandator) : NULL;
	ev.data_type = known ? data_set : NULL;
	ev.purpose = "precontractual";
	ev.legal_basis = MANDATE_LEGAL_BASIS;
	ev.ticket = ticket;
	return ev;
}

static bool known_set(const char *data_set)
{
	return data_set && (strcmp(data_set, "student_contingent") == 0 ||
			    strcmp(data_set, "flexi_eligibility") == 0);
}

int mandate_consult(struct audit *log, const struct audit_actor *by,
		    int level, const char *mandator, const char *data_set,
		    char ticket[UUID_LEN], json_t **data, struct error *e)
{
	struct store *s = audit_store(log);
	const char *kbo = by->actor;
	*data = NULL;
	uuid7_new(ticket);
	struct error bad;
	const struct error *refusal = holder_refusal(s, by, level, kbo, &bad);
	bool known = known_set(data_set);
	if (!refusal && !known)
		refusal = (err_set(&bad, ERR_INVALID, "invalid_field",
				   "data_set: student_contingent or "
				   "flexi_eligibility"), &bad);
	if (!refusal && (!mandator || !insz_valid(mandator) ||
			 strlen(mandator) != 11))
		refusal = (err_set(&bad, ERR_INVALID, "invalid_insz",
				   "mandator: an INSZ, digits only"), &bad);
	if (!refusal)
		refusal = mandate_refusal(s, kbo, mandator, data_set, &bad);
	bool named = !(refusal && refusal->kind == ERR_INVALID);
	struct audit_event ev = consult_event(by, named ? mandator : NULL,
					      data_set, known, ticket);
	if (!refusal && answer(s, kbo, mandator, data_set, data, &bad) != 0)
		refusal = &bad;
	if (refusal) {
		*e = *refusal;
		return audit_refused(log, &ev, refusal);
	}
	/* Durable before the answer leaves. */
	if (audit_append(log, &ev, NULL, e) != 0) {
		json_decref(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

int mandate_consult_refused(struct audit *log, const struct audit_actor *by,
			    const char *mandator, const char *data_set,
			    const struct error *why, char ticket[UUID_LEN])
{
	uuid7_new(ticket);
	struct audit_event ev = consult_event(by, mandator, data_set,
					      known_set(data_set), ticket);
	return audit_refused(log, &ev, why);
}
