/*
 * The route table: every endpoint kruispunt answers, on which listener,
 * for whom, with what body. src/http enforces each column before the
 * handler runs; a path not in this table, or not on the listener a request
 * came in on, does not exist (404). Read this table to know the attack
 * surface.
 */
#include "api/api.h"

#define BOTH (LISTENER_PUBLIC | LISTENER_NETWORK)

const struct http_route api_routes[] = {
	/* Operations (docs/API.md, "Operations"). */
	{METHOD_GET, "/healthz", BOTH | LISTENER_EID, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_healthz},
	{METHOD_GET, "/readyz", BOTH, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_readyz},
	/* Only where the listener's `metrics` key is on: the network
	 * listener by default, never the public one unless asked. */
	{METHOD_GET, "/metrics", LISTENER_OPERATIONS, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_metrics},
	{METHOD_GET, "/api/v1/version", BOTH, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_version},

	/* Identifier check: anonymous, so the small pre-auth body limit. */
	{METHOD_POST, "/api/v1/identifiers/check", BOTH, AUTH_NONE, 0, NULL,
	 BODY_JSON, LIMIT_BODY_PREAUTH, api_identifiers_check},

	/* Authentication (FAS). Login is open to strangers: small body. The
	 * eID login is on the eID listener, which demands a citizen's
	 * certificate on every connection: the public listener never asks a
	 * browser for one. A browser's eID login ends on the public listener
	 * with a one-time code that becomes the portal's cookie. */
	{METHOD_POST, "/api/v1/auth/login", LISTENER_PUBLIC, AUTH_NONE, 0,
	 NULL, BODY_JSON, LIMIT_BODY_PREAUTH, api_auth_login},
	{METHOD_POST, "/api/v1/auth/login/eid", LISTENER_EID, AUTH_NONE, 0,
	 NULL, BODY_NONE, 0, api_auth_login_eid},
	{METHOD_GET, "/eid/login", LISTENER_EID, AUTH_NONE, 0, NULL, BODY_NONE,
	 0, api_eid_login},
	{METHOD_GET, "/api/v1/auth/eid/start", LISTENER_PUBLIC, AUTH_NONE, 0,
	 NULL, BODY_NONE, 0, api_eid_start},
	{METHOD_GET, "/api/v1/auth/eid/complete", LISTENER_PUBLIC, AUTH_NONE,
	 0, NULL, BODY_NONE, 0, api_eid_complete},
	/* External keys by federation (src/federation): the providers the
	 * login page offers, the start (from the portal's pages only), and
	 * the provider's redirect back. */
	{METHOD_GET, "/api/v1/auth/providers", LISTENER_PUBLIC, AUTH_NONE, 0,
	 NULL, BODY_NONE, 0, api_auth_providers},
	{METHOD_GET, "/api/v1/auth/federation/{id}/start", LISTENER_PUBLIC,
	 AUTH_ANON_LIMITED, 0, NULL, BODY_NONE, 0, api_federation_start},
	{METHOD_GET, "/api/v1/auth/federation/callback", LISTENER_PUBLIC,
	 AUTH_ANON_LIMITED, 0, NULL, BODY_NONE, 0, api_federation_callback},
	{METHOD_GET, "/api/v1/auth/session", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_NONE, 0, api_auth_session},
	{METHOD_POST, "/api/v1/auth/logout", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_NONE, 0, api_auth_logout},
	{METHOD_POST, "/api/v1/auth/profile", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_JSON, LIMIT_BODY_PREAUTH, api_auth_profile},
	{METHOD_GET, "/api/v1/auth/profiles", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_NONE, 0, api_auth_profiles},
	{METHOD_GET, "/api/v1/me/keys", LISTENER_PUBLIC, AUTH_SESSION, 0, NULL,
	 BODY_NONE, 0, api_me_keys},
	{METHOD_POST, "/api/v1/me/keys", LISTENER_PUBLIC, AUTH_SESSION, 0, NULL,
	 BODY_JSON, LIMIT_BODY_PREAUTH, api_me_key_create},
	{METHOD_POST, "/api/v1/me/keys/{id}/confirm", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_JSON, LIMIT_BODY_PREAUTH,
	 api_me_key_confirm},
	{METHOD_POST, "/api/v1/auth/step-up", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_JSON, LIMIT_BODY_PREAUTH, api_auth_step_up},
	{METHOD_POST, "/api/v1/auth/step-up/send", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_JSON, LIMIT_BODY_PREAUTH,
	 api_auth_step_up_send},
	{METHOD_POST, "/api/v1/me/keys/{id}/deactivate", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_NONE, 0, api_me_key_deactivate},
	/* OpenID Connect (src/oidc, docs/OIDC.md): kruispunt as the
	 * authentication service of relying applications. The client
	 * endpoints authenticate the client themselves (a secret or a signed
	 * assertion), so the gate lets them through; the portal's answer to
	 * a waiting request is the session's, with its CSRF check. */
	{METHOD_GET, "/.well-known/openid-configuration", LISTENER_PUBLIC,
	 AUTH_NONE, 0, NULL, BODY_NONE, 0, api_oidc_discovery},
	{METHOD_GET, "/oidc/jwks", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_oidc_jwks},
	{METHOD_GET, "/oidc/authorize", LISTENER_PUBLIC, AUTH_ANON_LIMITED, 0,
	 NULL, BODY_NONE, 0, api_oidc_authorize},
	{METHOD_POST, "/oidc/authorize", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_FORM, LIMIT_BODY_PREAUTH, api_oidc_authorize},
	{METHOD_GET, "/api/v1/oidc/requests/{id}", LISTENER_PUBLIC, AUTH_NONE,
	 0, NULL, BODY_NONE, 0, api_oidc_request},
	{METHOD_POST, "/api/v1/oidc/requests/{id}/continue", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_NONE, 0, api_oidc_continue},
	{METHOD_POST, "/api/v1/oidc/requests/{id}/cancel", LISTENER_PUBLIC,
	 AUTH_NONE, 0, NULL, BODY_NONE, 0, api_oidc_cancel},
	{METHOD_POST, "/oidc/token", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_FORM, LIMIT_BODY_PREAUTH, api_oidc_token},
	{METHOD_GET, "/oidc/userinfo", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_oidc_userinfo},
	{METHOD_POST, "/oidc/userinfo", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_oidc_userinfo},
	{METHOD_POST, "/oidc/introspect", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_FORM, LIMIT_BODY_PREAUTH, api_oidc_introspect},
	{METHOD_POST, "/oidc/revoke", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_FORM, LIMIT_BODY_PREAUTH, api_oidc_revoke},
	{METHOD_GET, "/oidc/logout", LISTENER_PUBLIC, AUTH_ANON_LIMITED, 0,
	 NULL, BODY_NONE, 0, api_oidc_logout},
	{METHOD_POST, "/oidc/logout", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_FORM, LIMIT_BODY_PREAUTH, api_oidc_logout},
	/* A registration office's activation, at home (seed 002): open to
	 * strangers (the link and the paper code are their credentials), so
	 * the small body and the anonymous limit per address; src/auth
	 * limits each activation too. */
	{METHOD_POST, "/api/v1/activation/start", LISTENER_PUBLIC, AUTH_NONE,
	 0, NULL, BODY_JSON, LIMIT_BODY_PREAUTH, api_activation_start},
	{METHOD_POST, "/api/v1/activation/{id}/credentials", LISTENER_PUBLIC,
	 AUTH_NONE, 0, NULL, BODY_JSON, LIMIT_BODY_PREAUTH,
	 api_activation_credentials},
	{METHOD_POST, "/api/v1/activation/{id}/resend", LISTENER_PUBLIC,
	 AUTH_NONE, 0, NULL, BODY_NONE, 0, api_activation_resend},
	{METHOD_POST, "/api/v1/activation/{id}/complete", LISTENER_PUBLIC,
	 AUTH_NONE, 0, NULL, BODY_JSON, LIMIT_BODY_PREAUTH,
	 api_activation_complete},
	/* Username and password by eID (level 500): the recovery path for a
	 * forgotten password or a locked key. src/auth checks the level too. */
	{METHOD_PUT, "/api/v1/me/credentials", LISTENER_PUBLIC, AUTH_SESSION,
	 500, NULL, BODY_JSON, LIMIT_BODY_PREAUTH, api_me_credentials},
	/* The application gate: the catalogue is public; entering checks
	 * the session's level against the application's minimum. */
	{METHOD_GET, "/api/v1/apps", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_apps},
	{METHOD_POST, "/api/v1/apps/{id}/enter", LISTENER_PUBLIC, AUTH_SESSION,
	 0, NULL, BODY_NONE, 0, api_app_enter},
	/* The auditor's queries: a strong key and the auditor role at the
	 * organisation the session acts for (the Crossroads Bank). */
	{METHOD_GET, "/api/v1/audit/events", LISTENER_PUBLIC, AUTH_SESSION,
	 400, "auditor", BODY_NONE, 0, api_audit_events},
	/* Who consulted my data. */
	{METHOD_GET, "/api/v1/me/access-log", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_NONE, 0, api_me_access_log},
	/* A proof of one access the person keeps (c2sp.org/tlog-proof). */
	{METHOD_GET, "/api/v1/me/access-log/{seq}/proof", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_NONE, 0, api_me_access_proof},
	{METHOD_GET, "/api/v1/me/access-log/proof", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_NONE, 0, api_me_access_proof_by_ticket},

	/* The registration office (docs/API.md, "Registration office"): a
	 * session only here; src/lra checks eID level, office, role and
	 * conditions, and records each refusal. */
	{METHOD_GET, "/api/v1/lra/conditions", LISTENER_PUBLIC, AUTH_SESSION,
	 0, NULL, BODY_NONE, 0, api_lra_conditions},
	{METHOD_POST, "/api/v1/lra/conditions", LISTENER_PUBLIC, AUTH_SESSION,
	 0, NULL, BODY_JSON, 0, api_lra_conditions_accept},
	{METHOD_GET, "/api/v1/lra/persons", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_NONE, 0, api_lra_persons},
	{METHOD_POST, "/api/v1/lra/identifications", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_JSON, 0, api_lra_identify},
	{METHOD_POST, "/api/v1/lra/identifications/{id}/activation",
	 LISTENER_PUBLIC, AUTH_SESSION, 0, NULL, BODY_JSON, 0,
	 api_lra_activation},
	{METHOD_GET, "/api/v1/lra/actions", LISTENER_PUBLIC, AUTH_SESSION, 0,
	 NULL, BODY_NONE, 0, api_lra_actions},

	/* Organisations (docs/API.md, "Organisations"): the access manager of the
	 * path's organisation, at level 400 (circle of trust, seed 001). */
	{METHOD_GET, "/api/v1/orgs/{kbo}/roles", LISTENER_PUBLIC, AUTH_SESSION,
	 400, "access_manager", BODY_NONE, 0, api_org_roles},
	{METHOD_POST, "/api/v1/orgs/{kbo}/roles", LISTENER_PUBLIC, AUTH_SESSION,
	 400, "access_manager", BODY_JSON, 0, api_org_role_grant},
	{METHOD_POST, "/api/v1/orgs/{kbo}/roles/{id}/revoke", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_NONE, 0, api_org_role_revoke},
	{METHOD_POST, "/api/v1/orgs/{kbo}/roles/{id}/renew", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_JSON, 0, api_org_role_renew},
	/* Its internal control (seed 001, the circle of trust): recorded
	 * and read by the access manager, exported for the supervisor. */
	{METHOD_GET, "/api/v1/orgs/{kbo}/internal-control", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_NONE, 0, api_org_controls},
	{METHOD_POST, "/api/v1/orgs/{kbo}/internal-control", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_JSON, 0,
	 api_org_control_add},
	{METHOD_GET, "/api/v1/orgs/{kbo}/internal-control/export",
	 LISTENER_PUBLIC, AUTH_SESSION, 400, "access_manager", BODY_NONE, 0,
	 api_org_controls_export},
	{METHOD_POST, "/api/v1/orgs/{kbo}/circle-of-trust", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_JSON, 0, api_org_circle},
	{METHOD_GET, "/api/v1/orgs/{kbo}/circle-of-trust", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_NONE, 0,
	 api_org_circle_get},
	/* The employer's social secretariat, which declares for it. */
	{METHOD_GET, "/api/v1/orgs/{kbo}/social-secretariats", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_NONE, 0,
	 api_org_secretariats},
	{METHOD_POST, "/api/v1/orgs/{kbo}/social-secretariats",
	 LISTENER_PUBLIC, AUTH_SESSION, 400, "access_manager", BODY_JSON, 0,
	 api_org_secretariat_add},
	{METHOD_DELETE, "/api/v1/orgs/{kbo}/social-secretariats/{id}",
	 LISTENER_PUBLIC, AUTH_SESSION, 400, "access_manager", BODY_NONE, 0,
	 api_org_secretariat_end},

	/* Declarations of employment (docs/API.md, "Mandates and
	 * employment"): a declarant acting for the employer or its social
	 * secretariat (profile org:<kbo>) with the role
	 * employment_declarant there, at level 400. A session only here: src/employ checks the rest and records
	 * each refusal about the worker. */
	{METHOD_POST, "/api/v1/employment/declarations", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_JSON, 0, api_employ_declare},
	/* Mandates (docs/API.md, "Mandates"): what a type allows and its
	 * conditions are public texts; a citizen acts on their own mandates
	 * with a substantial key (the catalogue's "Burgermandaten": 400); a
	 * holder's user needs mandate_consult there and level 400 (circle of
	 * trust, criterion 3). */
	{METHOD_GET, "/api/v1/mandate-types", LISTENER_PUBLIC, AUTH_NONE, 0,
	 NULL, BODY_NONE, 0, api_mandate_types},
	{METHOD_GET, "/api/v1/mandate-types/{code}/conditions",
	 LISTENER_PUBLIC, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_mandate_conditions},
	/* The holder a citizen names, by its registered name: public data,
	 * but for a session only, so no stranger walks the register. */
	{METHOD_GET, "/api/v1/organisations/{kbo}", LISTENER_PUBLIC,
	 AUTH_SESSION, 0, NULL, BODY_NONE, 0, api_organisation_get},
	{METHOD_GET, "/api/v1/me/mandates", LISTENER_PUBLIC, AUTH_SESSION, 400,
	 NULL, BODY_NONE, 0, api_me_mandates},
	{METHOD_POST, "/api/v1/me/mandates", LISTENER_PUBLIC, AUTH_SESSION,
	 400, NULL, BODY_JSON, LIMIT_BODY_PREAUTH, api_me_mandate_grant},
	{METHOD_POST, "/api/v1/me/mandates/{id}/revoke", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, NULL, BODY_NONE, 0, api_me_mandate_revoke},
	{METHOD_GET, "/api/v1/orgs/{kbo}/mandates", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "mandate_consult", BODY_NONE, 0, api_org_mandates},
	/* A consultation under a mandate: a session only here, so that
	 * src/mandate records every refusal with its ticket. */
	{METHOD_POST, "/api/v1/mandates/consult", LISTENER_PUBLIC, AUTH_SESSION,
	 0, NULL, BODY_JSON, LIMIT_BODY_PREAUTH, api_mandate_consult},
	/* The holder's own system: any organisation's certificate, not only
	 * an institution's (a bakery consults its candidates' mandates). */
	{METHOD_POST, "/api/v1/mandates/consult", LISTENER_NETWORK,
	 AUTH_ORGANISATION, 0, NULL, BODY_JSON, LIMIT_BODY_PREAUTH,
	 api_mandate_consult_network},

	/* Audit log integrity (docs/API.md, "Audit"): hashes and signatures only.
	 * Leaves carry a random nonce, so a proof discloses nothing about the
	 * event it proves. */
	{METHOD_GET, "/api/v1/audit/checkpoint", BOTH, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_audit_checkpoint},
	{METHOD_GET, "/api/v1/audit/proof/inclusion", BOTH, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_audit_inclusion},
	{METHOD_GET, "/api/v1/audit/proof/consistency", BOTH, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_audit_consistency},
	/* The same log as c2sp.org/tlog-tiles, for any tlog tool: the signed
	 * checkpoint, its verifier key and the hash tiles are public (every
	 * leaf hashes an entry with a random nonce, docs/AUDIT.md); the entry
	 * bundles name persons, so they are an auditor's only. The entries
	 * route comes first: the tile route's parser refuses "entries". */
	{METHOD_GET, "/log/checkpoint", BOTH, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_log_checkpoint},
	{METHOD_GET, "/log/vkey", BOTH, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_log_vkey},
	{METHOD_GET, "/log/tile/entries/{bundle*}", BOTH, AUTH_SESSION, 400,
	 "auditor", BODY_NONE, 0, api_log_entries},
	{METHOD_GET, "/log/tile/{tile*}", BOTH, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 api_log_tile},

	/* Authorizations (deliberations) are public; the operator publishes
	 * them (src/api/authz.c checks it is the Crossroads Bank). */
	{METHOD_GET, "/api/v1/authorizations", BOTH, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, api_authz_list},
	{METHOD_POST, "/api/v1/authorizations", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_JSON, 0, api_authz_create},

	/* Network API: institutions, identified by client certificate. */
	{METHOD_GET, "/api/v1/network/whoami", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_NONE, 0, api_network_whoami},
	/* Registers: any institution may ask for a BIS number; only a
	 * register's authority may change it (checked by src/registry). */
	{METHOD_POST, "/api/v1/registry/bis", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_JSON, 0, api_registry_bis},
	{METHOD_POST, "/api/v1/registry/persons/{insz}/mutations",
	 LISTENER_NETWORK, AUTH_INSTITUTION, 0, NULL, BODY_JSON, 0,
	 api_registry_mutation},
	/* Reference directory: an institution's own dossiers only. */
	{METHOD_POST, "/api/v1/directory/dossiers", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_JSON, 0, api_dossier_create},
	{METHOD_GET, "/api/v1/directory/dossiers/{id}", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_NONE, 0, api_dossier_get},
	{METHOD_POST, "/api/v1/directory/dossiers/{id}/close",
	 LISTENER_NETWORK, AUTH_INSTITUTION, 0, NULL, BODY_JSON, 0,
	 api_dossier_close},
	/* The hub. An exchange body is read by src/hub itself (BODY_RAW), so
	 * even a malformed one gets a ticket and an audit event. */
	{METHOD_POST, "/api/v1/exchange", LISTENER_NETWORK, AUTH_INSTITUTION, 0,
	 NULL, BODY_RAW, 0, api_exchange},
	{METHOD_POST, "/api/v1/exchange/batch", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_RAW, LIMIT_BODY_BATCH,
	 api_exchange_batch},
	{METHOD_GET, "/api/v1/exchange/batch/{job}", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_NONE, 0, api_batch_status},
	{METHOD_GET, "/api/v1/exchange/batch/{job}/results", LISTENER_NETWORK,
	 AUTH_INSTITUTION, 0, NULL, BODY_NONE, 0, api_batch_results},
	/* Mailboxes: an institution reads and empties only its own. */
	{METHOD_GET, "/api/v1/mailbox", LISTENER_NETWORK, AUTH_INSTITUTION, 0,
	 NULL, BODY_NONE, 0, api_mailbox},
	{METHOD_POST, "/api/v1/mailbox/ack", LISTENER_NETWORK, AUTH_INSTITUTION,
	 0, NULL, BODY_JSON, 0, api_mailbox_ack},
};

const size_t api_nroutes = KP_NELEM(api_routes);
