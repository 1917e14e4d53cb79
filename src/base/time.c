/*
 * Clock, RFC 3339 and calendar dates. Dates are converted with Howard
 * Hinnant's days-from-civil algorithm rather than mktime/timegm, so nothing
 * depends on the process time zone or locale.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

/* The test clock in ms since the epoch, or CLOCK_UNSET. Relaxed loads:
 * tests set it between steps, and the one read on every call costs nothing
 * when it is unset (the serving process never sets it). */
#define CLOCK_UNSET INT64_MIN
static _Atomic int64_t clock_override = CLOCK_UNSET;

static int64_t realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_now_ms(void)
{
	int64_t t = atomic_load_explicit(&clock_override, memory_order_relaxed);
	return t != CLOCK_UNSET ? t : realtime_ms();
}

int64_t time_now(void)
{
	return time_now_ms() / 1000;
}

uint64_t time_tick_ns(void)
{
	int64_t t = atomic_load_explicit(&clock_override, memory_order_relaxed);
	return t != CLOCK_UNSET ? (uint64_t)t * 1000000u : time_mono_ns();
}

uint64_t time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void clock_set_ms(int64_t ms)
{
	atomic_store(&clock_override, ms);
}

void clock_advance_ms(int64_t ms)
{
	int64_t t = atomic_load(&clock_override);
	atomic_store(&clock_override, (t != CLOCK_UNSET ? t : realtime_ms()) + ms);
}

void clock_reset(void)
{
	atomic_store(&clock_override, CLOCK_UNSET);
}

void time_deadline(struct timespec *out, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, out);
	out->tv_sec += (time_t)(ms / 1000);
	out->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool date_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && d >= 1 && d <= date_days_in_month(y, m);
}

int64_t date_to_days(struct date dt)
{
	int64_t y = dt.m <= 2 ? dt.y - 1 : dt.y;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (dt.m + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + dt.d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct date date_from_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	return (struct date){(int)y, (int)m, (int)d};
}

struct date date_from_time(int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	return date_from_days(days);
}

struct date date_today(void)
{
	return date_from_time(time_now());
}

int date_cmp(struct date a, struct date b)
{
	if (a.y != b.y)
		return a.y < b.y ? -1 : 1;
	if (a.m != b.m)
		return a.m < b.m ? -1 : 1;
	if (a.d != b.d)
		return a.d < b.d ? -1 : 1;
	return 0;
}

struct date date_add_months(struct date d, int months)
{
	int64_t idx = (int64_t)d.y * 12 + (d.m - 1) + months;
	struct date r;
	r.y = (int)(idx >= 0 ? idx / 12 : (idx - 11) / 12);
	r.m = (int)(idx - (int64_t)r.y * 12) + 1;
	int last = date_days_in_month(r.y, r.m);
	r.d = d.d > last ? last : d.d;
	return r;
}

/* Write v as exactly width digits (callers pass values in range). */
static void put_digits(char *out, int v, int width)
{
	unsigned u = v < 0 ? 0u : (unsigned)v;
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + u % 10);
		u /= 10;
	}
}

void date_format(struct date d, char out[DATE_LEN])
{
	put_digits(out, d.y, 4);
	out[4] = '-';
	put_digits(out + 5, d.m, 2);
	out[7] = '-';
	put_digits(out + 8, d.d, 2);
	out[10] = '\0';
}

/* Read exactly n digits. */
static bool read_digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int date_parse(const char *s, struct date *out)
{
	struct date d;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    !read_digits(s, 4, &d.y) || !read_digits(s + 5, 2, &d.m) ||
	    !read_digits(s + 8, 2, &d.d) || !date_valid(d.y, d.m, d.d))
		return -1;
	*out = d;
	return 0;
}

void time_format_rfc3339(int64_t t, char out[RFC3339_LEN])
{
	struct date d = date_from_time(t);
	int secs = (int)(t - date_to_days(d) * 86400);
	date_format(d, out);
	out[10] = 'T';
	put_digits(out + 11, secs / 3600, 2);
	out[13] = ':';
	put_digits(out + 14, secs / 60 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, secs % 60, 2);
	out[19] = 'Z';
	out[20] = '\0';
}

int time_parse_rfc3339(const char *s, int64_t *out)
{
	struct date d;
	int hh, mm, ss;
	if (!s || strlen(s) < 20 || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	char day[DATE_LEN];
	memcpy(day, s, 10);
	day[10] = '\0';
	if (date_parse(day, &d) != 0 || !read_digits(s + 11, 2, &hh) ||
	    !read_digits(s + 14, 2, &mm) || !read_digits(s + 17, 2, &ss) ||
	    hh > 23 || mm > 59 || ss > 60)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int64_t offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!read_digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !read_digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		offset = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	/* A leap second is read as the last second of the minute. */
	if (ss == 60)
		ss = 59;
	*out = date_to_days(d) * 86400 + hh * 3600 + mm * 60 + ss - offset;
	return 0;
}
