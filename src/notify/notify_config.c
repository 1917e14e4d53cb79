/* Notifications' configuration keys (notify.h). */
#include "notify/notify.h"

const struct config_key notify_config_keys[] = {
	{"notify", "smtp_url", CONFIG_STR,
	 CONFIG_FIELD(struct notify_config, smtp_url), "", 0, 0, NULL,
	 "SMTP server for e-mail codes (smtp://host:port); empty: none"},
	{"notify", "smtp_from", CONFIG_STR,
	 CONFIG_FIELD(struct notify_config, smtp_from), "kruispunt@localhost",
	 0, 0, NULL, "sender address of e-mail codes"},
	{"notify", "sms_url", CONFIG_STR,
	 CONFIG_FIELD(struct notify_config, sms_url), "", 0, 0, NULL,
	 "SMS gateway URL (JSON POST {to, text}); empty: none"},
};
const size_t notify_config_nkeys = KP_NELEM(notify_config_keys);
