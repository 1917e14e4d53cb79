/* Shared between the files of src/org only. */
#ifndef KP_ORG_INTERNAL_H
#define KP_ORG_INTERNAL_H

#include "org/org.h"

/* The event of a change to an organisation: by's fields, and the
 * organisation concerned as the actor when by acts for none (an operator).
 * Strings are borrowed. */
struct audit_event org_event(const struct audit_actor *by, const char *action,
			     const char *kbo, const char *data_type,
			     const char *purpose);

/* Make a change recorded with ev (audit_commit); or, when invalid is not
 * NULL (the request was refused before any change), record ev as refused
 * with it and return -1 with e = *invalid. */
int org_change(struct audit *log, struct audit_event *ev,
	       audit_change_fn change, void *ctx, const struct error *invalid,
	       struct error *e);

#endif
