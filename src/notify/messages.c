/*
 * The texts of the messages kruispunt sends, by name and language, with
 * their variables filled in ({{name}}). The texts are files a translator
 * edits (data/messages/<lang>/<name>.txt, and the printable activation
 * letter <lang>/activation_letter.html), embedded in the binary at build
 * time so a deployment cannot lose them. A .txt file is
 * "Subject: ...", a blank line, then the body (data/messages/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "notify/notify_internal.h"

/* The language every message exists in, and the one a person whose
 * language lacks a message gets. */
#define FALLBACK_LANG "en"
/* A message is a few KiB; values are bounded by their callers. */
#define MESSAGE_MAX (64 * 1024)

static const struct notify_template *find_exact(const char *name,
						const char *lang,
						const char *ext)
{
	char path[128];
	int n = snprintf(path, sizeof(path), "%s/%s.%s", lang, name, ext);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	for (size_t i = 0; i < notify_ntemplates; i++)
		if (strcmp(notify_templates[i].path, path) == 0)
			return &notify_templates[i];
	return NULL;
}

/* The template of name in lang, or in English when lang lacks it. A name
 * or language holding '/' or '.' names no file of the table. */
static const struct notify_template *find(const char *name, const char *lang,
					  const char *ext)
{
	if (strpbrk(name, "/."))
		return NULL;
	const struct notify_template *t =
		lang && !strpbrk(lang, "/.") ? find_exact(name, lang, ext)
					     : NULL;
	return t ? t : find_exact(name, FALLBACK_LANG, ext);
}

char *notify_html_escape(const char *s)
{
	struct buf b;
	buf_init(&b, MESSAGE_MAX);
	for (; *s; s++) {
		const char *ref = *s == '&'    ? "&amp;"
				  : *s == '<'  ? "&lt;"
				  : *s == '>'  ? "&gt;"
				  : *s == '"'  ? "&quot;"
				  : *s == '\'' ? "&#39;"
					       : NULL;
		if (ref)
			buf_puts(&b, ref);
		else
			buf_append(&b, s, 1);
	}
	char *out = buf_take(&b, NULL);
	return out ? out : xstrdup("");
}

/* The value vars pairs with the n bytes at name, or NULL. */
static const char *lookup(const char *name, size_t n,
			  const char *const (*vars)[2], size_t nvars)
{
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i][0]) == n && memcmp(vars[i][0], name, n) == 0)
			return vars[i][1];
	return NULL;
}

/* The n bytes at t with every {{name}} of vars replaced by its value
 * (HTML-escaped when html); an unknown variable is left as it is, which
 * the templates' test rules out. Returns an allocated string.
 * buf_append's refusal past the bound only shortens a message that was
 * never meant to be that long. */
static char *fill(const char *t, size_t n, const char *const (*vars)[2],
		  size_t nvars, bool html)
{
	struct buf b;
	buf_init(&b, MESSAGE_MAX);
	const char *end = t + n;
	while (t < end) {
		const char *open = strstr(t, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		if (!open || open >= end || !close || close >= end) {
			buf_append(&b, t, (size_t)(end - t));
			break;
		}
		buf_append(&b, t, (size_t)(open - t));
		const char *v = lookup(open + 2, (size_t)(close - open - 2),
				       vars, nvars);
		if (!v) {
			buf_append(&b, open, 2);
			t = open + 2;
			continue;
		}
		char *esc = html ? notify_html_escape(v) : NULL;
		buf_puts(&b, esc ? esc : v);
		free(esc);
		t = close + 2;
	}
	char *out = buf_take(&b, NULL);
	return out ? out : xstrdup("");
}

/* A subject is a header line: a value holding a line break must not add
 * a header of its own. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n' || *s == '\t')
			*s = ' ';
}

int notify_message(const char *name, const char *lang,
		   const char *const (*vars)[2], size_t nvars, char **subject,
		   char **body, struct error *e)
{
	const struct notify_template *t = find(name, lang, "txt");
	if (!t)
		return err_set(e, ERR_INTERNAL, "unknown_message",
			       "no message called %s", name);
	static const char head[] = "Subject: ";
	const char *eol = strchr(t->text, '\n');
	if (strncmp(t->text, head, strlen(head)) != 0 || !eol || eol[1] != '\n')
		return err_set(e, ERR_INTERNAL, "unknown_message",
			       "%s is not \"Subject: ...\", a blank line and "
			       "a body", t->path);
	const char *s = t->text + strlen(head), *b = eol + 2;
	size_t bn = t->len - (size_t)(b - t->text);
	/* Editors end a file with a line break; a message does not. */
	while (bn > 0 && (b[bn - 1] == '\n' || b[bn - 1] == '\r'))
		bn--;
	*subject = fill(s, (size_t)(eol - s), vars, nvars, false);
	one_line(*subject);
	*body = fill(b, bn, vars, nvars, false);
	return 0;
}

int notify_letter(const char *lang, const char *const (*vars)[2],
		  size_t nvars, char **html, struct error *e)
{
	const struct notify_template *t = find("activation_letter", lang,
					       "html");
	if (!t)
		return err_set(e, ERR_INTERNAL, "unknown_message",
			       "no activation letter");
	*html = fill(t->text, t->len, vars, nvars, true);
	return 0;
}
