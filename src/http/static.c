/*
 * The portal's static files (web/), served under / on the public
 * listener. The whole tree is read into memory at start and a request is
 * answered only from that set, by exact path: nothing a request names is
 * ever opened on disk, so no path trick ("..", encoded slashes, symbolic
 * links, a file dropped in later) reaches a file we did not load. Routes
 * always win: a path is looked up here only when no route matched it.
 *
 * Each file gets its Content-Type by extension (an unknown one is not
 * loaded), the portal's page policy (RENDER_PAGE_CSP), and an ETag (a
 * prefix of its SHA-256): HTML is revalidated every time (no-cache), the
 * rest may be kept five minutes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http_internal.h"

struct static_file {
	char path[LIMIT_STATIC_PATH + 1]; /* "/css/site.css" */
	uint8_t *data;
	size_t len;
	const char *ctype;
	const char *cache;
	char etag[2 * 16 + 3]; /* "\"<32 hex>\"" */
};

struct static_files {
	struct static_file *f;
	size_t n;
	size_t total;
};

static const struct {
	const char *ext;
	const char *ctype;
} types[] = {
	{".html", "text/html; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".json", "application/json"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".woff2", "font/woff2"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < KP_NELEM(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].ctype;
	return NULL;
}

static void skipped(const char *path, const char *why)
{
	struct log_line l;
	log_begin(&l, LV_WARN, __func__, "portal file not served");
	log_str(&l, "path", path);
	log_str(&l, "reason", why);
	log_end(&l);
}

/* Read fd (a regular file of size bytes) into a new entry of s. */
static int add_file(struct static_files *s, int fd, off_t size,
		    const char *rel, struct error *e)
{
	if (size > LIMIT_STATIC_FILE ||
	    s->total + (size_t)size > LIMIT_STATIC_TOTAL ||
	    s->n >= LIMIT_STATIC_FILES)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "portal.web_dir: %s takes the portal past its "
			       "limits (docs/LIMITS.md)", rel);
	struct static_file *f = &s->f[s->n];
	f->data = xmalloc((size_t)size + 1);
	size_t got = 0;
	while (got < (size_t)size) {
		ssize_t r = read(fd, f->data + got, (size_t)size - got);
		if (r <= 0) {
			free(f->data);
			return err_set(e, ERR_INVALID, "config_invalid",
				       "portal.web_dir: cannot read %s", rel);
		}
		got += (size_t)r;
	}
	str_copy(f->path, sizeof(f->path), rel);
	f->len = got;
	f->ctype = type_of(rel);
	f->cache = strncmp(f->ctype, "text/html", 9) == 0 ? "no-cache"
							  : "max-age=300";
	uint8_t h[SHA256_LEN];
	char hex[2 * 16 + 1];
	sha256_digest(f->data, f->len, h);
	hex_encode(h, 16, hex);
	snprintf(f->etag, sizeof(f->etag), "\"%s\"", hex);
	s->total += got;
	s->n++;
	return 0;
}

static int load_dir(struct static_files *s, int dfd, const char *rel,
		    int depth, struct error *e);

/* One directory entry: a directory to descend, a file to load, or
 * something never served. */
static int load_entry(struct static_files *s, int dfd, const char *name,
		      const char *rel, int depth, struct error *e)
{
	char path[LIMIT_STATIC_PATH + 2];
	int len = snprintf(path, sizeof(path), "%s/%s", rel, name);
	if (len < 0 || (size_t)len > LIMIT_STATIC_PATH ||
	    !http_static_path_ok(path)) {
		skipped(name, "a name no request may ask for");
		return 0;
	}
	/* Non-blocking: a FIFO put there must not hang the start. */
	int fd = openat(dfd, name,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		skipped(path, "not a file or directory we may read");
		return 0;
	}
	int rc = 0;
	if (S_ISDIR(st.st_mode))
		rc = load_dir(s, fd, path, depth + 1, e);
	else if (!S_ISREG(st.st_mode))
		skipped(path, "not a regular file");
	else if (!type_of(path))
		skipped(path, "an extension the portal does not serve");
	else
		rc = add_file(s, fd, st.st_size, path, e);
	close(fd);
	return rc;
}

/* Load what dfd holds (rel: its path under web_dir, "" for the top). */
static int load_dir(struct static_files *s, int dfd, const char *rel,
		    int depth, struct error *e)
{
	if (depth > LIMIT_STATIC_DEPTH)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "portal.web_dir: %s is nested too deep", rel);
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_set(e, ERR_INVALID, "config_invalid",
			       "portal.web_dir: cannot list %s", rel);
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			rc = load_entry(s, dfd, de->d_name, rel, depth, e);
	closedir(d);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->path,
		      ((const struct static_file *)b)->path);
}

int static_load(const char *dir, struct static_files **out, struct error *e)
{
	struct static_files *s = xcalloc(1, sizeof(*s));
	s->f = xcalloc(LIMIT_STATIC_FILES, sizeof(*s->f));
	*out = s;
	int fd = dir && dir[0] ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			       : -1;
	if (fd < 0) {
		log_info("no portal files (%s): / answers 404",
			 dir && dir[0] ? dir : "portal.web_dir unset");
		return 0;
	}
	int rc = load_dir(s, fd, "", 0, e);
	close(fd);
	if (rc != 0) {
		static_free(s);
		*out = NULL;
		return -1;
	}
	qsort(s->f, s->n, sizeof(*s->f), by_path);
	struct log_line l;
	log_begin(&l, LV_INFO, __func__, "portal files");
	log_str(&l, "dir", dir);
	log_int(&l, "files", (int64_t)s->n);
	log_int(&l, "bytes", (int64_t)s->total);
	log_end(&l);
	return 0;
}

void static_free(struct static_files *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->f[i].data);
	free(s->f);
	free(s);
}

const struct static_file *static_find(const struct static_files *s,
				      const char *path)
{
	if (!s || !s->n || !http_static_path_ok(path))
		return NULL;
	struct static_file key;
	size_t n = strlen(path);
	/* A directory's page is its index.html, and only that. */
	int len = path[n - 1] == '/'
			  ? snprintf(key.path, sizeof(key.path), "%sindex.html",
				     path)
			  : snprintf(key.path, sizeof(key.path), "%s", path);
	if (len < 0 || (size_t)len >= sizeof(key.path))
		return NULL;
	return bsearch(&key, s->f, s->n, sizeof(*s->f), by_path);
}

/* Does If-None-Match name etag (or "*")? A list is compared member by
 * member; a weak "W/" prefix compares equal (RFC 9110 section 13.1.2). */
static bool etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	for (const char *p = inm; *p;) {
		p += strspn(p, " \t,");
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '*' || (strncmp(p, etag, n) == 0 &&
				  (p[n] == '\0' || p[n] == ',' ||
				   p[n] == ' ' || p[n] == '\t')))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

enum MHD_Result static_send(struct request *rq)
{
	const struct static_file *f = rq->file;
	const char *inm = http_header(&rq->req, MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool fresh = inm && etag_matches(inm, f->etag);
	/* The file outlives every request (freed when the server stops). */
	struct MHD_Response *r = MHD_create_response_from_buffer(
		fresh ? 0 : f->len, fresh ? NULL : f->data,
		MHD_RESPMEM_PERSISTENT);
	render_headers(rq, r, f->ctype, RENDER_PAGE_CSP, f->cache);
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
	int status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
	enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)status, r);
	MHD_destroy_response(r);
	rq->status = status;
	return ret;
}
