/* Shared between the files of src/registry only. */
#ifndef KP_REGISTRY_INTERNAL_H
#define KP_REGISTRY_INTERNAL_H

#include "registry/registry.h"

/* Read a person on connection c. Returns 0, 1 when unknown, -1 with e. */
int registry_read(struct store_conn *c, const char *insz,
		  struct registry_person *out, struct error *e);

/* Insert p (checked) on the held writer unless its number is registered
 * already. Returns 0 when inserted, 1 when it was there, -1 with e. */
int registry_insert_new(struct store_conn *w, const struct registry_person *p,
			struct error *e);

/* The event of a change to the registers, about subject (left out when
 * it is no valid INSZ). Strings are borrowed. */
struct audit_event registry_event(const struct audit_actor *by,
				  const char *action, const char *subject);

/* The register a valid number belongs to: "RR" or "BIS". */
const char *registry_register_of(const char *insz);

#endif
