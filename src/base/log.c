/*
 * Structured logging: one JSON object per line on stderr, written with a
 * single write(2) so that threads never interleave. Values from outside are
 * escaped and cut (STYLE.md item 8): a hostile header cannot forge a log
 * line or flood the log. Secrets are never passed here.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. The
 * second byte's range follows RFC 3629 section 4, which rules out overlong
 * forms (E0 80, F0 80), surrogates (ED A0) and code points past U+10FFFF
 * (F4 90): a log consumer would refuse a line containing any of them. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
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
		size_t k = utf8_seq(s + i, n - i);
		if (k == 0) {
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
		} else if (s[i] == 0) {
			/* Legal JSON as \u0000, but refused by many log stores
			 * (and by our own parser): replaced like bad UTF-8. */
			put(l, "\\ufffd", 6);
			i++;
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			put(l, esc, 6);
			i++;
		} else {
			put(l, (const char *)s + i, 1);
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

void log_begin(struct log_line *l, enum log_level lv, const char *fn,
	       const char *msg)
{
	l->len = 0;
	l->off = !log_enabled(lv);
	if (l->off)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char when[RFC3339_LEN];
	time_format_rfc3339((int64_t)ts.tv_sec, when);
	char head[96];
	int n = snprintf(head, sizeof(head), "{\"ts\":\"%.19s.%03ldZ\",\"level\":\"%s\"",
			 when, ts.tv_nsec / 1000000, level_names[lv]);
	put(l, head, (size_t)n);
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
	int n = snprintf(num, sizeof(num), "%lld", (long long)v);
	put_key(l, key);
	put(l, num, (size_t)n);
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
