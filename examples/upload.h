/*
 * The POST body of one request to an example server (sms_sink, provider),
 * gathered over libmicrohttpd's calls of the access handler. Bounded: a
 * body larger than UPLOAD_MAX is marked too_big, not kept.
 */
#ifndef KP_EXAMPLES_UPLOAD_H
#define KP_EXAMPLES_UPLOAD_H

#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#define UPLOAD_MAX (64 * 1024)

struct upload {
	char buf[UPLOAD_MAX + 1];
	size_t len;
	int too_big;
};

/* Call at the top of the access handler after checking the method.
 * Returns the complete body, or NULL with *ret what the handler must
 * return now (still gathering, or out of memory). */
static inline struct upload *upload_gather(void **state, const char *data,
					   size_t *size, enum MHD_Result *ret)
{
	struct upload *u = *state;
	*ret = MHD_YES;
	if (!u) {
		/* The first call: answering now would close the connection. */
		u = calloc(1, sizeof(*u));
		*state = u;
		if (!u)
			*ret = MHD_NO;
		return NULL;
	}
	if (*size) {
		if (u->len + *size > UPLOAD_MAX) {
			u->too_big = 1;
		} else {
			memcpy(u->buf + u->len, data, *size);
			u->len += *size;
		}
		*size = 0;
		return NULL;
	}
	return u;
}

/* MHD_OPTION_NOTIFY_COMPLETED: frees the request's upload. */
static inline void upload_free(void *cls, struct MHD_Connection *c,
			       void **state,
			       enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	free(*state);
	*state = NULL;
}

#endif
