/*
 * api: the route table and its handlers. A handler translates between HTTP
 * and module calls: it reads the request, calls a module, and turns the
 * module's answer into JSON. No rule of the domain lives here.
 */
#ifndef KP_API_H
#define KP_API_H

#include "audit/audit.h"
#include "auth/auth.h"
#include "hub/hub.h"
#include "notify/notify.h"
#include "federation/federation.h"
#include "oidc/oidc.h"
#include "base/base.h"
#include "http/http.h"
#include "store/store.h"

/* Request bodies of the routes that name them (routes.c). Routes reachable
 * without authentication get the small limit: a stranger has no reason to
 * send more than a login form. A batch upload is NDJSON, one exchange per
 * line. Authenticated routes get LIMIT_BODY_DEFAULT (base). */
#define LIMIT_BODY_PREAUTH      (4 * 1024)
#define LIMIT_BODY_BATCH        (256 * 1024 * 1024)

/* What handlers share: set up by `kruispunt serve`, read-only afterwards. */
struct app {
	struct store *store;
	struct audit *audit;
	struct auth *auth;
	struct notify *notify;
	struct hub *hub;
	struct oidc *oidc;
	struct federation *federation;
	int64_t started_at;
};

/* The route table (data, src/api/routes.c). */
extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/* A non-negative integer query parameter. Returns 0 when present and
 * valid, 1 when absent and optional, -1 with e set otherwise. */
int api_query_u64(struct http_request *req, const char *name, bool required,
		  uint64_t *out, struct error *e);
/* The same for the text v of parameter name (NULL when absent), apart
 * from the request so that it is tested without a server. */
int api_parse_u64(const char *v, const char *name, bool required,
		  uint64_t *out, struct error *e);

/* Bytes as a JSON string, base64 (RFC 4648, with padding). Returns a new
 * reference. */
json_t *api_base64(const uint8_t *p, size_t n);

/* Who acts in this request, for the events the domain records: the
 * institution on the network listener, the session's person (and
 * profile) on the public one. Strings point into req. */
struct audit_actor api_actor(const struct http_request *req);

/* Maps a verified client certificate to an institution (src/org). */
int api_resolve_institution(void *app, const uint8_t fp[SHA256_LEN],
			    struct http_principal *who, struct error *e);

/* Handlers, one file per resource family. */
int api_me_access_proof(struct http_request *req, struct http_response *res,
			void *app);
int api_me_access_proof_by_ticket(struct http_request *req,
				  struct http_response *res, void *app);
/* External keys by federation (federation.c). */
int api_auth_providers(struct http_request *req, struct http_response *res,
		       void *app);
int api_federation_start(struct http_request *req, struct http_response *res,
			 void *app);
int api_federation_callback(struct http_request *req,
			    struct http_response *res, void *app);
/* OpenID Connect (oidc.c). */
int api_oidc_discovery(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_jwks(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_authorize(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_request(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_continue(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_cancel(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_token(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_userinfo(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_introspect(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_revoke(struct http_request *req, struct http_response *res,
		void *app);
int api_oidc_logout(struct http_request *req, struct http_response *res,
		void *app);
int api_healthz(struct http_request *req, struct http_response *res, void *app);
int api_readyz(struct http_request *req, struct http_response *res, void *app);
int api_metrics(struct http_request *req, struct http_response *res, void *app);
int api_version(struct http_request *req, struct http_response *res, void *app);
int api_identifiers_check(struct http_request *req, struct http_response *res,
			  void *app);
int api_audit_events(struct http_request *req, struct http_response *res,
		     void *app);
int api_audit_checkpoint(struct http_request *req, struct http_response *res,
			 void *app);
int api_audit_inclusion(struct http_request *req, struct http_response *res,
			void *app);
int api_audit_consistency(struct http_request *req, struct http_response *res,
			  void *app);
int api_registry_bis(struct http_request *req, struct http_response *res,
		     void *app);
/* The log under /log/ as c2sp.org/tlog-tiles (audit.c). */
int api_log_checkpoint(struct http_request *req, struct http_response *res,
		       void *app);
int api_log_vkey(struct http_request *req, struct http_response *res,
		 void *app);
int api_log_tile(struct http_request *req, struct http_response *res,
		 void *app);
int api_log_entries(struct http_request *req, struct http_response *res,
		    void *app);
/* Declarations of employment (employ.c). */
int api_employ_declare(struct http_request *req, struct http_response *res,
		       void *app);
/* Mandates (mandate.c). */
int api_mandate_types(struct http_request *req, struct http_response *res,
		      void *app);
int api_mandate_conditions(struct http_request *req,
			   struct http_response *res, void *app);
int api_me_mandates(struct http_request *req, struct http_response *res,
		    void *app);
int api_me_mandate_grant(struct http_request *req, struct http_response *res,
			 void *app);
int api_me_mandate_revoke(struct http_request *req,
			  struct http_response *res, void *app);
int api_org_mandates(struct http_request *req, struct http_response *res,
		     void *app);
/* An organisation's internal control (org.c). */
int api_org_control_add(struct http_request *req, struct http_response *res,
			void *app);
int api_org_controls(struct http_request *req, struct http_response *res,
		     void *app);
int api_org_controls_export(struct http_request *req,
			    struct http_response *res, void *app);
int api_mandate_consult(struct http_request *req, struct http_response *res,
			void *app);
int api_mandate_consult_network(struct http_request *req,
				struct http_response *res, void *app);
/* The registration office (lra.c). */
int api_lra_conditions(struct http_request *req, struct http_response *res,
		       void *app);
int api_lra_conditions_accept(struct http_request *req,
			      struct http_response *res, void *app);
int api_lra_persons(struct http_request *req, struct http_response *res,
		    void *app);
int api_lra_identify(struct http_request *req, struct http_response *res,
		     void *app);
int api_lra_activation(struct http_request *req, struct http_response *res,
		       void *app);
int api_lra_actions(struct http_request *req, struct http_response *res,
		    void *app);
int api_registry_mutation(struct http_request *req, struct http_response *res,
			  void *app);
int api_dossier_create(struct http_request *req, struct http_response *res,
		       void *app);
int api_dossier_close(struct http_request *req, struct http_response *res,
		      void *app);
int api_dossier_get(struct http_request *req, struct http_response *res,
		    void *app);
int api_authz_list(struct http_request *req, struct http_response *res,
		   void *app);
int api_authz_create(struct http_request *req, struct http_response *res,
		     void *app);
int api_auth_login(struct http_request *req, struct http_response *res,
		   void *app);
int api_auth_login_eid(struct http_request *req, struct http_response *res,
		       void *app);
int api_auth_session(struct http_request *req, struct http_response *res,
		     void *app);
int api_auth_logout(struct http_request *req, struct http_response *res,
		    void *app);
int api_eid_start(struct http_request *req, struct http_response *res,
		  void *app);
int api_eid_login(struct http_request *req, struct http_response *res,
		  void *app);
int api_eid_complete(struct http_request *req, struct http_response *res,
		     void *app);
int api_apps(struct http_request *req, struct http_response *res, void *app);
int api_app_enter(struct http_request *req, struct http_response *res,
		  void *app);
int api_me_keys(struct http_request *req, struct http_response *res, void *app);
int api_me_key_deactivate(struct http_request *req, struct http_response *res,
			  void *app);
int api_me_key_create(struct http_request *req, struct http_response *res,
		      void *app);
int api_me_key_confirm(struct http_request *req, struct http_response *res,
		       void *app);
/* An address shown to its owner: "j***@example.org", "+32 4** *** *67". */
void api_mask(const char *to, char *out, size_t n);
/* The registration office's activation, the citizen's side (activation.c),
 * and the eID self-service of username and password. */
int api_activation_start(struct http_request *req, struct http_response *res,
			 void *app);
int api_activation_credentials(struct http_request *req,
			       struct http_response *res, void *app);
int api_activation_resend(struct http_request *req, struct http_response *res,
			  void *app);
int api_activation_complete(struct http_request *req,
			    struct http_response *res, void *app);
int api_me_credentials(struct http_request *req, struct http_response *res,
		       void *app);
int api_auth_step_up_send(struct http_request *req, struct http_response *res,
			  void *app);
int api_auth_step_up(struct http_request *req, struct http_response *res,
		     void *app);
int api_auth_profiles(struct http_request *req, struct http_response *res,
		      void *app);
int api_auth_profile(struct http_request *req, struct http_response *res,
		     void *app);
int api_me_access_log(struct http_request *req, struct http_response *res,
		      void *app);
int api_resolve_session(void *app, const char *token,
			struct http_principal *who, struct error *e);
const char *api_has_role(void *app, struct http_request *req,
			 const char *role);
/* The portal's cookie sessions (http_server_options.csrf, public_url). */
void api_csrf(void *app, const char *token, char *out);
const char *api_public_url(void *app);
int api_org_roles(struct http_request *req, struct http_response *res,
		  void *app);
int api_org_role_renew(struct http_request *req, struct http_response *res,
		       void *app);
int api_org_role_grant(struct http_request *req, struct http_response *res,
		       void *app);
int api_org_role_revoke(struct http_request *req, struct http_response *res,
			void *app);
int api_org_circle(struct http_request *req, struct http_response *res,
		   void *app);
int api_org_circle_get(struct http_request *req, struct http_response *res,
		       void *app);
/* An organisation by its enterprise number, as a citizen names a
 * mandate's holder (mandate.c). */
int api_organisation_get(struct http_request *req, struct http_response *res,
			 void *app);
/* An employer's social secretariats (org.c). */
int api_org_secretariats(struct http_request *req, struct http_response *res,
			 void *app);
int api_org_secretariat_add(struct http_request *req,
			    struct http_response *res, void *app);
int api_org_secretariat_end(struct http_request *req,
			    struct http_response *res, void *app);
int api_exchange(struct http_request *req, struct http_response *res,
		 void *app);
int api_exchange_batch(struct http_request *req, struct http_response *res,
		       void *app);
int api_batch_status(struct http_request *req, struct http_response *res,
		     void *app);
int api_batch_results(struct http_request *req, struct http_response *res,
		      void *app);
int api_mailbox(struct http_request *req, struct http_response *res,
		void *app);
int api_mailbox_ack(struct http_request *req, struct http_response *res,
		    void *app);
int api_network_whoami(struct http_request *req, struct http_response *res,
		       void *app);

#endif
