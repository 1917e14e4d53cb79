/*
 * One person of an operator's register file (docs/IMPORT.md). The file
 * comes from outside the hub, so each line is checked as a request body
 * is: bounded, plain text, only the names the format has, every
 * identifier valid; a line that is not is refused with its reason and
 * never reaches the registers.
 */
#include <string.h>

#include "registry/registry_internal.h"

static const char *const line_fields[] = {
	"insz", "register", "last_name", "first_names", "birth_date",
	"birth_place", "sex", "nationality", "address", "language", "parents",
	"deceased_on", "pension_status", "pension_since", "effective_on",
	NULL};
static const char *const address_fields[] = {
	"street", "postal_code", "municipality", "country", NULL};

/* An optional string member into dst (n bytes): -1 with e when it is
 * there but no string, or too long. */
static int text(json_t *obj, const char *key, char *dst, size_t n,
		struct error *e)
{
	const char *v = NULL;
	int rc = jsonx_str(obj, key, false, n - 1, &v, e);
	if (rc < 0)
		return -1;
	str_copy(dst, n, rc == 0 ? v : "");
	return 0;
}

/* A number as the file gives it (formatted or not) into digits. */
static int number(const char *s, char out[INSZ_BUF], const char *what,
		  struct error *e)
{
	struct insz z;
	enum id_status st = insz_parse(s, strlen(s), &z);
	if (st != ID_OK)
		return err_set(e, ERR_INVALID, "invalid_insz", "%s: %s", what,
			       id_status_text(st));
	str_copy(out, INSZ_BUF, z.digits);
	return 0;
}

static int address(json_t *j, struct registry_person *p, struct error *e)
{
	json_t *a = json_object_get(j, "address");
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_object(a))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "address must be an object");
	if (jsonx_known_fields(a, address_fields, e) != 0)
		return -1;
	return text(a, "street", p->street, sizeof(p->street), e) ||
	       text(a, "postal_code", p->postal_code, sizeof(p->postal_code),
		    e) ||
	       text(a, "municipality", p->municipality,
		    sizeof(p->municipality), e) ||
	       text(a, "country", p->country, sizeof(p->country), e) ? -1 : 0;
}

static int parents(json_t *j, struct registry_line *out, struct error *e)
{
	json_t *list = json_object_get(j, "parents");
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > 2)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "parents is a list of at most two INSZ");
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || json_string_length(v) > LIMIT_ID_INPUT)
			return err_set(e, ERR_INVALID, "invalid_insz",
				       "a parent is not an INSZ");
		char *dst = out->parents[out->nparents];
		if (number(json_string_value(v), dst, "parent", e) != 0)
			return -1;
		if (!strcmp(dst, out->person.insz) ||
		    (out->nparents == 1 && !strcmp(dst, out->parents[0])))
			return err_set(e, ERR_INVALID, "invalid_field",
				       "the parents are two other persons");
		out->nparents++;
	}
	return 0;
}

/* The number, and the register when the line names one. */
static int identity(json_t *j, struct registry_line *out, struct error *e)
{
	const char *insz = NULL, *reg = NULL;
	if (jsonx_str(j, "insz", true, LIMIT_ID_INPUT, &insz, e) != 0 ||
	    number(insz, out->person.insz, "insz", e) != 0 ||
	    jsonx_str(j, "register", false, 3, &reg, e) < 0)
		return -1;
	const char *kind = registry_register_of(out->person.insz);
	if (reg && strcmp(reg, kind) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "register is %s for this number",
			       kind);
	str_copy(out->person.register_, sizeof(out->person.register_), kind);
	return 0;
}

static int dates(json_t *j, struct registry_line *out, struct error *e)
{
	struct registry_person *p = &out->person;
	struct date d;
	if (text(j, "birth_date", p->birth_date, sizeof(p->birth_date), e) ||
	    text(j, "deceased_on", p->deceased_on, sizeof(p->deceased_on), e) ||
	    text(j, "pension_since", p->pension_since,
		 sizeof(p->pension_since), e) ||
	    text(j, "effective_on", out->effective_on,
		 sizeof(out->effective_on), e))
		return -1;
	if (out->effective_on[0] && date_parse(out->effective_on, &d) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "effective_on is no date (YYYY-MM-DD)");
	return 0;
}

int registry_line_parse(const char *line, size_t len, struct registry_line *out,
			struct error *e)
{
	memset(out, 0, sizeof(*out));
	json_t *j = jsonx_line(line, len, REGISTRY_LINE_MAX, line_fields, e);
	if (!j)
		return -1;
	struct registry_person *p = &out->person;
#define T(name) text(j, #name, p->name, sizeof(p->name), e)
	int rc = identity(j, out, e) || T(last_name) || T(first_names) ||
		 T(birth_place) || T(sex) || T(nationality) || T(language) ||
		 T(pension_status) ||
		 dates(j, out, e) || address(j, p, e) || parents(j, out, e) ||
		 registry_person_check(p, e) ? -1 : 0;
#undef T
	json_decref(j);
	return rc;
}
