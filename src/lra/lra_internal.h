/* Shared between the files of src/lra only. */
#ifndef KP_LRA_INTERNAL_H
#define KP_LRA_INTERNAL_H

#include "lra/lra.h"

/* True when kbo is a registration office: a municipality, or an
 * organisation the operator gave the category registration_office. */
bool lra_office_ok(struct store *s, const char *kbo);

/* The event of o's action about subject (may be NULL): the office as
 * actor, the officer as user, data type identification. Strings are
 * borrowed. */
struct audit_event lra_event(const struct lra_officer *o, const char *action,
			     const char *subject, const char *purpose);

/* Record o's refused action (nobody named) and return -1. */
int lra_refused(struct audit *log, const struct lra_officer *o,
		const char *action, const char *purpose,
		const struct error *refusal);

#endif
