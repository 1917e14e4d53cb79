/* Authorizations: publish, list, decide. */
#include <stdlib.h>
#include <string.h>

#include "authz/authz.h"
#include "directory/directory.h"
#include "org/org.h"

#define OPEN_END INT64_C(2147483647)

static const char sql_add[] =
	"INSERT INTO \"authorization\" (reference, requester_actor_type, capacity, "
	"data_type, purpose, valid_from, valid_until, min_phase) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id";
static const char sql_list[] =
	"SELECT id, reference, requester_actor_type, capacity, data_type, "
	"purpose, valid_from, valid_until, min_phase FROM \"authorization\" "
	"ORDER BY reference, id";
/* The candidates for a request, best match first: the decision then
 * names the most precise reason there is. */
static const char sql_candidates[] =
	"SELECT id, reference, requester_actor_type, capacity, data_type, "
	"purpose, valid_from, valid_until, min_phase FROM \"authorization\" "
	"WHERE requester_actor_type = ?1 AND data_type = ?2";

static bool code_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > AUTHZ_CODE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return false;
	return true;
}

static bool reference_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > AUTHZ_REFERENCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

static int64_t day_of(const char *s, int64_t absent)
{
	struct date d;
	if (!s[0])
		return absent;
	return date_parse(s, &d) == 0 ? date_to_days(d) : -1;
}

/* A deliberation only ever matches a requesting institution's actor type
 * (authz_decide), so one for a type no institution has grants nothing
 * today and, worse, grants it to whichever institution is later
 * registered under that name: a typo would become a latent grant. The
 * refusal names the known types, so the operator sees the typo. */
static int actor_type_check(struct store *s, const char *actor_type,
			    struct error *e)
{
	char known[140];
	int rc = org_actor_type_known(s, actor_type);
	if (rc == 0)
		return 0;
	if (rc < 0 || org_actor_types(s, known, sizeof(known)) != 0)
		return store_fail(e, "the institutions cannot be read now");
	return err_set(e, ERR_INVALID, "unknown_actor_type",
		       "no institution has this requester_actor_type (known: "
		       "%s); register an institution of the type first",
		       known[0] ? known : "none yet");
}

static int check(struct store *s, const struct authz_authorization *a,
		 int64_t *from, int64_t *until, struct error *e)
{
	char source[64];
	if (!reference_ok(a->reference) || !code_ok(a->requester_actor_type) ||
	    !code_ok(a->purpose))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "reference, requester_actor_type and purpose are "
			       "required codes");
	if (a->capacity < 0 || (a->capacity > 900 &&
				a->capacity != CAPACITY_PROVISIONAL))
		return err_set(e, ERR_INVALID, "unknown_capacity",
			       "capacity codes are 000-900 and 902");
	if (actor_type_check(s, a->requester_actor_type, e) != 0)
		return -1;
	int known = code_ok(a->data_type)
		    ? directory_data_type_source(s, a->data_type, source,
						 sizeof(source))
		    : 1;
	if (known < 0)
		return store_fail(e, "the directory cannot be read now");
	if (known > 0)
		return err_set(e, ERR_INVALID, "unknown_data_type",
			       "the data type is not in the reference directory");
	if (a->min_phase < 1 || a->min_phase > 99)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "min_phase is an ordinal from 1 to 99");
	*from = day_of(a->valid_from, -1);
	*until = day_of(a->valid_until, OPEN_END);
	if (!a->valid_from[0] || *from < 0 || *until < 0 || *until < *from)
		return err_set(e, ERR_INVALID, "invalid_period",
			       "valid_from is required, valid_until not before it");
	return 0;
}

static const struct store_refusal authorization_exists = {
	ERR_CONFLICT, "authorization_exists",
	"this reference already authorizes exactly this"};

struct add {
	struct authz_authorization *a;
	int64_t from, until;
};

static int add_change(struct store_conn *w, void *ctx,
		      struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct add *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_add);
	store_bind_text(st, 1, c->a->reference);
	store_bind_text(st, 2, c->a->requester_actor_type);
	store_bind_int(st, 3, c->a->capacity);
	store_bind_text(st, 4, c->a->data_type);
	store_bind_text(st, 5, c->a->purpose);
	store_bind_int(st, 6, c->from);
	store_bind_int(st, 7, c->until);
	store_bind_int(st, 8, c->a->min_phase);
	return store_insert(st, &c->a->id, &authorization_exists, e) < 0 ? -1
									 : 0;
}

int authz_add(struct audit *log, const struct audit_actor *by,
	      struct authz_authorization *a, struct error *e)
{
	struct add c = {a, 0, 0};
	struct error bad;
	const struct error *refusal =
		check(audit_store(log), a, &c.from, &c.until, &bad) != 0 ? &bad
									: NULL;
	/* The deliberation is both what is published and its legal basis. */
	struct audit_event ev = audit_event_by(by, "authorization_add");
	ev.data_type = "authorization";
	ev.purpose = a->reference;
	ev.legal_basis = a->reference;
	return audit_change(log, &ev, add_change, &c, refusal, e);
}

static void day_text(int64_t day, char out[DATE_LEN])
{
	if (day == OPEN_END)
		out[0] = '\0';
	else
		date_format(date_from_days(day), out);
}

/* Fill a (a struct authz_authorization) from a row of sql_list. */
static void read_row(struct store_stmt *st, void *authorization)
{
	struct authz_authorization *a = authorization;
	a->id = store_col_int(st, 0);
	str_copy(a->reference, sizeof(a->reference), store_col_text(st, 1));
	str_copy(a->requester_actor_type, sizeof(a->requester_actor_type),
		 store_col_text(st, 2));
	a->capacity = (int)store_col_int(st, 3);
	str_copy(a->data_type, sizeof(a->data_type), store_col_text(st, 4));
	str_copy(a->purpose, sizeof(a->purpose), store_col_text(st, 5));
	day_text(store_col_int(st, 6), a->valid_from);
	day_text(store_col_int(st, 7), a->valid_until);
	a->min_phase = (int)store_col_int(st, 8);
}

int authz_list(struct store *s, struct authz_authorization **out, int *n,
	       struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "the authorizations cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_list);
	*out = store_collect(st, sizeof(**out), read_row, n);
	return 0;
}

const char *authz_answer_code(enum authz_answer a)
{
	switch (a) {
	case AUTHZ_GRANTED: return "granted";
	case AUTHZ_NO_DATA_TYPE: return "not_authorized";
	case AUTHZ_NO_CAPACITY: return "capacity_not_authorized";
	case AUTHZ_NO_PURPOSE: return "purpose_not_authorized";
	case AUTHZ_NOT_VALID: return "authorization_not_valid";
	}
	return "not_authorized";
}

/* How much of a request an answer says was right: the decision reports
 * the most precise reason among the candidates. */
static int precision(enum authz_answer a)
{
	static const int rank[] = {
		[AUTHZ_NO_DATA_TYPE] = 0, [AUTHZ_NO_CAPACITY] = 1,
		[AUTHZ_NO_PURPOSE] = 2,   [AUTHZ_NOT_VALID] = 3,
		[AUTHZ_GRANTED] = 4,
	};
	return rank[a];
}

/* One candidate (same actor type and data type) against the request. */
static enum authz_answer judge(struct store_stmt *st, int capacity,
			       const char *purpose, int64_t day)
{
	if (store_col_int(st, 3) != capacity)
		return AUTHZ_NO_CAPACITY;
	if (purpose && strcmp(store_col_text(st, 5), purpose) != 0)
		return AUTHZ_NO_PURPOSE;
	if (day < store_col_int(st, 6) || day > store_col_int(st, 7))
		return AUTHZ_NOT_VALID;
	return AUTHZ_GRANTED;
}

int authz_decide(struct store *s, const char *actor_type, int capacity,
		 const char *data_type, const char *purpose, int64_t day,
		 struct authz_authorization *granted)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_candidates);
	store_bind_text(st, 1, actor_type);
	store_bind_text(st, 2, data_type);
	enum authz_answer best = AUTHZ_NO_DATA_TYPE;
	enum store_rc rc;
	while ((rc = store_step(st)) == STORE_ROW) {
		enum authz_answer a = judge(st, capacity, purpose, day);
		if (precision(a) > precision(best))
			best = a;
		if (a == AUTHZ_GRANTED) {
			if (granted)
				read_row(st, granted);
			break;
		}
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : (int)best;
}
