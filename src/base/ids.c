/*
 * The unique keys of the social sector (seed 004 §4.2): the INSZ for persons
 * and the enterprise number (KBO) for organisations.
 *
 * INSZ = YYMMDD SSS CC, either a national register (RR) number or a BIS
 * number. CC = 97 - (YYMMDDSSS mod 97); for persons born from 2000 on the
 * number is prefixed with "2" before the modulo, which is how the century is
 * told apart (both checks can never hold at once, as 2000000000 mod 97 != 0).
 * SSS is a day counter: odd for men, even for women. BIS numbers add 20
 * to the month when the sex is unknown and 40 when it is known. A month or
 * day of 00 means the register does not know it, or that the day's
 * counter ran out (insz_parse says which dates count as unknown); the
 * rules follow the National Register's instruction IT000 exactly as the
 * reference implementation integrators use (python-stdnum 2.2) reads it,
 * with its test vectors in tests/base/test_ids.c.
 *
 * KBO = 10 digits, first digit 0 or 1 (numbers starting with 1 are issued
 * since September 2023); the last two digits are 97 - (first eight mod 97).
 */
#include <string.h>

#include "base/base.h"

static const struct {
	const char *code;
	const char *text;
} id_messages[] = {
	[ID_OK] = {"ok", "valid"},
	[ID_EMPTY] = {"empty", "no number given"},
	[ID_TOO_LONG] = {"too_long", "input too long to be a number"},
	[ID_BAD_CHAR] = {"bad_character", "only digits, dots, dashes and spaces"},
	[ID_BAD_LENGTH] = {"bad_length", "wrong number of digits"},
	[ID_BAD_DATE] = {"bad_date", "the encoded birth date does not exist"},
	[ID_BAD_SEQUENCE] = {"bad_sequence", "sequence number out of range"},
	[ID_BAD_CHECKSUM] = {"bad_checksum", "check digits do not match"},
	[ID_BAD_PREFIX] = {"bad_prefix", "must start with 0 or 1"},
};

const char *id_status_code(enum id_status s)
{
	return (size_t)s < KP_NELEM(id_messages) ? id_messages[s].code : "invalid";
}

const char *id_status_text(enum id_status s)
{
	return (size_t)s < KP_NELEM(id_messages) ? id_messages[s].text : "invalid";
}

/* Drop the separators people type and keep the digits. An optional "BE"
 * prefix is allowed for enterprise numbers, as printed on VAT invoices. */
static enum id_status normalise(const char *in, size_t len, char *out,
				size_t want, bool allow_be)
{
	if (!in || len == 0)
		return ID_EMPTY;
	if (len > LIMIT_ID_INPUT)
		return ID_TOO_LONG;
	size_t i = 0, n = 0;
	while (i < len && in[i] == ' ')
		i++;
	if (allow_be && len - i >= 2 && (in[i] == 'B' || in[i] == 'b') &&
	    (in[i + 1] == 'E' || in[i + 1] == 'e'))
		i += 2;
	for (; i < len; i++) {
		char c = in[i];
		if (c >= '0' && c <= '9') {
			if (n == want)
				return ID_BAD_LENGTH;
			out[n++] = c;
		} else if (c != '.' && c != '-' && c != ' ' && c != '/') {
			return ID_BAD_CHAR;
		}
	}
	if (n == 0)
		return ID_EMPTY;
	if (n != want)
		return ID_BAD_LENGTH;
	out[n] = '\0';
	return ID_OK;
}

static uint64_t digits_value(const char *s, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

static int check97(uint64_t v)
{
	return (int)(97 - v % 97);
}

/* Decode the month field: RR 0-12, BIS +20 (sex unknown) or +40. */
static bool decode_month(int mm, enum insz_kind *kind, int *month,
			 bool *sex_known)
{
	if (mm <= 12) {
		*kind = INSZ_RR;
		*sex_known = true;
		*month = mm;
	} else if (mm >= 20 && mm <= 32) {
		*kind = INSZ_BIS;
		*sex_known = false;
		*month = mm - 20;
	} else if (mm >= 40 && mm <= 52) {
		*kind = INSZ_BIS;
		*sex_known = true;
		*month = mm - 40;
	} else {
		return false;
	}
	return true;
}

/* A birth date we compose must exist (month 0 means day 0 too) and must
 * not lie in the future. */
static bool birth_date_ok(int year, int month, int day)
{
	if (month == 0)
		return day == 0;
	if (day != 0 && !date_valid(year, month, day))
		return false;
	struct date today = date_today();
	struct date born = {year, month, day ? day : 1};
	return date_cmp(born, today) <= 0;
}

/* The century the check digits give: the 19xx form first; the 20xx form
 * (prefix "2") only for a year that has begun, as the register issues no
 * number for a later birth. 0 when neither holds. */
static int century_of(const char *d)
{
	uint64_t first9 = digits_value(d, 9);
	int cc = (int)digits_value(d + 9, 2);
	if (cc == check97(first9))
		return 1900;
	if (2000 + (int)digits_value(d, 2) <= date_today().y &&
	    cc == check97(UINT64_C(2000000000) + first9))
		return 2000;
	return 0;
}

/* The birth date parts the number states, as the National Register issues
 * them (its instruction IT000, and python-stdnum's reading of it):
 *   - YYMMDD 000001, 002001, 004001: a fictitious date, nothing known;
 *   - month 00 (also 20, 40): the month and day are not known, or the day
 *     counter ran out and the date was set to 00; any day digits;
 *   - day 00, or a day past the month's end (the counter ran out again):
 *     the day is not known.
 * Unknown parts are 0. */
static void birth_parts(const char *d, int century, int month,
			struct insz *z)
{
	z->birth_year = z->birth_month = z->birth_day = 0;
	if (memcmp(d, "000001", 6) == 0 || memcmp(d, "002001", 6) == 0 ||
	    memcmp(d, "004001", 6) == 0)
		return;
	z->birth_year = century + (int)digits_value(d, 2);
	if (month == 0)
		return;
	z->birth_month = month;
	int day = (int)digits_value(d + 4, 2);
	if (day <= date_days_in_month(z->birth_year, month))
		z->birth_day = day;
}

enum id_status insz_parse(const char *in, size_t len, struct insz *out)
{
	struct insz z;
	enum id_status st = normalise(in, len, z.digits, 11, false);
	if (st != ID_OK)
		return st;
	int century = century_of(z.digits);
	if (century == 0)
		return ID_BAD_CHECKSUM;
	int month;
	bool sex_known;
	if (!decode_month((int)digits_value(z.digits + 2, 2), &z.kind, &month,
			  &sex_known))
		return ID_BAD_DATE;
	birth_parts(z.digits, century, month, &z);
	/* Every counter the register issues is valid, 000 and 999 too. */
	z.sequence = (int)digits_value(z.digits + 6, 3);
	z.sex = !sex_known ? SEX_UNKNOWN
		: (z.sequence % 2 ? SEX_MALE : SEX_FEMALE);
	if (out)
		*out = z;
	return ID_OK;
}

bool insz_valid(const char *s)
{
	return s && insz_parse(s, strlen(s), NULL) == ID_OK;
}

enum id_status insz_compose(enum insz_kind kind, int year, int month, int day,
			    bool sex_known, int sequence, char out[INSZ_BUF])
{
	if (year < 1900 || year > 2099 || month < 0 || month > 12 || day < 0)
		return ID_BAD_DATE;
	if (!birth_date_ok(year, month, day))
		return ID_BAD_DATE;
	if (sequence < 1 || sequence > 998)
		return ID_BAD_SEQUENCE;
	int mm = month;
	if (kind == INSZ_BIS)
		mm += sex_known ? 40 : 20;
	uint64_t first9 = (uint64_t)(year % 100) * UINT64_C(10000000) +
			  (uint64_t)mm * UINT64_C(100000) +
			  (uint64_t)day * UINT64_C(1000) + (uint64_t)sequence;
	int cc = check97(year >= 2000 ? UINT64_C(2000000000) + first9 : first9);
	/* 9 digits + 2 check digits: first9 < 10^9 by construction. */
	for (int i = 8; i >= 0; i--) {
		out[i] = (char)('0' + first9 % 10);
		first9 /= 10;
	}
	out[9] = (char)('0' + cc / 10);
	out[10] = (char)('0' + cc % 10);
	out[11] = '\0';
	return ID_OK;
}

enum id_status kbo_parse(const char *in, size_t len, char out[11])
{
	char d[11];
	enum id_status st = normalise(in, len, d, 10, true);
	if (st != ID_OK)
		return st;
	if (d[0] != '0' && d[0] != '1')
		return ID_BAD_PREFIX;
	if ((int)digits_value(d + 8, 2) != check97(digits_value(d, 8)))
		return ID_BAD_CHECKSUM;
	if (out)
		memcpy(out, d, 11);
	return ID_OK;
}

bool kbo_valid(const char *s)
{
	return s && kbo_parse(s, strlen(s), NULL) == ID_OK;
}
