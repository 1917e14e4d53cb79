/*
 * witness: transparency-log witnesses (c2sp.org/tlog-witness), both sides.
 *
 * The witness side is a small server of its own (`kruispunt witness
 * serve`): for every log it follows (known by its origin and verifier
 * key) it keeps the latest checkpoint it cosigned, and cosigns a new one
 * (c2sp.org/tlog-cosignature, Ed25519, type 0x04) only once a consistency
 * proof shows that it extends that one. A log that shows two different
 * trees of the same size, or rewrites its history, gets a refusal and
 * never a cosignature: one honest witness is enough for a fork to show.
 * Its state is its own database (never the log's), and the check and the
 * update of a log's state are one write transaction, so two concurrent
 * submissions cannot roll a log back.
 *
 * The log side (witness_push_*) runs in the daemon: a thread that, after
 * the audit log signed a new checkpoint, sends it to every configured
 * witness with a consistency proof, checks the cosignature it gets back
 * against the witness's key and stores it with the checkpoint (src/audit);
 * /log/checkpoint then carries it. Appends never wait for a witness.
 *
 * Uses http (the witness's listener), audit (signed-note parsing, proof
 * verification; on the log side its checkpoints, proofs and the
 * cosignature table), store, base (+ libcurl, libsodium).
 */
#ifndef KP_WITNESS_H
#define KP_WITNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/base.h"
#include "http/http.h"
#include "store/store.h"

/* An add-checkpoint body: the old size line, at most 63 proof lines of 45
 * bytes, the checkpoint note. 16 KiB is several times that: the route is
 * open to anyone, so it is kept small. */
#define WITNESS_BODY_MAX (16 * 1024)
/* Proof lines an add-checkpoint request may carry (tlog-witness). */
#define WITNESS_PROOF_LINES_MAX 63
/* Signature lines a submitted checkpoint may carry. */
#define WITNESS_NOTE_SIGS_MAX 16
/* Logs one witness follows. */
#define WITNESS_LOGS_MAX 1024
/* Witnesses one log sends its checkpoints to. */
#define WITNESS_PEERS_MAX AUDIT_COSIGNERS_MAX
/* How often the log side looks for a new checkpoint to send, and how long
 * it waits for a witness by default. */
#define WITNESS_PUSH_INTERVAL_MS 1000
#define WITNESS_TIMEOUT_MS 5000
/* "— <name> <base64 of 76 bytes>\n" and the NUL. */
#define WITNESS_COSIG_LINE_MAX AUDIT_SIG_LINE_MAX

/* ------------------------------------------------------ the witness side */

/* The witness's own database: its name and the logs it follows. Its
 * migrations are numbered in that database alone (it holds no table of
 * the daemon's). */
extern const struct store_schema witness_schema;

/* Open (creating it) the witness database at path. Returns 0 and *out
 * (store_close), or -1 with e. */
int witness_db_open(const char *path, struct store **out, struct error *e);
/* Record the witness's name (its key name in cosignatures), once: a
 * second call with another name fails (ERR_CONFLICT "witness_named").
 * Returns 0, or -1 with e (ERR_INVALID "invalid_name"). */
int witness_name_set(struct store *s, const char *name, struct error *e);
/* Follow the log of vkey (its origin is the vkey's name, signature type
 * 0x01), or replace the key of an origin already followed (its state is
 * kept). Returns 0, or -1 with e (ERR_INVALID "invalid_vkey"). */
int witness_log_add(struct store *s, const char *vkey, struct error *e);

/* The verifier key of a witness: "<name>+<key ID>+base64(0x04 || pk)"
 * into out (AUDIT_VKEY_MAX bytes). Returns its length (0: too long). */
size_t witness_vkey(const char *name, const uint8_t pk[ED25519_PK_LEN],
		    char *out);

struct witness;

/* A witness over its database s (borrowed; closed by the caller after
 * witness_close) with its secret key sk (copied, wiped on close).
 * Returns 0 and *out, or -1 with e (no name recorded: "witness_unnamed"). */
int witness_open(struct store *s, const uint8_t sk[ED25519_SK_LEN],
		 struct witness **out, struct error *e);
void witness_close(struct witness *w);
/* Its name; lives as long as w. */
const char *witness_name(const struct witness *w);

/* What add-checkpoint answers; tlog-witness fixes the statuses. */
enum witness_outcome {
	WITNESS_COSIGNED = 0,  /* 200: answer.text is the cosignature line */
	WITNESS_MALFORMED,     /* 400: the body is no add-checkpoint body */
	WITNESS_UNKNOWN_LOG,   /* 404: no log of this origin is followed */
	WITNESS_BAD_SIGNATURE, /* 403: no signature of the log's key */
	WITNESS_OLD_TOO_LARGE, /* 400: old size > checkpoint size */
	WITNESS_OLD_MISMATCH,  /* 409: answer.size is the size cosigned */
	WITNESS_BAD_PROOF,     /* 422: the proof does not verify */
	WITNESS_FORK,          /* 409: same size, another root */
	WITNESS_FAILED,        /* 503: the database failed (answer.err) */
};

struct witness_answer {
	uint64_t size;                     /* WITNESS_OLD_MISMATCH */
	char text[WITNESS_COSIG_LINE_MAX]; /* WITNESS_COSIGNED */
	char detail[LIMIT_ERROR_DETAIL];   /* why, for refusals */
};

/* Check an add-checkpoint body (body[0..len)) and, when it extends what
 * this witness cosigned for its log, record it and cosign it: the check
 * and the update are one write transaction. */
enum witness_outcome witness_add_checkpoint(struct witness *w,
					    const char *body, size_t len,
					    struct witness_answer *answer);

/* Where `kruispunt witness serve` listens (paths as given: absolute, or
 * relative to the working directory). */
struct witness_listen {
	char address[64];
	int port; /* 0: any free port */
	char cert[LIMIT_PATH];
	char key[LIMIT_PATH];
};

/* Serve POST /add-checkpoint over HTTPS with w. Returns 0 and *out
 * (http_server_stop), or -1 with e. */
int witness_serve_start(struct witness *w, const struct witness_listen *l,
			struct http_server **out, struct error *e);

/* --------------------------------------------------------- cosignatures */

/* The cosignature of checkpoint text text[0..len) by (name, sk) at time
 * ts (POSIX seconds): "— <name> base64(key ID || ts || signature)",
 * without a newline, into out (WITNESS_COSIG_LINE_MAX bytes). Returns the
 * length, or 0 when it does not fit. */
size_t witness_cosign(const char *text, size_t len, const char *name,
		      const uint8_t sk[ED25519_SK_LEN], uint64_t ts,
		      char *out);
/* Is sig a valid cosignature of text[0..len) by (name, pk)? *ts gets its
 * timestamp. A signature of another name or key ID is simply not. */
bool witness_cosignature_verify(const struct audit_note_sig *sig,
				const char *text, size_t len,
				const char *name,
				const uint8_t pk[ED25519_PK_LEN], uint64_t *ts);

/* ---------------------------------------------------------- the log side */

/* The log's [audit] witness keys (witness_config.c). */
struct witness_config {
	/* "<vkey> <url>; <vkey> <url>": each witness's verifier key (type
	 * 0x04) and submission prefix. */
	char witnesses[4096];
	char ca_file[LIMIT_PATH]; /* CA of the witnesses' server certs */
	int timeout_ms;
};
extern const struct config_key witness_config_keys[];
extern const size_t witness_config_nkeys;

/* One witness of the log. */
struct witness_peer {
	char name[AUDIT_ORIGIN_MAX + 1];
	uint8_t pk[ED25519_PK_LEN];
	char url[LIMIT_URL]; /* its submission prefix */
};

/* Parse witness_config.witnesses into peers[0..*n). Returns 0, or -1 with
 * e (ERR_INVALID "config_invalid", naming the bad entry). */
int witness_peers_parse(const char *spec, struct witness_peer *peers,
			size_t max, size_t *n, struct error *e);

struct witness_push;

/* Start sending the log's new checkpoints to the configured witnesses
 * (none configured: nothing starts, *out is NULL). ca_file is resolved
 * already. Returns 0 and *out (witness_push_stop), or -1 with e. */
int witness_push_start(struct audit *a, const struct witness_config *cfg,
		       const char *ca_file, struct witness_push **out,
		       struct error *e);
/* Stop the thread (NULL: nothing) and free everything. */
void witness_push_stop(struct witness_push *p);

#endif
