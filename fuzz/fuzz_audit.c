/* The canonical audit entry decoder: to `kruispunt audit verify`, a
 * tampered database is hostile input. Never crash; and whatever decodes
 * must encode back to exactly the same bytes (the format is canonical), so
 * two different byte strings can never mean the same event. */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"
#include "fuzz.h"

static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

int fuzz_audit(const uint8_t *data, size_t size)
{
	struct audit_record r;
	if (size > AUDIT_ENTRY_MAX || entry_decode(data, size, &r) != 0)
		return 0;
	/* The nonce is the last field: 16 bytes as 32 hex digits. */
	const char *nonce_hex = (const char *)data + size - 33;
	uint8_t nonce[AUDIT_NONCE_LEN];
	if (size < 33 || hex_decode(nonce_hex, 32, nonce, sizeof(nonce)) != 0)
		abort(); /* the decoder accepted a nonce that is not hex */
	struct audit_event ev = {
		.channel = opt(r.channel), .actor = opt(r.actor),
		.user = opt(r.user), .profile = opt(r.profile),
		.subject = opt(r.subject), .action = opt(r.action),
		.data_type = opt(r.data_type), .purpose = opt(r.purpose),
		.legal_basis = opt(r.legal_basis), .ticket = opt(r.ticket),
		.outcome = opt(r.outcome), .reason = opt(r.reason),
	};
	char again[AUDIT_ENTRY_MAX];
	size_t n = entry_encode(&ev, r.seq, r.at_ms, nonce, again);
	if (n != size || memcmp(again, data, n) != 0)
		abort();
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_audit(data, size);
}
#endif
