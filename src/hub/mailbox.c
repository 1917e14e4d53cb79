/*
 * Mutation forwarding (seed 004 section 4.4): every change the registers
 * record (person_mutation) goes to the mailbox of each institution that
 * holds a dossier on the person today AND is authorized for identification
 * data in that capacity — nobody else. Institutions read their mailbox
 * "when they wish" and acknowledge what they have.
 *
 * The forwarder reads person_mutation after its cursor, so a mutation made
 * by any process (the daemon, an operator command) is forwarded, and a
 * crash loses nothing: each forwarded message is audited first, then the
 * messages and the new cursor commit together. A crash between the two
 * forwards again (a second audit event, never an unaudited message).
 */
#include <stdlib.h>
#include <string.h>

#include "hub/hub_internal.h"
#include "authz/authz.h"
#include "directory/directory.h"

#define FORWARD_BATCH 256
_Static_assert(HUB_MAX_HOLDINGS <= AUDIT_COMMIT_MAX,
	       "a mutation's messages are recorded in one audit_commit");
#define MUTATION_DATA_TYPE "identification"

static const char sql_cursor[] =
	"SELECT value FROM hub_cursor WHERE name = 'mutations'";
static const char sql_cursor_set[] =
	"INSERT INTO hub_cursor (name, value) VALUES ('mutations', ?1) "
	"ON CONFLICT (name) DO UPDATE SET value = ?1";
static const char sql_mutations[] =
	"SELECT id, insz, type, ticket, effective_on, coalesce(after, '{}') "
	"FROM person_mutation WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char sql_message_add[] =
	"INSERT INTO mailbox_message (institution_id, ticket, mutation_id, type, "
	"subject, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
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
	int k = 0;
	for (int i = 0; i < n; i++) {
		bool seen = false;
		for (int j = 0; j < k && !seen; j++)
			seen = out[j].institution_id == hold[i].institution_id;
		struct org_institution inst;
		if (seen || org_institution_get(h->store, hold[i].institution_id,
						&inst) != 0 ||
		    authz_decide(h->store, inst.actor_type, hold[i].capacity,
				 MUTATION_DATA_TYPE, NULL, today,
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
			.data_type = MUTATION_DATA_TYPE,
			.purpose = m->type,
			.ticket = g->ticket,
			.outcome = AUDIT_GRANTED,
		};
	}
	return k;
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
	for (int i = 0; i < f->n && rc == 0; i++) {
		struct store_stmt *st = store_prepare(w, sql_message_add);
		store_bind_int(st, 1, f->msg[i].institution_id);
		store_bind_text(st, 2, f->msg[i].ticket);
		store_bind_int(st, 3, f->msg[i].mutation_id);
		store_bind_text(st, 4, f->msg[i].m->type);
		store_bind_text(st, 5, f->msg[i].m->insz);
		store_bind_text(st, 6, f->msg[i].data);
		store_bind_int(st, 7, now);
		rc = store_run(st, NULL, e);
	}
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

int hub_mailbox(struct hub *h, int64_t institution_id, int64_t after,
		int limit, struct hub_message **out, int *n, struct error *e)
{
	struct store_conn *r = store_reader(h->store);
	if (!r)
		return store_fail(e, "try again");
	if (limit < 1 || limit > 1000)
		limit = 1000;
	*out = xcalloc((size_t)limit, sizeof(**out));
	*n = 0;
	struct store_stmt *st = store_prepare(r, sql_mailbox);
	store_bind_int(st, 1, institution_id);
	store_bind_int(st, 2, after);
	store_bind_int(st, 3, limit);
	while (*n < limit && store_step(st) == STORE_ROW) {
		struct hub_message *m = &(*out)[(*n)++];
		m->id = store_col_int(st, 0);
		str_copy(m->ticket, sizeof(m->ticket), store_col_text(st, 1));
		str_copy(m->type, sizeof(m->type), store_col_text(st, 2));
		str_copy(m->subject, sizeof(m->subject), store_col_text(st, 3));
		m->data = xstrdup(store_col_text(st, 4));
		m->created_at = store_col_int(st, 5);
	}
	store_done(st);
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
	struct store_stmt *st = store_prepare(w, sql_ack);
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
		.action = "mailbox_ack",
		.data_type = "mailbox",
		.outcome = AUDIT_GRANTED,
	};
	if (audit_commit(h->audit, &ev, 1, ack_change, &c, e) != 0)
		return -1;
	return c.removed;
}
