/*
 * What the declarations answer (employ.h): the student hours left in a
 * year, and whether a person may take a flexi-job. Both read the dated
 * tables data/student_contingent.tsv and data/flexi_rules.tsv (embedded),
 * so a change of the law is a new row, not new code. Fractions are summed
 * in thousandths times days: every comparison is exact.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "employ/employ.h"
#include "registry/registry.h"

extern const char kp_data_student_contingent[];
extern const char kp_data_flexi_rules[];

#define TABLE_FIELDS 4
#define TABLE_FIELD_LEN 16

/* The next data row of an embedded table from *cur (comments and the
 * header line skipped: the header is the first line not a comment, so the
 * caller passes *header true at the start). Fills f and returns the number
 * of fields, or -1 at the end. */
static int table_row(const char **cur, bool *header,
		     char f[TABLE_FIELDS][TABLE_FIELD_LEN])
{
	while (**cur) {
		const char *line = *cur;
		size_t len = strcspn(line, "\n");
		*cur = line + len + (line[len] == '\n');
		if (len == 0 || line[0] == '#')
			continue;
		if (*header) {
			*header = false;
			continue;
		}
		int n = 0;
		for (size_t i = 0; i < len && n < TABLE_FIELDS; n++) {
			size_t flen = strcspn(line + i, "\t\n");
			if (flen >= TABLE_FIELD_LEN)
				flen = TABLE_FIELD_LEN - 1;
			memcpy(f[n], line + i, flen);
			f[n][flen] = '\0';
			i += strcspn(line + i, "\t\n") + 1;
		}
		return n;
	}
	return -1;
}

static int field_int(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *end == '\0' && v >= 0 && v <= INT_MAX ? (int)v : -1;
}

/* The newest row of tsv in force on date (its first field, a date, on or
 * before it) into row. Returns 0, or 1 when none is. */
static int row_in_force(const char *tsv, const char *date,
			char row[TABLE_FIELDS][TABLE_FIELD_LEN])
{
	const char *cur = tsv;
	bool header = true, found = false;
	char f[TABLE_FIELDS][TABLE_FIELD_LEN];
	while (table_row(&cur, &header, f) >= 2)
		if (strcmp(f[0], date) <= 0) {
			memcpy(row, f, sizeof(f));
			found = true;
		}
	return found ? 0 : 1;
}

int employ_student_contingent(int year, int *hours, struct error *e)
{
	char first_day[DATE_LEN], row[TABLE_FIELDS][TABLE_FIELD_LEN];
	struct date d = {year, 1, 1};
	*hours = 0;
	if (year < 1 || year > 9999)
		return err_set(e, ERR_INVALID, "no_contingent",
			       "no student contingent for that year");
	date_format(d, first_day);
	if (row_in_force(kp_data_student_contingent, first_day, row) != 0 ||
	    (*hours = field_int(row[1])) < 0)
		return err_set(e, ERR_INVALID, "no_contingent",
			       "no student contingent for that year");
	return 0;
}

int employ_student_hours_left(struct store *s, const char *insz, int year,
			      int *hours, struct error *e)
{
	if (!insz_valid(insz))
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "not a valid INSZ");
	if (employ_student_contingent(year, hours, e) != 0)
		return -1;
	struct employ_declaration *d;
	int n;
	if (employ_in_force(s, insz, &d, &n, e) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct date start;
		if (d[i].kind == EMPLOY_STUDENT &&
		    date_parse(d[i].start, &start) == 0 && start.y == year)
			*hours -= d[i].hours;
	}
	free(d);
	return 0;
}

/* ------------------------------------------------------------- flexi-jobs */

/* A quarter as days since 1970, first and last included. */
struct quarter {
	int64_t first, last;
};

/* The quarter back quarters before the one of day. */
static struct quarter quarter_of(struct date day, int back)
{
	int q = day.y * 4 + (day.m - 1) / 3 - back;
	struct date first = {q / 4, (q % 4) * 3 + 1, 1};
	struct quarter out = {date_to_days(first), 0};
	out.last = date_to_days(date_add_months(first, 3)) - 1;
	return out;
}

/* Days of q that declaration d covers. */
static int64_t days_covered(const struct employ_declaration *d,
			    struct quarter q)
{
	struct date start, end;
	if (date_parse(d->start, &start) != 0)
		return 0;
	int64_t from = date_to_days(start), to = INT64_MAX;
	if (d->end[0] && date_parse(d->end, &end) == 0)
		to = date_to_days(end);
	from = from > q.first ? from : q.first;
	to = to < q.last ? to : q.last;
	return to >= from ? to - from + 1 : 0;
}

/* The flexi-job rule in force on date. */
struct flexi_rule {
	int threshold; /* thousandths */
	int lookback;  /* quarters */
	bool pensioners;
};

static int flexi_rule(const char *date, struct flexi_rule *r)
{
	char row[TABLE_FIELDS][TABLE_FIELD_LEN];
	if (row_in_force(kp_data_flexi_rules, date, row) != 0)
		return 1;
	r->threshold = field_int(row[1]);
	r->lookback = field_int(row[2]);
	r->pensioners = field_int(row[3]) == 1;
	return r->threshold > 0 && r->lookback >= 0 ? 0 : 1;
}

static bool pensioner(const struct registry_person *p, const char *date)
{
	return strcmp(p->pension_status, REGISTRY_PENSION_RETIRED) == 0 &&
	       (!p->pension_since[0] || strcmp(p->pension_since, date) <= 0);
}

/* The reason from the declarations in force d (n of them). */
static const char *flexi_reason(const struct employ_declaration *d, int n,
				const char *employer, struct date day,
				const struct flexi_rule *r, bool retired)
{
	struct quarter t = quarter_of(day, 0),
		       back = quarter_of(day, r->lookback);
	int64_t worked = 0; /* thousandths times days, in quarter T-3 */
	for (int i = 0; i < n; i++) {
		if (d[i].kind != EMPLOY_ORDINARY)
			continue;
		bool here = strcmp(d[i].employer, employer) == 0;
		if (here && d[i].fraction >= r->threshold &&
		    days_covered(&d[i], t) > 0)
			return "main_employer";
		if (!here)
			worked += (int64_t)d[i].fraction *
				  days_covered(&d[i], back);
	}
	if (retired)
		return "pensioner";
	int64_t days = back.last - back.first + 1;
	return worked >= (int64_t)r->threshold * days
		       ? "employed_t3"
		       : "insufficient_employment";
}

int employ_flexi_eligible(struct store *s, const char *insz,
			  const char *employer, const char *date,
			  bool *eligible, const char **reason,
			  struct error *e)
{
	struct date day;
	*eligible = false;
	*reason = NULL;
	if (!insz_valid(insz))
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "not a valid INSZ");
	if (!kbo_valid(employer))
		return err_set(e, ERR_INVALID, "invalid_kbo",
			       "employer: not a valid enterprise number");
	if (!date || date_parse(date, &day) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "date: a date YYYY-MM-DD");
	struct registry_person p;
	int rc = registry_get_as_of(s, insz, date, &p, e);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_person",
			       "the person is not in the registers");
	struct flexi_rule r;
	if (flexi_rule(date, &r) != 0) {
		*reason = "no_rule";
		return 0;
	}
	struct employ_declaration *d;
	int n;
	if (employ_in_force(s, insz, &d, &n, e) != 0)
		return -1;
	*reason = flexi_reason(d, n, employer, day, &r,
			       r.pensioners && pensioner(&p, date));
	free(d);
	*eligible = strcmp(*reason, "pensioner") == 0 ||
		    strcmp(*reason, "employed_t3") == 0;
	return 0;
}
