/*
 * The one mapping from module errors to HTTP (docs/DESIGN.md, habit 4). Modules
 * speak in err_kind; nothing else in the tree decides a status code.
 */
#include "http/http.h"

static const struct {
	enum err_kind kind;
	int status;
} kinds[] = {
	{ERR_NONE, 200},          {ERR_MALFORMED, 400},
	{ERR_UNAUTHENTICATED, 401}, {ERR_FORBIDDEN, 403},
	{ERR_NOT_FOUND, 404},     {ERR_METHOD, 405},
	{ERR_CONFLICT, 409},      {ERR_GONE, 410},
	{ERR_TOO_LARGE, 413},     {ERR_INVALID, 422},
	{ERR_LOCKED, 423},        {ERR_RATE_LIMITED, 429},
	{ERR_INTERNAL, 500},      {ERR_UPSTREAM, 502},
	{ERR_UNAVAILABLE, 503},   {ERR_TIMEOUT, 504},
};

int http_status_for(enum err_kind kind)
{
	for (size_t i = 0; i < KP_NELEM(kinds); i++)
		if (kinds[i].kind == kind)
			return kinds[i].status;
	return 500;
}

const char *http_status_title(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

int http_reply_json(struct http_response *res, int status, json_t *json)
{
	res->status = status;
	res->json = json;
	return 0;
}
