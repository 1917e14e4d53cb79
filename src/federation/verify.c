/*
 * The ID token of an external provider (OpenID Connect Core 1.0 section
 * 3.1.3.7), verified with cjose: no signature code of our own. The
 * algorithm is one of the asymmetric three and must fit the key it names;
 * "none" and HMAC are refused outright, because with them the provider's
 * public key (or nothing) would be the secret, and anyone could sign.
 */
#include <string.h>

#include <cjose/cjose.h>

#include "federation/federation_internal.h"

static int bad(struct error *e, const char *why)
{
	return err_set(e, ERR_UNAUTHENTICATED, "federation_token_invalid",
		       "the provider's ID token is not valid: %s", why);
}

/* Does key k (a JWK object) fit alg and, when the header names one, kid? */
static bool key_fits(json_t *k, const char *alg, const char *kid)
{
	const char *kty = json_string_value(json_object_get(k, "kty"));
	const char *kalg = json_string_value(json_object_get(k, "alg"));
	const char *use = json_string_value(json_object_get(k, "use"));
	const char *kkid = json_string_value(json_object_get(k, "kid"));
	if (!kty || (use && strcmp(use, "sig") != 0) ||
	    (kalg && strcmp(kalg, alg) != 0) ||
	    (kid && (!kkid || strcmp(kid, kkid) != 0)))
		return false;
	if (strcmp(alg, "ES256") == 0)
		return strcmp(kty, "EC") == 0 &&
		       json_is_string(json_object_get(k, "crv")) &&
		       strcmp(json_string_value(json_object_get(k, "crv")),
			      "P-256") == 0;
	return strcmp(kty, "RSA") == 0;
}

/* 0 when a key of set that fits verifies jws; 1 when no key fits; -1
 * when one fits and the signature is wrong. */
static int signature(cjose_jws_t *jws, json_t *set, const char *alg,
		     const char *kid)
{
	cjose_err cerr;
	int rc = 1;
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(set, "keys"), i, k) {
		if (rc == 0 || !key_fits(k, alg, kid))
			continue;
		char *one = json_dumps(k, JSON_COMPACT);
		cjose_jwk_t *jwk =
			one ? cjose_jwk_import(one, strlen(one), &cerr) : NULL;
		rc = jwk && cjose_jws_verify(jws, jwk, &cerr) ? 0 : -1;
		cjose_jwk_release(jwk);
		free(one);
	}
	return rc;
}

/* aud is client_id, or a list holding it; with several, azp is ours. */
static bool audience_ok(json_t *cl, const char *client_id)
{
	json_t *aud = json_object_get(cl, "aud");
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), client_id) == 0;
	if (!json_is_array(aud) || json_array_size(aud) == 0)
		return false;
	bool in = false;
	size_t i;
	json_t *a;
	json_array_foreach(aud, i, a) in |=
		json_is_string(a) && strcmp(json_string_value(a), client_id) == 0;
	const char *azp = json_string_value(json_object_get(cl, "azp"));
	return in && (json_array_size(aud) == 1 ||
		      (azp && strcmp(azp, client_id) == 0));
}

/* azp, when there, names us whatever the audience (OpenID Connect Core
 * 3.1.3.7); nbf, when there, has come (RFC 7519 4.1.5). */
static bool presence_ok(json_t *cl, const char *client_id, int64_t now)
{
	json_t *azp = json_object_get(cl, "azp");
	json_t *nbf = json_object_get(cl, "nbf");
	if (azp && (!json_is_string(azp) ||
		    strcmp(json_string_value(azp), client_id) != 0))
		return false;
	return !nbf || (json_is_integer(nbf) &&
			json_integer_value(nbf) <= now + FEDERATION_SKEW_S);
}

/* The authentication the token vouches for: recent (auth_time within
 * max_age, which the request asked: OpenID Connect Core 3.1.2.1), and,
 * when the provider's key has several levels, at one of the acr values
 * registered for this key type. */
static bool fresh_at_level(json_t *cl, const struct federation_expect *x)
{
	json_t *at = json_object_get(cl, "auth_time");
	if (!json_is_integer(at) ||
	    json_integer_value(at) < x->now - FEDERATION_MAX_AGE_S -
					     FEDERATION_SKEW_S ||
	    json_integer_value(at) > x->now + FEDERATION_SKEW_S)
		return false;
	if (!x->acr || !x->acr[0])
		return true;
	const char *acr = json_string_value(json_object_get(cl, "acr"));
	size_t n = acr ? strlen(acr) : 0;
	for (const char *q = x->acr; n && *q;) {
		while (*q == ' ')
			q++;
		size_t k = strcspn(q, " ");
		if (k == n && strncmp(q, acr, n) == 0)
			return true;
		q += k;
	}
	return false;
}

static int claims_check(json_t *cl, const struct federation_expect *x,
			char nrn[32], struct error *e)
{
	const char *iss = json_string_value(json_object_get(cl, "iss"));
	json_t *exp = json_object_get(cl, "exp");
	json_t *iat = json_object_get(cl, "iat");
	const char *nonce = json_string_value(json_object_get(cl, "nonce"));
	const char *id = json_string_value(json_object_get(cl, x->nrn_claim));
	if (!iss || strcmp(iss, x->issuer) != 0)
		return bad(e, "another issuer");
	if (!audience_ok(cl, x->client_id) ||
	    !presence_ok(cl, x->client_id, x->now))
		return bad(e, "another audience, or not valid yet");
	if (!json_is_integer(exp) || json_integer_value(exp) <= x->now)
		return bad(e, "expired");
	if (!json_is_integer(iat) ||
	    json_integer_value(iat) > x->now + FEDERATION_SKEW_S ||
	    json_integer_value(iat) < x->now - FEDERATION_IAT_MAX_S)
		return bad(e, "issued at an implausible time");
	if (!nonce || strcmp(nonce, x->nonce) != 0)
		return bad(e, "another login's nonce");
	if (!fresh_at_level(cl, x))
		return bad(e, "not an authentication at the level registered, "
			      "or not a fresh one");
	if (!id || !str_copy(nrn, 32, id))
		return bad(e, "no national number");
	return 0;
}

int federation_id_token_check(const char *id_token, const char *jwks,
			      const struct federation_expect *x,
			      char nrn[32], struct error *e)
{
	cjose_err cerr;
	nrn[0] = '\0';
	cjose_jws_t *jws = id_token && strlen(id_token) < 16384
				   ? cjose_jws_import(id_token,
						      strlen(id_token), &cerr)
				   : NULL;
	if (!jws)
		return bad(e, "not a signed JWT");
	cjose_header_t *h = cjose_jws_get_protected(jws);
	const char *alg = cjose_header_get(h, CJOSE_HDR_ALG, &cerr);
	const char *kid = cjose_header_get(h, CJOSE_HDR_KID, &cerr);
	json_t *set = jwks ? json_loads(jwks, 0, NULL) : NULL;
	int rc;
	if (!alg || (strcmp(alg, "ES256") && strcmp(alg, "RS256") &&
		     strcmp(alg, "PS256")))
		rc = bad(e, "its algorithm is not ES256, RS256 or PS256");
	else if (json_object_get((json_t *)h, "crit"))
		rc = bad(e, "it names extensions we do not understand (crit)");
	else if ((rc = signature(jws, set, alg, kid)) == -1)
		bad(e, "the signature does not verify");
	else if (rc == 1)
		bad(e, "no key of the provider's fits it");
	uint8_t *plain = NULL;
	size_t n = 0;
	json_t *cl = NULL;
	if (rc == 0 && (!cjose_jws_get_plaintext(jws, &plain, &n, &cerr) ||
			!(cl = json_loadb((const char *)plain, n, 0, NULL)) ||
			!json_is_object(cl)))
		rc = bad(e, "its claims are not a JSON object");
	if (rc == 0)
		rc = claims_check(cl, x, nrn, e);
	json_decref(cl);
	json_decref(set);
	cjose_jws_release(jws);
	return rc;
}
