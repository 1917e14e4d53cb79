/*
 * The mandate types as data (mandate.h): the data sets and their longest
 * validity, who may hold a mandate, and the conditions a citizen accepts.
 * The tables are small and embedded in the binary; each call reads them
 * again rather than keeping a parsed copy that could go stale or need a
 * lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mandate/mandate.h"
#include "org/org.h"

extern const char kp_data_mandate_types[];
extern const char kp_data_mandate_holders[];
extern const char kp_data_mandate_conditions_nl[];
extern const char kp_data_mandate_conditions_fr[];
extern const char kp_data_mandate_conditions_de[];
extern const char kp_data_mandate_conditions_en[];

#define TSV_COLS 3
#define TSV_CELL 256

/* Call row(cells, ctx) for each data line of a TSV table (comments '#'
 * and the header line skipped), its first TSV_COLS cells copied out. Stops
 * when row returns non-zero, and returns that. */
static int tsv_each(const char *table,
		    int (*row)(char cells[TSV_COLS][TSV_CELL], void *ctx),
		    void *ctx)
{
	bool header = true;
	for (const char *p = table; *p;) {
		size_t len = strcspn(p, "\n");
		const char *next = p[len] ? p + len + 1 : p + len;
		if (len == 0 || p[0] == '#' || header) {
			header = header && (len == 0 || p[0] == '#');
			p = next;
			continue;
		}
		char cells[TSV_COLS][TSV_CELL] = {{0}};
		const char *c = p;
		for (int i = 0; i < TSV_COLS && c < p + len; i++) {
			size_t w = strcspn(c, "\t\n");
			snprintf(cells[i], TSV_CELL, "%.*s", (int)w, c);
			c += w + (c[w] == '\t');
		}
		int rc = row(cells, ctx);
		if (rc)
			return rc;
		p = next;
	}
	return 0;
}

struct sets {
	struct mandate_data_set *v;
	int n;
};

static int add_set(char cells[TSV_COLS][TSV_CELL], void *ctx)
{
	struct sets *s = ctx;
	struct mandate_data_set *d = xrealloc(s->v, (size_t)(s->n + 1) *
							    sizeof(*d));
	s->v = d;
	d += s->n++;
	str_copy(d->type, sizeof(d->type), cells[0]);
	str_copy(d->code, sizeof(d->code), cells[1]);
	d->max_months = (int)strtol(cells[2], NULL, 10);
	return 0;
}

struct mandate_data_set *mandate_data_sets(int *n)
{
	struct sets s = {xmalloc(sizeof(*s.v)), 0};
	tsv_each(kp_data_mandate_types, add_set, &s);
	*n = s.n;
	return s.v;
}

int mandate_max_until(const char *type, const char *data_set,
		      struct date from, struct date *out)
{
	int n, rc = -1;
	struct mandate_data_set *d = mandate_data_sets(&n);
	for (int i = 0; i < n; i++)
		if (type && data_set && strcmp(d[i].type, type) == 0 &&
		    strcmp(d[i].code, data_set) == 0) {
			*out = date_add_months(from, d[i].max_months);
			rc = 0;
		}
	free(d);
	return rc;
}

struct categories {
	const char *type;
	char (*out)[MANDATE_CODE_LEN];
	int max, n;
};

static int add_category(char cells[TSV_COLS][TSV_CELL], void *ctx)
{
	struct categories *c = ctx;
	if (strcmp(cells[0], c->type) == 0 && c->n < c->max)
		str_copy(c->out[c->n++], MANDATE_CODE_LEN, cells[1]);
	return 0;
}

int mandate_holder_categories(const char *type,
			      char out[][MANDATE_CODE_LEN], int max)
{
	struct categories c = {type, out, max, 0};
	tsv_each(kp_data_mandate_holders, add_category, &c);
	return c.n;
}

struct eligible {
	struct store *s;
	const char *type, *kbo;
	char *out;
};

/* Whether the registered organisation e->kbo is of one of the row's
 * organisation categories ("*": any): 1 (and its holder category in
 * e->out), else 0. */
static int match_category(char cells[TSV_COLS][TSV_CELL], void *ctx)
{
	struct eligible *el = ctx;
	if (strcmp(cells[0], el->type) != 0)
		return 0;
	for (char *c = cells[2]; *c;) {
		size_t w = strcspn(c, ",");
		bool last = c[w] == '\0';
		c[w] = '\0';
		if (strcmp(c, "*") == 0 || org_has_category(el->s, el->kbo, c)) {
			str_copy(el->out, MANDATE_CODE_LEN, cells[1]);
			return 1;
		}
		c += w + !last;
	}
	return 0;
}

int mandate_holder_category(struct store *s, const char *type,
			    const char *kbo, char out[MANDATE_CODE_LEN],
			    struct error *e)
{
	char name[128];
	int rc = org_name(s, kbo, name, sizeof(name), e);
	if (rc != 0)
		return rc;
	struct eligible el = {s, type, kbo, out};
	return tsv_each(kp_data_mandate_holders, match_category, &el) ? 0 : 1;
}

static const struct {
	const char *lang;
	const char *text;
} conditions[] = {
	{"nl", kp_data_mandate_conditions_nl},
	{"fr", kp_data_mandate_conditions_fr},
	{"de", kp_data_mandate_conditions_de},
	{"en", kp_data_mandate_conditions_en},
};

int mandate_conditions_get(const char *type, const char *lang,
			   struct mandate_conditions *out, struct error *e)
{
	char cats[1][MANDATE_CODE_LEN];
	if (!type || mandate_holder_categories(type, cats, 1) == 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_mandate_type",
			       "no such mandate type");
	for (size_t i = 0; i < KP_NELEM(conditions); i++) {
		if (strcmp(conditions[i].lang, lang ? lang : "nl") != 0)
			continue;
		/* Each file starts with "version: <v>" and a blank line. */
		const char *v = conditions[i].text + strlen("version: ");
		snprintf(out->version, sizeof(out->version), "%.*s",
			 (int)strcspn(v, "\n"), v);
		const char *t = strstr(v, "\n\n");
		out->text = t ? t + 2 : v;
		return 0;
	}
	return err_set(e, ERR_INVALID, "invalid_field",
		       "lang: one of nl, fr, de, en");
}
