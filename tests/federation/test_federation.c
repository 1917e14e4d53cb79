/* The relying party without HTTP: an external provider's ID token, signed
 * here with cjose, is believed only when its signature, algorithm, issuer,
 * audience, times and nonce hold (alg none, HMAC, a key of the wrong kind,
 * another audience, another login's nonce, expired are refused); a
 * provider's secret is stored sealed and audited without it; and the
 * login auth opens for a key another party vouches for is at its key
 * type's level, for a living person in the registers only. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"
#include "federation/federation.h"
#include "federation/federation_internal.h"
#include "support/support.h"

#define JAN "85073003328"
#define ISS "https://idp.example"

static struct ts_store tmp;
static struct auth *a;
static struct federation *f;
static cjose_jwk_t *ec, *other;
static char *jwks;
static const struct audit_actor browser = {AUDIT_CHANNEL_PORTAL, NULL, NULL,
					   NULL};

static int setup(void **state)
{
	(void)state;
	struct error e;
	cjose_err ce;
	ts_clock_start();
	if (ts_store_open(&tmp, "federation") != 0)
		return -1;
	struct auth_options ao = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				  .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				  .session_absolute_s = 3600,
				  .session_idle_s = 600};
	rand_bytes(ao.master_key, sizeof(ao.master_key));
	ec = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
	other = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
	char *pub = cjose_jwk_to_json(ec, false, &ce);
	jwks = xasprintf("{\"keys\":[%s]}", pub);
	free(pub);
	return auth_open(tmp.log, &ao, &a, &e) ||
	       ts_person(tmp.log, JAN, "Peeters", "Jan", "", &e) ||
	       federation_open(tmp.log, a, &f, &e);
}

static int teardown(void **state)
{
	(void)state;
	federation_close(f);
	auth_close(a);
	cjose_jwk_release(ec);
	cjose_jwk_release(other);
	free(jwks);
	return ts_store_close(&tmp);
}

/* part base64url (caller frees). */
static char *b64(const char *part)
{
	size_t cap = sodium_base64_ENCODED_LEN(strlen(part),
					       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = xmalloc(cap);
	sodium_bin2base64(out, cap, (const uint8_t *)part, strlen(part),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* An ID token with claims, signed by k with alg (k NULL: "alg" written
 * by hand, unsigned). Caller frees. */
static char *id_token(cjose_jwk_t *k, const char *alg, const char *claims)
{
	if (!k) {
		char *hdr = xasprintf("{\"alg\":\"%s\"}", alg);
		char *h = b64(hdr), *p = b64(claims);
		char *out = xasprintf("%s.%s.", h, p);
		free(hdr);
		free(h);
		free(p);
		return out;
	}
	cjose_err ce;
	cjose_header_t *h = cjose_header_new(&ce);
	cjose_header_set(h, CJOSE_HDR_ALG, alg, &ce);
	cjose_jws_t *j = cjose_jws_sign(k, h, (const uint8_t *)claims,
					strlen(claims), &ce);
	const char *ser = NULL;
	char *out = j && cjose_jws_export(j, &ser, &ce) ? xstrdup(ser) : NULL;
	cjose_jws_release(j);
	cjose_header_release(h);
	return out;
}

static char *claims(const char *aud, const char *nonce, int64_t exp_in)
{
	int64_t now = time_now();
	return xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"%s\",\"sub\":\"x\","
			 "\"exp\":%lld,\"iat\":%lld,\"nonce\":\"%s\","
			 "\"auth_time\":%lld,\"acr\":\"pin\","
			 "\"egovNRN\":\"" JAN "\"}",
			 aud, (long long)(now + exp_in), (long long)now, nonce,
			 (long long)now);
}

/* Verify a token of (k, alg) with these claims: the check's result. */
static int verify(cjose_jwk_t *k, const char *alg, const char *aud,
		  const char *nonce, int64_t exp_in, char nrn[32])
{
	char *c = claims(aud, nonce, exp_in);
	char *t = id_token(k, alg, c);
	struct federation_expect x = {ISS, "kruispunt", "n1", "egovNRN",
				      time_now(), ""};
	struct error e;
	int rc = t ? federation_id_token_check(t, jwks, &x, nrn, &e) : -9;
	free(t);
	free(c);
	return rc;
}

static void test_id_token(void **state)
{
	(void)state;
	char nrn[32];
	assert_int_equal(verify(ec, "ES256", "kruispunt", "n1", 60, nrn), 0);
	assert_string_equal(nrn, JAN);
	/* Attacks: each is refused. */
	assert_int_equal(verify(NULL, "none", "kruispunt", "n1", 60, nrn), -1);
	assert_int_equal(verify(NULL, "HS256", "kruispunt", "n1", 60, nrn), -1);
	assert_int_equal(verify(ec, "ES256", "another-rp", "n1", 60, nrn), -1);
	assert_int_equal(verify(ec, "ES256", "kruispunt", "n2", 60, nrn), -1);
	assert_int_equal(verify(ec, "ES256", "kruispunt", "n1", -1, nrn), -1);
	/* azp naming another client, nbf still to come: refused too. */
	int64_t now = time_now();
	char *bodies[2];
	bodies[0] = xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"kruispunt\","
			      "\"sub\":\"x\",\"exp\":%lld,\"iat\":%lld,"
			      "\"nonce\":\"n1\",\"egovNRN\":\"" JAN "\","
			      "\"azp\":\"another-rp\"}",
			      (long long)(now + 60), (long long)now);
	bodies[1] = xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"kruispunt\","
			      "\"sub\":\"x\",\"exp\":%lld,\"iat\":%lld,"
			      "\"nonce\":\"n1\",\"egovNRN\":\"" JAN "\","
			      "\"nbf\":%lld}",
			      (long long)(now + 60), (long long)now,
			      (long long)(now + 3600));
	for (size_t i = 0; i < KP_NELEM(bodies); i++) {
		char *t = id_token(ec, "ES256", bodies[i]);
		struct federation_expect x = {ISS, "kruispunt", "n1",
					      "egovNRN", now, ""};
		struct error e;
		assert_int_equal(federation_id_token_check(t, jwks, &x, nrn,
							   &e),
				 -1);
		free(t);
		free(bodies[i]);
	}
	/* The level a provider's key gives: its acr must be one registered
	 * for the key type, and the authentication recent (auth_time). */
	char *c = claims("kruispunt", "n1", 60);
	char *t = id_token(ec, "ES256", c);
	struct federation_expect x = {ISS, "kruispunt", "n1", "egovNRN", now,
				      "pin face"};
	struct error e;
	assert_int_equal(federation_id_token_check(t, jwks, &x, nrn, &e), 0);
	x.acr = "pin-with-card";
	assert_int_equal(federation_id_token_check(t, jwks, &x, nrn, &e), -1);
	x.acr = "";
	free(t);
	free(c);
	c = xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"kruispunt\","
		      "\"sub\":\"x\",\"exp\":%lld,\"iat\":%lld,"
		      "\"nonce\":\"n1\",\"auth_time\":%lld,"
		      "\"egovNRN\":\"" JAN "\"}",
		      (long long)(now + 60), (long long)now,
		      (long long)(now - FEDERATION_MAX_AGE_S - 300));
	t = id_token(ec, "ES256", c); /* a session left open for long */
	assert_int_equal(federation_id_token_check(t, jwks, &x, nrn, &e), -1);
	free(t);
	free(c);
	c = xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"kruispunt\","
		      "\"sub\":\"x\",\"exp\":%lld,\"iat\":%lld,"
		      "\"nonce\":\"n1\",\"egovNRN\":\"" JAN "\"}",
		      (long long)(now + 60), (long long)now);
	t = id_token(ec, "ES256", c);
	x.now = now; /* no auth_time at all */
	assert_int_equal(federation_id_token_check(t, jwks, &x, nrn, &e), -1);
	free(t);
	free(c);
	/* Signed by a key the provider does not publish. */
	assert_int_equal(verify(other, "ES256", "kruispunt", "n1", 60, nrn), -1);
	assert_string_equal(nrn, "");
}

static void test_provider_sealed(void **state)
{
	(void)state;
	struct error e;
	struct federation_provider_spec s = {
		.id = "idp", .name = "IdP", .issuer = ISS,
		.client_id = "kruispunt", .client_secret = "the secret 42",
		.key_type = "itsme_pin", .nrn_claim = "egovNRN"};
	assert_int_equal(federation_provider_add(f, &ts_operator, &s, &e), 0);
	assert_int_equal(federation_provider_add(f, &ts_operator, &s, &e), -1);
	assert_string_equal(e.code, "provider_exists");
	struct federation_provider_spec bad = s;
	bad.id = "idp2";
	bad.issuer = "http://idp.example"; /* http, not on the loopback */
	assert_int_equal(federation_provider_add(f, &ts_operator, &bad, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	/* A loopback name with user information reaches another host. */
	bad.issuer = "http://localhost:@evil.example/";
	assert_int_equal(federation_provider_add(f, &ts_operator, &bad, &e), -1);
	bad.issuer = "http://127.0.0.1.evil.example/";
	assert_int_equal(federation_provider_add(f, &ts_operator, &bad, &e), -1);
	bad.issuer = ISS;
	bad.key_type = "no_such_key";
	assert_int_equal(federation_provider_add(f, &ts_operator, &bad, &e), -1);
	/* Only keys others issue: a provider cannot vouch for an eID. */
	bad.key_type = "eid";
	assert_int_equal(federation_provider_add(f, &ts_operator, &bad, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	/* Never in clear in the store. */
	struct store_stmt *st = store_prepare(
		store_reader(tmp.s),
		ts_pg() ? "SELECT count(*) FROM federation_provider WHERE "
			  "strpos(encode(secret_sealed, 'escape'), 'the secret')"
			  " > 0"
			: "SELECT count(*) FROM federation_provider WHERE "
			  "instr(CAST(secret_sealed AS TEXT), 'the secret') > 0");
	int64_t n = -1;
	assert_int_equal(store_one(st, store_read_int, &n, &e), 0);
	assert_int_equal(n, 0);
	json_t *l = federation_provider_list(f, true, &e);
	assert_int_equal(json_array_size(l), 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(l, 0), "level")),
			 450);
	json_decref(l);
	struct audit_record *ev;
	int k = ts_events(tmp.log, "federation_provider_add", &ev);
	assert_int_equal(k, 7); /* one granted, six refused (each recorded) */
	assert_string_equal(ev[0].outcome, "granted");
	assert_string_equal(ev[1].outcome, "refused");
	free(ev);
	assert_int_equal(federation_provider_remove(f, &ts_operator, "idp", &e),
			 0);
	assert_int_equal(federation_provider_remove(f, &ts_operator, "idp", &e),
			 -1);
}

static void test_login_external(void **state)
{
	(void)state;
	char token[TOKEN_HEX_LEN];
	struct auth_session s;
	struct error e;
	assert_int_equal(auth_login_external(a, &browser, JAN, "itsme_pin",
					     "idp", token, &s, &e),
			 0);
	assert_int_equal(s.level, 450);
	assert_string_equal(s.key_type, "itsme_pin");
	/* Someone the registers do not know: refused, recorded. */
	assert_int_equal(auth_login_external(a, &browser, "85073003427",
					     "itsme_pin", "idp", token, &s, &e),
			 -1);
	struct audit_record *ev;
	int n = ts_events(tmp.log, "login", &ev);
	assert_true(n >= 1);
	assert_string_equal(ev[0].purpose, "itsme_pin");
	assert_string_equal(ev[0].legal_basis, "idp");
	free(ev);
}

/* A callback without its login (no cookie, a state never made) changes
 * nothing and is not an audit event (no login of ours, no person:
 * strangers must not be able to fill the log); it is logged. */
static void test_callback_unknown(void **state)
{
	(void)state;
	char token[TOKEN_HEX_LEN], back[512];
	struct auth_session s;
	struct error e;
	char state_hex[65];
	memset(state_hex, 'a', 64);
	uint64_t before = audit_size(tmp.log);
	state_hex[64] = '\0';
	assert_int_equal(federation_callback(f, &browser, "code", state_hex,
					     NULL, NULL, token, &s, back, &e),
			 -1);
	assert_string_equal(e.code, "federation_state_invalid");
	assert_string_equal(back, "/");
	struct audit_record *ev;
	int n = ts_events(tmp.log, "login", &ev);
	for (int i = 0; i < n; i++)
		assert_string_not_equal(ev[i].reason,
					"federation_state_invalid");
	free(ev);
	assert_int_equal(audit_size(tmp.log), before);
}

/* A provider that takes connections and never answers (the kernel
 * completes the handshake; nobody reads): its port, or -1. */
static int silent_listener(int *fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(sa);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, n) != 0 ||
	    listen(*fd, 64) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sa, &n) != 0)
		return -1;
	return ntohs(sa.sin_port);
}

struct slow_call {
	struct federation_provider *p;
	atomic_bool done;
};

static void *call_slow(void *arg)
{
	struct slow_call *c = arg;
	char authz[LIMIT_URL], token[LIMIT_URL];
	struct error e;
	federation_discover(f, c->p, false, authz, token, NULL, &e);
	atomic_store(&c->done, true);
	return NULL;
}

/* The federation review's H1: a provider that hangs holds up its own
 * fetch only. While one login waits for it, another is refused at once
 * (it returns before the first has); after the failure, logins are
 * refused at once for a while (the provider sees no new connection). */
static void test_slow_provider(void **state)
{
	(void)state;
	int fd;
	int port = silent_listener(&fd);
	assert_true(port > 0);
	struct federation_provider p = {.id = "slow", .ca_pem = NULL};
	snprintf(p.issuer, sizeof(p.issuer), "http://127.0.0.1:%d", port);
	struct slow_call c = {&p, false};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, call_slow, &c), 0);
	/* Until the first call is in its fetch. */
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&f->lock);
		bool in = f->cache[0].fetching || f->cache[1].fetching;
		for (int k = 2; k < FEDERATION_CACHED; k++)
			in = in || f->cache[k].fetching;
		pthread_mutex_unlock(&f->lock);
		if (in)
			break;
		usleep(10000);
	}
	char authz[LIMIT_URL], token[LIMIT_URL];
	struct error e;
	assert_int_equal(federation_discover(f, &p, false, authz, token, NULL,
					     &e),
			 -1);
	assert_string_equal(e.code, "provider_unavailable");
	assert_false(atomic_load(&c.done));
	pthread_join(t, NULL);
	/* Backed off: refused without connecting. */
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	int s;
	while ((s = accept(fd, NULL, NULL)) >= 0) /* the first call's */
		close(s);
	assert_int_equal(federation_discover(f, &p, false, authz, token, NULL,
					     &e),
			 -1);
	assert_true(accept(fd, NULL, NULL) < 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_token),
		cmocka_unit_test(test_slow_provider),
		cmocka_unit_test(test_provider_sealed),
		cmocka_unit_test(test_login_external),
		cmocka_unit_test(test_callback_unknown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
