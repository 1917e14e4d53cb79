/*
 * demo: everything `kruispunt demo` sets up beyond `init`: a development
 * PKI made with the openssl command line, the demo organisations,
 * institutions and persons in the database, and DIR/demo.json, the manifest
 * clients and tests read instead of hard-coding demo values (its format: docs/API.md).
 *
 * Nothing here is used by `kruispunt serve` in production.
 */
#ifndef KP_DEMO_H
#define KP_DEMO_H

#include <stdio.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"
#include "store/store.h"

/* Create DIR/pki (once: kept across runs) with the network CA, the server
 * certificate, one client certificate per demo institution, the eID-style
 * citizen CA with its persons' certificates, a CRL revoking one of them, an
 * expired one, and one from a foreign CA. Returns 0, or -1 with e. */
int demo_pki(const char *dir, struct error *e);

/* Register the demo persons, organisations, institutions (with their
 * certificate fingerprints), directory, authorizations, roles and
 * accounts (Argon2id parameters from cfg; TOTP secrets sealed with
 * master_key), each change recorded in log as the operator's (channel
 * cli, profile "demo"). Idempotent: a complete earlier run is left as it
 * is. Returns 0, or -1
 * with e. */
int demo_seed(const char *dir, struct audit *log, const struct auth_config *cfg,
	      const uint8_t master_key[32], struct error *e);

/* A demo person's username and password (demo only: derived from the
 * INSZ, printed in demo.json). */
void demo_credentials(const char *first, const char *last, const char *insz,
		      char *username, size_t un, char *password, size_t pn);

/* Write DIR/demo.json for a server answering at these URLs. Written to a
 * temporary file and renamed, so a reader never sees half a manifest: its
 * appearance means the server is listening. */
int demo_manifest(const char *dir, const char *public_url,
		  const char *network_url, const char *eid_url,
		  struct error *e);

struct demo_gen_stats {
	uint64_t persons, dossiers;
	uint64_t person_ns, dossier_ns; /* time spent loading each */
};

/* Synthetic scale data: `persons` persons with valid RR numbers and
 * per_person dossiers each (at most 10), on a synthetic network of 100
 * institutions; deterministic for a seed; changes recorded in log as the
 * operator's. Returns 0, or -1 with e. */
int demo_generate(struct audit *log, uint64_t persons, int per_person,
		  uint64_t seed, struct demo_gen_stats *st, struct error *e);

/* The persons demo_generate would register for seed, written to out as
 * an operator's register file (docs/IMPORT.md), one JSON object a line.
 * Returns 0, or -1 with e when out cannot be written. */
int demo_generate_ndjson(FILE *out, uint64_t persons, uint64_t seed,
			 struct error *e);

/* Check the demo data itself (every INSZ and KBO valid); used by tests.
 * Returns the number of invalid identifiers. */
int demo_check_data(void);

#endif
