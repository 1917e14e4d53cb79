/* The message templates (data/messages): every message in every language,
 * with the placeholders its callers fill and no other, SMS texts that fit
 * one SMS, rendering with fallback to English, and an activation letter
 * that no value typed by someone can turn into markup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify/notify.h"
#include "notify/notify_internal.h"

static const char *const langs[] = {"nl", "fr", "de", "en"};

/* Each message, the file it is, and the variables its callers fill (at
 * most 6): a placeholder outside this list would reach people as
 * "{{...}}". Callers: src/auth/keys.c (key_*), src/api/auth.c
 * (login_code_*), the activation (activation_link, registration_code_*,
 * activation_letter). */
static const struct {
	const char *name, *ext, *vars[7];
} messages[] = {
	{"activation_link", "txt", {"link", "expires_at"}},
	{"registration_code_email", "txt", {"code", "minutes"}},
	{"registration_code_sms", "txt", {"code", "minutes"}},
	{"login_code_email", "txt", {"code", "minutes"}},
	{"login_code_sms", "txt", {"code", "minutes"}},
	{"key_added_email", "txt", {"key_type"}},
	{"key_added_sms", "txt", {"key_type"}},
	{"key_removed_email", "txt", {"key_type"}},
	{"key_removed_sms", "txt", {"key_type"}},
	{"key_locked_email", "txt", {"key_type"}},
	{"key_locked_sms", "txt", {"key_type"}},
	{"activation_issued_email", "txt", {"office"}},
	{"activation_issued_sms", "txt", {"office"}},
	{"credentials_changed_email", "txt", {NULL}},
	{"credentials_changed_sms", "txt", {NULL}},
	{"activation_letter", "html",
	 {"name", "code", "expires_at", "office", "link_host", "minutes"}},
};

/* Typical values, the longest a caller gives: an SMS must fit with
 * them. */
static const char *const typical[][2] = {
	{"code", "123456"},
	{"minutes", "10"},
	{"key_type", "mygov_fingerprint"},
	{"link", "https://kruispunt.example.be/activate?t=3q2-7xZk"},
	{"expires_at", "2026-12-31 17:00"},
	{"office", "Gemeente Sint-Pieters-Leeuw"},
};

static const struct notify_template *template(const char *name,
					      const char *lang, const char *ext)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s.%s", lang, name, ext);
	for (size_t i = 0; i < notify_ntemplates; i++)
		if (strcmp(notify_templates[i].path, path) == 0)
			return &notify_templates[i];
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The placeholders of t, sorted, joined by spaces, into out. */
static void placeholders(const char *t, char *out, size_t n)
{
	char names[16][32];
	size_t k = 0;
	for (const char *p = strstr(t, "{{"); p; p = strstr(p, "{{")) {
		const char *end = strstr(p, "}}");
		assert_non_null(end);
		size_t len = (size_t)(end - p - 2);
		assert_true(len > 0 && len < 32 && k < 16);
		memcpy(names[k], p + 2, len);
		names[k][len] = '\0';
		bool seen = false;
		for (size_t i = 0; i < k; i++)
			seen = seen || strcmp(names[i], names[k]) == 0;
		k += !seen;
		p = end + 2;
	}
	qsort(names, k, sizeof(names[0]), by_name);
	out[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		strncat(out, names[i], n - strlen(out) - 1);
		strncat(out, " ", n - strlen(out) - 1);
	}
}

static bool filled_by_callers(size_t m, const char *var)
{
	for (size_t i = 0; i < 7 && messages[m].vars[i]; i++)
		if (strcmp(messages[m].vars[i], var) == 0)
			return true;
	return false;
}

static void every_message_in_every_language(void **state)
{
	(void)state;
	for (size_t m = 0; m < sizeof(messages) / sizeof(messages[0]); m++) {
		const struct notify_template *en =
			template(messages[m].name, "en", messages[m].ext);
		if (!en) {
			fail_msg("en/%s.%s is missing", messages[m].name,
				 messages[m].ext);
			return;
		}
		char want[256], got[256];
		placeholders(en->text, want, sizeof(want));
		for (size_t l = 0; l < 4; l++) {
			const struct notify_template *t = template(
				messages[m].name, langs[l], messages[m].ext);
			if (!t) {
				fail_msg("%s/%s.%s is missing", langs[l],
					 messages[m].name, messages[m].ext);
				return;
			}
			/* UTF-8 without a byte-order mark or a carriage
			 * return: what a translator's editor must keep. */
			assert_true(utf8_valid(t->text, t->len));
			assert_int_equal(strlen(t->text), t->len);
			assert_null(strchr(t->text, '\r'));
			assert_true((unsigned char)t->text[0] != 0xEF);
			if (strcmp(messages[m].ext, "txt") == 0) {
				assert_int_equal(strncmp(t->text, "Subject: ", 9), 0);
				const char *eol = strchr(t->text, '\n');
				assert_true(eol && eol[1] == '\n' && eol[2] != '\n');
			}
			placeholders(t->text, got, sizeof(got));
			if (strcmp(want, got) != 0)
				fail_msg("%s in %s has {{%s}}, English {{%s}}",
					 messages[m].name, langs[l], got, want);
		}
		for (char *v = want, *sp; (sp = strchr(v, ' ')); v = sp + 1) {
			*sp = '\0';
			if (!filled_by_callers(m, v))
				fail_msg("%s: no caller fills {{%s}}",
					 messages[m].name, v);
		}
	}
}

static void no_stray_files(void **state)
{
	(void)state;
	assert_int_equal(notify_ntemplates,
			 4 * sizeof(messages) / sizeof(messages[0]));
}

/* The length of s in the GSM 03.38 alphabet (the escape table's
 * characters count two), or -1 when a character is not in it: the SMS
 * would go as UCS-2, 70 characters at most. */
static int gsm_length(const char *s)
{
	static const char *const basic[] = {
		"@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø",
		"ø", "Å", "å", "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ",
		"Θ", "Ξ", "Æ", "æ", "ß", "É", "¤", "¡", "Ä", "Ö", "Ñ", "Ü",
		"§", "¿", "ä", "ö", "ñ", "ü", "à"};
	int n = 0;
	while (*s) {
		if (strchr("^{}\\[~]|", *s)) {
			n += 2, s++;
			continue;
		}
		if ((*s >= ' ' && *s <= '~') || *s == '\n') {
			n++, s++;
			continue;
		}
		if (strncmp(s, "€", strlen("€")) == 0) {
			n += 2, s += strlen("€");
			continue;
		}
		size_t i = 0;
		while (i < sizeof(basic) / sizeof(basic[0]) &&
		       strncmp(s, basic[i], strlen(basic[i])) != 0)
			i++;
		if (i == sizeof(basic) / sizeof(basic[0]))
			return -1;
		n++, s += strlen(basic[i]);
	}
	return n;
}

static void sms_fit_one_message(void **state)
{
	(void)state;
	assert_int_equal(gsm_length("aé€{"), 6);
	assert_int_equal(gsm_length("ç"), -1);
	for (size_t m = 0; m < sizeof(messages) / sizeof(messages[0]); m++) {
		const char *name = messages[m].name;
		if (strcmp(name + strlen(name) - 4, "_sms") != 0)
			continue;
		for (size_t l = 0; l < 4; l++) {
			char *subject, *body;
			struct error e;
			assert_int_equal(notify_message(name, langs[l], typical,
							5, &subject, &body, &e),
					 0);
			int n = gsm_length(body);
			if (n < 0 || n > 160)
				fail_msg("%s in %s: %d GSM characters (at most "
					 "160; -1: not GSM): %s", name, langs[l],
					 n, body);
			free(subject);
			free(body);
		}
	}
}

static void renders_with_fallback(void **state)
{
	(void)state;
	char *subject, *body;
	struct error e;
	assert_int_equal(notify_message("login_code_sms", "en", typical, 5,
					&subject, &body, &e), 0);
	assert_string_equal(body, "Your kruispunt code is 123456. Valid for 10 "
				  "minutes. Never give it to anyone.");
	assert_string_equal(subject, "Your kruispunt code");
	free(subject);
	free(body);
	/* The demo's people read Dutch, and the end-to-end tests and the
	 * README find their code by "code is": once, before the code. */
	assert_int_equal(notify_message("login_code_email", "nl", typical, 5,
					&subject, &body, &e), 0);
	const char *is = strstr(body, "code is ");
	assert_true(is && strncmp(is, "code is 123456.", 15) == 0);
	assert_null(strstr(is + 1, "code is "));
	assert_string_equal(subject, "Uw kruispunt-code");
	assert_null(strchr(body + strlen(body) - 1, '\n'));
	free(subject);
	free(body);
	/* A language without the message: English. */
	assert_int_equal(notify_message("key_added_email", "xx", typical, 5,
					&subject, &body, &e), 0);
	assert_non_null(strstr(body, "A key was added to your kruispunt "
				     "account: a digital key of type "
				     "mygov_fingerprint."));
	free(subject);
	free(body);
	assert_int_equal(notify_message("nothing", "en", typical, 5, &subject,
					&body, &e), -1);
	assert_string_equal(e.code, "unknown_message");
	assert_int_equal(notify_message("../en/login_code_sms", "en", typical,
					5, &subject, &body, &e), -1);
	assert_int_equal(notify_message("login_code_sms", "../en", typical, 5,
					&subject, &body, &e), 0);
	assert_non_null(strstr(body, "code is 123456"));
	free(subject);
	free(body);
}

static void subject_stays_one_line(void **state)
{
	(void)state;
	const char *const vars[][2] = {{"key_type", "totp\r\nBcc: x@example.org"}};
	char *subject, *body;
	struct error e;
	assert_int_equal(notify_message("key_added_email", "en", vars, 1,
					&subject, &body, &e), 0);
	assert_null(strpbrk(subject, "\r\n"));
	free(subject);
	free(body);
}

static void html_escape(void **state)
{
	(void)state;
	char *s = notify_html_escape("<b a=\"x\" c='y'>&amp;</b>");
	assert_string_equal(s, "&lt;b a=&quot;x&quot; c=&#39;y&#39;&gt;"
			       "&amp;amp;&lt;/b&gt;");
	free(s);
	s = notify_html_escape("Émile Dupont");
	assert_string_equal(s, "Émile Dupont");
	free(s);
}

/* The values come from what an officer or a citizen typed. */
static void letter_escapes_every_value(void **state)
{
	(void)state;
	const char *const vars[][2] = {
		{"name", "<script>alert(1)</script>"},
		{"code", "K7QH-3MXP-9TZC-WR4D"},
		{"expires_at", "\"><img src=x onerror=alert(1)>"},
		{"office", "Gemeente 'Sint-Niklaas' & Co"},
		{"link_host", "kruispunt.example.be"},
		{"minutes", "5"},
	};
	for (size_t l = 0; l < 5; l++) {
		const char *lang = l < 4 ? langs[l] : "xx";
		char *html;
		struct error e;
		assert_int_equal(notify_letter(lang, vars, KP_NELEM(vars), &html,
					       &e), 0);
		assert_null(strstr(html, "<script"));
		assert_null(strstr(html, "<img"));
		assert_null(strstr(html, "{{"));
		assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
		assert_non_null(strstr(html, "&quot;&gt;&lt;img src=x"));
		assert_non_null(strstr(html, "Gemeente &#39;Sint-Niklaas&#39; &amp; Co"));
		assert_non_null(strstr(html, "K7QH-3MXP-9TZC-WR4D"));
		assert_non_null(strstr(html, "kruispunt.example.be"));
		/* Printed on A4, on its own: nothing fetched, nothing run. */
		assert_non_null(strstr(html, "@page"));
		assert_non_null(strstr(html, "size: A4"));
		assert_non_null(strstr(html, "monospace"));
		const char *banned[] = {"http:", "https:", "url(", "@import",
					"<link", "<script", "src=\"", "//"};
		for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
			if (strstr(html, banned[i]))
				fail_msg("letter in %s has %s", lang, banned[i]);
		free(html);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_message_in_every_language),
		cmocka_unit_test(no_stray_files),
		cmocka_unit_test(sms_fit_one_message),
		cmocka_unit_test(renders_with_fallback),
		cmocka_unit_test(subject_stays_one_line),
		cmocka_unit_test(html_escape),
		cmocka_unit_test(letter_escapes_every_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
