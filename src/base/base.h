/*
 * base: the bottom layer every other module stands on. Nothing here knows
 * about HTTP, the database or any domain module.
 *
 *   memory      xmalloc & co: out of memory aborts (as in Redis and h2o); a
 *               trust hub that cannot allocate cannot do anything safely.
 *   buf         a growable byte buffer with a hard maximum.
 *   error       the one error type modules return; src/http alone maps its
 *               kind to an HTTP status.
 *   ids         INSZ (national register number + BIS number) and KBO
 *               enterprise numbers: parsing, validation, composition.
 *   time        UTC clock, RFC 3339, calendar dates and month arithmetic.
 *   jsonx       bounded JSON parsing and typed field access over jansson.
 *   crypto      random, SHA-256, hex, constant-time compare, UUIDv7, tokens.
 *   log         one JSON object per line on stderr.
 *   config      INI file (inih) with every key overridable by KRUISPUNT_*.
 */
#ifndef KP_BASE_H
#define KP_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/limits.h"

#define KP_UNUSED(x) ((void)(x))
#define KP_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define KP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define KP_NORETURN __attribute__((noreturn))
#else
#define KP_PRINTF(f, a)
#define KP_NORETURN
#endif

/* ------------------------------------------------------------------ memory */

/* Allocate or abort. The caller frees the result with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string; the caller frees it. */
char *xasprintf(const char *fmt, ...) KP_PRINTF(1, 2);

/* Copy src into dst of size n, always NUL-terminated. Returns false when
 * src did not fit (dst then holds the truncated prefix). */
bool str_copy(char *dst, size_t n, const char *src);

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0:
 * RFC 3629, so no overlong forms, surrogates or code points past
 * U+10FFFF. */
size_t utf8_seq(const unsigned char *s, size_t n);
/* True when all n bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* True when s is plain text fit to store and show: at most max bytes of
 * valid UTF-8 with no control character (C0 or DEL), which could forge a
 * line in a log, a header or a report. */
bool text_plain(const char *s, size_t max);
/* in as names are compared (fold.c): lower case, Latin accents and
 * ligatures to their base letters ("Ægidius Müller" -> "aegidius
 * muller"), other letters kept. Writes at most n bytes with the NUL into
 * out; false when in is not valid UTF-8 or out is too small. */
bool text_fold(const char *in, char *out, size_t n);

/* --------------------------------------------------------------------- buf */

/* A growable buffer that refuses to grow past max (curl's dynbuf idea): a
 * response or a log line built from hostile input cannot grow without end.
 * The buffer owns p; buf_free releases it, buf_take hands it to the caller. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
/* Each returns 0, or -1 when the maximum would be passed (nothing appended). */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) KP_PRINTF(2, 3);
/* Take the NUL-terminated contents; the caller frees them. b is reset. */
char *buf_take(struct buf *b, size_t *len);
void buf_free(struct buf *b);

/* ------------------------------------------------------------------- error */

/* What went wrong, in categories that src/http maps to a status. The
 * machine-readable `code` inside struct error is the stable contract. */
enum err_kind {
	ERR_NONE = 0,
	ERR_MALFORMED,       /* the request cannot be read */
	ERR_UNAUTHENTICATED, /* who are you? */
	ERR_FORBIDDEN,       /* known, but not allowed */
	ERR_NOT_FOUND,
	ERR_METHOD,          /* path exists, method does not */
	ERR_CONFLICT,
	ERR_GONE,
	ERR_TOO_LARGE,
	ERR_INVALID,         /* well-formed but breaks a rule */
	ERR_LOCKED,
	ERR_RATE_LIMITED,
	ERR_INTERNAL,
	ERR_UPSTREAM,        /* an authentic source failed */
	ERR_UNAVAILABLE,
	ERR_TIMEOUT,
};

struct error {
	enum err_kind kind;
	const char *code; /* static snake_case string, e.g. "invalid_insz" */
	char detail[LIMIT_ERROR_DETAIL];
};

/* Fill e (when not NULL): err_set without the -1. */
void err_fill(struct error *e, enum err_kind kind, const char *code,
	      const char *fmt, ...) KP_PRINTF(4, 5);
static inline int err_failed(void)
{
	return -1;
}

/* Fill e (when not NULL) and return -1, so that `return err_set(...)` reads
 * as the failure it is. code must be a string literal. A macro so that
 * every caller's compiler and the static analyzer, which see one file at a
 * time, know the -1 (the analyzer does not follow variadic calls): an
 * output left unset on a failure is then not taken for one used after a
 * success. err_failed(), not a bare -1, keeps `err_set(...);` as a
 * statement free of unused-value warnings. */
#define err_set(...) (err_fill(__VA_ARGS__), err_failed())
void err_clear(struct error *e);

/* Render an RFC 9457 problem document. `extra` (may be NULL) adds members
 * such as `required` and `current`; it is borrowed. The caller frees the
 * returned string. */
char *problem_render(int status, const char *title, const struct error *e,
		     const char *instance, json_t *extra);

/* --------------------------------------------------------------------- ids */

/* Why an identifier was refused; id_status_code() gives the stable code. */
enum id_status {
	ID_OK = 0,
	ID_EMPTY,
	ID_TOO_LONG,
	ID_BAD_CHAR,
	ID_BAD_LENGTH,
	ID_BAD_DATE,
	ID_BAD_SEQUENCE,
	ID_BAD_CHECKSUM,
	ID_BAD_PREFIX,
};
const char *id_status_code(enum id_status s);
const char *id_status_text(enum id_status s);

enum insz_kind { INSZ_RR = 1, INSZ_BIS = 2 };
enum insz_sex { SEX_UNKNOWN = 0, SEX_MALE = 1, SEX_FEMALE = 2 };

/* Bytes of an INSZ as text: 11 digits and the NUL. Every buffer that holds
 * one is declared with this name, so none is sized by a bare number. */
#define INSZ_BUF 12

/* A parsed INSZ: either a national register number (RR) or a BIS number.
 * birth_month / birth_day are 0 when the register does not know them. */
struct insz {
	char digits[INSZ_BUF];
	enum insz_kind kind;
	int birth_year;
	int birth_month;
	int birth_day;
	enum insz_sex sex;
	int sequence;
};

/* Parse formatted input ("85.07.30-033.28", "85073003328"): dots, dashes and
 * spaces are dropped, the rest must be 11 digits passing every rule. */
enum id_status insz_parse(const char *in, size_t len, struct insz *out);
/* Convenience for NUL-terminated input; true when valid. */
bool insz_valid(const char *s);

/* Compose a valid INSZ from its parts (used to assign BIS numbers).
 * For INSZ_BIS with sex_known the month gets +40, otherwise +20. Returns
 * ID_OK and writes 11 digits + NUL to out. */
enum id_status insz_compose(enum insz_kind kind, int year, int month, int day,
			    bool sex_known, int sequence, char out[INSZ_BUF]);

/* Parse a KBO enterprise number ("0203.201.340", "BE 0203 201 340"): 10
 * digits after dropping separators and an optional "BE", first digit 0 or 1,
 * mod-97 check over the first eight. */
enum id_status kbo_parse(const char *in, size_t len, char out[11]);
bool kbo_valid(const char *s);

/* -------------------------------------------------------------------- time */

/* The clock. Every domain time (expiry, lockout and code windows, session
 * idle, rate-limit refill, audit timestamps, "today") is read through
 * time_now_ms or what is built on it, so that one call can set it: a test
 * moves time forward instead of sleeping, and runs the same under ASan on
 * a loaded machine as on an idle one. */

/* Milliseconds since the epoch, UTC: the test clock when set, otherwise
 * CLOCK_REALTIME. */
int64_t time_now_ms(void);
/* Seconds since the epoch, UTC (time_now_ms / 1000). */
int64_t time_now(void);
/* Nanoseconds that never go back while the test clock is unset
 * (CLOCK_MONOTONIC), for windows that must not jump with the wall clock
 * (rate limits); while the test clock is set, its value in nanoseconds, so
 * a test drives these windows too. Callers treat a step back as no time. */
uint64_t time_tick_ns(void);
/* Monotonic nanoseconds, for measuring durations only (benchmarks,
 * metrics, a background thread's period): never the test clock, since a
 * measured duration must be real. */
uint64_t time_mono_ns(void);

/* For tests only: set the clock to ms since the epoch; it then stands
 * still until set, advanced or reset. The serving code never calls these.
 * An atomic, so a worker thread reads a whole value. */
void clock_set_ms(int64_t ms);
/* For tests only: move the clock forward by ms (from the real time when
 * it was not set). */
void clock_advance_ms(int64_t ms);
/* For tests only: back to the real clock. */
void clock_reset(void);

struct timespec;
/* A pthread_cond_timedwait deadline ms from now. Always the real
 * CLOCK_REALTIME, which the condition variable measures against: from a
 * test clock the deadline would pass at once or never come. */
void time_deadline(struct timespec *out, int64_t ms);

#define RFC3339_LEN 21 /* "2026-01-31T12:00:00Z" + NUL */
void time_format_rfc3339(int64_t t, char out[RFC3339_LEN]);
/* Accepts "Z" or a numeric offset and an optional fraction (dropped).
 * Returns 0, or -1 on anything malformed. */
int time_parse_rfc3339(const char *s, int64_t *out);

struct date {
	int y, m, d;
};

#define DATE_LEN 11 /* "2026-01-31" + NUL */
bool date_valid(int y, int m, int d);
int date_days_in_month(int y, int m);
/* Strict YYYY-MM-DD. Returns 0, or -1. */
int date_parse(const char *s, struct date *out);
void date_format(struct date d, char out[DATE_LEN]);
/* Days since 1970-01-01 (negative before), proleptic Gregorian. */
int64_t date_to_days(struct date d);
struct date date_from_days(int64_t days);
struct date date_from_time(int64_t t);
struct date date_today(void);
int date_cmp(struct date a, struct date b);
/* Add calendar months; a day past the end of the target month is clamped
 * to its last day (31 Jan + 1 month = 28 or 29 Feb). */
struct date date_add_months(struct date d, int months);

/* ------------------------------------------------------------------- jsonx */

/* Parse untrusted JSON: at most LIMIT_JSON_DEPTH deep, duplicate keys
 * refused. Returns a new reference the caller json_decref()s, or NULL with
 * e set to ERR_MALFORMED / "malformed_json". */
json_t *jsonx_parse(const char *buf, size_t len, struct error *e);

/* Typed access to a member of an object. Each returns 0 when present and
 * valid, 1 when absent and optional, -1 with e set (ERR_INVALID,
 * "invalid_field", detail naming the field) otherwise. Strings are borrowed
 * from obj and must be plain text (text_plain: valid UTF-8, no control
 * character, NUL included) of at most max_len bytes. */
int jsonx_str(json_t *obj, const char *key, bool required, size_t max_len,
	      const char **out, struct error *e);
int jsonx_int(json_t *obj, const char *key, bool required, int64_t min,
	      int64_t max, int64_t *out, struct error *e);
int jsonx_bool(json_t *obj, const char *key, bool required, bool *out,
	       struct error *e);

/* Serialise compactly; the caller frees the result. */
char *jsonx_dump(const json_t *j);

/* One line of an operator's NDJSON file (imports), checked before any
 * member is read: at most max bytes ("line_too_long"), no control
 * character raw or escaped in any string, key or value, NUL included
 * ("control_character"), JSON as jsonx_parse takes it ("malformed_json"),
 * an object whose member names are all among fields (a NULL-terminated
 * list; "unknown_field" naming the first other one when it is plain
 * text). Returns a new reference the caller json_decref()s, or NULL with
 * e (ERR_MALFORMED for the JSON, ERR_INVALID otherwise). */
json_t *jsonx_line(const char *line, size_t len, size_t max,
		   const char *const *fields, struct error *e);
/* Whether every member name of obj is among fields (NULL-terminated);
 * otherwise -1 with e ERR_INVALID "unknown_field", as jsonx_line. */
int jsonx_known_fields(json_t *obj, const char *const *fields,
		       struct error *e);

/* ------------------------------------------------------------------ crypto */

/* Call once before any thread starts; returns 0, or -1 when libsodium
 * cannot initialise (then nothing secure can be done). */
int crypto_setup(void);
void rand_bytes(void *buf, size_t n);
/* Cryptographically strong bytes from a per-thread ChaCha20 stream keyed
 * once from the OS: for unpredictable values drawn at a high rate (request
 * ids, tickets, audit nonces) where a system call each would cost more
 * than the work around it. Long-lived secrets use rand_bytes. */
void rand_stream(void *buf, size_t n);
uint32_t rand_uniform(uint32_t upper);

#define SHA256_LEN 32
void sha256_digest(const void *data, size_t n, uint8_t out[SHA256_LEN]);

/* out must hold 2n+1 bytes; lower-case hex, NUL-terminated. */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Decode exactly 2*outlen hex characters. Returns 0, or -1. */
int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);

/* Compare secrets in time independent of their contents. */
bool ct_equal(const void *a, const void *b, size_t n);
/* Wipe a secret with a write the compiler cannot drop. */
void secret_wipe(void *p, size_t n);

/* Ed25519 (the audit log's checkpoint signatures). */
#define ED25519_PK_LEN 32
#define ED25519_SK_LEN 64
void ed25519_keypair(uint8_t pk[ED25519_PK_LEN], uint8_t sk[ED25519_SK_LEN]);

/* Time-ordered UUID (RFC 9562 version 7), canonical text form. */
#define UUID_LEN 37
void uuid7_new(char out[UUID_LEN]);
/* True when s is a UUID in canonical text form (8-4-4-4-12 hex digits,
 * lower or upper case). */
bool uuid_valid(const char *s);

/* A fresh 256-bit random token as hex (handed to the client once) and the
 * SHA-256 of that text (the only thing stored). */
#define TOKEN_HEX_LEN 65
void token_new(char out_hex[TOKEN_HEX_LEN], uint8_t hash[SHA256_LEN]);

/* --------------------------------------------------------------- ratelimit */

/* Token buckets keyed by an opaque key (a client address, a username), in
 * a fixed table: a flood of new keys evicts old ones instead of growing
 * memory. Thread-safe. */
struct ratelimit;

/* rate tokens per second, burst at most; slots bounds the keys tracked.
 * The caller frees with ratelimit_free. */
struct ratelimit *ratelimit_new(double rate, double burst, size_t slots);
void ratelimit_free(struct ratelimit *r);
/* Take one token for key; false when its bucket is empty (answer 429). */
bool ratelimit_allow(struct ratelimit *r, const void *key, size_t n);

/* --------------------------------------------------------------------- log */

enum log_level { LV_DEBUG = 0, LV_INFO, LV_WARN, LV_ERROR };

void log_set_level(enum log_level lv);
bool log_enabled(enum log_level lv);
/* "debug" | "info" | "warn" | "error"; returns 0, or -1. */
int log_level_parse(const char *s, enum log_level *out);

/* A log line is built field by field into a fixed buffer and written with
 * one write(2), so lines from concurrent threads never interleave. Values
 * are escaped and cut at LIMIT_LOG_VALUE bytes. */
struct log_line {
	char buf[LIMIT_LOG_LINE];
	size_t len;
	bool off;
};

void log_begin(struct log_line *l, enum log_level lv, const char *fn,
	       const char *msg);
void log_str(struct log_line *l, const char *key, const char *val);
void log_strn(struct log_line *l, const char *key, const char *val,
	      size_t n);
void log_int(struct log_line *l, const char *key, int64_t v);
void log_end(struct log_line *l);

/* Like log_end, but the line goes to a per-thread buffer that is written
 * in whole lines, at most PIPE_BUF bytes at a time (so lines never
 * interleave, even on a pipe), when it fills or at the next log_flush().
 * For high-volume lines (the access log); events that matter alone
 * (security, errors) use log_end. */
void log_end_buffered(struct log_line *l);
/* Write out every thread's buffered lines. Called periodically by the
 * serve loop and at shutdown. */
void log_flush(void);

/* One-call form: a printf-style message and no other fields. */
void log_msg(enum log_level lv, const char *fn, const char *fmt, ...)
	KP_PRINTF(3, 4);
#define log_debug(...) log_msg(LV_DEBUG, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LV_INFO, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LV_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_msg(LV_ERROR, __func__, __VA_ARGS__)

/* ------------------------------------------------------------------ config */

/* Configuration is data. A module that has options declares its own config
 * struct and a table of its keys (section, key, where in the struct, type,
 * default, description); src/cli hands every module's table to config_load
 * and config_describe, which iterate over them. Base knows the mechanism
 * and its own keys, never another module's. */

enum config_type {
	CONFIG_STR,  /* char[size], NUL-terminated; too long is refused */
	CONFIG_INT,  /* int in [min, max] */
	CONFIG_BOOL, /* bool: true/yes/on/1 or false/no/off/0 */
	CONFIG_ENUM, /* int (or an enum): the index of the value in choices */
};

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	size_t offset; /* of the field in the module's config struct */
	size_t size;
	/* As an operator would write it. A number that the module also needs
	 * (its fallback when opened without configuration) is the module's
	 * named constant, spelled here with KP_XSTR, so it lives once. */
	const char *def;
	long min, max;              /* CONFIG_INT */
	const char *const *choices; /* CONFIG_ENUM, NULL-terminated */
	const char *help;           /* one line, shown by `kruispunt config` */
};

/* offset and size of field in the struct type, for a config_key. */
#define CONFIG_FIELD(type, field) \
	offsetof(type, field), sizeof(((type *)0)->field)
/* A number macro as a string literal (a key's default). */
#define KP_STR_(x) #x
#define KP_XSTR(x) KP_STR_(x)

/* A module's keys and the config struct they fill (borrowed). */
struct config_table {
	const struct config_key *keys;
	size_t n;
	void *conf;
};

/* Base's own keys: the data directory and the log level. */
struct base_config {
	char data_dir[LIMIT_PATH];
	int log_level; /* enum log_level */
};
extern const struct config_key base_config_keys[];
extern const size_t base_config_nkeys;

/* Every key of the n tables to its default (a bad default aborts: it is a
 * programming error). */
void config_defaults(const struct config_table *t, size_t n);
/* Defaults, then the INI file (when path is not NULL), then KRUISPUNT_*
 * environment variables (KRUISPUNT_<SECTION>_<KEY>, upper case), over the
 * n tables. An unknown key is an error. Returns 0, or -1 with e naming the
 * bad key. */
int config_load(const char *path, const struct config_table *t, size_t n,
		struct error *e);
/* The KRUISPUNT_* environment variables alone, over the n tables as they
 * are (kruispunt demo, which sets its own configuration first). Returns 0,
 * or -1 with e naming the bad key. */
int config_load_env(const struct config_table *t, size_t n, struct error *e);
/* Resolve p against the data directory into out. Returns 0, or -1 when the
 * result does not fit. */
int config_path(const char *data_dir, const char *p, char *out, size_t n);
/* Print every key of the n tables with its current value and
 * description, as INI, one section at a time. */
void config_describe(const struct config_table *t, size_t n, FILE *out);

#endif
