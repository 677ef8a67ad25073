#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "idmap.h"
#include "lines.h"
#include "num.h"
#include "subid.h"
#include "util.h"

const char *nk_idtype_name(enum nk_idtype t)
{
	static const char *const names[2] = { [NK_UID] = "uid", [NK_GID] = "gid" };

	return names[t];
}

struct nk_map *nk_maps_get(struct nk_maps *m, enum nk_idtype t)
{
	return &m->map[t];
}

void nk_map_init(struct nk_map *m)
{
	m->n = m->cap = 0;
	m->ext = NULL;
}

void nk_map_free(struct nk_map *m)
{
	free(m->ext);
	nk_map_init(m);
}

void nk_maps_free(struct nk_maps *m)
{
	nk_map_free(&m->map[NK_UID]);
	nk_map_free(&m->map[NK_GID]);
}

int nk_map_add(struct nk_map *m, uint32_t inner, uint32_t outer, uint32_t count)
{
	if (nk_grow(&m->ext, m->n, &m->cap, sizeof *m->ext, 8) < 0)
		return -ENOMEM;
	m->ext[m->n++] = (struct nk_extent){ inner, outer, count };
	return 0;
}

int nk_map_copy(struct nk_map *dst, const struct nk_map *src)
{
	nk_map_init(dst);
	for (size_t i = 0; i < src->n; i++)
		if (nk_map_add(dst, src->ext[i].inner, src->ext[i].outer, src->ext[i].count) < 0) {
			nk_map_free(dst);
			return -ENOMEM;
		}
	return 0;
}

int nk_map_equal(const struct nk_map *a, const struct nk_map *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->ext[i].inner != b->ext[i].inner || a->ext[i].outer != b->ext[i].outer ||
		    a->ext[i].count != b->ext[i].count)
			return 0;
	return 1;
}

uint64_t nk_map_total(const struct nk_map *m)
{
	uint64_t t = 0;

	for (size_t i = 0; i < m->n; i++)
		t += m->ext[i].count;
	return t;
}

/* Parse one field of a spec or stream line, naming it in the message. */
static int parse_field(const char *s, uint32_t *out, const char *what,
		       const char *ctx, struct nk_err *e)
{
	/* A count may be 4294967295 (the whole id space of the initial
	 * namespace's map); ids stop at 4294967294. */
	uint32_t max = strcmp(what, "count") == 0 ? UINT32_MAX : NK_ID_MAX;
	int r = nk_parse_u32(s, max, out);

	if (r == -ERANGE)
		return nk_errf(e, EINVAL, "%s: %s '%s' is out of range (at most %lu)",
			       ctx, what, s, (unsigned long)max);
	if (r < 0)
		return nk_errf(e, EINVAL, "%s: invalid %s '%s'", ctx, what, s);
	return 0;
}

int nk_spec_parse(const char *spec, struct nk_extent *out, struct nk_err *e)
{
	char buf[128], *f[3], *p;
	char ctx[160];
	int n = 0;

	snprintf(ctx, sizeof ctx, "invalid map '%s'", spec);
	if (strlen(spec) >= sizeof buf)
		return nk_errf(e, EINVAL, "%s: too long", ctx);
	strcpy(buf, spec);
	p = buf;
	f[n++] = p;
	while ((p = strchr(p, ':')) != NULL) {
		*p++ = '\0';
		if (n == 3)
			return nk_errf(e, EINVAL, "%s: expected INNER:OUTER:COUNT", ctx);
		f[n++] = p;
	}
	if (n != 3)
		return nk_errf(e, EINVAL, "%s: expected INNER:OUTER:COUNT", ctx);
	if (parse_field(f[0], &out->inner, "inside id", ctx, e) < 0 ||
	    parse_field(f[1], &out->outer, "outside id", ctx, e) < 0 ||
	    parse_field(f[2], &out->count, "count", ctx, e) < 0)
		return -EINVAL;
	return 0;
}

int nk_maps_add_spec(struct nk_maps *m, char which, const char *spec, struct nk_err *e)
{
	struct nk_extent x;
	int r = nk_spec_parse(spec, &x, e);

	if (r < 0)
		return r;
	if ((which == 'u' || which == 'b') && nk_map_add(&m->map[NK_UID], x.inner, x.outer, x.count) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if ((which == 'g' || which == 'b') && nk_map_add(&m->map[NK_GID], x.inner, x.outer, x.count) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	return 0;
}

int nk_mapstream_parse(const char *text, size_t len, const char *name,
		       struct nk_maps *m, struct nk_err *e)
{
	struct nk_lines lines;
	char line[256];
	int r;

	nk_lines_init(&lines, text, len);
	while ((r = nk_lines_next(&lines, line, sizeof line)) != 0) {
		char *tok[5], *hash, ctx[300];
		struct nk_extent x;
		size_t nt;

		snprintf(ctx, sizeof ctx, "%s:%u", name, lines.no);
		if (r == -EINVAL)
			return nk_errf(e, EINVAL, "%s: NUL byte in map stream", ctx);
		if (r < 0)
			return nk_errf(e, EINVAL, "%s: line too long", ctx);
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		nt = nk_words(line, " \t\r", tok, 5);
		if (nt == 0)
			continue;
		if (nt != 4 || strlen(tok[0]) != 1 || !strchr("ugb", tok[0][0]))
			return nk_errf(e, EINVAL, "%s: expected 'u', 'g' or 'b' and INSIDE OUTSIDE COUNT", ctx);
		if (parse_field(tok[1], &x.inner, "inside id", ctx, e) < 0 ||
		    parse_field(tok[2], &x.outer, "outside id", ctx, e) < 0 ||
		    parse_field(tok[3], &x.count, "count", ctx, e) < 0)
			return -EINVAL;
		if ((tok[0][0] != 'g' && nk_map_add(&m->map[NK_UID], x.inner, x.outer, x.count) < 0) ||
		    (tok[0][0] != 'u' && nk_map_add(&m->map[NK_GID], x.inner, x.outer, x.count) < 0))
			return nk_errf(e, ENOMEM, "out of memory");
	}
	return 0;
}

/* Read all of fd (a map stream is small: at most 2 x 340 lines). */
static int read_all(int fd, char **out, size_t *outlen, size_t limit)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *nb;

			if (cap >= limit) {
				free(buf);
				return -EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int nk_mapstream_read(const char *path, struct nk_maps *m, struct nk_err *e)
{
	NK_AUTOCLOSE int fd = -1;
	NK_AUTOFREE char *buf = NULL;
	size_t len = 0;
	int r;
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;

	if (!is_stdin) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return nk_syserr(e, errno, "cannot open map file '%s'", path);
	}
	r = read_all(is_stdin ? 0 : fd, &buf, &len, 1 << 20);
	if (r == -EFBIG)
		return nk_errf(e, EFBIG, "map file '%s' is larger than 1 MiB", name);
	if (r < 0)
		return nk_syserr(e, -r, "cannot read map file '%s'", name);
	return nk_mapstream_parse(buf, len, name, m, e);
}

int nk_mapstream_print(FILE *f, const struct nk_maps *m)
{
	if (nk_map_equal(&m->map[NK_UID], &m->map[NK_GID])) {
		for (size_t i = 0; i < m->map[NK_UID].n; i++)
			fprintf(f, "b %u %u %u\n", m->map[NK_UID].ext[i].inner, m->map[NK_UID].ext[i].outer,
				m->map[NK_UID].ext[i].count);
	} else {
		for (size_t i = 0; i < m->map[NK_UID].n; i++)
			fprintf(f, "u %u %u %u\n", m->map[NK_UID].ext[i].inner, m->map[NK_UID].ext[i].outer,
				m->map[NK_UID].ext[i].count);
		for (size_t i = 0; i < m->map[NK_GID].n; i++)
			fprintf(f, "g %u %u %u\n", m->map[NK_GID].ext[i].inner, m->map[NK_GID].ext[i].outer,
				m->map[NK_GID].ext[i].count);
	}
	return ferror(f) ? -EIO : 0;
}

ssize_t nk_map_format(const struct nk_map *m, char *buf, size_t len)
{
	size_t pos = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < m->n; i++) {
		int w = snprintf(buf + pos, len > pos ? len - pos : 0, "%u %u %u\n",
				 m->ext[i].inner, m->ext[i].outer, m->ext[i].count);
		if (w < 0 || pos + (size_t)w >= len)
			return -ENOSPC;
		pos += (size_t)w;
	}
	return (ssize_t)pos;
}

static uint64_t last_of(uint32_t first, uint32_t count)
{
	return (uint64_t)first + count - 1;
}

int nk_map_validate(const struct nk_map *m, enum nk_idtype t, struct nk_err *e)
{
	const char *tn = nk_idtype_name(t);
	long page = sysconf(_SC_PAGESIZE);
	char *buf;
	ssize_t len;

	if (m->n == 0)
		return nk_errf(e, EINVAL, "the %s map is empty", tn);
	if (m->n > NK_MAP_MAX_EXTENTS)
		return nk_errf(e, E2BIG, "the %s map has %zu extents; the kernel takes at most %d",
			       tn, m->n, NK_MAP_MAX_EXTENTS);
	for (size_t i = 0; i < m->n; i++) {
		const struct nk_extent *x = &m->ext[i];

		if (x->count == 0)
			return nk_errf(e, EINVAL, "%s extent %zu (%u:%u:%u): count is 0",
				       tn, i + 1, x->inner, x->outer, x->count);
		/* The kernel refuses first + count wrapping past 2^32 - 1, so
		 * the last id of a range is at most 4294967294. */
		if (last_of(x->inner, x->count) > NK_ID_MAX)
			return nk_errf(e, ERANGE, "%s extent %zu (%u:%u:%u): inside range %u-%llu goes past %lu",
				       tn, i + 1, x->inner, x->outer, x->count, x->inner,
				       (unsigned long long)last_of(x->inner, x->count), NK_ID_MAX);
		if (last_of(x->outer, x->count) > NK_ID_MAX)
			return nk_errf(e, ERANGE, "%s extent %zu (%u:%u:%u): outside range %u-%llu goes past %lu",
				       tn, i + 1, x->inner, x->outer, x->count, x->outer,
				       (unsigned long long)last_of(x->outer, x->count), NK_ID_MAX);
	}
	/* At most 340 extents: quadratic is cheaper than sorting here. */
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = i + 1; j < m->n; j++) {
			const struct nk_extent *a = &m->ext[i], *b = &m->ext[j];
			const char *side = NULL;
			uint64_t lo = 0, hi = 0;

			if (a->inner <= last_of(b->inner, b->count) && b->inner <= last_of(a->inner, a->count)) {
				side = "inside";
				lo = a->inner > b->inner ? a->inner : b->inner;
				hi = last_of(a->inner, a->count) < last_of(b->inner, b->count) ?
					last_of(a->inner, a->count) : last_of(b->inner, b->count);
			} else if (a->outer <= last_of(b->outer, b->count) &&
				   b->outer <= last_of(a->outer, a->count)) {
				side = "outside";
				lo = a->outer > b->outer ? a->outer : b->outer;
				hi = last_of(a->outer, a->count) < last_of(b->outer, b->count) ?
					last_of(a->outer, a->count) : last_of(b->outer, b->count);
			}
			if (side)
				return nk_errf(e, EINVAL,
					       "%s extents %zu (%u:%u:%u) and %zu (%u:%u:%u) overlap %s (ids %llu-%llu)",
					       tn, i + 1, a->inner, a->outer, a->count, j + 1, b->inner,
					       b->outer, b->count, side, (unsigned long long)lo,
					       (unsigned long long)hi);
		}
	buf = malloc((size_t)page);
	if (!buf)
		return nk_errf(e, ENOMEM, "out of memory");
	len = nk_map_format(m, buf, (size_t)page);
	free(buf);
	if (len < 0)
		return nk_errf(e, E2BIG, "the %s map is %zu extents, too long for the kernel's one-page write "
			       "(%ld bytes); use fewer extents", tn, m->n, page);
	return 0;
}

int nk_map_parse_kernel(const char *text, struct nk_map *m, struct nk_err *e)
{
	struct nk_lines lines;
	char line[128];
	int r;

	nk_lines_init(&lines, text, strlen(text));
	while ((r = nk_lines_next(&lines, line, sizeof line)) != 0) {
		uint32_t v[3];
		char *tok[4];
		size_t nt;

		if (r < 0)
			return nk_errf(e, EINVAL, "map line %u too long", lines.no);
		nt = nk_words(line, " \t", tok, 4);
		for (size_t i = 0; i < nt; i++)
			if (i == 3 || nk_parse_u32(tok[i], UINT32_MAX, &v[i]) < 0)
				return nk_errf(e, EINVAL, "map line %u: unexpected '%s'", lines.no, tok[i]);
		if (nt == 0)
			continue;
		if (nt != 3)
			return nk_errf(e, EINVAL, "map line %u: expected three numbers", lines.no);
		if (nk_map_add(m, v[0], v[1], v[2]) < 0)
			return nk_errf(e, ENOMEM, "out of memory");
	}
	return 0;
}

int nk_map_read_proc(pid_t pid, enum nk_idtype t, struct nk_map *m, struct nk_err *e)
{
	char path[64], buf[16384];
	NK_AUTOCLOSE int fd = -1;
	size_t len = 0;

	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/%s_map", (int)pid, nk_idtype_name(t));
	else
		snprintf(path, sizeof path, "/proc/self/%s_map", nk_idtype_name(t));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nk_syserr(e, errno, "cannot open %s", path);
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return nk_syserr(e, errno, "cannot read %s", path);
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == sizeof buf - 1)
			return nk_errf(e, EFBIG, "%s is larger than expected", path);
	}
	buf[len] = '\0';
	if (nk_map_parse_kernel(buf, m, e) < 0)
		return nk_err_prefix(e, "%s", path);
	return 0;
}

int nk_maps_read_proc(pid_t pid, struct nk_maps *m, struct nk_err *e)
{
	int r = nk_map_read_proc(pid, NK_UID, &m->map[NK_UID], e);

	if (r < 0)
		return r;
	return nk_map_read_proc(pid, NK_GID, &m->map[NK_GID], e);
}

int nk_map_to_outer(const struct nk_map *m, uint32_t inner, uint32_t *out)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct nk_extent *x = &m->ext[i];

		if (inner >= x->inner && (uint64_t)inner <= last_of(x->inner, x->count)) {
			*out = x->outer + (inner - x->inner);
			return 0;
		}
	}
	return -ENOENT;
}

int nk_map_to_inner(const struct nk_map *m, uint32_t outer, uint32_t *out)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct nk_extent *x = &m->ext[i];

		if (outer >= x->outer && (uint64_t)outer <= last_of(x->outer, x->count)) {
			*out = x->inner + (outer - x->outer);
			return 0;
		}
	}
	return -ENOENT;
}

ssize_t nk_map_find_inner_range(const struct nk_map *m, uint32_t first, uint32_t count)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct nk_extent *x = &m->ext[i];

		if (first >= x->inner && last_of(first, count) <= last_of(x->inner, x->count))
			return (ssize_t)i;
	}
	return -1;
}

/* --- the standard maps -------------------------------------------------- */

int nk_map_build_auto(uint32_t self, const struct nk_ranges *sub, struct nk_map *out,
		      struct nk_err *e)
{
	struct nk_ranges sorted = { 0, NULL };
	uint64_t next = 1;

	nk_map_init(out);
	if (nk_map_add(out, 0, self, 1) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if (nk_ranges_sorted(sub, &sorted) < 0) {
		nk_map_free(out);
		return nk_errf(e, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sorted.n; i++) {
		if (next + sorted.r[i].count - 1 > NK_ID_MAX) {
			nk_ranges_free(&sorted);
			nk_map_free(out);
			return nk_errf(e, ERANGE, "the subordinate ranges hold more ids than a namespace can map");
		}
		if (nk_map_add(out, (uint32_t)next, sorted.r[i].start, sorted.r[i].count) < 0) {
			nk_ranges_free(&sorted);
			nk_map_free(out);
			return nk_errf(e, ENOMEM, "out of memory");
		}
		next += sorted.r[i].count;
	}
	nk_ranges_free(&sorted);
	return 0;
}

static int cmp_ext_inner(const void *a, const void *b)
{
	const struct nk_extent *x = a, *y = b;

	return x->inner < y->inner ? -1 : x->inner > y->inner;
}

int nk_map_build_keepid(uint32_t self, const struct nk_ranges *sub, struct nk_map *out,
			struct nk_err *e)
{
	struct nk_ranges sorted = { 0, NULL };
	uint64_t next = 0;

	nk_map_init(out);
	if (nk_map_add(out, self, self, 1) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if (nk_ranges_sorted(sub, &sorted) < 0) {
		nk_map_free(out);
		return nk_errf(e, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sorted.n; i++) {
		uint64_t start = sorted.r[i].start, left = sorted.r[i].count;

		while (left > 0) {
			uint64_t chunk = left;

			if (next == self)
				next++;
			if (next < self && next + chunk > self)
				chunk = self - next;
			if (next + chunk - 1 > NK_ID_MAX) {
				nk_ranges_free(&sorted);
				nk_map_free(out);
				return nk_errf(e, ERANGE, "the subordinate ranges hold more ids than a namespace can map");
			}
			if (nk_map_add(out, (uint32_t)next, (uint32_t)start, (uint32_t)chunk) < 0) {
				nk_ranges_free(&sorted);
				nk_map_free(out);
				return nk_errf(e, ENOMEM, "out of memory");
			}
			next += chunk;
			start += chunk;
			left -= chunk;
		}
	}
	nk_ranges_free(&sorted);
	qsort(out->ext, out->n, sizeof *out->ext, cmp_ext_inner);
	return 0;
}

int nk_maps_build(enum nk_mapkind kind, const char *user, uint32_t uid, uint32_t gid,
		  const char *alt, struct nk_maps *out, struct nk_err *e)
{
	const uint32_t self[2] = { uid, gid };

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		struct nk_ranges sub;
		struct nk_map built;
		int r;

		if (kind == NK_MAPS_ROOT) {
			if (nk_map_add(&out->map[t], 0, self[t], 1) < 0)
				return nk_errf(e, ENOMEM, "out of memory");
			continue;
		}
		if (nk_subid_ranges(user, t, &sub, e) < 0)
			return -e->code;
		if (sub.n == 0) {
			nk_errf(e, ENOENT, "no subordinate %s range for '%s' in %s",
				nk_idtype_name(t), user, nk_subid_where(t));
			nk_err_no_subids(e, user);
			e->alt = alt;
			return -e->code;
		}
		r = kind == NK_MAPS_AUTO ? nk_map_build_auto(self[t], &sub, &built, e)
					 : nk_map_build_keepid(self[t], &sub, &built, e);
		nk_ranges_free(&sub);
		if (r < 0)
			return r;
		for (size_t i = 0; i < built.n && r == 0; i++)
			r = nk_map_add(&out->map[t], built.ext[i].inner, built.ext[i].outer,
				       built.ext[i].count);
		nk_map_free(&built);
		if (r < 0)
			return nk_errf(e, ENOMEM, "out of memory");
	}
	return 0;
}
