/* The outbox and its delivery worker. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "notify/notify.h"

struct notify {
	struct store *store;
	struct notify_options opt;
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stopping;
};

static const char sql_put[] =
	"INSERT INTO outbox (channel, recipient, subject, body, attempts, "
	"next_at, created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)";
/* Take up to 16 due messages for this node: each is leased until ?2 (its
 * next_at moved there), in a write, so that a second node (they share a
 * PostgreSQL database) does not take it too; a node that dies while
 * sending leaves it to whichever node finds it due again when the lease
 * ends. */
/* Longer than a delivery may take (libcurl's timeouts below). */
#define NOTIFY_LEASE_S 300

static const char sql_due[] =
	"UPDATE outbox SET next_at = ?2 WHERE id IN (SELECT id FROM outbox "
	"WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= ?1 "
	"ORDER BY id LIMIT 16) "
	"RETURNING id, channel, recipient, subject, body, attempts";
static const char sql_sent[] =
	"UPDATE outbox SET sent_at = ?2, body = NULL, last_error = NULL "
	"WHERE id = ?1";
static const char sql_retry[] =
	"UPDATE outbox SET attempts = ?2, next_at = ?3, last_error = ?4, "
	"failed_at = ?5 WHERE id = ?1";

int notify_queue(struct notify *n, struct store_conn *w, const char *channel,
		 const char *to, const char *subject, const char *body,
		 struct error *e)
{
	bool email = strcmp(channel, "email") == 0;
	if ((email && !n->opt.smtp_url[0]) ||
	    (!email && (strcmp(channel, "sms") != 0 || !n->opt.sms_url[0])))
		return err_set(e, ERR_INVALID, "channel_unavailable",
			       "%s delivery is not configured", channel);
	size_t len = strlen(body);
	size_t sn = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	uint8_t *sealed = xmalloc(sn);
	rand_bytes(sealed, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES,
			      (const uint8_t *)body, len, sealed, n->opt.master_key);
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_text(st, 1, channel);
	store_bind_text(st, 2, to);
	store_bind_text(st, 3, subject);
	store_bind_blob(st, 4, sealed, sn);
	store_bind_int(st, 5, time_now());
	free(sealed); /* the bind copied it */
	return store_run(st, NULL, e);
}

void notify_wake(struct notify *n)
{
	pthread_mutex_lock(&n->mu);
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->mu);
}

int notify_send(struct notify *n, const char *channel, const char *to,
		const char *subject, const char *body, struct error *e)
{
	struct store_conn *w = store_write_begin(n->store, e);
	if (!w)
		return -1;
	int rc = notify_queue(n, w, channel, to, subject, body, e);
	if (store_write_end(n->store, rc, e) != 0)
		return -1;
	notify_wake(n);
	return 0;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t feed(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems;
	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	KP_UNUSED(p);
	KP_UNUSED(arg);
	return size * n;
}

/* A subject as a mail header carries it (RFC 2047): ASCII as it is,
 * anything else (a French or German subject) as UTF-8 encoded words, each
 * of at most 45 bytes (60 base64 characters, within the 75 a word may
 * have), cut between characters, one per folded line. Returns an
 * allocated string (the caller frees it). */
static char *mail_subject(const char *s)
{
	size_t n = strlen(s);
	bool ascii = true;
	for (size_t i = 0; i < n; i++)
		ascii = ascii && (unsigned char)s[i] < 0x80;
	if (ascii)
		return xstrdup(s);
	struct buf b;
	buf_init(&b, 16 * n + 64);
	for (size_t at = 0; at < n;) {
		size_t len = 0, seq;
		while (at + len < n &&
		       (seq = utf8_seq((const unsigned char *)s + at + len,
				       n - at - len)) != 0 &&
		       len + seq <= 45)
			len += seq;
		if (len == 0) /* not UTF-8: one byte, never a stuck loop */
			len = 1;
		char b64[64];
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + at,
				  len, sodium_base64_VARIANT_ORIGINAL);
		buf_printf(&b, "%s=?UTF-8?B?%s?=", at ? "\r\n " : "", b64);
		at += len;
	}
	char *out = buf_take(&b, NULL);
	return out ? out : xstrdup("");
}

/* A body as SMTP carries it: lines end in CRLF (a bare LF is refused by
 * careful servers). Returns an allocated string (the caller frees it). */
static char *mail_body(const char *s)
{
	struct buf b;
	buf_init(&b, 2 * strlen(s) + 1);
	for (const char *start = s; *s; s++) {
		if (*s == '\n' && (s == start || s[-1] != '\r'))
			buf_append(&b, "\r", 1);
		buf_append(&b, s, 1);
	}
	char *out = buf_take(&b, NULL);
	return out ? out : xstrdup("");
}

/* One delivery; returns 0, or -1 with why (a curl message). */
static int deliver(struct notify *n, const char *channel, const char *to,
		   const char *subject, const char *body, char *why, size_t wn)
{
	CURL *c = curl_easy_init();
	struct curl_slist *list = NULL;
	char *msg = NULL;
	char date[64];
	time_t now = (time_t)time_now();
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (strcmp(channel, "email") == 0) {
		char *subj = mail_subject(subject), *text = mail_body(body);
		msg = xasprintf("Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n"
				"MIME-Version: 1.0\r\n"
				"Content-Type: text/plain; charset=utf-8\r\n"
				"Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
				date, n->opt.smtp_from, to, subj, text);
		free(subj);
		secret_wipe(text, strlen(text));
		free(text);
		list = curl_slist_append(list, to);
		curl_easy_setopt(c, CURLOPT_URL, n->opt.smtp_url);
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, n->opt.smtp_from);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, list);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	} else {
		json_t *j = json_pack("{s:s,s:s}", "to", to, "text", body);
		msg = jsonx_dump(j);
		json_decref(j);
		list = curl_slist_append(list, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_URL, n->opt.sms_url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, msg);
		curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	}
	struct upload u = {msg, strlen(msg), 0};
	curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(why, wn, "the SMS gateway answered %ld", status);
	else if (rc != CURLE_OK)
		snprintf(why, wn, "%s", curl_easy_strerror(rc));
	secret_wipe(msg, strlen(msg));
	free(msg);
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

static void record(struct notify *n, int64_t id, int attempts, bool ok,
		   const char *why)
{
	struct error e;
	struct store_conn *w = store_write_begin(n->store, &e);
	if (!w) {
		/* The message stays due: it is tried (or sent) again. */
		log_error("outbox %lld: outcome not recorded: %s",
			  (long long)id, e.detail);
		return;
	}
	struct store_stmt *st;
	int64_t now = time_now();
	if (ok) {
		st = store_prepare(w, sql_sent);
		store_bind_int(st, 1, id);
		store_bind_int(st, 2, now);
	} else {
		/* Back off 2, 4, 8 ... seconds, at most five minutes. */
		int64_t wait = attempts < 8 ? INT64_C(1) << attempts : 300;
		bool give_up = attempts >= n->opt.max_attempts;
		st = store_prepare(w, sql_retry);
		store_bind_int(st, 1, id);
		store_bind_int(st, 2, attempts);
		store_bind_int(st, 3, now + (wait > 300 ? 300 : wait));
		store_bind_text(st, 4, why);
		if (give_up)
			store_bind_int(st, 5, now);
		else
			store_bind_null(st, 5);
		struct log_line l;
		log_begin(&l, give_up ? LV_ERROR : LV_WARN, __func__,
			  give_up ? "notification failed for good"
				  : "notification not delivered; will retry");
		log_int(&l, "outbox_id", id);
		log_int(&l, "attempts", attempts);
		log_str(&l, "why", why);
		log_end(&l);
	}
	store_write_end(n->store, store_run(st, NULL, &e), &e);
}

/* Deliver what is due; returns how many were tried. */
/* A message taken from the outbox, its body unsealed (NULL when it could
 * not be). */
struct due {
	int64_t id, attempts;
	char *channel, *to, *subject, *body;
};

static void due_free(struct due *d)
{
	if (d->body)
		secret_wipe(d->body, strlen(d->body));
	free(d->body);
	free(d->channel);
	free(d->to);
	free(d->subject);
}

static void due_read(struct notify *n, struct store_stmt *st, struct due *d)
{
	size_t bn;
	const uint8_t *sealed = store_col_blob(st, 4, &bn);
	d->id = store_col_int(st, 0);
	d->channel = xstrdup(store_col_text(st, 1));
	d->to = xstrdup(store_col_text(st, 2));
	d->subject = xstrdup(store_col_text(st, 3));
	d->attempts = store_col_int(st, 5);
	size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
	d->body = NULL;
	if (sealed && bn >= over) {
		d->body = xcalloc(bn - over + 1, 1);
		if (crypto_secretbox_open_easy(
			    (uint8_t *)d->body, sealed + crypto_secretbox_NONCEBYTES,
			    bn - crypto_secretbox_NONCEBYTES, sealed,
			    n->opt.master_key) != 0) {
			free(d->body);
			d->body = NULL;
		}
	}
}

/* Take the due messages (sql_due) into d. Returns how many. */
static int take_due(struct notify *n, struct due d[16])
{
	struct error e;
	struct store_conn *w = store_write_begin(n->store, &e);
	if (!w)
		return 0;
	struct store_stmt *st = store_prepare(w, sql_due);
	int64_t now = time_now();
	store_bind_int(st, 1, now);
	store_bind_int(st, 2, now + NOTIFY_LEASE_S);
	int k = 0;
	while (k < 16 && store_step(st) == STORE_ROW)
		due_read(n, st, &d[k++]);
	store_done(st);
	if (store_write_commit(n->store, &e) == 0)
		return k;
	for (int i = 0; i < k; i++) /* not taken: not ours to send */
		due_free(&d[i]);
	return 0;
}

static int run_due(struct notify *n)
{
	struct due d[16];
	int k = take_due(n, d);
	for (int i = 0; i < k; i++) {
		char why[256] = "the message cannot be unsealed";
		bool ok = d[i].body &&
			  deliver(n, d[i].channel, d[i].to, d[i].subject,
				  d[i].body, why, sizeof(why)) == 0;
		record(n, d[i].id, (int)d[i].attempts + 1, ok, why);
		due_free(&d[i]);
	}
	return k;
}

static void *worker_main(void *arg)
{
	struct notify *n = arg;
	pthread_mutex_lock(&n->mu);
	while (!n->stopping) {
		pthread_mutex_unlock(&n->mu);
		int tried = run_due(n);
		pthread_mutex_lock(&n->mu);
		if (tried == 0 && !n->stopping) {
			struct timespec until;
			time_deadline(&until, 1000);
			pthread_cond_timedwait(&n->wake, &n->mu, &until);
		}
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

int notify_open(struct store *s, const struct notify_options *opt,
		struct notify **out, struct error *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, ERR_INTERNAL, "notify_failed",
			       "libcurl cannot initialise");
	struct notify *n = xcalloc(1, sizeof(*n));
	n->store = s;
	n->opt = *opt;
	if (!n->opt.max_attempts)
		n->opt.max_attempts = 8;
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->wake, NULL);
	pthread_create(&n->worker, NULL, worker_main, n);
	*out = n;
	return 0;
}

void notify_close(struct notify *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->mu);
	n->stopping = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->worker, NULL);
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->wake);
	secret_wipe(n->opt.master_key, sizeof(n->opt.master_key));
	free(n);
	curl_global_cleanup();
}
