/* The lines of an operator's import files (registry_line_parse,
 * org_line_parse): never read outside the line, and whatever they accept
 * is what the registers take: a valid INSZ or KBO in digits, every text
 * plain, a person registry_person_check passes. A refusal always has a
 * code. */
#include <stdlib.h>
#include <string.h>

#include "org/org.h"
#include "registry/registry.h"
#include "fuzz.h"

static void check_person(const struct registry_line *l)
{
	const struct registry_person *p = &l->person;
	struct error e;
	if (!insz_valid(p->insz) || strlen(p->insz) != 11 ||
	    registry_person_check(p, &e) != 0 || l->nparents < 0 ||
	    l->nparents > 2)
		abort();
	for (int i = 0; i < l->nparents; i++)
		if (!insz_valid(l->parents[i]) || !strcmp(l->parents[i], p->insz))
			abort();
}

static void check_org(const struct org_line *l)
{
	if (!kbo_valid(l->kbo) || strlen(l->kbo) != 10 ||
	    !text_plain(l->name, sizeof(l->name)) || !l->name[0] ||
	    l->ncategories > ORG_LINE_CATEGORIES ||
	    !l->actor_type[0] != !l->branch[0])
		abort();
	for (int i = 0; i < l->ncategories; i++)
		if (!text_plain(l->categories[i], 32))
			abort();
}

int fuzz_import(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches a read past it. */
	char *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	struct registry_line rl;
	struct org_line ol;
	struct error e;
	err_clear(&e);
	if (registry_line_parse(p, size, &rl, &e) == 0)
		check_person(&rl);
	else if (!e.code)
		abort();
	err_clear(&e);
	if (org_line_parse(p, size, &ol, &e) == 0)
		check_org(&ol);
	else if (!e.code)
		abort();
	free(p);
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import(data, size);
}
#endif
