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

/* Who makes a change, as the registers record it: by's person (INSZ), or
 * "operator". */
void org_by_whom(const struct audit_actor *by, char out[16]);

#endif
