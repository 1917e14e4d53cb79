/*
 * hub: the crossroads (seed 004, sections 3.5 and 4.1-4.4). Institutions
 * never read each other's databases: every exchange of personal data goes
 * through the hub, which checks it before it happens (preventive access
 * control), routes it to the authentic source, stamps it with a unique
 * ticket, acknowledges it only once its audit event is durable, and logs
 * it, granted or refused.
 *
 * The decision, in this order, each refusal with its own stable code:
 *   1. well-formed: JSON object, valid INSZ, a data type, a capacity code,
 *      a purpose; then the data type is known and the capacity is one of
 *      the requester's branch;
 *   2. an authorization covers (requester actor type, capacity, data
 *      type, purpose) on the reference date (src/authz);
 *   3. the requester holds a dossier on the subject in that capacity
 *      covering the reference date, at the phase the authorization
 *      requires (src/directory);
 *   4. the subject exists (src/registry).
 * Only then is the request routed: identification data from the registers
 * the hub holds itself, anything else to the provider endpoint of the
 * institution that is its authentic source for this person.
 *
 * Mutations recorded by the registers are forwarded to the mailboxes of
 * the institutions that hold a dossier on the person today and are
 * authorized for identification data (mailbox.c). Batches run the same
 * decision per line in the background (batch.c).
 */
#ifndef KP_HUB_H
#define KP_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

struct hub_options {
	/* The hub's own identity towards providers (mutual TLS), and the CA
	 * their server certificates chain to. Empty: providers unreachable
	 * (exchanges that need one answer 502 provider_unavailable). */
	char client_cert[LIMIT_PATH];
	char client_key[LIMIT_PATH];
	char provider_ca[LIMIT_PATH];
	int provider_timeout_ms;  /* 0: HUB_PROVIDER_TIMEOUT_MS */
	int provider_concurrency; /* requests in flight per provider; 0:
				   * HUB_PROVIDER_CONCURRENCY */
	int batch_max_lines;      /* 0: HUB_BATCH_MAX_LINES */
	int batch_workers;        /* chunks run at once (each keeps its 1000
				   * lines in flight); 0: HUB_BATCH_WORKERS */
	char batch_dir[LIMIT_PATH]; /* where an older kruispunt kept batch
				     * inputs (moved into the database) */
};

/* The institution asking, as its client certificate identified it. */
struct hub_requester {
	int64_t institution_id;
	const char *kbo;
	const char *actor_type;
	const char *branch;
	/* The natural person on whose behalf the institution's system asks
	 * (an INSZ, vouched for by the institution), or NULL: recorded in
	 * each event and passed on to the provider. */
	const char *user;
};

struct hub;

/* Start the hub: the provider client, the mutation forwarder and the
 * batch workers (jobs interrupted by a stop resume). Returns 0 and *out
 * (hub_close), or -1 with e. */
int hub_open(struct store *s, struct audit *audit,
	     const struct hub_options *opt, struct hub **out, struct error *e);
/* Stop the workers after their current line or message; free. */
void hub_close(struct hub *h);

/* ------------------------------------------------------------- exchange */

/* Called when an exchange is answered: rc 0 with data (the callee owns
 * it), or -1 with e; legal_basis is the authorization's reference ("" when
 * none was found). It runs on the audit log's thread (or on the caller's,
 * before hub_exchange_async returns, when the event could not even be
 * queued): be quick. */
typedef void (*hub_done_fn)(void *ctx, int rc, json_t *data,
			    const char *legal_basis, const struct error *e);

/* One exchange, the only path: body is the request as received (JSON
 * object {data_type, subject, capacity, purpose, reference_date?,
 * params?}), len its size, needed only until this returns; channel is
 * AUDIT_CHANNEL_NETWORK or AUDIT_CHANNEL_BATCH; who's strings must live
 * until done is called. ticket receives the exchange's ticket (UUIDv7)
 * before anything else, granted or not. Decides on this thread, asks a
 * provider on the hub's own workers, and calls done(ctx, ...) once the
 * exchange's audit event is durable, so a server can suspend the request
 * instead of holding a thread.
 *
 * The answer: 0 with the authentic source's data. Otherwise -1 with e:
 * ERR_MALFORMED "malformed_request"; ERR_INVALID "invalid_insz",
 * "unknown_data_type", "unknown_capacity", "invalid_field"; ERR_FORBIDDEN
 * "not_authorized" (and the finer "capacity_not_authorized",
 * "purpose_not_authorized", "authorization_not_valid"), "no_dossier",
 * "phase_too_low"; ERR_NOT_FOUND "unknown_person", "no_authentic_source";
 * ERR_UPSTREAM "provider_unavailable" / "provider_failed"; ERR_TIMEOUT
 * "provider_timeout"; ERR_UNAVAILABLE "provider_busy" or
 * "audit_unavailable". The request's own syntax is checked before any
 * name in it is looked up. Every outcome is a durable audit event before
 * done is called; when it cannot be made durable the answer is
 * "audit_unavailable" and no data leaves. */
void hub_exchange_async(struct hub *h, const struct hub_requester *who,
			const char *channel, const char *body, size_t len,
			char ticket[UUID_LEN], hub_done_fn done, void *ctx);

/* hub_exchange_async on the network channel, waiting for its answer: for
 * tests and callers without a server. Returns 0 and *data (caller
 * json_decref's it) with legal_basis, or -1 with e; ticket as above. */
int hub_exchange(struct hub *h, const struct hub_requester *who,
		 const char *body, size_t len, char ticket[UUID_LEN],
		 json_t **data, char legal_basis[64], struct error *e);

/* ------------------------------------------------------------ mailboxes */

struct hub_message {
	int64_t id;
	char ticket[UUID_LEN];
	char type[16];        /* address, death, birth, name */
	char subject[INSZ_BUF];
	char *data;           /* JSON text (owned) */
	int64_t created_at;
};

/* Wake the forwarder: a mutation was recorded (it also polls). */
void hub_mutation_recorded(struct hub *h);
/* Forward every mutation recorded since the last call, now (the
 * forwarder does this on its own; tests and the CLI call it directly).
 * Returns the number of messages queued, or -1 with e. */
int hub_forward_mutations(struct hub *h, struct error *e);
/* An institution's unacknowledged messages with id > after, oldest
 * first, at most limit (<= 1000). Ids increase for ever and are never
 * given twice, acknowledged or not, so after= the last id seen misses
 * nothing. *next is the cursor to read on from: the last message's id,
 * or for an empty page the larger of after and the last id this mailbox
 * was ever given (it never goes back). *out is an array the caller frees
 * with hub_messages_free. Returns 0, or -1 with e. */
int hub_mailbox(struct hub *h, int64_t institution_id, int64_t after,
		int limit, struct hub_message **out, int *n, int64_t *next,
		struct error *e);
void hub_messages_free(struct hub_message *m, int n);
/* The institution who acknowledges (removes) its messages with id <=
 * up_to, recorded with the removal in one transaction ("mailbox_ack",
 * purpose "up to <id>, <n> removed"). Returns the number removed, or -1
 * with e ("audit_unavailable", "store_unavailable"). */
int64_t hub_mailbox_ack(struct hub *h, const struct hub_requester *who,
			int64_t up_to, struct error *e);

/* ---------------------------------------------------------------- batch */

struct hub_batch_status {
	char job[UUID_LEN];
	char status[16]; /* queued, running, done, failed */
	int64_t total, done, granted, refused;
	int64_t created_at, finished_at;
};

/* The non-blank lines of NDJSON text p[0..n) (no NUL needed): calls
 * fn(ctx, offset, length, 1-based line number) for each, when fn is not
 * NULL, and returns how many there are. A line ends at "\n" or "\r\n". */
int64_t hub_ndjson_lines(const char *p, size_t n,
			 void (*fn)(void *ctx, size_t off, size_t len,
				    int64_t line_no),
			 void *ctx);

/* Queue a batch: NDJSON, one exchange request per line (blank lines are
 * ignored; a malformed line fails that line only). Returns 0 and job,
 * or -1 with e (ERR_INVALID "too_many_lines", "empty_batch",
 * ERR_TOO_LARGE). */
int hub_batch_submit(struct hub *h, const struct hub_requester *who,
		     const char *body, size_t len, char job[UUID_LEN],
		     struct error *e);
/* A job's progress; only its institution sees it. Returns 0, or -1 with
 * e (ERR_NOT_FOUND "unknown_job"). */
int hub_batch_status(struct hub *h, int64_t institution_id, const char *job,
		     struct hub_batch_status *out, struct error *e);
/* The results so far, NDJSON in line order: {"line", "ticket", "status",
 * "code"?, "data"?} per line. *out (caller frees), *n its length.
 * Returns 0, or -1 with e. */
int hub_batch_results(struct hub *h, int64_t institution_id, const char *job,
		      char **out, size_t *n, struct error *e);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (hub_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema hub_schema;

/* ------------------------------------------------------------- config */

/* The hub's defaults, for a zero field of hub_options and for the [hub]
 * keys alike. Seed 004: the network answers online exchanges end to end
 * within 4 s. */
#define HUB_PROVIDER_TIMEOUT_MS 4000
#define HUB_PROVIDER_CONCURRENCY 16
#define HUB_BATCH_MAX_LINES 1000000
#define HUB_BATCH_WORKERS 4

/* [hub], as the operator writes it (hub_config.c): paths relative to the
 * data directory, which src/cli resolves into hub_options. */
struct hub_config {
	char client_cert[LIMIT_PATH];
	char client_key[LIMIT_PATH];
	char provider_ca[LIMIT_PATH];
	int provider_timeout_ms;
	int provider_concurrency;
	int batch_max_lines;
	int batch_workers;
};
extern const struct config_key hub_config_keys[];
extern const size_t hub_config_nkeys;

#endif
