/*
 * The texts of the messages kruispunt sends, by name and language, with
 * their variables filled in ({{name}}). The first version holds the
 * activation e-mail only, in English; the message templates in every
 * language, in files a translator edits, replace this table.
 */
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"

struct message {
	const char *name, *lang, *subject, *body;
};

static const struct message messages[] = {
	{"activation_link", "en", "Activate your kruispunt account",
	 "A registration office identified you and gave you an activation "
	 "code on paper. To activate your account, open\n\n  {{link}}\n\n"
	 "and enter that code. The link works until {{expires_at}}.\n\n"
	 "If you did not visit a registration office, ignore this message."},
	/* Added by the activation (src/auth/activation.c): the code that
	 * confirms an e-mail or SMS key, and the notice of new credentials
	 * (src/auth/passwords.c); English until the templates arrive. */
	{"registration_code", "en", "Your kruispunt registration code",
	 "Your registration code is {{code}}. It is valid for {{minutes}} "
	 "minutes. Never give it to anyone."},
	{"credentials_changed", "en", "Your kruispunt password was changed",
	 "The username and password of your kruispunt account were set "
	 "with your eID. If this was not you, log in with your eID and "
	 "change them at once, and contact the helpdesk."},
};

static const struct message *find(const char *name, const char *lang)
{
	const struct message *fallback = NULL;
	for (size_t i = 0; i < KP_NELEM(messages); i++) {
		if (strcmp(messages[i].name, name) != 0)
			continue;
		if (lang && strcmp(messages[i].lang, lang) == 0)
			return &messages[i];
		if (strcmp(messages[i].lang, "en") == 0)
			fallback = &messages[i];
	}
	return fallback;
}

/* t with every {{name}} of vars replaced by its value; an unknown
 * variable is left as it is. Returns an allocated string. */
/* buf_append's refusal past the bound only shortens a message that was
 * never meant to be that long. */
static char *fill(const char *t, const char *const (*vars)[2], size_t nvars)
{
	struct buf b;
	/* A message is a few KiB; values are bounded by their callers. */
	buf_init(&b, 64 * 1024);
	while (*t) {
		const char *open = strstr(t, "{{");
		if (!open) {
			buf_append(&b, t, strlen(t));
			break;
		}
		buf_append(&b, t, (size_t)(open - t));
		const char *close = strstr(open + 2, "}}");
		size_t i = 0, n = close ? (size_t)(close - open - 2) : 0;
		while (close && i < nvars &&
		       !(strlen(vars[i][0]) == n &&
			 memcmp(vars[i][0], open + 2, n) == 0))
			i++;
		if (!close || i == nvars) {
			buf_append(&b, open, 2);
			t = open + 2;
			continue;
		}
		buf_append(&b, vars[i][1], strlen(vars[i][1]));
		t = close + 2;
	}
	char *out = buf_take(&b, NULL);
	return out ? out : xstrdup("");
}

int notify_message(const char *name, const char *lang,
		   const char *const (*vars)[2], size_t nvars, char **subject,
		   char **body, struct error *e)
{
	const struct message *m = find(name, lang);
	if (!m)
		return err_set(e, ERR_INTERNAL, "unknown_message",
			       "no message called %s", name);
	*subject = fill(m->subject, vars, nvars);
	*body = fill(m->body, vars, nvars);
	return 0;
}
