#include <dlfcn.h>
#include <fcntl.h>
#include <pwd.h>
#include <shadow/subid.h>
#include <string.h>
#include <sys/stat.h>
#include "paths.h"
#include "subid.h"
#include "cfgfile.h"
#include "num.h"

void nk_ranges_free(struct nk_ranges *r)
{
	free(r->r);
	r->r = NULL;
	r->n = 0;
}

int nk_ranges_add(struct nk_ranges *r, uint32_t start, uint32_t count)
{
	struct nk_range *x = realloc(r->r, (r->n + 1) * sizeof *x);

	if (!x)
		return -ENOMEM;
	r->r = x;
	r->r[r->n++] = (struct nk_range){ start, count };
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct nk_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->count < y->count ? -1 : x->count > y->count;
}

void nk_ranges_sort(struct nk_ranges *r)
{
	if (r->n > 1)
		qsort(r->r, r->n, sizeof *r->r, cmp_range);
}

int nk_ranges_cover(const struct nk_ranges *r, uint32_t first, uint32_t count)
{
	uint64_t cur = first, end = (uint64_t)first + count;
	int progress = 1;

	/* Ranges may be unsorted and adjacent (newuidmap accepts an extent
	 * spread over adjacent ranges): advance until no range extends cur. */
	while (cur < end && progress) {
		progress = 0;
		for (size_t i = 0; i < r->n; i++) {
			uint64_t s = r->r[i].start, e = s + r->r[i].count;

			if (cur >= s && cur < e) {
				cur = e;
				progress = 1;
			}
		}
	}
	return cur >= end;
}

const char *nk_subid_file(enum nk_idtype t)
{
	static char path[2][4096];

	if (!path[t][0])
		snprintf(path[t], sizeof path[t], "%s/%s", nk_sysconfdir(), t == NK_UID ? "subuid" : "subgid");
	return path[t];
}

int nk_subid_source_at(const char *root, char *name, size_t len, struct nk_err *e)
{
	char path[4096];
	NK_AUTOCLOSE int etcfd = -1;
	NK_AUTOFREE char *buf = NULL;
	size_t n;
	int r;

	snprintf(name, len, "files");
	if (root)
		snprintf(path, sizeof path, "%s/etc/nsswitch.conf", root);
	else
		snprintf(path, sizeof path, "%s/nsswitch.conf", nk_sysconfdir());
	r = nk_cfg_opendir(root, &etcfd, e);
	if (r == 0)
		r = nk_cfg_read_at(etcfd, "nsswitch.conf", path, nk_cfg_flags(root), NK_CFG_MAX_SMALL,
				   &buf, &n, NULL, e);
	if (r == -ENOENT) {
		nk_err_clear(e);
		return 0;
	}
	if (r < 0)
		return r;
	return nk_nsswitch_subid(buf, name, len);
}

int nk_nsswitch_subid(char *buf, char *name, size_t len)
{
	char *line, *save = NULL;

	snprintf(name, len, "files");
	/* As shadow's nss_init(): the first "subid:" line with a source, its
	 * first source; "files" means the files. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *save2 = NULL, *tok;

		if (line[0] == '#' || strncasecmp(line, "subid:", 6) != 0)
			continue;
		tok = strtok_r(line + 6, " \t", &save2);
		if (!tok)
			continue;
		snprintf(name, len, "%s", tok);
		return strcmp(name, "files") != 0;
	}
	return 0;
}

int nk_subid_source(char *name, size_t len)
{
	/* Read once a process: every range lookup asks. */
	static char cached[64];
	static int state = -1;
	struct nk_err e;

	if (state < 0)
		state = nk_subid_source_at(NULL, cached, sizeof cached, &e) > 0;
	snprintf(name, len, "%s", cached);
	return state;
}

const char *nk_subid_where(enum nk_idtype t)
{
	static char buf[2][128];
	char src[64];

	if (!nk_subid_source(src, sizeof src))
		return nk_subid_file(t);
	snprintf(buf[t], sizeof buf[t], "the central 'subid: %s' source", src);
	return buf[t];
}

static int sorted_copy(const struct nk_ranges *sub, struct nk_ranges *sorted);

const char *nk_subid_fix(const char *user)
{
	static char buf[512];
	char src[64];

	if (!nk_subid_source(src, sizeof src))
		snprintf(buf, sizeof buf, "run 'subid-alloc %s' as root", user);
	else
		snprintf(buf, sizeof buf, "the '%s' service owns the ranges: ask its administrator", src);
	return buf;
}

const char *nk_subid_hint(const char *user, const struct nk_ranges *sub, char *buf, size_t len)
{
	struct nk_ranges sorted = { 0, NULL };
	const struct nk_ranges *r = sub;
	size_t off, shown;

	if (sub->n == 0) {
		snprintf(buf, len, "%s", nk_subid_fix(user));
		return buf;
	}
	if (sorted_copy(sub, &sorted) == 0)
		r = &sorted;
	off = (size_t)snprintf(buf, len, "%s's ranges: ", user);
	shown = r->n > 8 ? 8 : r->n;
	for (size_t i = 0; i < shown && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u-%llu", i ? ", " : "", r->r[i].start,
					(unsigned long long)r->r[i].start + r->r[i].count - 1);
	if (shown < r->n && off < len)
		snprintf(buf + off, len - off, " and %zu more", r->n - shown);
	nk_ranges_free(&sorted);
	return buf;
}

/* libsubid is loaded only when nsswitch.conf names a central source:
 * linking it costs every run 0.8 ms (it pulls in libselinux, libsemanage,
 * libaudit and PAM), more than all of idmap-apply's own work. */
typedef int (*nk_get_ranges_fn)(const char *, struct subid_range **);

static int libsubid_ranges(const char *user, enum nk_idtype t, struct subid_range **r,
			   struct nk_err *e)
{
	static void *h;
	static nk_get_ranges_fn get[2];

	if (!h) {
		bool (*init)(const char *, FILE *);
		FILE *devnull;

		h = dlopen("libsubid.so.4", RTLD_NOW | RTLD_LOCAL);
		if (!h)
			h = dlopen("libsubid.so", RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			nk_errf(e, ENOENT, "cannot load libsubid for the 'subid:' source of "
				"/etc/nsswitch.conf: %s", dlerror());
			return nk_err_kind(e, NK_ERRK_NO_LIBSUBID);
		}
		init = (bool (*)(const char *, FILE *))dlsym(h, "subid_init");
		get[NK_UID] = (nk_get_ranges_fn)dlsym(h, "subid_get_uid_ranges");
		get[NK_GID] = (nk_get_ranges_fn)dlsym(h, "subid_get_gid_ranges");
		if (!get[NK_UID] || !get[NK_GID]) {
			dlclose(h);
			h = NULL;
			nk_errf(e, ENOENT, "libsubid lacks subid_get_uid_ranges");
			return nk_err_kind(e, NK_ERRK_NO_LIBSUBID);
		}
		/* libsubid prints its own complaints unless told otherwise; the
		 * stream is close-on-exec so it never reaches a command we run. */
		devnull = fopen("/dev/null", "we");
		if (init && devnull)
			init("nskit", devnull);
	}
	return get[t](user, r);
}

/* A number shadow and nskit read the same way: shadow parses with
 * strtoul(base 0), so "010" is 8 to newuidmap; only canonical decimal is
 * taken, never a value the helper would read differently. */
static int canonical_u32(const char *s, uint32_t *v)
{
	if (s[0] == '0' && s[1] != '\0')
		return -EINVAL;
	return nk_parse_u32(s, UINT32_MAX, v);
}

/* The files source, read as libsubid's files backend reads it: lines
 * "owner:start:count" whose owner is the user's name or uid. Lines that
 * are not strictly "name:decimal:decimal" (hex, octal, signs, spaces,
 * extra fields, count 0) are skipped: shadow reads some of them in ways
 * nobody meant, and subid-check reports every one. */
/* The user whose ranges are read and its uid as text: lines may name the
 * owner by either. */
static char uidstr[16], uidof[256];

static int file_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		       struct nk_err *e)
{
	const char *path = nk_subid_file(t);
	NK_AUTOFCLOSE FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	/* One passwd lookup a process for the usual single user, none when
	 * nk_user_name() already found this user. */
	if (strcmp(uidof, user) != 0) {
		struct passwd *pw = getpwnam(user);

		snprintf(uidof, sizeof uidof, "%s", user);
		uidstr[0] = '\0';
		if (pw)
			snprintf(uidstr, sizeof uidstr, "%u", pw->pw_uid);
	}
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return nk_syserr(e, errno, "cannot read %s", path);
	}
	while (getline(&line, &cap, f) > 0) {
		char *owner = line, *c1, *c2, *end;
		uint32_t start, count;

		line[strcspn(line, "\n")] = '\0';
		c1 = strchr(line, ':');
		if (!c1)
			continue;
		*c1 = '\0';
		if (strcmp(owner, user) != 0 && (!uidstr[0] || strcmp(owner, uidstr) != 0))
			continue;
		c2 = strchr(c1 + 1, ':');
		if (!c2)
			continue;
		*c2 = '\0';
		end = c2 + 1;
		if (canonical_u32(c1 + 1, &start) < 0 || canonical_u32(end, &count) < 0 || count == 0)
			continue;
		if ((uint64_t)start + count - 1 > NK_ID_MAX) {
			free(line);
			nk_ranges_free(out);
			return nk_errf(e, ERANGE, "subordinate %s range %u:%u of '%s' goes past %lu (fix it in %s)",
				       nk_idtype_name(t), start, count, user, NK_ID_MAX, path);
		}
		if (nk_ranges_add(out, start, count) < 0) {
			free(line);
			nk_ranges_free(out);
			return nk_errf(e, ENOMEM, "out of memory");
		}
	}
	free(line);
	return 0;
}

static int copy_ranges(struct nk_ranges *dst, const struct nk_ranges *src)
{
	dst->n = 0;
	dst->r = NULL;
	if (src->n == 0)
		return 0;
	dst->r = malloc(src->n * sizeof *dst->r);
	if (!dst->r)
		return -ENOMEM;
	memcpy(dst->r, src->r, src->n * sizeof *dst->r);
	dst->n = src->n;
	return 0;
}

static int lookup_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
			 struct nk_err *e);

/* A tool asks for the same user's ranges when it builds a map and again
 * when it checks it: remember the last answer of each type. */
static struct {
	char user[256];
	struct nk_ranges r;
	int valid;
} memo[2];

void nk_subid_forget(void)
{
	for (int t = 0; t < 2; t++) {
		nk_ranges_free(&memo[t].r);
		memo[t].valid = 0;
	}
}

int nk_subid_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		    struct nk_err *e)
{
	int r;

	if (memo[t].valid && strcmp(memo[t].user, user) == 0)
		return copy_ranges(out, &memo[t].r) < 0 ? nk_errf(e, ENOMEM, "out of memory") : 0;
	r = lookup_ranges(user, t, out, e);
	if (r < 0)
		return r;
	nk_ranges_free(&memo[t].r);
	memo[t].valid = strlen(user) < sizeof memo[t].user && copy_ranges(&memo[t].r, out) == 0;
	if (memo[t].valid)
		snprintf(memo[t].user, sizeof memo[t].user, "%s", user);
	return 0;
}

int nk_libsubid_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		       struct nk_err *e)
{
	struct subid_range *r = NULL;
	char source[64];
	int n;

	out->n = 0;
	out->r = NULL;
	n = libsubid_ranges(user, t, &r, e);
	if (n < 0) {
		free(r);
		if (e->kind == NK_ERRK_NO_LIBSUBID)
			return -ENOENT;
		nk_subid_source(source, sizeof source);
		return nk_errf(e, EIO, "cannot read the subordinate %s ranges of '%s' through libsubid "
			       "(the 'subid: %s' source of /etc/nsswitch.conf)", nk_idtype_name(t), user, source);
	}
	for (int i = 0; i < n; i++) {
		if (r[i].count == 0)
			continue;
		if (r[i].start > NK_ID_MAX || r[i].count > UINT32_MAX ||
		    r[i].start + r[i].count - 1 > NK_ID_MAX) {
			free(r);
			nk_ranges_free(out);
			return nk_errf(e, ERANGE, "subordinate %s range %lu:%lu of '%s' goes past %lu",
				       nk_idtype_name(t), r[i].start, r[i].count, user, NK_ID_MAX);
		}
		if (nk_ranges_add(out, (uint32_t)r[i].start, (uint32_t)r[i].count) < 0) {
			free(r);
			nk_ranges_free(out);
			return nk_errf(e, ENOMEM, "out of memory");
		}
	}
	free(r);
	return 0;
}

static int lookup_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
			 struct nk_err *e)
{
	char source[64];

	out->n = 0;
	out->r = NULL;
	if (!nk_subid_source(source, sizeof source))
		return file_ranges(user, t, out, e);
	return nk_libsubid_ranges(user, t, out, e);
}

/* The ranges in order of start (the order podman maps them in). */
static int sorted_copy(const struct nk_ranges *sub, struct nk_ranges *sorted)
{
	if (copy_ranges(sorted, sub) < 0)
		return -ENOMEM;
	nk_ranges_sort(sorted);
	return 0;
}

int nk_map_build_auto(uint32_t self, const struct nk_ranges *sub, struct nk_map *out,
		      struct nk_err *e)
{
	struct nk_ranges sorted = { 0, NULL };
	uint64_t next = 1;

	nk_map_init(out);
	if (nk_map_add(out, 0, self, 1) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	if (sorted_copy(sub, &sorted) < 0) {
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
	if (sorted_copy(sub, &sorted) < 0) {
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
	if (kind == NK_MAPS_ROOT) {
		if (nk_map_add(&out->map[NK_UID], 0, uid, 1) < 0 || nk_map_add(&out->map[NK_GID], 0, gid, 1) < 0)
			return nk_errf(e, ENOMEM, "out of memory");
		return 0;
	}
	for (int t = NK_UID; t <= NK_GID; t++) {
		struct nk_ranges sub;
		struct nk_map built;
		int r;

		if (nk_subid_ranges(user, (enum nk_idtype)t, &sub, e) < 0)
			return -e->code;
		if (sub.n == 0)
			return nk_errf(e, ENOENT, "no subordinate %s range for '%s' in %s (%s%s)",
				       nk_idtype_name((enum nk_idtype)t), user, nk_subid_where((enum nk_idtype)t),
				       nk_subid_fix(user), alt ? alt : "");
		r = kind == NK_MAPS_AUTO ? nk_map_build_auto(t == NK_UID ? uid : gid, &sub, &built, e)
					 : nk_map_build_keepid(t == NK_UID ? uid : gid, &sub, &built, e);
		nk_ranges_free(&sub);
		if (r < 0)
			return r;
		for (size_t i = 0; i < built.n; i++)
			if (nk_map_add(nk_maps_get(out, (enum nk_idtype)t), built.ext[i].inner,
				       built.ext[i].outer, built.ext[i].count) < 0) {
				nk_map_free(&built);
				return nk_errf(e, ENOMEM, "out of memory");
			}
		nk_map_free(&built);
	}
	return 0;
}

const char *nk_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw) {
		snprintf(buf, len, "%s", pw->pw_name);
		/* The reader of /etc/subuid needs this pair too. */
		snprintf(uidof, sizeof uidof, "%s", pw->pw_name);
		snprintf(uidstr, sizeof uidstr, "%u", (unsigned)uid);
	} else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}
