/* The hub on a small network of its own: the request's parser alone (no
 * store), the decision in the seed's order with a code per refusal, a
 * ticket and an audit event per exchange, the forwarding of mutations to
 * exactly the authorized dossier holders, and a batch with good and bad
 * lines. Exchanges go through hub_exchange, which waits on the one
 * asynchronous path the network listener and batches take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "authz/authz.h"
#include "directory/directory.h"
#include "hub/hub.h"
#include "hub/hub_internal.h" /* exchange_parse, pure */
#include "support/support.h"
#include "org/org.h"
#include "registry/registry.h"
#include "cli/modules.h"

static struct ts_dir tmp;
static struct store *s;
static struct audit *log_;
static struct hub *h;
static int64_t fund, allowances;
static const struct hub_requester as_fund = {0, "0411111140",
					     "health_insurance_fund",
					     "health_insurance", NULL};
static struct hub_requester fund_who;

static void person(const char *insz, const char *last)
{
	struct error e;
	assert_int_equal(ts_person(log_, insz, last, "Test", "", &e), 0);
}

static int64_t institution(const char *kbo, const char *actor,
			   const char *branch)
{
	struct error e;
	int64_t id = ts_institution(log_, kbo, actor, branch, &e);
	assert_true(id > 0);
	return id;
}

/* A deliberation for the health insurance fund, capacity 001. */
static void deliberation(const char *ref, const char *data_type,
			 const char *purpose, int min_phase)
{
	struct error e;
	assert_int_equal(ts_deliberation(log_, ref, "health_insurance_fund", 1,
					 data_type, purpose, "2025-01-01",
					 min_phase, &e), 0);
}

static void network(void)
{
	struct error e;
	person("85073003328", "Peeters");
	person("90031524651", "Maes");
	fund = institution("0411111140", "health_insurance_fund",
			   "health_insurance");
	allowances = institution("0722222210", "family_allowance_fund",
				 "family_allowances");
	assert_int_equal(directory_capacity_add(log_, &ts_operator, "health_insurance", 1, "holder", &e), 0);
	assert_int_equal(directory_capacity_add(log_, &ts_operator, "family_allowances", 1, "child", &e), 0);
	assert_int_equal(directory_data_type_add(log_, &ts_operator, "identification",
						 "national_register", "id", &e), 0);
	assert_int_equal(directory_data_type_add(log_, &ts_operator, "family_allowance",
						 "family_allowance_fund", "fa", &e), 0);
	deliberation("IVC/TEST/1", "identification", "rights", 2);
	assert_int_equal(ts_dossier(log_, fund, "health_insurance", "85073003328",
				    1, 2, "2025-01-01", NULL, &e), 0);
	/* The allowance fund holds Maes at phase 1 (too low for nothing: it
	 * has no deliberation; it serves the forwarding test). */
	assert_int_equal(ts_dossier(log_, allowances, "family_allowances",
				    "85073003328", 1, 1, "2025-01-01", NULL,
				    &e), 0);
}

static int setup(void **state)
{
	(void)state;
	struct error e;
	char path[512];
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	if (ts_dir_make(&tmp, "hub") != 0)
		return -1;
	ts_db_location(&tmp, "h.db", path, sizeof(path));
	ed25519_keypair(pk, sk);
	if (cli_store_open(path, NULL, &s, &e) != 0 ||
	    audit_open(s, sk, NULL, &log_, &e) != 0)
		return -1;
	network();
	struct hub_options o = {.batch_workers = 2, .batch_max_lines = 10};
	snprintf(o.batch_dir, sizeof(o.batch_dir), "%s/batch", tmp.path);
	if (hub_open(s, log_, &o, &h, &e) != 0)
		return -1;
	fund_who = as_fund;
	fund_who.institution_id = fund;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hub_close(h);
	audit_close(log_);
	store_close(s);
	return ts_dir_remove(&tmp);
}

/* Run one exchange; returns its error code, or "granted". */
static const char *ask(const char *body, char ticket[UUID_LEN])
{
	static struct error e;
	json_t *data = NULL;
	char basis[64];
	uint64_t before = audit_size(log_);
	int rc = hub_exchange(h, &fund_who, body, strlen(body), ticket, &data,
			      basis, &e);
	assert_int_equal(audit_size(log_), before + 1); /* durable, always */
	assert_int_equal(strlen(ticket), 36);
	if (rc == 0) {
		assert_string_equal(basis, "IVC/TEST/1");
		assert_string_equal(json_string_value(json_object_get(data, "last_name")),
				    "Peeters");
		json_decref(data);
		return "granted";
	}
	assert_null(data);
	return e.code;
}

/* Parse body; returns its error code, or "ok" with *r filled (the caller
 * releases r->root). */
static const char *parse(const char *body, struct exchange_request *r)
{
	static struct error e;
	int rc = exchange_parse(body, strlen(body), r, &e);
	if (rc == 0)
		return "ok";
	json_decref(r->root);
	r->root = NULL;
	return e.code;
}

#define FULL(extra) "{\"data_type\":\"identification\",\"capacity\":\"001\"," \
	"\"subject\":\"85073003328\",\"purpose\":\"rights\"" extra "}"

/* The parser reads the request's own syntax only: these run without a
 * store, so a lookup would crash them. */
static void parse_a_request(void **state)
{
	(void)state;
	struct exchange_request r;
	assert_string_equal(parse("{\"data_type\":\"identification\",\"capacity\":7,"
				  "\"subject\":\"85.07.30-033.28\",\"purpose\":\"rights\","
				  "\"reference_date\":\"2025-03-01\",\"params\":{\"a\":1}}", &r),
			    "ok");
	assert_string_equal(r.subject, "85073003328");
	assert_string_equal(r.data_type, "identification");
	assert_int_equal(r.capacity, 7);
	assert_string_equal(r.purpose, "rights");
	assert_string_equal(r.reference_date, "2025-03-01");
	assert_int_equal(r.day, ts_day("2025-03-01"));
	assert_int_equal(json_integer_value(json_object_get(r.params, "a")), 1);
	json_decref(r.root);
	/* Without a reference date, today; without params, none. */
	assert_string_equal(parse(FULL(""), &r), "ok");
	char today[DATE_LEN];
	date_format(date_today(), today);
	assert_string_equal(r.reference_date, today);
	assert_int_equal(r.capacity, 1);
	assert_null(r.params);
	json_decref(r.root);
	/* Capacity codes the directory knows the shape of: 000-900 and 902. */
	assert_string_equal(parse("{\"data_type\":\"x\",\"capacity\":\"902\","
				  "\"subject\":\"85073003328\",\"purpose\":\"p\"}", &r), "ok");
	assert_int_equal(r.capacity, 902);
	json_decref(r.root);
}

static void parse_refusals(void **state)
{
	(void)state;
	struct exchange_request r;
	static const struct {
		const char *body, *code;
	} cases[] = {
		/* Not a JSON object. */
		{"", "malformed_request"},
		{"{\"subject\":", "malformed_request"},
		{"[1,2]", "malformed_request"},
		{"null", "malformed_request"},
		{"\"85073003328\"", "malformed_request"},
		{"{\"a\":1,\"a\":2}", "malformed_request"},
		/* Missing fields, in the order they are read. */
		{"{}", "invalid_field"},
		{"{\"subject\":\"85073003328\"}", "invalid_field"},
		{"{\"subject\":\"85073003328\",\"data_type\":\"x\"}", "unknown_capacity"},
		{"{\"subject\":\"85073003328\",\"data_type\":\"x\",\"capacity\":1}",
		 "invalid_field"},
		/* A subject that is not an INSZ, or not a string. */
		{"{\"subject\":\"85073003329\"}", "invalid_insz"},
		{"{\"subject\":\"8507300332\"}", "invalid_insz"},
		{"{\"subject\":\"\"}", "invalid_insz"},
		{"{\"subject\":85073003328}", "invalid_field"},
		{"{\"subject\":\"85073003328                              x\"}",
		 "invalid_field"},
		/* Capacity codes that cannot exist. */
		{"{\"subject\":\"85073003328\",\"data_type\":\"x\",\"capacity\":\"901\"}",
		 "unknown_capacity"},
		{"{\"subject\":\"85073003328\",\"data_type\":\"x\",\"capacity\":-1}",
		 "unknown_capacity"},
		{"{\"subject\":\"85073003328\",\"data_type\":\"x\",\"capacity\":\"1\"}",
		 "unknown_capacity"},
		/* Dates and params. */
		{FULL(",\"reference_date\":\"2025-02-30\""), "invalid_field"},
		{FULL(",\"reference_date\":\"2025-3-1\""), "invalid_field"},
		{FULL(",\"reference_date\":\"2025-03-01T00:00\""), "invalid_field"},
		{FULL(",\"reference_date\":20250301"), "invalid_field"},
		{FULL(",\"params\":[1]"), "invalid_field"},
		{FULL(",\"params\":\"a=1\""), "invalid_field"},
	};
	for (size_t i = 0; i < KP_NELEM(cases); i++) {
		const char *got = parse(cases[i].body, &r);
		if (strcmp(got, cases[i].code) != 0)
			fail_msg("%s: %s, not %s", cases[i].body, got,
				 cases[i].code);
	}
}

/* Data types and purposes hold at most 64 bytes. */
static void parse_limits(void **state)
{
	(void)state;
	struct exchange_request r;
	char body[512], name[66];
	memset(name, 'a', 65);
	name[65] = '\0';
	snprintf(body, sizeof(body), "{\"subject\":\"85073003328\",\"capacity\":1,"
		 "\"data_type\":\"%s\",\"purpose\":\"p\"}", name);
	assert_string_equal(parse(body, &r), "invalid_field");
	snprintf(body, sizeof(body), "{\"subject\":\"85073003328\",\"capacity\":1,"
		 "\"data_type\":\"x\",\"purpose\":\"%s\"}", name);
	assert_string_equal(parse(body, &r), "invalid_field");
	name[64] = '\0';
	assert_string_equal(parse(body, &r), "invalid_field");
	snprintf(body, sizeof(body), "{\"subject\":\"85073003328\",\"capacity\":1,"
		 "\"data_type\":\"x\",\"purpose\":\"%s\"}", name);
	assert_string_equal(parse(body, &r), "ok");
	json_decref(r.root);
}

/* A refusal keeps what was parsed before it, for its audit event. */
static void parse_keeps_what_it_read(void **state)
{
	(void)state;
	struct exchange_request r;
	struct error e;
	const char *body = "{\"subject\":\"85073003328\",\"data_type\":\"x\","
			   "\"capacity\":\"001\"}";
	assert_int_equal(exchange_parse(body, strlen(body), &r, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_string_equal(r.subject, "85073003328");
	assert_string_equal(r.data_type, "x");
	assert_null(r.purpose);
	json_decref(r.root);
}

#define REQ(extra) "{\"data_type\":\"identification\",\"capacity\":\"001\"," extra "}"

static void decision_in_order(void **state)
{
	(void)state;
	char t1[UUID_LEN], t2[UUID_LEN];
	assert_string_equal(ask(REQ("\"subject\":\"85073003328\",\"purpose\":\"rights\""), t1), "granted");
	assert_string_equal(ask(REQ("\"subject\":\"85073003328\",\"purpose\":\"rights\""), t2), "granted");
	assert_true(strcmp(t1, t2) < 0); /* UUIDv7: time-ordered */
	assert_string_equal(ask("[1,2]", t1), "malformed_request");
	assert_string_equal(ask("{\"subject\":", t1), "malformed_request");
	assert_string_equal(ask(REQ("\"subject\":\"85073003329\",\"purpose\":\"rights\""), t1), "invalid_insz");
	assert_string_equal(ask("{\"data_type\":\"x\",\"capacity\":\"001\",\"subject\":\"85073003328\",\"purpose\":\"rights\"}", t1),
			    "unknown_data_type");
	assert_string_equal(ask("{\"data_type\":\"identification\",\"capacity\":\"003\",\"subject\":\"85073003328\",\"purpose\":\"rights\"}", t1),
			    "unknown_capacity");
	assert_string_equal(ask(REQ("\"subject\":\"85073003328\""), t1), "invalid_field");
	assert_string_equal(ask("{\"data_type\":\"family_allowance\",\"capacity\":\"001\",\"subject\":\"85073003328\",\"purpose\":\"rights\"}", t1),
			    "not_authorized");
	assert_string_equal(ask(REQ("\"subject\":\"85073003328\",\"purpose\":\"other\""), t1), "purpose_not_authorized");
	assert_string_equal(ask(REQ("\"subject\":\"85073003328\",\"purpose\":\"rights\",\"reference_date\":\"2024-12-31\""), t1),
			    "authorization_not_valid");
	assert_string_equal(ask(REQ("\"subject\":\"90031524651\",\"purpose\":\"rights\""), t1), "no_dossier");
	/* The dossier is at phase 2 as required; raise the bar and it is
	 * too low. */
	/* A bulk load vouches for its persons; a dossier on a number the
	 * registers do not know is answered as such, last. */
	struct directory_import_row row = {fund, "health_insurance",
					   77010100141LL, 1, 2, 0, -1};
	struct error ie;
	assert_int_equal(directory_import(log_, &ts_operator, &row, 1, &ie), 0);
	assert_string_equal(ask(REQ("\"subject\":\"77010100141\",\"purpose\":\"rights\""), t1), "unknown_person");
	deliberation("IVC/TEST/2", "identification", "control", 3);
	assert_string_equal(ask(REQ("\"subject\":\"85073003328\",\"purpose\":\"control\""), t1), "phase_too_low");
}

static void routed_without_provider(void **state)
{
	(void)state;
	struct error e;
	deliberation("IVC/TEST/3", "family_allowance", "rights", 1);
	char t[UUID_LEN];
	const char *body = "{\"data_type\":\"family_allowance\",\"capacity\":\"001\",\"subject\":\"85073003328\",\"purpose\":\"rights\"}";
	/* The allowance fund holds the dossier but keeps no such data in
	 * that capacity (no availability): no authentic source. */
	assert_string_equal(ask(body, t), "no_authentic_source");
	assert_int_equal(directory_availability_add(log_, &ts_operator, "family_allowance_fund", 1,
						    "family_allowance", &e), 0);
	/* Now it is the source, but has no endpoint: 502. */
	assert_string_equal(ask(body, t), "provider_unavailable");
}

/* Mutate 85073003328 (the register's authority) with fields set by the
 * caller in m. */
static void mutate(struct registry_mutation *m, const char *effective_on)
{
	struct error e;
	char ticket[UUID_LEN];
	str_copy(m->effective_on, sizeof(m->effective_on), effective_on);
	assert_int_equal(registry_mutate(log_, &ts_operator, "85073003328", m,
					 "national_register", 0, ticket, &e), 0);
}

/* The fund's audit events, oldest first, at least one (caller frees). */
static struct audit_record *fund_events(int *nr)
{
	struct audit_filter f = {.actor = "0411111140", .limit = 1000};
	struct audit_record *r;
	bool more;
	uint64_t next;
	struct error e;
	assert_int_equal(audit_query(log_, &f, &r, nr, &more, &next, &e), 0);
	assert_true(*nr > 0);
	return r;
}

static void mutations_reach_the_right_mailboxes(void **state)
{
	(void)state;
	struct error e;
	struct registry_mutation m;
	memset(&m, 0, sizeof(m));
	m.type = MUTATION_ADDRESS;
	str_copy(m.effective_on, sizeof(m.effective_on), "2026-11-01");
	str_copy(m.person.street, sizeof(m.person.street), "Stationsstraat 5");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "3000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Leuven");
	char ticket[UUID_LEN];
	assert_int_equal(registry_mutate(log_, &ts_operator, "85073003328", &m,
					 "national_register", 0, ticket, &e), 0);
	uint64_t before = audit_size(log_);
	int n = hub_forward_mutations(h, &e);
	/* The forwarder thread may have been first. */
	assert_true(n == 0 || n == 1);
	struct hub_message *msg;
	int count;
	int64_t nx;
	assert_int_equal(hub_mailbox(h, fund, 0, 10, &msg, &count, &nx, &e), 0);
	assert_int_equal(count, 1);
	assert_string_equal(msg[0].subject, "85073003328");
	assert_string_equal(msg[0].type, "address");
	assert_non_null(strstr(msg[0].data, ticket));
	assert_non_null(strstr(msg[0].data, "Stationsstraat 5"));
	int64_t id = msg[0].id;
	hub_messages_free(msg, count);
	if (n == 1)
		assert_int_equal(audit_size(log_), before + 1);
	/* The allowance fund holds a dossier but no deliberation gives it
	 * identification data: nothing. */
	assert_int_equal(hub_mailbox(h, allowances, 0, 10, &msg, &count, &nx, &e), 0);
	assert_int_equal(count, 0);
	hub_messages_free(msg, count);
	assert_int_equal(hub_forward_mutations(h, &e), 0); /* once only */
	struct hub_requester allowance_who = {allowances, "0722222210",
					      "family_allowance_fund",
					      "family_allowances", NULL};
	/* Nobody acknowledges what their mailbox was never given: refused,
	 * so no client keeps a cursor past messages still to come. */
	assert_int_equal(hub_mailbox_ack(h, &allowance_who, id, &e), -1);
	assert_string_equal(e.code, "ack_beyond_newest");
	assert_int_equal(hub_mailbox_ack(h, &fund_who, id + 1, &e), -1);
	assert_string_equal(e.code, "ack_beyond_newest");
	uint64_t acked = audit_size(log_);
	assert_int_equal(hub_mailbox_ack(h, &fund_who, id, &e), 1);
	/* The acknowledgement is recorded with the removal. */
	assert_int_equal(audit_size(log_), acked + 1);
	int nr;
	struct audit_record *r = fund_events(&nr);
	assert_string_equal(r[nr - 1].action, "mailbox_ack");
	assert_non_null(strstr(r[nr - 1].purpose, ", 1 removed"));
	free(r);
	assert_int_equal(hub_mailbox(h, fund, 0, 10, &msg, &count, &nx, &e), 0);
	assert_int_equal(count, 0);
	hub_messages_free(msg, count);
}


/* Move 85073003328 and forward the mutation (the forwarder thread may
 * have done it first). */
static void move_and_forward(const char *street)
{
	struct registry_mutation m;
	memset(&m, 0, sizeof(m));
	m.type = MUTATION_ADDRESS;
	str_copy(m.person.street, sizeof(m.person.street), street);
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "3000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Leuven");
	mutate(&m, "2026-11-01");
	struct error e;
	assert_true(hub_forward_mutations(h, &e) >= 0);
}

/* The fund's mailbox after `after`: its messages' count, the last one's
 * id into *last (when there is one) and the page's next into *next. */
static int fund_mailbox(int64_t after, int64_t *last, int64_t *next)
{
	struct error e;
	struct hub_message *msg;
	int count;
	assert_int_equal(hub_mailbox(h, fund, after, 10, &msg, &count, next,
				     &e), 0);
	if (count > 0)
		*last = msg[count - 1].id;
	hub_messages_free(msg, count);
	return count;
}

/* Issue 12 item 1: acknowledging the newest message made the next one
 * take its id again (a plain rowid), and a reader keeping after= as its
 * cursor never saw it. */
static void acknowledged_ids_are_never_reused(void **state)
{
	(void)state;
	struct error e;
	move_and_forward("Stationsstraat 5");
	int64_t seen = 0, next = -1, id = 0;
	assert_int_equal(fund_mailbox(0, &seen, &next), 1);
	assert_int_equal(next, seen);
	/* Everything acknowledged: the table is empty. */
	assert_int_equal(hub_mailbox_ack(h, &fund_who, seen, &e), 1);
	/* An empty mailbox keeps the cursor it had, asked from 0 or from
	 * it: next never goes back. */
	assert_int_equal(fund_mailbox(0, &id, &next), 0);
	assert_int_equal(next, seen);
	assert_int_equal(fund_mailbox(seen, &id, &next), 0);
	assert_int_equal(next, seen);
	assert_int_equal(fund_mailbox(seen + 5, &id, &next), 0);
	assert_int_equal(next, seen + 5);
	/* The next death or move reaches a reader that reads on from the
	 * last id it saw, across a restart of the hub too. */
	hub_close(h);
	struct hub_options o = {.batch_workers = 1};
	snprintf(o.batch_dir, sizeof(o.batch_dir), "%s/batch", tmp.path);
	assert_int_equal(hub_open(s, log_, &o, &h, &e), 0);
	move_and_forward("Naamsestraat 22");
	assert_int_equal(fund_mailbox(seen, &id, &next), 1);
	assert_true(id > seen);
	assert_int_equal(next, id);
}

/* A database whose ids were plain rowids has no counter: its first id
 * is past any id those could have given (HUB_MAX_HOLDINGS per mutation
 * forwarded), so no reader's cursor can be ahead of it. */
static void upgraded_database_ids_start_past_the_old_ones(void **state)
{
	(void)state;
	struct error e;
	move_and_forward("Stationsstraat 5");
	int64_t seen = 0, next;
	assert_int_equal(fund_mailbox(0, &seen, &next), 1);
	assert_int_equal(hub_mailbox_ack(h, &fund_who, seen, &e), 1);
	/* As before the counter: no row for it, nor any mailbox's mark. */
	struct store_conn *w = store_write_begin(s, &e);
	struct store_stmt *st = store_prepare(
		w, "DELETE FROM hub_cursor WHERE name <> 'mutations'");
	assert_int_equal(store_run(st, NULL, &e), 0);
	assert_int_equal(store_write_commit(s, &e), 0);
	move_and_forward("Naamsestraat 22");
	int64_t id = 0;
	assert_int_equal(fund_mailbox(seen, &id, &next), 1);
	assert_true(id > HUB_MAX_HOLDINGS); /* one mutation forwarded before */
}

/* The identification the hub answers for a reference date (caller frees). */
static json_t *identification_on(const char *date)
{
	char body[256], ticket[UUID_LEN], basis[64];
	snprintf(body, sizeof(body),
		 FULL(",\"reference_date\":\"%s\""), date);
	struct error e;
	json_t *data = NULL;
	assert_int_equal(hub_exchange(h, &fund_who, body, strlen(body), ticket,
				      &data, basis, &e), 0);
	return data;
}

/* The fund's pension messages about 85073003328 after a pension
 * mutation effective on, forwarded: their number (the last one's data
 * into data, caller frees, when there is one). */
static int pension_forwarded(const char *status, const char *on,
			     char **data)
{
	struct registry_mutation m;
	memset(&m, 0, sizeof(m));
	m.type = MUTATION_PENSION;
	str_copy(m.person.pension_status, sizeof(m.person.pension_status),
		 status);
	mutate(&m, on);
	struct error e;
	assert_true(hub_forward_mutations(h, &e) >= 0);
	struct hub_message *msg;
	int count, k = 0;
	int64_t nx;
	assert_int_equal(hub_mailbox(h, fund, 0, 10, &msg, &count, &nx, &e), 0);
	for (int i = 0; i < count; i++)
		if (!strcmp(msg[i].type, "pension")) {
			k++;
			free(*data);
			*data = xstrdup(msg[i].data);
		}
	hub_messages_free(msg, count);
	return k;
}

/* Knowing who a person is does not entitle an institution to know that
 * they are retired: a pension mutation reaches only the mailboxes of
 * institutions authorized for pension_status, and the identification
 * answer leaves it out. */
static void pension_reaches_only_pension_readers(void **state)
{
	(void)state;
	struct error e;
	char *data = NULL;
	/* The fund is authorized for identification data only. */
	assert_int_equal(pension_forwarded("retired", "2026-01-10", &data), 0);
	json_t *id = identification_on("2026-01-20");
	assert_null(json_object_get(id, "pension_status"));
	assert_null(json_object_get(id, "pension_since"));
	json_decref(id);
	assert_int_equal(directory_data_type_add(log_, &ts_operator,
						 "pension_status",
						 "national_register",
						 "pension status", &e), 0);
	deliberation("IVC/TEST/PENSION", "pension_status", "flexi_job", 1);
	assert_int_equal(pension_forwarded("none", "2026-01-20", &data), 1);
	json_t *d = json_loads(data, 0, NULL);
	free(data);
	assert_string_equal(json_string_value(json_object_get(d, "effective_on")),
			    "2026-01-20");
	json_t *p = json_object_get(d, "person");
	assert_string_equal(json_string_value(json_object_get(p,
							      "pension_status")),
			    "none");
	assert_string_equal(json_string_value(json_object_get(p,
							      "pension_since")),
			    "2026-01-20");
	json_decref(d);
	int nr;
	struct audit_record *r = fund_events(&nr);
	assert_string_equal(r[nr - 1].action, "mutation_forward");
	assert_string_equal(r[nr - 1].data_type, "pension_status");
	assert_string_equal(r[nr - 1].purpose, "pension");
	free(r);
	/* Asked for it, the registers answer the pension status, and only
	 * that: a deliberation for one data type opens no other. */
	static const char body[] =
		"{\"data_type\":\"pension_status\",\"subject\":"
		"\"85073003328\",\"capacity\":\"001\",\"purpose\":"
		"\"flexi_job\"}";
	char ticket[UUID_LEN], basis[64];
	json_t *ans = NULL;
	assert_int_equal(hub_exchange(h, &fund_who, body, strlen(body), ticket,
				      &ans, basis, &e), 0);
	assert_string_equal(json_string_value(json_object_get(
				    ans, "pension_status")), "none");
	assert_null(json_object_get(ans, "last_name"));
	assert_null(json_object_get(ans, "address"));
	json_decref(ans);
}

/* Item 3: a past reference date is answered with the data as the
 * registers stood then, not today's (a name, an address and a death
 * after it are undone). */
static void past_date_answers_from_history(void **state)
{
	(void)state;
	ts_clock_start(); /* 2026-03-01 */
	struct registry_mutation m;
	memset(&m, 0, sizeof(m));
	m.type = MUTATION_NAME;
	str_copy(m.person.last_name, sizeof(m.person.last_name), "Janssens");
	mutate(&m, "2026-02-01");
	memset(&m, 0, sizeof(m));
	m.type = MUTATION_ADDRESS;
	str_copy(m.person.street, sizeof(m.person.street), "Stationsstraat 5");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "3000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Leuven");
	mutate(&m, "2026-01-15");
	memset(&m, 0, sizeof(m));
	m.type = MUTATION_DEATH;
	mutate(&m, "2026-02-20");

	json_t *now = identification_on("2026-03-01");
	assert_string_equal(json_string_value(json_object_get(now, "last_name")),
			    "Janssens");
	assert_string_equal(json_string_value(json_object_get(now, "deceased_on")),
			    "2026-02-20");
	json_decref(now);
	json_t *then = identification_on("2026-01-20");
	assert_string_equal(json_string_value(json_object_get(then, "last_name")),
			    "Peeters");
	assert_null(json_object_get(then, "deceased_on"));
	json_t *addr = json_object_get(then, "address");
	assert_string_equal(json_string_value(json_object_get(addr, "street")),
			    "Stationsstraat 5");
	json_decref(then);
	json_t *before = identification_on("2025-06-01");
	assert_null(json_object_get(before, "address"));
	json_decref(before);
	clock_reset();
}

/* Wait (up to 20 s) for job to be done; its status into st. */
static void wait_done(const char *job, struct hub_batch_status *st)
{
	struct error e;
	for (int i = 0; i < 400; i++) {
		assert_int_equal(hub_batch_status(h, fund, job, st, &e), 0);
		if (strcmp(st->status, "done") == 0)
			return;
		usleep(50000);
	}
}

static void batch_lines_fail_alone(void **state)
{
	(void)state;
	struct error e;
	char job[UUID_LEN];
	const char *body =
		REQ("\"subject\":\"85073003328\",\"purpose\":\"rights\"") "\n"
		"not json\n"
		"\n"
		REQ("\"subject\":\"90031524651\",\"purpose\":\"rights\"") "\r\n";
	assert_int_equal(hub_batch_submit(h, &fund_who, body, strlen(body), job, &e), 0);
	struct hub_batch_status st;
	wait_done(job, &st);
	assert_string_equal(st.status, "done");
	assert_int_equal(st.total, 3);
	assert_int_equal(st.granted, 1);
	assert_int_equal(st.refused, 2);
	char *out;
	size_t n;
	assert_int_equal(hub_batch_results(h, fund, job, &out, &n, &e), 0);
	assert_non_null(strstr(out, "\"line\":1,"));
	assert_non_null(strstr(out, "malformed_request"));
	assert_non_null(strstr(out, "\"line\":4,"));
	assert_non_null(strstr(out, "no_dossier"));
	free(out);
	assert_int_equal(hub_batch_status(h, allowances, job, &st, &e), -1);
	assert_string_equal(e.code, "unknown_job");
	/* Limits: nothing, or more lines than allowed. */
	assert_int_equal(hub_batch_submit(h, &fund_who, "\n \n", 3, job, &e), -1);
	assert_string_equal(e.code, "empty_batch");
	char many[256];
	for (int i = 0; i < 11; i++)
		memcpy(many + 3 * i, "{}\n", 3);
	many[33] = '\0';
	assert_int_equal(hub_batch_submit(h, &fund_who, many, strlen(many), job, &e), -1);
	assert_string_equal(e.code, "too_many_lines");
}

/* Write a row of a job as an older kruispunt left it: sql's ?1 is the
 * job, ?2 (when with_fund) the fund's institution. */
static void put_row(const char *sql, const char *job, bool with_fund)
{
	struct error e;
	struct store_conn *w = store_write_begin(s, &e);
	struct store_stmt *st = store_prepare(w, sql);
	store_bind_text(st, 1, job);
	if (with_fund)
		store_bind_int(st, 2, fund);
	assert_int_equal(store_step(st), STORE_DONE);
	store_done(st);
	assert_int_equal(store_write_commit(s, &e), 0);
}

/* A job stopped after its first chunk resumes at the next start with the
 * missing chunks only: each line is decided and audited once. The job was
 * accepted by an older kruispunt, which kept the input in a file of
 * hub.batch_dir: the file moves into the database. */
static void batch_resumes_after_a_stop(void **state)
{
	(void)state;
	struct error e;
	hub_close(h);
	const char *job = "01a20000-0000-7000-8000-000000000001";
	char path[256];
	snprintf(path, sizeof(path), "%s/batch", tmp.path);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/batch/%s.ndjson", tmp.path, job);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 2500; i++)
		fputs(REQ("\"subject\":\"85073003328\",\"purpose\":\"rights\"") "\n", f);
	fclose(f);
	static const char add_job[] =
		"INSERT INTO batch_job (id, institution_id, status, total, chunks,"
		" done, granted, created_at) VALUES (?1, ?2, 'running', 2500, 3,"
		" 1000, 1000, 0)";
	static const char add_chunk[] =
		"INSERT INTO batch_chunk (job, chunk, results) VALUES (?1, 0,"
		" '{\"line\":0}\n')";
	put_row(add_job, job, true);
	put_row(add_chunk, job, false);
	uint64_t before = audit_size(log_);
	struct hub_options o = {.batch_workers = 2};
	snprintf(o.batch_dir, sizeof(o.batch_dir), "%s/batch", tmp.path);
	assert_int_equal(hub_open(s, log_, &o, &h, &e), 0);
	struct hub_batch_status bs;
	wait_done(job, &bs);
	assert_string_equal(bs.status, "done");
	assert_int_equal(bs.done, 2500);
	assert_int_equal(bs.granted, 2500);
	assert_int_equal(audit_size(log_), before + 1500);
	char *out;
	size_t n;
	assert_int_equal(hub_batch_results(h, fund, job, &out, &n, &e), 0);
	assert_true(strncmp(out, "{\"line\":0}\n", 11) == 0);
	assert_non_null(strstr(out, "\"line\":1001,"));
	assert_non_null(strstr(out, "\"line\":2500,"));
	assert_null(strstr(out, "\"line\":1,"));
	free(out);
	assert_int_equal(access(path, F_OK), -1); /* in the database now */
}

/* A job is the database's, not the accepting node's: one that node could
 * not finish (it stopped, its disk is gone) is finished by another, each
 * line once, with the upload's line numbers; done, its input is dropped. */
static void batch_runs_on_another_node(void **state)
{
	(void)state;
	struct error e;
	char job[UUID_LEN], *body = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&body, &n);
	for (int i = 0; i < 2100; i++)
		fputs(i == 1500 ? "\n" : REQ("\"subject\":\"85073003328\","
					      "\"purpose\":\"rights\"") "\n", f);
	fclose(f);
	hub_close(h);
	struct hub_options o = {.batch_workers = 1, .batch_max_lines = 5000};
	snprintf(o.batch_dir, sizeof(o.batch_dir), "%s/node-a", tmp.path);
	assert_int_equal(hub_open(s, log_, &o, &h, &e), 0);
	uint64_t before = audit_size(log_);
	assert_int_equal(hub_batch_submit(h, &fund_who, body, n, job, &e), 0);
	free(body);
	hub_close(h); /* node A stops at once, its work unfinished */
	h = NULL;
	snprintf(o.batch_dir, sizeof(o.batch_dir), "%s/node-b", tmp.path);
	o.batch_workers = 2;
	assert_int_equal(hub_open(s, log_, &o, &h, &e), 0);
	struct hub_batch_status bs;
	wait_done(job, &bs);
	assert_string_equal(bs.status, "done");
	assert_int_equal(bs.done, 2099);
	assert_int_equal(audit_size(log_), before + 2099);
	char *out;
	assert_int_equal(hub_batch_results(h, fund, job, &out, &n, &e), 0);
	assert_non_null(strstr(out, "\"line\":1500,"));
	assert_null(strstr(out, "\"line\":1501,")); /* the blank line */
	assert_non_null(strstr(out, "\"line\":2100,"));
	free(out);
	assert_int_equal(ts_int(s, "SELECT count(*) FROM batch_input"), 0);
}

/* A chunk is bounded in bytes as well as in lines, so a worker never
 * holds more than a few MiB of one upload: long lines make more chunks,
 * and a line longer than a line may be is kept cut short, in a chunk of
 * its own, and fails alone; every line keeps its number. */
static void batch_chunks_are_bounded_in_bytes(void **state)
{
	(void)state;
	struct error e;
	char job[UUID_LEN], *body = NULL;
	size_t n = 0;
	char *pad = xcalloc(60001, 1);
	memset(pad, 'x', 60000);
	char *huge = xcalloc(300001, 1);
	memset(huge, 'y', 300000);
	FILE *f = open_memstream(&body, &n);
	fputs(REQ("\"subject\":\"85073003328\",\"purpose\":\"rights\"") "\n", f);
	for (int i = 0; i < 150; i++)
		fprintf(f, "{\"pad\":\"%s\"}\n", pad);
	fprintf(f, "{\"huge\":\"%s\"}\r\n", huge);
	fputs(REQ("\"subject\":\"85073003328\",\"purpose\":\"rights\"") "\n", f);
	fclose(f);
	free(pad);
	free(huge);
	hub_close(h);
	struct hub_options o = {.batch_workers = 2, .batch_max_lines = 1000};
	snprintf(o.batch_dir, sizeof(o.batch_dir), "%s/batch", tmp.path);
	assert_int_equal(hub_open(s, log_, &o, &h, &e), 0);
	assert_int_equal(hub_batch_submit(h, &fund_who, body, n, job, &e), 0);
	free(body);
	struct hub_batch_status bs;
	wait_done(job, &bs);
	assert_string_equal(bs.status, "done");
	assert_int_equal(bs.total, 153);
	assert_int_equal(bs.granted, 2);
	/* 8 MiB hold 139 lines of 60 kB: the rest of them, the long line,
	 * the last line */
	assert_int_equal(ts_int(s, "SELECT chunks FROM batch_job"), 4);
	char *out;
	assert_int_equal(hub_batch_results(h, fund, job, &out, &n, &e), 0);
	const char *l152 = strstr(out, "\"line\":152,");
	assert_non_null(l152);
	assert_non_null(strstr(l152, "line_too_long"));
	assert_non_null(strstr(out, "\"line\":153,"));
	free(out);
}

/* A job accepted before the input moved into the database, whose file
 * this node does not have: with several nodes (PostgreSQL) the file may
 * be on another, which runs it; it is not failed here. One SQLite node has
 * every file: the job fails. */
static void batch_without_its_file_waits_for_its_node(void **state)
{
	(void)state;
	struct error e;
	hub_close(h);
	const char *job = "01a20000-0000-7000-8000-000000000002";
	static const char add_job[] =
		"INSERT INTO batch_job (id, institution_id, status, total, chunks,"
		" created_at) VALUES (?1, ?2, 'queued', 5, 1, 0)";
	put_row(add_job, job, true);
	struct hub_options o = {.batch_workers = 1};
	snprintf(o.batch_dir, sizeof(o.batch_dir), "%s/elsewhere", tmp.path);
	assert_int_equal(hub_open(s, log_, &o, &h, &e), 0);
	usleep(1500000); /* a worker looks at pending jobs every second */
	struct hub_batch_status bs;
	assert_int_equal(hub_batch_status(h, fund, job, &bs, &e), 0);
	assert_string_equal(bs.status, ts_pg() ? "queued" : "failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_a_request),
		cmocka_unit_test(parse_refusals),
		cmocka_unit_test(parse_limits),
		cmocka_unit_test(parse_keeps_what_it_read),
		cmocka_unit_test_setup_teardown(decision_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(routed_without_provider, setup, teardown),
		cmocka_unit_test_setup_teardown(mutations_reach_the_right_mailboxes, setup, teardown),
		cmocka_unit_test_setup_teardown(pension_reaches_only_pension_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(acknowledged_ids_are_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(upgraded_database_ids_start_past_the_old_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(past_date_answers_from_history, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_lines_fail_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_resumes_after_a_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_runs_on_another_node, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_chunks_are_bounded_in_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			batch_without_its_file_waits_for_its_node, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
