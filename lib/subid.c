#include <dlfcn.h>
#include <fcntl.h>
#include <shadow/subid.h>
#include <string.h>
#include <sys/stat.h>
#include "paths.h"
#include "subid.h"
#include "cfgfile.h"
#include "lines.h"
#include "num.h"
#include "pwdb.h"
#include "subidfile.h"

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

static const char *const subid_names[2] = { "subuid", "subgid" };

const char *nk_subid_file(enum nk_idtype t)
{
	static char path[2][4096];

	if (!path[t][0])
		snprintf(path[t], sizeof path[t], "%s/%s", nk_sysconfdir(), subid_names[t]);
	return path[t];
}

int nk_subid_source_at(int etcfd, const char *root, char *name, size_t len, struct nk_err *e)
{
	char path[4096];
	NK_AUTOCLOSE int ownfd = -1;
	NK_AUTOFREE char *buf = NULL;
	size_t n;
	int r = 0;

	snprintf(name, len, "files");
	if (root)
		snprintf(path, sizeof path, "%s/etc/nsswitch.conf", root);
	else
		snprintf(path, sizeof path, "%s/nsswitch.conf", nk_sysconfdir());
	if (etcfd < 0) {
		r = nk_cfg_opendir(root, &ownfd, e);
		etcfd = ownfd;
	}
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

int nk_nsswitch_subid(const char *buf, char *name, size_t len)
{
	struct nk_lines lines;
	const char *line;
	size_t n;

	snprintf(name, len, "files");
	/* As shadow's nss_init(): the first "subid:" line with a source, its
	 * first source; "files" means the files. */
	nk_lines_init(&lines, buf, strlen(buf));
	while (nk_lines_view(&lines, &line, &n)) {
		size_t skip, tok;

		if (n < 6 || line[0] == '#' || strncasecmp(line, "subid:", 6) != 0)
			continue;
		for (skip = 6; skip < n && (line[skip] == ' ' || line[skip] == '\t'); skip++)
			;
		for (tok = 0; skip + tok < n && line[skip + tok] != ' ' && line[skip + tok] != '\t'; tok++)
			;
		if (tok == 0)
			continue;
		snprintf(name, len, "%.*s", (int)tok, line + skip);
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
		state = nk_subid_source_at(-1, NULL, cached, sizeof cached, &e) > 0;
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

const char *nk_subid_central_fix(void)
{
	static char buf[256];
	char src[64];

	if (!nk_subid_source(src, sizeof src))
		return NULL;
	snprintf(buf, sizeof buf, "the '%s' service owns the ranges: ask its administrator", src);
	return buf;
}

const char *nk_subid_hint(const char *user, const struct nk_ranges *sub, char *buf, size_t len)
{
	struct nk_ranges sorted = { 0, NULL };
	const struct nk_ranges *r = sub;
	size_t off, shown;

	if (sub->n == 0) {
		snprintf(buf, len, "%s has no ranges", user);
		return buf;
	}
	if (nk_ranges_sorted(sub, &sorted) == 0)
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

/* libsubid is loaded only when nsswitch.conf names a central source (and
 * idmap-show asks who owns an id there): linking it costs every run 0.8 ms
 * (it pulls in libselinux, libsemanage, libaudit and PAM), more than all
 * of idmap-apply's own work. No tool links it (a packaging test checks). */
typedef int (*nk_get_ranges_fn)(const char *, struct subid_range **);
typedef int (*nk_get_owners_fn)(id_t, uid_t **);

static struct {
	void *h;
	nk_get_ranges_fn ranges[2];
	nk_get_owners_fn owners[2];
} lsub;

static int libsubid_load(struct nk_err *e)
{
	bool (*init)(const char *, FILE *);
	FILE *devnull;

	if (lsub.h)
		return 0;
	lsub.h = dlopen("libsubid.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!lsub.h)
		lsub.h = dlopen("libsubid.so", RTLD_NOW | RTLD_LOCAL);
	if (!lsub.h) {
		nk_errf(e, ENOENT, "cannot load libsubid for the 'subid:' source of "
			"/etc/nsswitch.conf: %s", dlerror());
		return nk_err_kind(e, NK_ERRK_NO_LIBSUBID);
	}
	init = (bool (*)(const char *, FILE *))dlsym(lsub.h, "subid_init");
	lsub.ranges[NK_UID] = (nk_get_ranges_fn)dlsym(lsub.h, "subid_get_uid_ranges");
	lsub.ranges[NK_GID] = (nk_get_ranges_fn)dlsym(lsub.h, "subid_get_gid_ranges");
	lsub.owners[NK_UID] = (nk_get_owners_fn)dlsym(lsub.h, "subid_get_uid_owners");
	lsub.owners[NK_GID] = (nk_get_owners_fn)dlsym(lsub.h, "subid_get_gid_owners");
	if (!lsub.ranges[NK_UID] || !lsub.ranges[NK_GID] || !lsub.owners[NK_UID] ||
	    !lsub.owners[NK_GID]) {
		dlclose(lsub.h);
		lsub.h = NULL;
		nk_errf(e, ENOENT, "libsubid lacks subid_get_uid_ranges");
		return nk_err_kind(e, NK_ERRK_NO_LIBSUBID);
	}
	/* libsubid prints its own complaints unless told otherwise; the
	 * stream is close-on-exec so it never reaches a command we run. */
	devnull = fopen("/dev/null", "we");
	if (init && devnull)
		init("nskit", devnull);
	return 0;
}

/* The files source: /etc/subuid and /etc/subgid through the one parser
 * (lib/subidfile.h), read once a process (a tool asks for the same user's
 * ranges when it builds a map and again when it checks it, and idmap-show
 * asks who owns each extent). Only the lines nskit and shadow read alike
 * count (nk_sf_line_agreed()); lines shadow reads in ways nobody meant
 * (hex, octal, signs, blanks, extra fields, count 0) are skipped, and
 * subid-check reports every one. */
static struct {
	struct nk_sf f;
	int loaded;
} files[2];

static int files_load(enum nk_idtype t, const struct nk_sf **out, struct nk_err *e)
{
	NK_AUTOCLOSE int dfd = -1;
	struct nk_sf *f = &files[t].f;
	const char *path = nk_subid_file(t);

	*out = f;
	if (files[t].loaded)
		return 0;
	dfd = open(nk_sysconfdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno != ENOENT)
		return nk_syserr(e, errno, "cannot read %s", path);
	if (dfd >= 0) {
		if (nk_sf_init_at(f, dfd, subid_names[t], path, e) < 0)
			goto fail;
		/* Only read here: the real /etc's link is followed, as libsubid
		 * follows it. */
		f->cfg_flags = NK_CFG_FOLLOW;
		if (nk_sf_read(f, e) < 0)
			goto fail;
	}
	files[t].loaded = 1;
	return 0;
fail:
	nk_sf_free(f);
	return -e->code;
}

/* A line's range as 32-bit ids: 1, 0 to skip it (a number past 32 bits:
 * no id), or -ERANGE when it ends past NK_ID_MAX. */
static int line_range(const struct nk_sf_line *l, struct nk_range *r)
{
	if (!nk_sf_line_agreed(l) || l->start > UINT32_MAX || l->count > UINT32_MAX)
		return 0;
	if (l->start + l->count - 1 > NK_ID_MAX)
		return -ERANGE;
	*r = (struct nk_range){ (uint32_t)l->start, (uint32_t)l->count };
	return 1;
}

static int file_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		       struct nk_err *e)
{
	const struct nk_sf *f;
	struct nk_range rg;
	uint32_t uid = 0;
	int have_uid;

	if (files_load(t, &f, e) < 0)
		return -e->code;
	/* Lines may name the owner by its uid (one passwd lookup a process,
	 * none when nk_user_name() already found this user). */
	have_uid = nk_user_uid(user, &uid) == 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct nk_sf_line *l = &f->lines[i];
		int r;

		if (!l->owner || !(strcmp(l->owner, user) == 0 ||
				   (have_uid && nk_sf_line_is(l, user, uid))))
			continue;
		r = line_range(l, &rg);
		if (r == -ERANGE) {
			nk_ranges_free(out);
			return nk_errf(e, ERANGE, "subordinate %s range %llu:%llu of '%s' goes past %lu (fix it in %s)",
				       nk_idtype_name(t), (unsigned long long)l->start,
				       (unsigned long long)l->count, user, NK_ID_MAX, f->path);
		}
		if (r == 1 && nk_ranges_add(out, rg.start, rg.count) < 0) {
			nk_ranges_free(out);
			return nk_errf(e, ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* Who owns ID in the files: the owner of the first line (file order) whose
 * range holds it, a uid written as a number named when passwd has it. */
static int file_owner(enum nk_idtype t, uint32_t id, char *name, size_t len, struct nk_err *e)
{
	const struct nk_sf *f;
	struct nk_range rg;
	uint32_t uid;

	if (files_load(t, &f, e) < 0)
		return -e->code;
	for (size_t i = 0; i < f->n; i++) {
		const struct nk_sf_line *l = &f->lines[i];

		if (line_range(l, &rg) != 1 || id < rg.start || id - rg.start >= rg.count)
			continue;
		if (nk_parse_id(l->owner, &uid) == 0)
			nk_user_name(uid, name, len);
		else
			snprintf(name, len, "%s", l->owner);
		return 1;
	}
	return 0;
}

static int libsubid_owner(enum nk_idtype t, uint32_t id, char *name, size_t len, struct nk_err *e)
{
	NK_AUTOFREE uid_t *owners = NULL;
	int n;

	if (libsubid_load(e) < 0)
		return -e->code;
	n = lsub.owners[t](id, &owners);
	if (n <= 0)
		return 0;
	nk_user_name(owners[0], name, len);
	return 1;
}

int nk_subid_owner(enum nk_idtype t, uint32_t id, char *name, size_t len, struct nk_err *e)
{
	char source[64];

	if (!nk_subid_source(source, sizeof source))
		return file_owner(t, id, name, len, e);
	return libsubid_owner(t, id, name, len, e);
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

void nk_subid_forget(void)
{
	for (int t = 0; t < 2; t++) {
		nk_sf_free(&files[t].f);
		files[t].loaded = 0;
	}
}

int nk_subid_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		    struct nk_err *e)
{
	char source[64];

	out->n = 0;
	out->r = NULL;
	if (!nk_subid_source(source, sizeof source))
		return file_ranges(user, t, out, e);
	return nk_libsubid_ranges(user, t, out, e);
}

int nk_libsubid_ranges(const char *user, enum nk_idtype t, struct nk_ranges *out,
		       struct nk_err *e)
{
	NK_AUTOFREE struct subid_range *r = NULL;
	char source[64];
	int n;

	out->n = 0;
	out->r = NULL;
	if (libsubid_load(e) < 0)
		return -ENOENT;
	n = lsub.ranges[t](user, &r);
	if (n < 0) {
		nk_subid_source(source, sizeof source);
		return nk_errf(e, EIO, "cannot read the subordinate %s ranges of '%s' through libsubid "
			       "(the 'subid: %s' source of /etc/nsswitch.conf)", nk_idtype_name(t), user, source);
	}
	for (int i = 0; i < n; i++) {
		if (r[i].count == 0)
			continue;
		if (r[i].start > NK_ID_MAX || r[i].count > UINT32_MAX ||
		    r[i].start + r[i].count - 1 > NK_ID_MAX) {
			nk_ranges_free(out);
			return nk_errf(e, ERANGE, "subordinate %s range %lu:%lu of '%s' goes past %lu",
				       nk_idtype_name(t), r[i].start, r[i].count, user, NK_ID_MAX);
		}
		if (nk_ranges_add(out, (uint32_t)r[i].start, (uint32_t)r[i].count) < 0) {
			nk_ranges_free(out);
			return nk_errf(e, ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* The ranges in order of start (the order podman maps them in). */

int nk_ranges_sorted(const struct nk_ranges *sub, struct nk_ranges *sorted)
{
	if (copy_ranges(sorted, sub) < 0)
		return -ENOMEM;
	nk_ranges_sort(sorted);
	return 0;
}
