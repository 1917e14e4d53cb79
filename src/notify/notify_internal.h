/*
 * What src/notify shares only with itself, its generated table of message
 * templates and its tests.
 */
#ifndef KP_NOTIFY_INTERNAL_H
#define KP_NOTIFY_INTERNAL_H

#include <stddef.h>

/* One file of data/messages, embedded at build time
 * (cmake/embed_messages.cmake): path relative to data/messages
 * ("nl/login_code_sms.txt"), its bytes (NUL-terminated) and their count. */
struct notify_template {
	const char *path;
	const char *text;
	size_t len;
};
extern const struct notify_template notify_templates[];
extern const size_t notify_ntemplates;

/* s with & < > " ' written as HTML character references, safe inside an
 * element and inside a quoted attribute. Returns an allocated string (the
 * caller frees it). */
char *notify_html_escape(const char *s);

#endif
