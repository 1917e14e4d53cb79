/*
 * Structured logging: one JSON object per line on stderr, written with a
 * single write(2) so that threads never interleave. Values from outside are
 * escaped and cut (docs/DESIGN.md, habit 8): a hostile header cannot forge a log
 * line or flood the log. Secrets are never passed here.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

static _Atomic int min_level = LV_INFO;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level lv)
{
	atomic_store(&min_level, (int)lv);
}

bool log_enabled(enum log_level lv)
{
	return (int)lv >= atomic_load(&min_level);
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < KP_NELEM(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void put(struct log_line *l, const char *s, size_t n)
{
	/* Keep room for the closing "}\n". */
	if (l->len + n + 2 > sizeof(l->buf))
		n = sizeof(l->buf) - 2 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Quote and escape a value: control characters as \u00XX, invalid UTF-8 as
 * U+FFFD (NUL too), at most LIMIT_LOG_VALUE input bytes. */
static void put_quoted(struct log_line *l, const char *val, size_t n)
{
	const unsigned char *s = (const unsigned char *)val;
	char esc[8];
	if (n > LIMIT_LOG_VALUE)
		n = LIMIT_LOG_VALUE;
	put(l, "\"", 1);
	for (size_t i = 0; i < n;) {
		/* Plain printable ASCII, the common case, is copied in runs. */
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f &&
		       s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			put(l, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		size_t k = utf8_seq(s + i, n - i);
		if (k == 0 || s[i] == 0) {
			/* Bad UTF-8, and NUL: legal JSON as \u0000 but refused
			 * by many log stores (and by our own parser). */
			put(l, "\\ufffd", 6);
			i++;
		} else if (k > 1) {
			put(l, (const char *)s + i, k);
			i += k;
		} else if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			put(l, esc, 2);
			i++;
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			put(l, esc, 6);
			i++;
		}
	}
	put(l, "\"", 1);
}

static void put_key(struct log_line *l, const char *key)
{
	put(l, ",", 1);
	put_quoted(l, key, strlen(key));
	put(l, ":", 1);
}

/* Write v in decimal into out (at least 21 bytes); returns the length. */
static size_t format_int(char *out, int64_t v)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t len = 0;
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
	return len;
}

/* "2026-11-22T20:00:00.123Z": the seconds part is formatted once per
 * second per thread, the milliseconds every time. */
static void put_timestamp(struct log_line *l)
{
	static _Thread_local struct {
		int64_t sec;
		char text[RFC3339_LEN];
	} cache = {-1, ""};
	/* The domain clock, so a log line and the audit entry of the same
	 * event agree, also under a test clock. */
	int64_t now = time_now_ms(), sec = now / 1000;
	if (cache.sec != sec) {
		time_format_rfc3339(sec, cache.text);
		cache.sec = sec;
	}
	unsigned ms = (unsigned)(now % 1000);
	char frac[6] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10),
			(char)('0' + ms % 10), 'Z', '"'};
	put(l, "{\"ts\":\"", 7);
	put(l, cache.text, 19);
	put(l, frac, sizeof(frac));
}

void log_begin(struct log_line *l, enum log_level lv, const char *fn,
	       const char *msg)
{
	l->len = 0;
	l->off = !log_enabled(lv);
	if (l->off)
		return;
	put_timestamp(l);
	put(l, ",\"level\":\"", 10);
	put(l, level_names[lv], strlen(level_names[lv]));
	put(l, "\"", 1);
	if (fn)
		log_str(l, "fn", fn);
	log_str(l, "msg", msg);
}

void log_strn(struct log_line *l, const char *key, const char *val, size_t n)
{
	if (l->off)
		return;
	put_key(l, key);
	if (!val)
		put(l, "null", 4);
	else
		put_quoted(l, val, n);
}

void log_str(struct log_line *l, const char *key, const char *val)
{
	log_strn(l, key, val, val ? strnlen(val, LIMIT_LOG_VALUE) : 0);
}

void log_int(struct log_line *l, const char *key, int64_t v)
{
	if (l->off)
		return;
	char num[24];
	size_t n = format_int(num, v);
	put_key(l, key);
	put(l, num, n);
}

void log_end(struct log_line *l)
{
	if (l->off)
		return;
	l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	/* A short write to stderr cannot be retried meaningfully. */
	ssize_t w = write(STDERR_FILENO, l->buf, l->len);
	KP_UNUSED(w);
}

/* Per-thread buffers for log_end_buffered, in a list log_flush walks. A
 * buffer never holds more than PIPE_BUF bytes: one write(2) of it is
 * atomic on a pipe, so concurrent flushes cannot interleave lines. */
struct log_tbuf {
	pthread_mutex_t mu;
	char data[PIPE_BUF];
	size_t len;
	struct log_tbuf *next;
};

static pthread_mutex_t tbufs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct log_tbuf *tbufs;
static _Thread_local struct log_tbuf *my_tbuf;

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			return; /* nowhere to report a failing stderr */
		p += w;
		n -= (size_t)w;
	}
}

static void tbuf_flush(struct log_tbuf *b)
{
	write_all(b->data, b->len);
	b->len = 0;
}

static struct log_tbuf *tbuf_mine(void)
{
	if (my_tbuf)
		return my_tbuf;
	struct log_tbuf *b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_lock(&tbufs_mu);
	b->next = tbufs;
	tbufs = b;
	pthread_mutex_unlock(&tbufs_mu);
	my_tbuf = b;
	return b;
}

void log_end_buffered(struct log_line *l)
{
	if (l->off)
		return;
	l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	struct log_tbuf *b = tbuf_mine();
	pthread_mutex_lock(&b->mu);
	if (b->len + l->len > sizeof(b->data))
		tbuf_flush(b);
	if (l->len > sizeof(b->data))
		write_all(l->buf, l->len);
	else {
		memcpy(b->data + b->len, l->buf, l->len);
		b->len += l->len;
	}
	pthread_mutex_unlock(&b->mu);
}

void log_flush(void)
{
	pthread_mutex_lock(&tbufs_mu);
	for (struct log_tbuf *b = tbufs; b; b = b->next) {
		pthread_mutex_lock(&b->mu);
		tbuf_flush(b);
		pthread_mutex_unlock(&b->mu);
	}
	pthread_mutex_unlock(&tbufs_mu);
}

void log_msg(enum log_level lv, const char *fn, const char *fmt, ...)
{
	if (!log_enabled(lv))
		return;
	char msg[LIMIT_LOG_VALUE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct log_line l;
	log_begin(&l, lv, fn, msg);
	log_end(&l);
}
