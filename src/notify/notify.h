/*
 * notify: messages to people (one-time codes by e-mail and SMS, notices of
 * keys) in their language, through a durable outbox. notify_send writes the message (its body sealed with the
 * master key: a code is a secret) and returns; a worker thread delivers it
 * over SMTP (libcurl) or to an SMS HTTP gateway, retries with backoff when
 * delivery fails, logs every failure, and gives up only after
 * max_attempts, loudly. A delivered message's body is wiped.
 */
#ifndef KP_NOTIFY_H
#define KP_NOTIFY_H

#include "base/base.h"
#include "store/store.h"

struct notify_options {
	char smtp_url[256];  /* smtp://host:port; "" = e-mail not configured */
	char smtp_from[128];
	char sms_url[256];   /* the gateway's http(s) URL; "" = no SMS */
	uint8_t master_key[32];
	int max_attempts;    /* 0: 8 */
};

struct notify;

/* Start the worker. Returns 0 and *out (notify_close), or -1 with e. */
int notify_open(struct store *s, const struct notify_options *opt,
		struct notify **out, struct error *e);
/* Stop the worker after the current delivery; undelivered messages stay
 * in the outbox for the next start. */
void notify_close(struct notify *n);

/* Queue a message ("email" or "sms") durably. Returns 0, or -1 with e
 * (ERR_INVALID "channel_unavailable" when that channel is not set up). */
int notify_send(struct notify *n, const char *channel, const char *to,
		const char *subject, const char *body, struct error *e);

/* Queue a message in w's transaction (a write transaction on the store
 * notify was opened on): a notice then leaves only if the change it tells
 * of commits. Call notify_wake after the commit. Returns 0, or -1 with e
 * (ERR_INVALID "channel_unavailable" when that channel is not set up). */
int notify_queue(struct notify *n, struct store_conn *w, const char *channel,
		 const char *to, const char *subject, const char *body,
		 struct error *e);
/* Tell the worker that messages wait. */
void notify_wake(struct notify *n);

/* The message name ("activation_link", …) in lang ("nl", "fr", "de",
 * "en"; a language it lacks falls back to English), with each {{var}} of
 * its text replaced by the value vars pairs with it (vars[i][0] the name,
 * vars[i][1] the value). The texts are data/messages/<lang>/<name>.txt,
 * embedded at build time; data/messages/README.md lists each message and
 * its variables. Returns 0 with *subject and *body allocated (the caller
 * frees both), or -1 with e (ERR_INTERNAL "unknown_message"). */
int notify_message(const char *name, const char *lang,
		   const char *const (*vars)[2], size_t nvars, char **subject,
		   char **body, struct error *e);

/* The printable activation letter the registration office hands out, in
 * lang (English when lang has none), as one HTML page with its print
 * style and no external resource: vars as for notify_message (name, code,
 * expires_at, office, link_host), each value HTML-escaped, since they come
 * from what people typed. Returns 0 with *html allocated (the caller
 * frees it), or -1 with e (ERR_INTERNAL "unknown_message"). */
int notify_letter(const char *lang, const char *const (*vars)[2],
		  size_t nvars, char **html, struct error *e);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (notify_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema notify_schema;

/* ------------------------------------------------------------- config */

/* [notify], as the operator writes it (notify_config.c); src/cli copies
 * it into notify_options beside the master key. */
struct notify_config {
	char smtp_url[256];
	char smtp_from[128];
	char sms_url[256];
};
extern const struct config_key notify_config_keys[];
extern const size_t notify_config_nkeys;

#endif
