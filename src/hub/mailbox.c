/*
 * Mutation forwarding (seed 004 section 4.4): every change the registers
 * record (person_mutation) goes to the mailbox of each institution that
 * holds a dossier on the person today AND is authorized in that capacity
 * for the data the mutation discloses (registry_mutation_data_type:
 * identification data, or for a pension the pension status) — nobody
 * else. An institution entitled to who a person is and where they live
 * is not thereby entitled to know that they are retired. Institutions
 * read their mailbox "when they wish" and acknowledge what they have.
 *
 * The forwarder reads person_mutation after its cursor, so a mutation made
 * by any process (the daemon, an operator command) is forwarded, and a
 * crash loses nothing: a mutation's messages, their audit events and the
 * new cursor commit together (audit_commit).
 */
#include <stdlib.h>
#include <string.h>

#include "hub/hub_internal.h"
#include "authz/authz.h"
#include "directory/directory.h"
#include "registry/registry.h"

#define FORWARD_BATCH 256
_Static_assert(HUB_MAX_HOLDINGS <= AUDIT_COMMIT_MAX,
	       "a mutation's messages are recorded in one audit_commit");
/* A mailbox's mark in hub_cursor: "mailbox:" and an int64. */
#define MARK_NAME_LEN 32

static const char sql_cursor[] =
	"SELECT value FROM hub_cursor WHERE name = 'mutations'";
static const char sql_cursor_set[] =
	"INSERT INTO hub_cursor (name, value) VALUES ('mutations', ?1) "
	"ON CONFLICT (name) DO UPDATE SET value = ?1";
static const char sql_mutations[] =
	"SELECT id, insz, type, ticket, effective_on, coalesce(after, '{}') "
	"FROM person_mutation WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char sql_message_add[] =
	"INSERT INTO mailbox_message (id, institution_id, ticket, mutation_id, "
	"type, subject, data, created_at) VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/*
 * Message ids are an institution's cursor (GET /api/v1/mailbox?after=N),
 * so an id is never given twice, even once its message is acknowledged
 * and removed. They were a plain rowid, which SQLite reuses once the
 * newest row is deleted: acknowledging the newest message made the next
 * one take its id, and a client reading after= that id never saw it (a
 * death, an address change it must act on).
 *
 * One counter row in hub_cursor hands out the ids, moved in the
 * transaction that inserts the message. Rather than AUTOINCREMENT (a
 * table rebuild on SQLite, a sequence on PostgreSQL, whose values commit
 * out of order under concurrent writers, which a reader's cursor would
 * skip): a row every forward updates serializes the forwards on any
 * backend, so ids become visible in increasing order. Rather than a
 * counter per mailbox: ids stay unique across mailboxes (the table's key)
 * and a message costs one counter update, plus its mailbox's mark below.
 *
 * A database the plain rowids wrote has no counter yet; its first id must
 * be past every id those could have given. SQLite gave max(rowid) + 1,
 * so no id ever exceeded the number of messages ever inserted, and one
 * mutation never made more than HUB_MAX_HOLDINGS (64 since mailboxes
 * exist; the bound only grows if it is raised): with the forwarder's
 * cursor at c, c * HUB_MAX_HOLDINGS bounds them all.
 */
static const char sql_id_next[] =
	"UPDATE hub_cursor SET value = value + 1 WHERE name = 'mailbox_ids' "
	"RETURNING value";
static const char sql_id_first[] =
	"INSERT INTO hub_cursor (name, value) SELECT 'mailbox_ids', 1 + max(v) "
	"FROM (SELECT coalesce(max(id), 0) AS v FROM mailbox_message "
	"UNION ALL SELECT ?1 * coalesce((SELECT value FROM hub_cursor "
	"WHERE name = 'mutations'), 0)) AS bound "
	"RETURNING value";
/* Each mailbox's mark, the last id it was given ("mailbox:<institution
 * id>"): an empty mailbox answers it as next, so a reader's cursor never
 * goes back, and no institution learns the hub-wide counter from it. */
static const char sql_mark_set[] =
	"INSERT INTO hub_cursor (name, value) VALUES (?1, ?2) "
	"ON CONFLICT (name) DO UPDATE SET value = ?2";
static const char sql_mark[] = "SELECT value FROM hub_cursor WHERE name = ?1";
static const char sql_mailbox[] =
	"SELECT id, ticket, type, subject, data, created_at FROM mailbox_message "
	"WHERE institution_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
static const char sql_ack[] =
	"DELETE FROM mailbox_message WHERE institution_id = ?1 AND id <= ?2";

struct mutation {
	int64_t id;
	char insz[INSZ_BUF];
	char type[16];
	char ticket[UUID_LEN];
	char effective_on[DATE_LEN];
	char *after; /* JSON text */
};

struct message {
	int64_t institution_id;
	char kbo[11];
	int64_t mutation_id;
	char ticket[UUID_LEN];
	const struct mutation *m;
	char *data;
};

/* The last mutation forwarded into *after (0 before the first). Returns
 * 0, or -1 when it cannot be read: starting over from 0 would forward
 * every mutation again. */
static int cursor(struct store_conn *r, int64_t *after)
{
	struct store_stmt *st = store_prepare(r, sql_cursor);
	*after = 0;
	return store_one(st, store_read_int, after, NULL) < 0 ? -1 : 0;
}

static int read_mutations(struct hub *h, int64_t after, struct mutation *m)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_mutations);
	store_bind_int(st, 1, after);
	store_bind_int(st, 2, FORWARD_BATCH);
	int n = 0;
	while (n < FORWARD_BATCH && store_step(st) == STORE_ROW) {
		m[n].id = store_col_int(st, 0);
		str_copy(m[n].insz, sizeof(m[n].insz), store_col_text(st, 1));
		str_copy(m[n].type, sizeof(m[n].type), store_col_text(st, 2));
		str_copy(m[n].ticket, sizeof(m[n].ticket), store_col_text(st, 3));
		str_copy(m[n].effective_on, sizeof(m[n].effective_on),
			 store_col_text(st, 4));
		m[n].after = xstrdup(store_col_text(st, 5));
		n++;
	}
	store_done(st);
	return n;
}

/* The institutions that receive m: one message each, however many of
 * their dossiers on the person qualify. The messages go into out (at most
 * HUB_MAX_HOLDINGS), each with the audit event that names its receiver
 * (an institution learns personal data through its mailbox) into evs. Returns their number; the
 * caller frees each out[i].data. */
static int recipients(struct hub *h, const struct mutation *m, int64_t today,
		      struct message *out, struct audit_event *evs)
{
	struct directory_holding hold[HUB_MAX_HOLDINGS];
	int n = directory_holdings(h->store, m->insz, today, hold,
				   HUB_MAX_HOLDINGS);
	const char *data_type = registry_mutation_data_type(m->type);
	int k = 0;
	for (int i = 0; i < n; i++) {
		bool seen = false;
		for (int j = 0; j < k && !seen; j++)
			seen = out[j].institution_id == hold[i].institution_id;
		struct org_institution inst;
		if (seen || org_institution_get(h->store, hold[i].institution_id,
						&inst) != 0 ||
		    authz_decide(h->store, inst.actor_type, hold[i].capacity,
				 data_type, NULL, today,
				 NULL) != AUTHZ_GRANTED)
			continue;
		struct message *g = &out[k];
		memset(g, 0, sizeof(*g));
		g->institution_id = inst.id;
		str_copy(g->kbo, sizeof(g->kbo), inst.kbo);
		g->mutation_id = m->id;
		g->m = m;
		uuid7_new(g->ticket);
		json_error_t je;
		json_t *after = json_loads(m->after, 0, &je);
		json_t *d = json_pack("{s:s,s:s,s:o}", "mutation_ticket",
				      m->ticket, "effective_on", m->effective_on,
				      "person", after ? after : json_object());
		g->data = jsonx_dump(d);
		json_decref(d);
		evs[k++] = (struct audit_event){
			.channel = AUDIT_CHANNEL_NETWORK,
			.actor = g->kbo,
			.subject = m->insz,
			.action = "mutation_forward",
			.data_type = data_type,
			.purpose = m->type,
			.ticket = g->ticket,
			.outcome = AUDIT_GRANTED,
		};
	}
	return k;
}

/* The next message id into *id (see sql_id_next). Returns 0, or -1 with
 * e. */
static int message_id(struct store_conn *w, int64_t *id, struct error *e)
{
	int rc = store_one(store_prepare(w, sql_id_next), store_read_int, id, e);
	if (rc != 1)
		return rc;
	struct store_stmt *st = store_prepare(w, sql_id_first);
	store_bind_int(st, 1, HUB_MAX_HOLDINGS);
	return store_insert(st, id, NULL, e) == 0 ? 0 : -1;
}

static void mark_name(int64_t institution_id, char name[MARK_NAME_LEN])
{
	snprintf(name, MARK_NAME_LEN, "mailbox:%lld",
		 (long long)institution_id);
}

/* Add a message with the next id, and make that id its mailbox's mark. */
static int message_add(struct store_conn *w, const struct message *g,
		       int64_t now, struct error *e)
{
	int64_t id;
	if (message_id(w, &id, e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_message_add);
	store_bind_int(st, 1, g->institution_id);
	store_bind_text(st, 2, g->ticket);
	store_bind_int(st, 3, g->mutation_id);
	store_bind_text(st, 4, g->m->type);
	store_bind_text(st, 5, g->m->insz);
	store_bind_text(st, 6, g->data);
	store_bind_int(st, 7, now);
	store_bind_int(st, 8, id);
	if (store_run(st, NULL, e) != 0)
		return -1;
	char name[MARK_NAME_LEN];
	mark_name(g->institution_id, name);
	st = store_prepare(w, sql_mark_set);
	store_bind_text(st, 1, name);
	store_bind_int(st, 2, id);
	return store_run(st, NULL, e);
}

/* One mutation's messages and the cursor past it. */
struct forward {
	struct message *msg;
	int n;
	int64_t cursor;
};

static int forward_change(struct store_conn *w, void *ctx,
			  struct audit_event *evs, size_t nev, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(nev);
	struct forward *f = ctx;
	int64_t now = time_now();
	int rc = 0;
	for (int i = 0; i < f->n && rc == 0; i++)
		rc = message_add(w, &f->msg[i], now, e);
	if (rc == 0) {
		struct store_stmt *st = store_prepare(w, sql_cursor_set);
		store_bind_int(st, 1, f->cursor);
		rc = store_run(st, NULL, e);
	}
	return rc;
}

/* Forward one mutation: its messages, their events and the cursor in one
 * transaction, so that a crash neither loses a message nor records one
 * that was never written. Returns the number of messages, or -1 with e. */
static int forward_one(struct hub *h, const struct mutation *m, int64_t today,
		       struct error *e)
{
	struct message msg[HUB_MAX_HOLDINGS];
	struct audit_event evs[HUB_MAX_HOLDINGS];
	int k = recipients(h, m, today, msg, evs);
	struct forward f = {msg, k, m->id};
	int rc;
	if (k > 0) {
		rc = audit_commit(h->audit, evs, (size_t)k, forward_change, &f, e);
	} else {
		/* Nobody to tell: only the cursor moves, no data leaves. */
		struct store_conn *w = store_write_begin(h->store, e);
		rc = w ? store_write_end(h->store,
					 forward_change(w, &f, NULL, 0, e), e)
		       : -1;
	}
	for (int i = 0; i < k; i++)
		free(msg[i].data);
	return rc == 0 ? k : -1;
}

int hub_forward_mutations(struct hub *h, struct error *e)
{
	static struct mutation m[FORWARD_BATCH];
	static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&one); /* one forwarder at a time: the cursor */
	struct store_conn *r = store_reader(h->store);
	int64_t after = 0;
	int n = r && cursor(r, &after) == 0 ? read_mutations(h, after, m) : -1;
	int queued = n < 0 ? store_fail(e, "mutations cannot be read now") : 0;
	int64_t today = date_to_days(date_today());
	for (int i = 0; i < n && queued >= 0; i++) {
		int k = forward_one(h, &m[i], today, e);
		queued = k < 0 ? -1 : queued + k;
	}
	for (int i = 0; i < n; i++)
		free(m[i].after);
	pthread_mutex_unlock(&one);
	return queued;
}

/* ------------------------------------------------------------ forwarder */

void hub_mutation_recorded(struct hub *h)
{
	pthread_mutex_lock(&h->mu);
	h->kicked = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->mu);
}

static void *forwarder_main(void *arg)
{
	struct hub *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->stopping) {
		h->kicked = false;
		pthread_mutex_unlock(&h->mu);
		struct error e;
		int n;
		/* Until the backlog is gone (a batch holds FORWARD_BATCH). */
		while ((n = hub_forward_mutations(h, &e)) > 0)
			;
		if (n < 0)
			log_warn("mutation forwarding: %s (will retry)", e.detail);
		pthread_mutex_lock(&h->mu);
		if (h->kicked || h->stopping)
			continue;
		/* Also poll: an operator command may record mutations. */
		struct timespec until;
		time_deadline(&until, 1000);
		pthread_cond_timedwait(&h->wake, &h->mu, &until);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int mailbox_start(struct hub *h, struct error *e)
{
	if (pthread_create(&h->forwarder, NULL, forwarder_main, h) != 0)
		return err_set(e, ERR_INTERNAL, "hub_failed",
			       "cannot start the mutation forwarder");
	return 0;
}

void mailbox_stop(struct hub *h)
{
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_cond_broadcast(&h->wake);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->forwarder, NULL);
}

/* ------------------------------------------------------------- mailbox */

/* The page of messages after `after` into out (at most limit). */
static int mailbox_page(struct store_conn *r, int64_t institution_id,
			int64_t after, int limit, struct hub_message *out)
{
	struct store_stmt *st = store_prepare(r, sql_mailbox);
	store_bind_int(st, 1, institution_id);
	store_bind_int(st, 2, after);
	store_bind_int(st, 3, limit);
	int n = 0;
	while (n < limit && store_step(st) == STORE_ROW) {
		struct hub_message *m = &out[n++];
		m->id = store_col_int(st, 0);
		str_copy(m->ticket, sizeof(m->ticket), store_col_text(st, 1));
		str_copy(m->type, sizeof(m->type), store_col_text(st, 2));
		str_copy(m->subject, sizeof(m->subject), store_col_text(st, 3));
		m->data = xstrdup(store_col_text(st, 4));
		m->created_at = store_col_int(st, 5);
	}
	store_done(st);
	return n;
}

int hub_mailbox(struct hub *h, int64_t institution_id, int64_t after,
		int limit, struct hub_message **out, int *n, int64_t *next,
		struct error *e)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return store_fail(e, "try again");
	if (limit < 1 || limit > 1000)
		limit = 1000;
	/* The mark is read first (and on one snapshot when it can be): a
	 * message committed after it has a larger id, so answering the mark
	 * for an empty page skips nothing. */
	bool snapshot = store_read_begin(h->store) == 0;
	char name[MARK_NAME_LEN];
	mark_name(institution_id, name);
	struct store_stmt *st = store_prepare(r, sql_mark);
	store_bind_text(st, 1, name);
	int64_t mark = 0;
	int rc = store_one(st, store_read_int, &mark, e);
	*out = xcalloc((size_t)limit, sizeof(**out));
	*n = rc < 0 ? 0 : mailbox_page(r, institution_id, after, limit, *out);
	if (snapshot)
		store_read_end(h->store);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*next = *n ? (*out)[*n - 1].id : (mark > after ? mark : after);
	return 0;
}

void hub_messages_free(struct hub_message *m, int n)
{
	for (int i = 0; i < n; i++)
		free(m[i].data);
	free(m);
}

struct ack {
	int64_t institution_id, up_to, removed;
	char what[64];
};

static int ack_change(struct store_conn *w, void *ctx, struct audit_event *evs,
		      size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct ack *c = ctx;
	/* Nobody acknowledges what was never given: a client that then kept
	 * such an up_to as its cursor would skip the messages given after. */
	char name[MARK_NAME_LEN];
	mark_name(c->institution_id, name);
	int64_t mark = 0;
	struct store_stmt *st = store_prepare(w, sql_mark);
	store_bind_text(st, 1, name);
	if (store_one(st, store_read_int, &mark, e) < 0)
		return -1;
	if (c->up_to > mark)
		return err_set(e, ERR_INVALID, "ack_beyond_newest",
			       "up_to %lld is past the newest message this "
			       "mailbox was given (%lld): acknowledge up to "
			       "the next you read", (long long)c->up_to,
			       (long long)mark);
	st = store_prepare(w, sql_ack);
	store_bind_int(st, 1, c->institution_id);
	store_bind_int(st, 2, c->up_to);
	int rc = store_run(st, NULL, e);
	c->removed = rc == 0 ? store_changes(w) : 0;
	snprintf(c->what, sizeof(c->what), "up to %lld, %lld removed",
		 (long long)c->up_to, (long long)c->removed);
	evs[0].purpose = c->what;
	return rc;
}

int64_t hub_mailbox_ack(struct hub *h, const struct hub_requester *who,
			int64_t up_to, struct error *e)
{
	struct ack c = {who->institution_id, up_to, 0, ""};
	struct audit_event ev = {
		.channel = AUDIT_CHANNEL_NETWORK,
		.actor = who->kbo,
		.user = who->user,
		.action = "mailbox_ack",
		.data_type = "mailbox",
		.outcome = AUDIT_GRANTED,
	};
	if (audit_commit(h->audit, &ev, 1, ack_change, &c, e) != 0)
		return -1;
	return c.removed;
}
