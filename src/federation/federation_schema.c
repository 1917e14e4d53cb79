/*
 * src/federation's tables. A provider's client secret is kept sealed
 * under the master key (auth_seal); a login under way is found by its
 * state's SHA-256 and must come back in the browser whose cookie hashes
 * to binding_hash. Its nonce and PKCE verifier are kept in clear: they
 * are worth nothing without the code, which only the browser receives,
 * and the row goes at its first use or when it expires. Migration numbers
 * are global (src/store/migrations.c).
 */
#include "federation/federation.h"

static const struct store_migration migrations[] = {
	{33, "federation",
	 "CREATE TABLE federation_provider ("
	 "  id TEXT PRIMARY KEY, name TEXT NOT NULL, issuer TEXT NOT NULL,"
	 "  client_id TEXT NOT NULL, secret_sealed BLOB NOT NULL,"
	 "  key_type TEXT NOT NULL, nrn_claim TEXT NOT NULL, ca_pem TEXT,"
	 "  acr TEXT NOT NULL DEFAULT '',"
	 "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
	 "CREATE TABLE federation_login ("
	 "  state_hash BLOB PRIMARY KEY, binding_hash BLOB NOT NULL,"
	 "  provider TEXT NOT NULL, nonce TEXT NOT NULL,"
	 "  verifier TEXT NOT NULL, return_path TEXT NOT NULL,"
	 "  expires_at INTEGER NOT NULL) WITHOUT ROWID;",
	 "CREATE TABLE federation_provider ("
	 "  id TEXT PRIMARY KEY, name TEXT NOT NULL, issuer TEXT NOT NULL,"
	 "  client_id TEXT NOT NULL, secret_sealed BYTEA NOT NULL,"
	 "  key_type TEXT NOT NULL, nrn_claim TEXT NOT NULL, ca_pem TEXT,"
	 "  acr TEXT NOT NULL DEFAULT '',"
	 "  created_at BIGINT NOT NULL);"
	 "CREATE TABLE federation_login ("
	 "  state_hash BYTEA PRIMARY KEY, binding_hash BYTEA NOT NULL,"
	 "  provider TEXT NOT NULL, nonce TEXT NOT NULL,"
	 "  verifier TEXT NOT NULL, return_path TEXT NOT NULL,"
	 "  expires_at BIGINT NOT NULL);"},
};

const struct store_schema federation_schema = {
	"federation", migrations, KP_NELEM(migrations)};
