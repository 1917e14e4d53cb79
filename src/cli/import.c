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
#include <pthread.h>
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

/* An initial load is a pipeline of two stages: this thread reads and
 * parses a chunk of lines while a loader thread commits the previous one
 * (registry_load), so parsing costs no time of its own. A chunk keeps its
 * bad lines with it, so the report stays in line order. */

/* A line with parents, linked once every person is in. */
struct linked {
	struct registry_line l;
	int64_t no;
	enum registry_outcome o;
};

struct bad {
	int64_t no;
	struct error e;
};

struct chunk {
	struct registry_line *l;
	int64_t *no;
	enum registry_outcome *out;
	size_t n;
	struct bad *bad;
	size_t nbad, bad_cap;
};

struct loader {
	struct import *im;
	struct chunk *c; /* being loaded, or NULL */
	pthread_t th;
	int rc;
	struct error e;
	struct linked *linked;
	size_t nlinked, linked_cap;
};

static void add_bad(struct chunk *c, int64_t no, const struct error *e)
{
	if (c->nbad == c->bad_cap) {
		c->bad_cap = c->bad_cap ? 2 * c->bad_cap : 64;
		c->bad = xrealloc(c->bad, c->bad_cap * sizeof(*c->bad));
	}
	c->bad[c->nbad++] = (struct bad){no, *e};
}

static void keep_links(struct loader *ld, const struct chunk *c, size_t i)
{
	if (ld->nlinked == ld->linked_cap) {
		ld->linked_cap = ld->linked_cap ? 2 * ld->linked_cap : 64;
		ld->linked = xrealloc(ld->linked,
				      ld->linked_cap * sizeof(*ld->linked));
	}
	ld->linked[ld->nlinked++] = (struct linked){c->l[i], c->no[i], c->out[i]};
}

static void *loader_main(void *arg)
{
	struct loader *ld = arg;
	struct chunk *c = ld->c;
	memset(c->out, 0, c->n * sizeof(*c->out));
	ld->rc = registry_load(ld->im->log, &cli_operator, c->l, c->n, c->out,
			       &ld->e);
	return NULL;
}

/* A loaded chunk's lines, in order: bad ones reported, the others
 * counted (or kept for their parent links). */
static void report(struct loader *ld, struct chunk *c)
{
	struct error exists;
	err_set(&exists, ERR_CONFLICT, "person_exists",
		"registered with other data, or twice in the file: load "
		"changes without --initial");
	size_t b = 0;
	for (size_t i = 0; i < c->n; i++) {
		for (; b < c->nbad && c->bad[b].no < c->no[i]; b++)
			skip(ld->im, c->bad[b].no, &c->bad[b].e);
		if (c->out[i] == REGISTRY_REFUSED)
			skip(ld->im, c->no[i], &exists);
		else if (c->out[i] != 0 && c->l[i].nparents > 0)
			keep_links(ld, c, i);
		else
			count(ld->im, c->out[i]);
	}
	for (; b < c->nbad; b++)
		skip(ld->im, c->bad[b].no, &c->bad[b].e);
	c->n = c->nbad = 0;
}

/* Wait for the chunk being loaded, and report it. */
static void finish(struct loader *ld)
{
	if (!ld->c)
		return;
	pthread_join(ld->th, NULL);
	if (ld->rc != 0) {
		fprintf(stderr, "%s: %s (%s)\n", ld->im->file, ld->e.detail,
			ld->e.code ? ld->e.code : "error");
		ld->im->fatal = true;
	}
	report(ld, ld->c);
	ld->c = NULL;
}

/* Load c on the loader thread (on this one when none can start), once
 * the previous chunk is done. */
static void hand(struct loader *ld, struct chunk *c)
{
	finish(ld);
	if (ld->im->fatal)
		return;
	ld->c = c;
	if (pthread_create(&ld->th, NULL, loader_main, ld) == 0)
		return;
	loader_main(ld);
	ld->c = NULL;
	report(ld, c);
}

/* The parent links of an initial load, once every person is in. A line
 * whose link is refused is skipped (its person stays registered). */
static void load_links(struct loader *ld)
{
	struct import *im = ld->im;
	struct store *s = audit_store(im->log);
	for (size_t i = 0; i < ld->nlinked && !im->fatal; i++) {
		const struct registry_line *l = &ld->linked[i].l;
		struct error e;
		int rc = 0;
		for (int k = 0; k < l->nparents && rc == 0; k++)
			if (!registry_is_parent(s, l->parents[k], l->person.insz))
				rc = registry_link_parent(im->log, &cli_operator,
							  l->person.insz,
							  l->parents[k], &e);
		if (rc != 0)
			skip(im, ld->linked[i].no, &e);
		else
			count(im, ld->linked[i].o);
	}
}

static void registry_initial(struct import *im)
{
	struct chunk c[2];
	struct loader ld = {.im = im};
	memset(c, 0, sizeof(c));
	for (int k = 0; k < 2; k++) {
		c[k].l = xcalloc(LOAD_CHUNK, sizeof(*c[k].l));
		c[k].no = xcalloc(LOAD_CHUNK, sizeof(*c[k].no));
		c[k].out = xcalloc(LOAD_CHUNK, sizeof(*c[k].out));
	}
	int cur = 0;
	while (!im->fatal && next_line(im)) {
		struct error e;
		struct chunk *p = &c[cur];
		if (blank(im))
			continue;
		im->read++;
		if (registry_line_parse(im->buf, im->len, &p->l[p->n], &e) != 0)
			add_bad(p, im->no, &e);
		else
			p->no[p->n++] = im->no;
		if (p->n == LOAD_CHUNK || p->nbad == LOAD_CHUNK) {
			hand(&ld, p);
			cur ^= 1;
		}
	}
	hand(&ld, &c[cur]);
	finish(&ld);
	load_links(&ld);
	for (int k = 0; k < 2; k++) {
		free(c[k].l);
		free(c[k].no);
		free(c[k].out);
		free(c[k].bad);
	}
	free(ld.linked);
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
