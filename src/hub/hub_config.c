/* The hub's configuration keys (hub.h). */
#include "hub/hub.h"

#define HUB_KEY(key, type, field, def, min, max, help) \
	{"hub", key, type, CONFIG_FIELD(struct hub_config, field), def, min, \
	 max, NULL, help}

const struct config_key hub_config_keys[] = {
	/* The hub towards the authentic sources (mutual TLS). */
	HUB_KEY("client_cert", CONFIG_STR, client_cert, "", 0, 0,
		"the hub's certificate towards providers (PEM); empty: no "
		"providers"),
	HUB_KEY("client_key", CONFIG_STR, client_key, "", 0, 0,
		"its private key (PEM)"),
	HUB_KEY("provider_ca", CONFIG_STR, provider_ca, "pki/ca.pem", 0, 0,
		"CA that providers' server certificates chain to"),
	HUB_KEY("provider_timeout_ms", CONFIG_INT, provider_timeout_ms,
		KP_XSTR(HUB_PROVIDER_TIMEOUT_MS), 50, 120000,
		"how long the hub waits for a provider (504)"),
	HUB_KEY("provider_concurrency", CONFIG_INT, provider_concurrency,
		KP_XSTR(HUB_PROVIDER_CONCURRENCY), 1, 1024,
		"calls in flight per provider; more answer 503 provider_busy"),
	HUB_KEY("batch_max_lines", CONFIG_INT, batch_max_lines,
		KP_XSTR(HUB_BATCH_MAX_LINES), 1, 100000000,
		"exchange requests one batch may hold"),
	HUB_KEY("batch_workers", CONFIG_INT, batch_workers,
		KP_XSTR(HUB_BATCH_WORKERS), 1, 256,
		"batch chunks run at once (each keeps its 1000 lines in "
		"flight)"),
};
const size_t hub_config_nkeys = KP_NELEM(hub_config_keys);
