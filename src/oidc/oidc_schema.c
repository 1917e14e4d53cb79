/*
 * src/oidc's tables. Secrets are never stored: a client secret, a request
 * id, its browser binding, a code and a token are kept as their SHA-256.
 * Codes and tokens are rows with an end; the sweeper of src/auth is not
 * theirs: oidc removes what ended a day ago when it writes (oidc.c).
 * Migration numbers are global (src/store/migrations.c).
 */
#include "oidc/oidc.h"

static const struct store_migration migrations[] = {
	{31, "oidc",
	 "CREATE TABLE oidc_client ("
	 "  id TEXT PRIMARY KEY, name TEXT NOT NULL, kbo TEXT NOT NULL,"
	 "  app TEXT, auth_method TEXT NOT NULL CHECK (auth_method IN"
	 "    ('client_secret_basic', 'client_secret_post',"
	 "     'private_key_jwt')),"
	 "  secret_hash BLOB, jwks TEXT,"
	 "  redirect_uris TEXT NOT NULL, post_logout_uris TEXT NOT NULL,"
	 "  scopes TEXT NOT NULL, min_level INTEGER NOT NULL,"
	 "  id_token_alg TEXT NOT NULL CHECK (id_token_alg IN"
	 "    ('ES256', 'RS256')),"
	 "  subject_type TEXT NOT NULL CHECK (subject_type IN"
	 "    ('pairwise', 'public')),"
	 "  subject_key BLOB NOT NULL,"
	 "  created_at INTEGER NOT NULL, removed_at INTEGER) WITHOUT ROWID;"
	 /* A request waiting for the person: its parameters as checked. */
	 "CREATE TABLE oidc_request ("
	 "  id_hash BLOB PRIMARY KEY, binding_hash BLOB NOT NULL,"
	 "  client TEXT NOT NULL, params TEXT NOT NULL,"
	 "  expires_at INTEGER NOT NULL, done_at INTEGER) WITHOUT ROWID;"
	 "CREATE INDEX oidc_request_by_end ON oidc_request(expires_at);"
	 /* A code, one use: what the token it gives will say. */
	 "CREATE TABLE oidc_code ("
	 "  code_hash BLOB PRIMARY KEY, client TEXT NOT NULL,"
	 "  redirect_uri TEXT NOT NULL, challenge TEXT NOT NULL,"
	 "  scope TEXT NOT NULL, nonce TEXT, claims TEXT,"
	 "  insz TEXT NOT NULL, profile TEXT NOT NULL,"
	 "  level INTEGER NOT NULL, amr TEXT NOT NULL,"
	 "  auth_time INTEGER NOT NULL, session_hash BLOB NOT NULL,"
	 "  expires_at INTEGER NOT NULL, used_at INTEGER) WITHOUT ROWID;"
	 "CREATE INDEX oidc_code_by_end ON oidc_code(expires_at);"
	 "CREATE TABLE oidc_token ("
	 "  token_hash BLOB PRIMARY KEY, client TEXT NOT NULL,"
	 "  code_hash BLOB NOT NULL, scope TEXT NOT NULL, claims TEXT,"
	 "  insz TEXT NOT NULL, profile TEXT NOT NULL,"
	 "  level INTEGER NOT NULL, amr TEXT NOT NULL,"
	 "  auth_time INTEGER NOT NULL, session_hash BLOB NOT NULL,"
	 "  issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
	 "  revoked_at INTEGER) WITHOUT ROWID;"
	 "CREATE INDEX oidc_token_by_code ON oidc_token(code_hash);"
	 "CREATE INDEX oidc_token_by_end ON oidc_token(expires_at);"
	 "CREATE INDEX oidc_token_by_session ON oidc_token(session_hash);"
	 /* private_key_jwt: an assertion's jti is accepted once. */
	 "CREATE TABLE oidc_assertion ("
	 "  client TEXT NOT NULL, jti TEXT NOT NULL,"
	 "  expires_at INTEGER NOT NULL, PRIMARY KEY (client, jti))"
	 "  WITHOUT ROWID;",
	 NULL},
};

const struct store_schema oidc_schema = {
	"oidc", migrations, KP_NELEM(migrations)};
