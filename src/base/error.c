/*
 * The error every module returns, and its rendering as an RFC 9457 problem
 * document. Which HTTP status an error kind becomes is decided in src/http
 * alone; this file only renders what it is given.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

void err_fill(struct error *e, enum err_kind kind, const char *code,
	      const char *fmt, ...)
{
	if (!e)
		return;
	e->kind = kind;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
}

void err_clear(struct error *e)
{
	e->kind = ERR_NONE;
	e->code = NULL;
	e->detail[0] = '\0';
}

char *problem_render(int status, const char *title, const struct error *e,
		     const char *instance, json_t *extra)
{
	json_t *p = json_object();
	json_object_set_new(p, "type", json_string("about:blank"));
	json_object_set_new(p, "title", json_string(title));
	json_object_set_new(p, "status", json_integer(status));
	/* detail may quote what the client sent; json_string refuses invalid
	 * UTF-8, so fall back to the title rather than emit broken JSON. */
	json_t *detail = json_string(e->detail[0] ? e->detail : title);
	json_object_set_new(p, "detail", detail ? detail : json_string(title));
	json_object_set_new(p, "code",
			    json_string(e->code ? e->code : "error"));
	if (instance) {
		json_t *inst = json_string(instance);
		if (inst)
			json_object_set_new(p, "instance", inst);
	}
	if (extra)
		json_object_update(p, extra);
	char *out = jsonx_dump(p);
	json_decref(p);
	return out;
}
