/*
 * Demo data in the database, the demo configuration and DIR/demo.json.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <sodium.h>


#include "demo/demo_internal.h"
#include "auth/auth.h"
#include "authz/authz.h"
#include "directory/directory.h"
#include "http/http.h"
#include "org/org.h"
#include "registry/registry.h"

/* Conflicts mean "already there from an earlier demo run". */
static bool already(const struct error *e)
{
	return e->kind == ERR_CONFLICT;
}

/* Seeding is the operator's doing, on the host. */
static const struct audit_actor demo_by = {AUDIT_CHANNEL_CLI, NULL, NULL,
					   "demo"};

/* Bind DIR/rel's certificate to the organisation kbo. */
static int seed_cert(const char *dir, struct audit *log, const char *kbo,
		     const char *rel, struct error *e)
{
	char path[LIMIT_PATH];
	struct http_client_cert c;
	demo_path(path, sizeof(path), dir, rel);
	if (http_cert_file(path, &c, e) != 0)
		return -1;
	if (org_cert_add(log, &demo_by, kbo, c.fingerprint, c.subject,
			 c.not_before, c.not_after, e) != 0 && !already(e))
		return -1;
	return 0;
}

static int seed_institution(const char *dir, struct audit *log,
			    const struct demo_institution *in, struct error *e)
{
	int64_t id;
	if (org_institution_add(log, &demo_by, in->kbo, in->actor_type,
				in->branch, NULL, &id, e) != 0)
		return already(e) ? 0 : -1;
	char rel[96];
	snprintf(rel, sizeof(rel), "pki/institutions/%s.crt", in->kbo);
	return seed_cert(dir, log, in->kbo, rel, e);
}

static int seed_network_orgs(const char *dir, struct audit *log,
			     struct error *e)
{
	char rel[96];
	for (size_t i = 0; i < demo_nnetwork_orgs; i++) {
		snprintf(rel, sizeof(rel), "pki/organisations/%s.crt",
			 demo_network_orgs[i]);
		if (seed_cert(dir, log, demo_network_orgs[i], rel, e) != 0)
			return -1;
	}
	return 0;
}

/* A demo person as the register holds them; addresses are made up. */
static struct registry_person register_entry(const struct demo_person *d,
					     size_t i)
{
	static const char *streets[] = {"Kerkstraat", "Stationsstraat",
					"Dorpsstraat", "Molenstraat"};
	struct registry_person p;
	memset(&p, 0, sizeof(p));
	str_copy(p.insz, sizeof(p.insz), d->insz);
	str_copy(p.last_name, sizeof(p.last_name), d->last_name);
	str_copy(p.first_names, sizeof(p.first_names), d->first_name);
	str_copy(p.birth_date, sizeof(p.birth_date), d->birth_date);
	str_copy(p.sex, sizeof(p.sex), d->sex);
	snprintf(p.street, sizeof(p.street), "%s %zu",
		 streets[i % KP_NELEM(streets)], i + 1);
	str_copy(p.postal_code, sizeof(p.postal_code), "3000");
	str_copy(p.municipality, sizeof(p.municipality), "Demoville");
	str_copy(p.country, sizeof(p.country), "BE");
	str_copy(p.language, sizeof(p.language), "nl");
	for (size_t k = 0; k < demo_npensioners; k++)
		if (strcmp(demo_pensioners[k].insz, d->insz) == 0) {
			str_copy(p.pension_status, sizeof(p.pension_status),
				 "retired");
			str_copy(p.pension_since, sizeof(p.pension_since),
				 demo_pensioners[k].since);
		}
	return p;
}

static int seed_persons(struct audit *log, struct error *e)
{
	size_t n;
	const struct demo_person *all = demo_all_persons(&n);
	for (size_t i = 0; i < n; i++) {
		/* A family shares its father's address. */
		size_t home = i >= demo_npersons
			      ? demo_npersons + (i - demo_npersons) / 4 * 4 : i;
		struct registry_person p = register_entry(&all[i], home);
		if (registry_add(log, &demo_by, &p, e) != 0 && !already(e))
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < 2; c++)
			if (all[i].children[c] &&
			    registry_link_parent(log, &demo_by,
						 all[i].children[c],
						 all[i].insz, e) != 0 &&
			    !already(e))
				return -1;
	return 0;
}

static const struct demo_institution *institution_by_kbo(const char *kbo)
{
	for (size_t i = 0; i < demo_ninstitutions; i++)
		if (strcmp(demo_institutions[i].kbo, kbo) == 0)
			return &demo_institutions[i];
	abort(); /* the demo tables contradict each other */
}

static int seed_directory(struct audit *log, struct error *e)
{
	for (size_t i = 0; i < demo_ncapacities; i++) {
		const struct demo_capacity *c = &demo_capacities[i];
		if (directory_capacity_add(log, &demo_by, c->branch, c->code,
					   c->label, e) &&
		    !already(e))
			return -1;
	}
	for (size_t i = 0; i < demo_ndata_types; i++) {
		const struct demo_data_type *t = &demo_data_types[i];
		if (directory_data_type_add(log, &demo_by, t->code, t->source,
					    t->label, e) &&
		    !already(e))
			return -1;
	}
	for (size_t i = 0; i < demo_navailability; i++) {
		const struct demo_availability *v = &demo_availability[i];
		if (directory_availability_add(log, &demo_by, v->actor_type,
					       v->capacity, v->data_type,
					       e) != 0 &&
		    !already(e))
			return -1;
	}
	return 0;
}

/* Deliberations go in once the institutions exist: a requester actor type
 * is known by its institutions (authz_add refuses any other). */
static int seed_authorizations(struct audit *log, struct error *e)
{
	for (size_t i = 0; i < demo_nauthorizations; i++) {
		const struct demo_authorization *d = &demo_authorizations[i];
		struct authz_authorization a;
		memset(&a, 0, sizeof(a));
		str_copy(a.reference, sizeof(a.reference), d->reference);
		str_copy(a.requester_actor_type, sizeof(a.requester_actor_type),
			 d->actor_type);
		a.capacity = d->capacity;
		str_copy(a.data_type, sizeof(a.data_type), d->data_type);
		str_copy(a.purpose, sizeof(a.purpose), d->purpose);
		str_copy(a.valid_from, sizeof(a.valid_from), d->from);
		a.min_phase = d->min_phase;
		if (authz_add(log, &demo_by, &a, e) != 0 && !already(e))
			return -1;
	}
	return 0;
}

static int seed_dossier(struct audit *log, const struct demo_dossier *d,
			struct error *e)
{
	struct store *s = audit_store(log);
	struct org_institution inst;
	if (org_institution_by_kbo(s, d->institution, &inst) != 0)
		return err_set(e, ERR_INTERNAL, "demo_failed",
			       "demo institution %s missing", d->institution);
	struct directory_dossier dd;
	memset(&dd, 0, sizeof(dd));
	str_copy(dd.insz, sizeof(dd.insz), d->insz);
	dd.capacity = d->capacity;
	dd.phase = d->phase;
	str_copy(dd.start, sizeof(dd.start), d->start);
	if (directory_integrate(log, &demo_by, inst.id,
				institution_by_kbo(d->institution)->branch,
				&dd, e) != 0 && !already(e))
		return -1;
	return 0;
}

/* Dossiers go in once the institutions exist (they need their ids). */
static int seed_dossiers(struct audit *log, struct error *e)
{
	size_t nf;
	const struct demo_dossier *family = demo_family_dossiers(&nf);
	for (size_t i = 0; i < demo_ndossiers; i++)
		if (seed_dossier(log, &demo_dossiers[i], e) != 0)
			return -1;
	for (size_t i = 0; i < nf; i++)
		if (seed_dossier(log, &family[i], e) != 0)
			return -1;
	return 0;
}

/* The valid_until of a demo role: a year from today. */
static void role_until(char out[DATE_LEN])
{
	date_format(date_add_months(date_today(), 12), out);
}

static int seed_roles(struct audit *log, struct error *e)
{
	struct store *s = audit_store(log);
	int64_t today = date_to_days(date_today());
	for (size_t i = 0; i < demo_nroles; i++) {
		const struct demo_role *d = &demo_roles[i];
		if (org_role_valid(s, d->insz, d->kbo, d->role, today))
			continue;
		struct org_role r;
		memset(&r, 0, sizeof(r));
		str_copy(r.kbo, sizeof(r.kbo), d->kbo);
		str_copy(r.insz, sizeof(r.insz), d->insz);
		str_copy(r.role, sizeof(r.role), d->role);
		role_until(r.valid_until);
		if (org_role_grant(log, &demo_by, &r, e) != 0)
			return -1;
	}
	return 0;
}

/* Affiliations open-ended from the first start, kept on later ones. */
static int seed_affiliations(struct audit *log, struct error *e)
{
	int64_t today = date_to_days(date_today());
	for (size_t i = 0; i < demo_naffiliations; i++) {
		const struct demo_affiliation *d = &demo_affiliations[i];
		if (org_secretariat_acts_for(audit_store(log), d->secretariat,
					     d->employer, today))
			continue;
		struct org_affiliation f;
		memset(&f, 0, sizeof(f));
		str_copy(f.employer, sizeof(f.employer), d->employer);
		str_copy(f.secretariat, sizeof(f.secretariat), d->secretariat);
		if (org_affiliation_add(log, &demo_by, &f, e) != 0 &&
		    !already(e))
			return -1;
	}
	return 0;
}

void demo_credentials(const char *first, const char *last, const char *insz,
		      char *username, size_t un, char *password, size_t pn)
{
	snprintf(username, un, "%s.%s", first, last);
	for (char *p = username; *p; p++)
		*p = *p == ' ' ? '-' : (char)tolower((unsigned char)*p);
	snprintf(password, pn, "demo-%s-%.4s", last, insz + 7);
}

/* A named demo person's phone number: +32 470 and the INSZ's serial and
 * check digits, so every one differs. */
static void demo_phone(const char *insz, char *out, size_t n)
{
	snprintf(out, n, "+32470%.6s", insz + 5);
}

/* A named demo person's TOTP secret. Derived, not random, so demo.json
 * can publish it on every start without the store keeping it in clear;
 * a demo secret protects nothing. */
static void demo_totp_secret(const char *insz, uint8_t out[20])
{
	char seed[64];
	snprintf(seed, sizeof(seed), "kruispunt demo totp %s", insz);
	crypto_generichash(out, 20, (const uint8_t *)seed, strlen(seed), NULL, 0);
}

/* The second-factor keys of a named demo person: SMS codes and a TOTP
 * app, beside the e-mail codes every person has. */
static int seed_second_keys(struct auth *a, const char *insz, struct error *e)
{
	char phone[32];
	uint8_t secret[20];
	demo_phone(insz, phone, sizeof(phone));
	demo_totp_secret(insz, secret);
	int rc = auth_code_key_add(a, &demo_by, insz, "sms_code", phone, e);
	if (rc == 0)
		rc = auth_totp_key_add(a, &demo_by, insz, secret, sizeof(secret),
				       e);
	secret_wipe(secret, sizeof(secret));
	return rc;
}

/* Every person gets an account with a password key (level 200) and an
 * e-mail code key; the named persons also SMS and TOTP keys. Each is
 * recorded as the demo's doing ("account_create", "key_create"). */
static int seed_accounts(struct audit *log, const struct auth_config *cfg,
			 const uint8_t master_key[32], struct error *e)
{
	struct auth *a;
	int rc;
	struct auth_options o = {
		.argon2_ops = (uint64_t)cfg->argon2_ops,
		.argon2_mem = (size_t)cfg->argon2_mem_kib * 1024,
		.max_failures = cfg->max_failures,
		.session_absolute_s = cfg->session_absolute_s,
		.session_idle_s = cfg->session_idle_s,
	};
	memcpy(o.master_key, master_key, sizeof(o.master_key));
	rc = auth_open(log, &o, &a, e);
	secret_wipe(o.master_key, sizeof(o.master_key));
	if (rc != 0)
		return -1;
	size_t n;
	const struct demo_person *all = demo_all_persons(&n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct auth_account acc;
		char password[64];
		if (all[i].at_the_office)
			continue;
		memset(&acc, 0, sizeof(acc));
		str_copy(acc.insz, sizeof(acc.insz), all[i].insz);
		demo_credentials(all[i].first_name, all[i].last_name,
				 all[i].insz, acc.username,
				 sizeof(acc.username), password,
				 sizeof(password));
		snprintf(acc.email, sizeof(acc.email), "%s@example.org",
			 acc.username);
		if (i < demo_npersons)
			demo_phone(acc.insz, acc.phone, sizeof(acc.phone));
		if (auth_account_create(a, &demo_by, &acc, password, e) == 0) {
			rc = auth_code_key_add(a, &demo_by, acc.insz,
					       "email_code", acc.email, e);
			if (rc == 0 && i < demo_npersons)
				rc = seed_second_keys(a, acc.insz, e);
		} else if (!already(e)) {
			rc = -1;
		}
	}
	auth_close(a);
	return rc;
}

/* True when an earlier run seeded everything: its last step, the
 * dossiers, needs every institution. Seeding again would only record a
 * refusal per row in the audit log. */
static bool seeded(struct store *s)
{
	size_t nf;
	const struct demo_dossier *family = demo_family_dossiers(&nf);
	const struct demo_dossier *last = nf ? &family[nf - 1]
					     : &demo_dossiers[demo_ndossiers - 1];
	struct directory_holding h[8];
	struct date start;
	return date_parse(last->start, &start) == 0 &&
	       directory_holdings(s, last->insz, date_to_days(start), h, 8) > 0;
}

int demo_seed(const char *dir, struct audit *log, const struct auth_config *cfg,
	      const uint8_t master_key[32], struct error *e)
{
	struct store *s = audit_store(log);
	if (seeded(s)) /* roles renewed when they ran out */
		return seed_roles(log, e) || seed_affiliations(log, e) ? -1 : 0;
	if (seed_persons(log, e) != 0 || seed_directory(log, e) != 0)
		return -1;
	for (size_t i = 0; i < demo_norgs; i++) {
		if (org_organisation_add(log, &demo_by, demo_orgs[i].kbo,
					 demo_orgs[i].name, e) != 0 &&
		    !already(e))
			return -1;
		if (org_category_add(log, &demo_by, demo_orgs[i].kbo,
				     demo_orgs[i].category, e) != 0 &&
		    !already(e))
			return -1;
	}
	if (seed_roles(log, e) != 0 || seed_affiliations(log, e) != 0 ||
	    seed_accounts(log, cfg, master_key, e) != 0)
		return -1;
	for (size_t i = 0; i < demo_ninstitutions; i++)
		if (seed_institution(dir, log, &demo_institutions[i], e) != 0)
			return -1;
	if (seed_network_orgs(dir, log, e) != 0 ||
	    seed_authorizations(log, e) != 0)
		return -1;
	return seed_dossiers(log, e);
}

/* The phone and the TOTP secret (base32, as an authenticator app takes
 * it) of a named person. */
static void person_second_keys(json_t *j, const char *insz)
{
	char phone[32], *b32 = NULL;
	size_t b32len;
	uint8_t secret[20];
	demo_phone(insz, phone, sizeof(phone));
	demo_totp_secret(insz, secret);
	json_object_set_new(j, "phone", json_string(phone));
	if (oath_base32_encode((const char *)secret, sizeof(secret), &b32,
			       &b32len) == OATH_OK)
		json_object_set_new(j, "totp_secret", json_string(b32));
	free(b32);
}

/* named: one of the hand-written persons (they hold every key type). */
static json_t *person_json(const struct demo_person *p, bool named)
{
	char name[128], cert[96], key[96];
	snprintf(name, sizeof(name), "%s %s", p->first_name, p->last_name);
	struct insz z;
	insz_parse(p->insz, strlen(p->insz), &z);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "insz", p->insz,
			      "name", name, "first_name", p->first_name,
			      "last_name", p->last_name, "birth_date",
			      p->birth_date, "register",
			      z.kind == INSZ_RR ? "RR" : "BIS");
	/* Every person is listed; one whose certificate a login must refuse
	 * says so, and why, so that no client picks it by mistake. */
	static const char *const eid_status[] = {
		[DEMO_EID_VALID] = "valid", [DEMO_EID_REVOKED] = "revoked",
		[DEMO_EID_EXPIRED] = "expired",
		[DEMO_EID_FOREIGN] = "foreign_ca"};
	if (p->eid != DEMO_EID_NONE) {
		snprintf(cert, sizeof(cert), "pki/eid/%s.crt", p->insz);
		snprintf(key, sizeof(key), "pki/eid/%s.key", p->insz);
		json_object_set_new(j, "eid_cert", json_string(cert));
		json_object_set_new(j, "eid_key", json_string(key));
		json_object_set_new(j, "eid_status",
				    json_string(eid_status[p->eid]));
		json_object_set_new(j, "eid_must_be_refused",
				    json_boolean(p->eid != DEMO_EID_VALID));
	}
	json_t *children = json_array();
	for (int c = 0; c < 2; c++)
		if (p->children[c])
			json_array_append_new(children,
					      json_string(p->children[c]));
	json_object_set_new(j, "children", children);
	for (size_t k = 0; k < demo_npensioners; k++)
		if (strcmp(demo_pensioners[k].insz, p->insz) == 0)
			json_object_set_new(j, "pension_since",
					    json_string(demo_pensioners[k].since));
	json_t *roles = json_array();
	char until[DATE_LEN];
	role_until(until);
	for (size_t i = 0; i < demo_nroles; i++)
		if (strcmp(demo_roles[i].insz, p->insz) == 0)
			json_array_append_new(
				roles, json_pack("{s:s,s:s,s:s}", "kbo",
						 demo_roles[i].kbo, "role",
						 demo_roles[i].role,
						 "valid_until", until));
	json_object_set_new(j, "roles", roles);
	if (p->at_the_office) {
		/* No account yet: an e-mail address of her own, which the
		 * office validates and the activation link goes to. */
		json_object_set_new(j, "email",
				    json_string("olena.kovalenko@example.org"));
		json_object_set_new(j, "at_the_office", json_true());
		return j;
	}
	char user[AUTH_USERNAME_MAX + 1], password[64], email[128];
	demo_credentials(p->first_name, p->last_name, p->insz, user,
			 sizeof(user), password, sizeof(password));
	snprintf(email, sizeof(email), "%s@example.org", user);
	json_object_set_new(j, "username", json_string(user));
	json_object_set_new(j, "password", json_string(password));
	json_object_set_new(j, "email", json_string(email));
	if (named)
		person_second_keys(j, p->insz);
	return j;
}

static json_t *test_certificates(void)
{
	static const struct {
		enum demo_eid kind;
		const char *name;
	} kinds[] = {{DEMO_EID_REVOKED, "revoked_eid"},
		     {DEMO_EID_EXPIRED, "expired_eid"},
		     {DEMO_EID_FOREIGN, "foreign_ca_eid"}};
	json_t *t = json_object();
	for (size_t k = 0; k < KP_NELEM(kinds); k++) {
		for (size_t i = 0; i < demo_npersons; i++) {
			const struct demo_person *p = &demo_persons[i];
			if (p->eid != kinds[k].kind)
				continue;
			char cert[96], key[96];
			snprintf(cert, sizeof(cert), "pki/eid/%s.crt", p->insz);
			snprintf(key, sizeof(key), "pki/eid/%s.key", p->insz);
			json_object_set_new(t, kinds[k].name,
					    json_pack("{s:s,s:s,s:s}", "insz",
						      p->insz, "cert", cert,
						      "key", key));
		}
	}
	return t;
}

/* The registration office: the municipality whose lra_officer roles the
 * demo gives, its officers, and the persons waiting there for a code. */
static json_t *lra_json(const struct demo_person *all, size_t n)
{
	json_t *officers = json_array(), *waiting = json_array();
	const char *office = "";
	for (size_t i = 0; i < demo_nroles; i++)
		if (strcmp(demo_roles[i].role, "lra_officer") == 0) {
			office = demo_roles[i].kbo;
			json_array_append_new(officers,
					      json_string(demo_roles[i].insz));
		}
	for (size_t i = 0; i < n; i++)
		if (all[i].at_the_office)
			json_array_append_new(waiting,
					      json_string(all[i].insz));
	return json_pack("{s:s,s:o,s:o}", "office", office, "officers",
			 officers, "waiting", waiting);
}

/* An organisation of the manifest: one whose own system is on the
 * network has its certificate and key; an employer affiliated with a
 * social secretariat names it. */
static json_t *org_json(const struct demo_org *o)
{
	json_t *j = json_pack("{s:s,s:s,s:[s]}", "kbo", o->kbo, "name",
			      o->name, "categories", o->category);
	for (size_t k = 0; k < demo_nnetwork_orgs; k++) {
		if (strcmp(demo_network_orgs[k], o->kbo) != 0)
			continue;
		char path[96];
		snprintf(path, sizeof(path), "pki/organisations/%s.crt",
			 o->kbo);
		json_object_set_new(j, "cert", json_string(path));
		snprintf(path, sizeof(path), "pki/organisations/%s.key",
			 o->kbo);
		json_object_set_new(j, "key", json_string(path));
	}
	for (size_t i = 0; i < demo_naffiliations; i++)
		if (strcmp(demo_affiliations[i].employer, o->kbo) == 0)
			json_object_set_new(
				j, "social_secretariat",
				json_string(demo_affiliations[i].secretariat));
	return j;
}

static json_t *manifest_json(const char *public_url, const char *network_url,
			     const char *eid_url)
{
	json_t *persons = json_array(), *orgs = json_array(),
	       *insts = json_array();
	size_t n;
	const struct demo_person *all = demo_all_persons(&n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(persons,
				      person_json(&all[i], i < demo_npersons));
	for (size_t i = 0; i < demo_norgs; i++)
		json_array_append_new(orgs, org_json(&demo_orgs[i]));
	for (size_t i = 0; i < demo_ninstitutions; i++) {
		const struct demo_institution *in = &demo_institutions[i];
		char cert[96], key[96];
		snprintf(cert, sizeof(cert), "pki/institutions/%s.crt", in->kbo);
		snprintf(key, sizeof(key), "pki/institutions/%s.key", in->kbo);
		json_array_append_new(
			insts, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name",
					 demo_org_by_kbo(in->kbo)->name, "kbo",
					 in->kbo, "actor_type", in->actor_type,
					 "branch", in->branch, "cert", cert,
					 "key", key));
	}
	json_t *lra = lra_json(all, n);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,"
			 "s:o}",
			 "public_url", public_url, "network_url", network_url,
			 "eid_url", eid_url,
			 "ca", "pki/ca.pem", "citizen_ca", "pki/citizen-ca.pem",
			 "crl", "pki/citizen-ca.crl", "config", "kruispunt.ini",
			 "mail_dir", "mail", "sms_dir", "sms", "persons", persons,
			 "organisations", orgs, "institutions", insts,
			 "test_certificates", test_certificates(), "lra", lra);
}

int demo_manifest(const char *dir, const char *public_url,
		  const char *network_url, const char *eid_url,
		  struct error *e)
{
	char path[LIMIT_PATH], tmp[LIMIT_PATH];
	demo_path(path, sizeof(path), dir, "demo.json");
	demo_path(tmp, sizeof(tmp), dir, "demo.json.tmp");
	json_t *m = manifest_json(public_url, network_url, eid_url);
	/* The demo's OpenID Connect client, registered by the command layer
	 * (kruispunt demo) with its secret. */
	char client[LIMIT_PATH];
	demo_path(client, sizeof(client), dir, "oidc-demo-client.json");
	json_t *c = json_load_file(client, 0, NULL);
	if (c)
		json_object_set_new(m, "oidc_client", c);
	/* The external provider the demo runs beside it, when node and
	 * oidc-provider are there (kruispunt demo). */
	demo_path(client, sizeof(client), dir, "external-idp.json");
	c = json_load_file(client, 0, NULL);
	if (c)
		json_object_set_new(m, "external_idp", c);
	int rc = json_dump_file(m, tmp, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	if (rc != 0 || rename(tmp, path) != 0)
		return err_set(e, ERR_INTERNAL, "demo_failed",
			       "cannot write %s: %s", path, strerror(errno));
	return 0;
}
