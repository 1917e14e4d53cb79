/*
 * `kruispunt import registry|orgs --data DIR --from FILE [--initial]`:
 * an operator loads the registers and the organisations from NDJSON files
 * (docs/IMPORT.md). Each line is parsed by the module it belongs to and
 * applied by that module's audited functions; a bad line is reported on
 * stderr with its number and reason and skipped, and the others go on.
 *
 * Exit status: 0 every line applied, 1 some line skipped, 2 a usage error,
 * a file that cannot be read, or a store or audit log that failed (the
 * lines before it stay applied).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "org/org.h"
#include "registry/registry.h"

/* Lines parsed before an initial load commits them: enough for the load's
 * threads to keep the audit writer busy, small enough to stay a few MB. */
#define LOAD_CHUNK 16384
/* The longest line either file may have, and its buffer. */
#define LINE_MAX_BYTES (REGISTRY_LINE_MAX > ORG_LINE_MAX ? REGISTRY_LINE_MAX \
							  : ORG_LINE_MAX)

struct import {
	const char *file;
	FILE *f;
	struct audit *log;
	int64_t no;    /* the current line's number */
	char buf[LINE_MAX_BYTES + 2];
	size_t len;    /* of the line in buf; past the limit: LINE_MAX_BYTES + 1 */
	uint64_t read, inserted, updated, unchanged, skipped, mutations;
	bool fatal;    /* the store or the log failed: stop */
};

/* The next line into im->buf, without its end ("\n" or "\r\n"); one too
 * long keeps only its first LINE_MAX_BYTES + 1 bytes, enough to say so.
 * Returns 1, or 0 at the end of the file. */
static int next_line(struct import *im)
{
	int c;
	im->len = 0;
	while ((c = getc_unlocked(im->f)) != EOF && c != '\n')
		if (im->len <= LINE_MAX_BYTES)
			im->buf[im->len++] = (char)c;
	if (c == EOF && im->len == 0)
		return 0;
	if (im->len > 0 && im->len <= LINE_MAX_BYTES &&
	    im->buf[im->len - 1] == '\r')
		im->len--;
	im->buf[im->len] = '\0';
	im->no++;
	return 1;
}

/* A line that is blank is no line of the file's content. */
static bool blank(const struct import *im)
{
	for (size_t i = 0; i < im->len; i++)
		if (im->buf[i] != ' ' && im->buf[i] != '\t')
			return false;
	return true;
}

/* Report line no as skipped. The detail never quotes the line: it may
 * hold anything. */
static void skip(struct import *im, int64_t no, const struct error *e)
{
	fprintf(stderr, "%s:%lld: %s: %s\n", im->file, (long long)no,
		e->code ? e->code : "error", e->detail);
	im->skipped++;
	if (e->kind == ERR_UNAVAILABLE)
		im->fatal = true;
}

static void count(struct import *im, enum registry_outcome o)
{
	if (o == REGISTRY_INSERTED)
		im->inserted++;
	else if (o == REGISTRY_UPDATED)
		im->updated++;
	else if (o == REGISTRY_UNCHANGED)
		im->unchanged++;
}

/* ------------------------------------------------------- initial load */

/* A line with parents, linked once every person is in. */
struct linked {
	struct registry_line l;
	int64_t no;
	enum registry_outcome o;
};

struct chunk {
	struct registry_line *l;
	int64_t *no;
	enum registry_outcome *out;
	size_t n;
	struct linked *linked;
	size_t nlinked, linked_cap;
};

static void keep_links(struct chunk *c, size_t i)
{
	if (c->nlinked == c->linked_cap) {
		c->linked_cap = c->linked_cap ? 2 * c->linked_cap : 64;
		c->linked = xrealloc(c->linked, c->linked_cap * sizeof(*c->linked));
	}
	c->linked[c->nlinked++] = (struct linked){c->l[i], c->no[i], c->out[i]};
}

static void load_chunk(struct import *im, struct chunk *c)
{
	struct error e;
	if (c->n == 0)
		return;
	memset(c->out, 0, c->n * sizeof(*c->out));
	if (registry_load(im->log, &cli_operator, c->l, c->n, c->out, &e) != 0) {
		fprintf(stderr, "%s: %s (%s)\n", im->file, e.detail,
			e.code ? e.code : "error");
		im->fatal = true;
	}
	struct error exists;
	err_set(&exists, ERR_CONFLICT, "person_exists",
		"registered with other data, or twice in the file: load "
		"changes without --initial");
	for (size_t i = 0; i < c->n; i++) {
		if (c->out[i] == REGISTRY_REFUSED)
			skip(im, c->no[i], &exists);
		else if (c->out[i] != 0 && c->l[i].nparents > 0)
			keep_links(c, i);
		else
			count(im, c->out[i]);
	}
	c->n = 0;
}

/* The parent links of an initial load, once every person is in. A line
 * whose link is refused is skipped (its person stays registered). */
static void load_links(struct import *im, struct chunk *c)
{
	struct store *s = audit_store(im->log);
	for (size_t i = 0; i < c->nlinked && !im->fatal; i++) {
		const struct registry_line *l = &c->linked[i].l;
		struct error e;
		int rc = 0;
		for (int k = 0; k < l->nparents && rc == 0; k++)
			if (!registry_is_parent(s, l->parents[k], l->person.insz))
				rc = registry_link_parent(im->log, &cli_operator,
							  l->person.insz,
							  l->parents[k], &e);
		if (rc != 0)
			skip(im, c->linked[i].no, &e);
		else
			count(im, c->linked[i].o);
	}
}

static void registry_initial(struct import *im)
{
	struct chunk c = {0};
	c.l = xcalloc(LOAD_CHUNK, sizeof(*c.l));
	c.no = xcalloc(LOAD_CHUNK, sizeof(*c.no));
	c.out = xcalloc(LOAD_CHUNK, sizeof(*c.out));
	while (!im->fatal && next_line(im)) {
		struct error e;
		if (blank(im))
			continue;
		im->read++;
		if (registry_line_parse(im->buf, im->len, &c.l[c.n], &e) != 0) {
			skip(im, im->no, &e);
			continue;
		}
		c.no[c.n++] = im->no;
		if (c.n == LOAD_CHUNK)
			load_chunk(im, &c);
	}
	if (!im->fatal)
		load_chunk(im, &c);
	if (!im->fatal)
		load_links(im, &c);
	free(c.l);
	free(c.no);
	free(c.out);
	free(c.linked);
}

/* ---------------------------------------------------- daily mutations */

/* The register's authority, as the network API would have it: the
 * institution of its actor type. 0 and *id, or -1 with e. */
static int authority(struct store *s, const char *reg, int64_t *id,
		     struct error *e)
{
	struct org_institution inst;
	const char *type = registry_authority(reg);
	int rc = org_institution_of_type(s, type, &inst);
	if (rc < 0)
		return store_fail(e, "the institutions cannot be read now");
	if (rc == 1)
		return err_set(e, ERR_CONFLICT, "no_register_authority",
			       "no institution of actor type %s is "
			       "registered: import it first "
			       "(kruispunt import orgs)", type);
	*id = inst.id;
	return 0;
}

static void registry_daily(struct import *im)
{
	struct store *s = audit_store(im->log);
	struct registry_line l;
	while (!im->fatal && next_line(im)) {
		struct error e;
		enum registry_outcome o;
		int64_t id;
		if (blank(im))
			continue;
		im->read++;
		uint64_t before = im->updated;
		if (registry_line_parse(im->buf, im->len, &l, &e) != 0 ||
		    authority(s, l.person.register_, &id, &e) != 0 ||
		    registry_upsert(im->log, &cli_operator, &l,
				    registry_authority(l.person.register_), id,
				    &o, &e) != 0) {
			skip(im, im->no, &e);
			continue;
		}
		count(im, o);
		im->mutations += im->updated - before;
	}
}

/* ------------------------------------------------------ organisations */

static void orgs(struct import *im)
{
	struct org_line l;
	static const enum registry_outcome as[] = {
		[ORG_INSERTED] = REGISTRY_INSERTED,
		[ORG_UPDATED] = REGISTRY_UPDATED,
		[ORG_UNCHANGED] = REGISTRY_UNCHANGED};
	while (!im->fatal && next_line(im)) {
		struct error e;
		enum org_outcome o;
		if (blank(im))
			continue;
		im->read++;
		if (org_line_parse(im->buf, im->len, &l, &e) != 0 ||
		    org_upsert(im->log, &cli_operator, &l, &o, &e) != 0) {
			skip(im, im->no, &e);
			continue;
		}
		count(im, as[o]);
	}
}

/* ------------------------------------------------------------ command */

struct import_args {
	const char *what, *data, *from;
	bool initial;
};

static int parse_args(int argc, char **argv, struct import_args *a)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"from", required_argument, NULL, 'f'},
		{"initial", no_argument, NULL, 'i'},
		{NULL, 0, NULL, 0}};
	int c;
	memset(a, 0, sizeof(*a));
	if (argc < 2)
		return -1;
	a->what = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (c == 'd')
			a->data = optarg;
		else if (c == 'f')
			a->from = optarg;
		else if (c == 'i')
			a->initial = true;
		else
			return -1;
	}
	if (optind < argc - 1 || !a->data || !a->from)
		return -1;
	return strcmp(a->what, "registry") && strcmp(a->what, "orgs") ? -1 : 0;
}

static void summary(const struct import *im, const struct import_args *a)
{
	printf("%s: lines read %llu, inserted %llu, updated %llu, unchanged "
	       "%llu, skipped %llu\n", im->file, (unsigned long long)im->read,
	       (unsigned long long)im->inserted,
	       (unsigned long long)im->updated,
	       (unsigned long long)im->unchanged,
	       (unsigned long long)im->skipped);
	if (!strcmp(a->what, "registry") && !a->initial && im->mutations)
		printf("%llu persons changed: the daemon forwards their "
		       "mutations to the mailboxes (within a second when it "
		       "runs, else when it starts)\n",
		       (unsigned long long)im->mutations);
}

int cmd_import(int argc, char **argv)
{
	struct import_args a;
	if (parse_args(argc, argv, &a) != 0)
		return cli_usage("import");
	struct import *im = xcalloc(1, sizeof(*im));
	im->file = a.from;
	struct cli_config cfg;
	struct store *s = NULL;
	struct error e;
	int rc = 2;
	im->f = fopen(a.from, "r");
	if (!im->f)
		fprintf(stderr, "kruispunt import: cannot read %s\n", a.from);
	else if (cli_open_data(a.data, &cfg, &s, &e) != 0 ||
		 cli_open_log(&cfg, s, &im->log, &e) != 0)
		fprintf(stderr, "kruispunt import: %s\n", e.detail);
	else {
		if (!strcmp(a.what, "orgs"))
			orgs(im);
		else if (a.initial)
			registry_initial(im);
		else
			registry_daily(im);
		if (ferror(im->f))
			fprintf(stderr, "kruispunt import: reading %s failed\n",
				a.from);
		summary(im, &a);
		rc = im->fatal || ferror(im->f) ? 2 : im->skipped ? 1 : 0;
	}
	audit_close(im->log);
	store_close(s);
	if (im->f)
		fclose(im->f);
	free(im);
	return rc;
}
