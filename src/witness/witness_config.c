/* The log side's [audit] keys: which witnesses, and how to reach them. */
#include "witness/witness.h"

#define WITNESS_KEY(k, type, field, def, min, max, help)                   \
	{"audit", k, type, CONFIG_FIELD(struct witness_config, field), def, \
	 min, max, NULL, help}

const struct config_key witness_config_keys[] = {
	WITNESS_KEY("witnesses", CONFIG_STR, witnesses, "", 0, 0,
		    "witnesses that cosign the log's checkpoints: \"<vkey> "
		    "<url>\" pairs separated by ';' (the witness's verifier "
		    "key and submission prefix); empty: none"),
	WITNESS_KEY("witness_ca", CONFIG_STR, ca_file, "pki/ca.pem", 0, 0,
		    "CA that the witnesses' server certificates chain to"),
	WITNESS_KEY("witness_timeout_ms", CONFIG_INT, timeout_ms,
		    KP_XSTR(WITNESS_TIMEOUT_MS), 100, 120000,
		    "how long the log waits for a witness's answer"),
};
const size_t witness_config_nkeys = KP_NELEM(witness_config_keys);
