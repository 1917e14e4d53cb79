/*
 * JSON from outside, bounded. jansson parses recursively and allows 2048
 * levels; a quick scan first refuses anything deeper than LIMIT_JSON_DEPTH,
 * so hostile nesting never reaches the parser.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Depth of the deepest array/object, ignoring brackets inside strings.
 * Returns -1 as soon as the limit is passed. */
static int json_depth(const char *buf, size_t len, int limit)
{
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > limit)
				return -1;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return depth;
}

json_t *jsonx_parse(const char *buf, size_t len, struct error *e)
{
	if (json_depth(buf, len, LIMIT_JSON_DEPTH) < 0) {
		err_set(e, ERR_MALFORMED, "malformed_json",
			"JSON nested deeper than %d levels", LIMIT_JSON_DEPTH);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		/* je.text may quote the input; keep only the position. */
		err_set(e, ERR_MALFORMED, "malformed_json",
			"request body is not valid JSON (line %d, column %d)",
			je.line, je.column);
		return NULL;
	}
	return j;
}

static json_t *member(json_t *obj, const char *key, bool required, int *rc,
		      struct error *e)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (v && !json_is_null(v))
		return v;
	*rc = required ? err_set(e, ERR_INVALID, "invalid_field",
				 "field '%s' is required", key)
		       : 1;
	return NULL;
}

int jsonx_str(json_t *obj, const char *key, bool required, size_t max_len,
	      const char **out, struct error *e)
{
	int rc = 0;
	json_t *v = member(obj, key, required, &rc, e);
	if (!v)
		return rc;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "field '%s' must be a string", key);
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > max_len)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "field '%s' is longer than %zu bytes", key,
			       max_len);
	/* An embedded NUL would let C code see a different string; other
	 * control characters forge lines in logs, mails and reports. */
	if (strlen(s) != n || !text_plain(s, max_len))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "field '%s' contains a control character", key);
	*out = s;
	return 0;
}

int jsonx_int(json_t *obj, const char *key, bool required, int64_t min,
	      int64_t max, int64_t *out, struct error *e)
{
	int rc = 0;
	json_t *v = member(obj, key, required, &rc, e);
	if (!v)
		return rc;
	if (!json_is_integer(v))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "field '%s' must be an integer", key);
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "field '%s' must be between %lld and %lld", key,
			       (long long)min, (long long)max);
	*out = (int64_t)n;
	return 0;
}

int jsonx_bool(json_t *obj, const char *key, bool required, bool *out,
	       struct error *e)
{
	int rc = 0;
	json_t *v = member(obj, key, required, &rc, e);
	if (!v)
		return rc;
	if (!json_is_boolean(v))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "field '%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

char *jsonx_dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		abort(); /* only fails when out of memory */
	return s;
}

/* A string with a C0 control character or DEL (NUL included). */
static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Whether any string in j (member names included) has a control
 * character. Depth is bounded by jsonx_parse. */
static bool any_control(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	if (json_is_string(j))
		return has_control(json_string_value(j), json_string_length(j));
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			if (has_control(key, strlen(key)) || any_control(v))
				return true;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (any_control(v))
				return true;
	}
	return false;
}

int jsonx_known_fields(json_t *obj, const char *const *fields,
		       struct error *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool known = false;
		for (size_t i = 0; fields[i] && !known; i++)
			known = strcmp(key, fields[i]) == 0;
		if (known)
			continue;
		/* A name is repeated in a report only when it is harmless. */
		return text_plain(key, 40)
			       ? err_set(e, ERR_INVALID, "unknown_field",
					 "unknown field '%s'", key)
			       : err_set(e, ERR_INVALID, "unknown_field",
					 "an unknown field");
	}
	return 0;
}

json_t *jsonx_line(const char *line, size_t len, size_t max,
		   const char *const *fields, struct error *e)
{
	if (len > max) {
		err_set(e, ERR_INVALID, "line_too_long",
			"the line is longer than %zu bytes", max);
		return NULL;
	}
	/* Raw control bytes first: jansson would call them malformed, but
	 * the operator needs to know it is a stray byte, not a syntax slip. */
	if (has_control(line, len)) {
		err_set(e, ERR_INVALID, "control_character",
			"the line holds a control character");
		return NULL;
	}
	json_t *j = jsonx_parse(line, len, e);
	const char *column = j || !e ? NULL : strstr(e->detail, "column ");
	if (column) {
		/* Said of a line, not of a request body. */
		char where[32];
		str_copy(where, sizeof(where), column);
		err_set(e, ERR_MALFORMED, "malformed_json",
			"the line is not valid JSON (%s", where);
	}
	if (!j)
		return NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		err_set(e, ERR_MALFORMED, "malformed_json",
			"the line is not a JSON object");
		return NULL;
	}
	if (any_control(j)) {
		json_decref(j);
		err_set(e, ERR_INVALID, "control_character",
			"a value holds a control character");
		return NULL;
	}
	if (jsonx_known_fields(j, fields, e) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}
