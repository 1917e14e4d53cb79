/* Identifier check: lets an integrator validate and decode an INSZ or an
 * enterprise number before sending it anywhere. It reads only what the
 * number itself encodes; no register is consulted, so nothing personal is
 * disclosed and nothing needs to be audited. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"

static const char *sex_name(enum insz_sex s)
{
	return s == SEX_MALE ? "M" : s == SEX_FEMALE ? "F" : "unknown";
}

/* "1985-07-30", "1985-07" or "1985": as much as the register knows
 * ("" when the number carries a fictitious date). */
static void birth_text(const struct insz *z, char *out, size_t n)
{
	if (z->birth_year == 0)
		snprintf(out, n, "%s", "");
	else if (z->birth_month == 0)
		snprintf(out, n, "%04d", z->birth_year % 10000);
	else if (z->birth_day == 0)
		snprintf(out, n, "%04d-%02d", z->birth_year % 10000,
			 z->birth_month % 100);
	else
		snprintf(out, n, "%04d-%02d-%02d", z->birth_year % 10000,
			 z->birth_month % 100, z->birth_day % 100);
}

static int refuse_id(struct http_response *res, const char *code,
		     const char *what, enum id_status st)
{
	res->problem_extra = json_pack("{s:s}", "reason", id_status_code(st));
	return err_set(&res->err, ERR_INVALID, code, "not a valid %s: %s",
		       what, id_status_text(st));
}

static int check_insz(const char *in, struct http_response *res)
{
	struct insz z;
	enum id_status st = insz_parse(in, strlen(in), &z);
	if (st != ID_OK)
		return refuse_id(res, "invalid_insz", "INSZ", st);
	char birth[16];
	birth_text(&z, birth, sizeof(birth));
	json_t *j = json_pack("{s:s,s:s,s:s}", "insz", z.digits, "register",
			      z.kind == INSZ_RR ? "RR" : "BIS", "sex",
			      sex_name(z.sex));
	if (birth[0]) /* absent: the birth date is not known at all */
		json_object_set_new(j, "birth_date", json_string(birth));
	return http_reply_json(res, 200, j);
}

static int check_kbo(const char *in, struct http_response *res)
{
	char kbo[11];
	enum id_status st = kbo_parse(in, strlen(in), kbo);
	if (st != ID_OK)
		return refuse_id(res, "invalid_kbo", "enterprise number", st);
	char formatted[16];
	snprintf(formatted, sizeof(formatted), "%.4s.%.3s.%.3s", kbo, kbo + 4,
		 kbo + 7);
	return http_reply_json(res, 200,
			       json_pack("{s:s,s:s}", "kbo", kbo, "formatted",
					 formatted));
}

int api_identifiers_check(struct http_request *req, struct http_response *res,
			  void *app)
{
	KP_UNUSED(app);
	const char *insz = NULL, *kbo = NULL;
	int has_insz = jsonx_str(req->json, "insz", false, LIMIT_ID_INPUT,
				 &insz, &res->err);
	if (has_insz < 0)
		return -1;
	int has_kbo = jsonx_str(req->json, "kbo", false, LIMIT_ID_INPUT, &kbo,
				&res->err);
	if (has_kbo < 0)
		return -1;
	if ((has_insz == 0) == (has_kbo == 0))
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "give exactly one of 'insz' and 'kbo'");
	return has_insz == 0 ? check_insz(insz, res) : check_kbo(kbo, res);
}
