/*
 * The tree as C2SP tlog-tiles (c2sp.org/tlog-tiles): the n-th tile of
 * level L is the run of hashes MTH(D[(256n + i) * 256^L : (256n + i + 1)
 * * 256^L]) for i < 256, i.e. the roots of perfect subtrees of 2^(8L)
 * leaves. Level 0 is the leaf hashes of audit_event; level L > 0 is
 * exactly the rows of audit_node at tree level 8L, which the writer
 * stores as each such subtree completes (merkle.c). So a tile is one
 * range read, never a computation.
 *
 * Tiles are cut from the tree of the newest checkpoint: a client only
 * asks for the tiles of a signed size, and the answer never runs ahead
 * of what is signed.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

#define TILE_WIDTH 256
#define TILE_HEIGHT 8
#define TILE_LEVEL_MAX 63
/* 2^64 has 20 decimal digits: at most seven 3-digit groups. */
#define TILE_GROUPS_MAX 7

static const char sql_nodes[] =
	"SELECT idx, hash FROM audit_node WHERE level = ?1 AND idx >= ?2 "
	"AND idx < ?3 ORDER BY idx";
static const char sql_entries[] =
	"SELECT seq, entry FROM audit_event WHERE seq >= ?1 AND seq < ?2 "
	"ORDER BY seq";

/* A decimal number of 1..3 digits without leading zeros, to the end of
 * s[0..len): L and W. Returns it, or -1. */
static int small_number(const char *s, size_t len)
{
	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Three digits at s; their value, or -1. */
static int group(const char *s)
{
	int v = 0;
	for (int i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "<N>[.p/<W>]" at p: the x-prefixed groups, the last group, the suffix.
 * Canonical only: no leading "x000" group, so each tile has one path. */
static int parse_index(const char *p, struct audit_tile *t)
{
	uint64_t n = 0;
	for (int g = 0;; g++) {
		bool more = p[0] == 'x';
		int v = group(p + more);
		if (g == TILE_GROUPS_MAX || v < 0 || (more && g == 0 && v == 0) ||
		    n > UINT64_MAX / 1000 || n * 1000 > UINT64_MAX - (uint64_t)v)
			return -1;
		n = n * 1000 + (uint64_t)v;
		p += 3 + more;
		if (!more)
			break;
		if (*p++ != '/')
			return -1;
	}
	t->index = n;
	t->width = TILE_WIDTH;
	if (*p == '\0')
		return 0;
	if (strncmp(p, ".p/", 3) != 0)
		return -1;
	int w = small_number(p + 3, strlen(p + 3));
	if (w < 1 || w >= TILE_WIDTH)
		return -1;
	t->width = w;
	return 0;
}

int audit_tile_parse(const char *path, struct audit_tile *t)
{
	memset(t, 0, sizeof(*t));
	const char *slash = strchr(path, '/');
	if (!slash)
		return -1;
	size_t len = (size_t)(slash - path);
	if (len == 7 && memcmp(path, "entries", 7) == 0) {
		t->entries = true;
	} else {
		t->level = small_number(path, len);
		if (t->level < 0 || t->level > TILE_LEVEL_MAX)
			return -1;
	}
	return parse_index(slash + 1, t);
}

/* Is tile t inside the tree of `size` leaves? Its first hash is node
 * 256 * index of tree level 8L, and size >> 8L such nodes are complete. */
static bool tile_in_tree(const struct audit_tile *t, uint64_t size)
{
	int shift = TILE_HEIGHT * t->level;
	if (shift >= 64)
		return false;
	uint64_t nodes = size >> shift;
	uint64_t full = nodes / TILE_WIDTH;
	return t->index < full ||
	       (t->index == full &&
		(uint64_t)t->width <= nodes % TILE_WIDTH);
}

/* The newest checkpoint's size, or -1. */
static int signed_size(struct store *s, uint64_t *size)
{
	struct audit_checkpoint cp;
	if (audit_checkpoint_latest(s, &cp) != 0)
		return -1;
	*size = cp.tree_size;
	return 0;
}

/* Rows of audit_node at level for the tile's hashes. */
static int read_nodes(struct store_conn *c, int level, uint64_t start,
		      int width, uint8_t *out)
{
	struct store_stmt *st = store_prepare(c, sql_nodes);
	store_bind_int(st, 1, level);
	store_bind_int(st, 2, (int64_t)start);
	store_bind_int(st, 3, (int64_t)(start + (uint64_t)width));
	uint64_t want = start;
	while (store_step(st) == STORE_ROW) {
		size_t n;
		const void *h = store_col_blob(st, 1, &n);
		if ((uint64_t)store_col_int(st, 0) != want || n != SHA256_LEN)
			break;
		memcpy(out + (want - start) * SHA256_LEN, h, SHA256_LEN);
		want++;
	}
	store_done(st);
	return want == start + (uint64_t)width ? 0 : -1;
}

int audit_tile_hashes(struct store *s, const struct audit_tile *t,
		      uint8_t **out, size_t *n)
{
	uint64_t size;
	struct store_conn *c = store_reader(s);
	if (!c || signed_size(s, &size) != 0)
		return -1;
	if (t->entries || !tile_in_tree(t, size))
		return 1;
	uint64_t start = t->index * TILE_WIDTH;
	uint8_t *buf = xmalloc((size_t)t->width * SHA256_LEN);
	int rc = t->level == 0
		 ? merkle_read_leaves(c, start, start + (uint64_t)t->width,
				      (uint8_t(*)[SHA256_LEN])buf)
		 : read_nodes(c, TILE_HEIGHT * t->level, start, t->width, buf);
	if (rc != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*n = (size_t)t->width * SHA256_LEN;
	return 0;
}

/* The entries of [start, start + width), each length-prefixed. Returns 0,
 * -1 on a store failure, or 1 when one of them was purged (its leaf stays
 * in the tree; its entry, the personal data, is gone). */
static int read_bundle(struct store_conn *c, uint64_t start, int width,
		       uint8_t **out, size_t *n)
{
	uint8_t *buf = xmalloc((size_t)width * (2 + AUDIT_ENTRY_MAX));
	size_t len = 0;
	struct store_stmt *st = store_prepare(c, sql_entries);
	store_bind_int(st, 1, (int64_t)start);
	store_bind_int(st, 2, (int64_t)(start + (uint64_t)width));
	uint64_t want = start;
	bool purged = false;
	while (store_step(st) == STORE_ROW) {
		size_t elen;
		const uint8_t *e = store_col_blob(st, 1, &elen);
		purged = elen == 0;
		if ((uint64_t)store_col_int(st, 0) != want ||
		    elen > AUDIT_ENTRY_MAX || purged)
			break;
		buf[len++] = (uint8_t)(elen >> 8);
		buf[len++] = (uint8_t)elen;
		memcpy(buf + len, e, elen);
		len += elen;
		want++;
	}
	store_done(st);
	if (want != start + (uint64_t)width) {
		free(buf);
		return purged ? 1 : -1;
	}
	*out = buf;
	*n = len;
	return 0;
}

int audit_consult_entries(struct audit *a, const struct audit_actor *by,
			  const struct audit_tile *t, uint8_t **out, size_t *n,
			  struct error *e)
{
	struct audit_event ev = audit_event_by(by, "audit_entries");
	ev.data_type = "audit_log";
	ev.purpose = "audit";
	/* Reading the entries is reading personal data: recorded first. */
	if (audit_append(a, &ev, NULL, e) != 0)
		return -1;
	struct store *s = audit_store(a);
	struct store_conn *c = store_reader(s);
	uint64_t size;
	if (!c || signed_size(s, &size) != 0)
		return store_fail(e, "the log could not be read");
	struct audit_tile level0 = *t;
	level0.level = 0;
	if (!t->entries || !tile_in_tree(&level0, size))
		return 1;
	int rc = read_bundle(c, t->index * TILE_WIDTH, t->width, out, n);
	if (rc > 0)
		return err_set(e, ERR_GONE, "entries_purged",
			       "events of this bundle are past the retention "
			       "period: their entries were removed; their "
			       "leaves are in the hash tiles");
	if (rc < 0)
		return store_fail(e, "the log could not be read");
	return 0;
}
