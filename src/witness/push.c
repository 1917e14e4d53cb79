/*
 * The log side of tlog-witness: a thread that, once the audit log signed
 * a checkpoint no witness has seen, sends it to each configured witness
 * (POST <prefix>/add-checkpoint) with a consistency proof from the size
 * that witness cosigned last, checks the cosignature it gets back against
 * the witness's key, and stores it beside the checkpoint (src/audit).
 *
 * Off the append path: appends never wait for a witness, and a witness
 * that is down or refuses only delays its own cosignature (it is logged,
 * and tried again with the next checkpoint). Where a witness stands is
 * read from the stored cosignatures; a witness that knows better answers
 * 409 with its size, and the request is made once more from there.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "witness/witness.h"

/* A witness's answer: cosignature lines or a size, never much. */
#define ANSWER_MAX 4096

struct peer_state {
	struct witness_peer peer;
	uint64_t cosigned; /* the largest size it cosigned, as far as known */
	bool known;        /* cosigned was read from the store */
};

struct witness_push {
	struct audit *audit;
	struct peer_state peers[WITNESS_PEERS_MAX];
	size_t npeers;
	char ca_file[LIMIT_PATH];
	int timeout_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

/* One "<vkey> <url>" entry, e[0..n). */
static int peer_parse(const char *e, size_t n, struct witness_peer *p)
{
	char buf[AUDIT_VKEY_MAX + LIMIT_URL];
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, e, n);
	buf[n] = '\0';
	char *vkey = buf + strspn(buf, " \t");
	char *sp = strpbrk(vkey, " \t");
	if (!sp)
		return -1;
	*sp = '\0';
	char *url = sp + 1 + strspn(sp + 1, " \t");
	url[strcspn(url, " \t")] = '\0';
	size_t ul = strlen(url);
	while (ul > 0 && url[ul - 1] == '/')
		url[--ul] = '\0';
	if (strncmp(url, "https://", 8) != 0 || ul <= 8 ||
	    !str_copy(p->url, sizeof(p->url), url))
		return -1;
	return audit_vkey_parse(vkey, AUDIT_SIG_COSIGNATURE, p->name, p->pk);
}

int witness_peers_parse(const char *spec, struct witness_peer *peers,
			size_t max, size_t *n, struct error *e)
{
	*n = 0;
	for (const char *p = spec; *p;) {
		size_t len = strcspn(p, ";");
		bool blank = strspn(p, " \t") >= len;
		if (!blank && (*n == max || peer_parse(p, len, &peers[*n]) != 0))
			return err_set(e, ERR_INVALID, "config_invalid",
				       "audit.witnesses: entry %zu is not "
				       "\"<witness vkey> <https URL>\" (at most "
				       "%zu witnesses)", *n + 1, max);
		if (!blank)
			(*n)++;
		p += len + (p[len] == ';');
	}
	return 0;
}

/* ------------------------------------------------------------- one post */

struct answer {
	char data[ANSWER_MAX];
	size_t n;
};

static size_t collect(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct answer *b = ctx;
	size_t n = size * nmemb;
	if (n >= sizeof(b->data) - b->n)
		return 0; /* too long: curl fails the transfer */
	memcpy(b->data + b->n, p, n);
	b->n += n;
	b->data[b->n] = '\0';
	return n;
}

/* POST body to the witness; *status and the answer in b. Returns 0, or
 * -1 when no answer came (logged). */
static int post(const struct witness_push *w, const struct witness_peer *p,
		const char *body, size_t len, long *status, struct answer *b)
{
	char url[LIMIT_URL + 32];
	snprintf(url, sizeof(url), "%s/add-checkpoint", p->url);
	CURL *c = curl_easy_init();
	if (!c)
		return -1;
	struct curl_slist *hdr =
		curl_slist_append(NULL, "Content-Type: text/plain");
	b->n = 0;
	b->data[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_file);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		log_warn("witness %s (%s) did not answer: %s", p->name, p->url,
			 curl_easy_strerror(rc));
	return rc == CURLE_OK ? 0 : -1;
}

/* -------------------------------------------------------- one checkpoint */

/* The add-checkpoint body: the old size, the proof from it, a blank line,
 * the note. Returns it (caller frees) and *len, or NULL when the proof
 * cannot be made (logged). */
static char *request_body(struct witness_push *w, uint64_t old, uint64_t size,
			  const char *note, size_t nlen, size_t *len)
{
	struct audit_proof p = {.n = 0};
	struct error e;
	if (old > 0 && old < size &&
	    audit_proof_consistency(audit_store(w->audit),
				    audit_size(w->audit), old, size, &p,
				    &e) != 0) {
		log_warn("no consistency proof from %llu to %llu: %s",
			 (unsigned long long)old, (unsigned long long)size,
			 e.detail);
		return NULL;
	}
	enum { B64 = sodium_base64_ENCODED_LEN(SHA256_LEN,
					       sodium_base64_VARIANT_ORIGINAL) };
	size_t cap = 32 + (size_t)p.n * (B64 + 1) + nlen;
	char *b = xmalloc(cap);
	size_t n = (size_t)snprintf(b, cap, "old %llu\n",
				    (unsigned long long)old);
	for (int i = 0; i < p.n; i++) {
		sodium_bin2base64(b + n, B64, p.hash[i], SHA256_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
		n += B64 - 1;
		b[n++] = '\n';
	}
	b[n++] = '\n';
	memcpy(b + n, note, nlen);
	*len = n + nlen;
	return b;
}

/* Store every line of a 200 answer that is a valid cosignature of the
 * checkpoint's text by this witness; lines of other keys are ignored, as
 * tlog-witness says. Returns how many were stored. */
static int keep_cosignatures(struct witness_push *w,
			     const struct witness_peer *p, const char *text,
			     size_t tlen, uint64_t size, struct answer *b)
{
	int kept = 0;
	char *line = b->data;
	while (*line) {
		char *nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		struct audit_note_sig sig;
		uint64_t ts;
		struct error e;
		if (audit_note_sig_parse(line, (size_t)(nl - line), &sig) == 0 &&
		    witness_cosignature_verify(&sig, text, tlen, p->name, p->pk,
					       &ts)) {
			if (audit_cosignature_add(audit_store(w->audit), size,
						  p->name, line, &e) == 0)
				kept++;
			else
				log_warn("cosignature of %s not stored: %s",
					 p->name, e.detail);
		}
		line = nl + 1;
	}
	if (kept == 0)
		log_warn("security: witness %s answered without a valid "
			 "cosignature of its key", p->name);
	return kept;
}

/* A 409's body, "<size>\n": 0 and *size, or -1. */
static int size_answer(const struct answer *b, uint64_t *size)
{
	char *end;
	unsigned long long v = strtoull(b->data, &end, 10);
	if (end == b->data || b->data[0] < '0' || b->data[0] > '9' ||
	    strcmp(end, "\n") != 0)
		return -1;
	*size = v;
	return 0;
}

/* Send the checkpoint of size (note[0..nlen), text[0..tlen)) to one
 * witness; on a 409 that names its size, once more from there. */
static void push_one(struct witness_push *w, struct peer_state *ps,
		     const char *note, size_t nlen, size_t tlen, uint64_t size)
{
	struct witness_peer *p = &ps->peer;
	if (!ps->known &&
	    audit_cosigned_size(audit_store(w->audit), p->name,
				&ps->cosigned) != 0)
		return;
	ps->known = true;
	uint64_t old = ps->cosigned;
	for (int attempt = 0; attempt < 2 && ps->cosigned < size; attempt++) {
		size_t len;
		char *body = request_body(w, old, size, note, nlen, &len);
		long status = 0;
		struct answer *b = xmalloc(sizeof(*b));
		int rc = body ? post(w, p, body, len, &status, b) : -1;
		free(body);
		uint64_t theirs;
		if (rc == 0 && status == 200) {
			keep_cosignatures(w, p, note, tlen, size, b);
			ps->cosigned = size;
		} else if (rc == 0 && status == 409 && attempt == 0 &&
			   size_answer(b, &theirs) == 0 && theirs != old &&
			   theirs <= size) {
			old = theirs;
		} else {
			if (rc == 0)
				log_warn("witness %s refused the checkpoint "
					 "of size %llu (from %llu): %ld",
					 p->name, (unsigned long long)size,
					 (unsigned long long)old, status);
			attempt = 2;
		}
		free(b);
	}
}

/* One round: the newest checkpoint to every witness that lacks it. */
static void push_round(struct witness_push *w)
{
	char *note = xmalloc(AUDIT_NOTE_MAX);
	uint64_t size = 0;
	size_t n = audit_checkpoint_note(w->audit, note, &size);
	size_t tlen, nsigs;
	struct audit_note_sig *sigs =
		xmalloc(sizeof(*sigs) * (AUDIT_COSIGNERS_MAX + 1));
	if (n > 0 && size > 0 &&
	    audit_note_parse(note, n, &tlen, sigs, AUDIT_COSIGNERS_MAX + 1,
			     &nsigs) == 0)
		for (size_t i = 0; i < w->npeers; i++)
			push_one(w, &w->peers[i], note, n, tlen, size);
	free(sigs);
	free(note);
}

/* ------------------------------------------------------------ the thread */

static void *run(void *arg)
{
	struct witness_push *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		pthread_mutex_unlock(&w->mu);
		push_round(w);
		pthread_mutex_lock(&w->mu);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)WITNESS_PUSH_INTERVAL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (!w->stop)
			pthread_cond_timedwait(&w->cv, &w->mu, &until);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int witness_push_start(struct audit *a, const struct witness_config *cfg,
		       const char *ca_file, struct witness_push **out,
		       struct error *e)
{
	struct witness_peer peers[WITNESS_PEERS_MAX];
	size_t n;
	*out = NULL;
	if (witness_peers_parse(cfg->witnesses, peers, WITNESS_PEERS_MAX, &n,
				e) != 0)
		return -1;
	if (n == 0)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, ERR_INTERNAL, "curl_init_failed",
			       "libcurl cannot start");
	struct witness_push *w = xmalloc(sizeof(*w));
	memset(w, 0, sizeof(*w));
	w->audit = a;
	w->npeers = n;
	for (size_t i = 0; i < n; i++)
		w->peers[i].peer = peers[i];
	str_copy(w->ca_file, sizeof(w->ca_file), ca_file);
	w->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms
					    : WITNESS_TIMEOUT_MS;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		curl_global_cleanup();
		return err_set(e, ERR_INTERNAL, "thread_failed",
			       "cannot start the witness thread");
	}
	*out = w;
	return 0;
}

void witness_push_stop(struct witness_push *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	curl_global_cleanup();
}
