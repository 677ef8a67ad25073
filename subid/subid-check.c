/* subid-check - find what is wrong in /etc/subuid and /etc/subgid
 *
 * One finding a line, "FILE:LINE: problem", on stdout. Exit 0 clean,
 * 1 with findings, 2 when a file could not be read.
 */
#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include "tool.h"
#include "num.h"
#include "pwdb.h"
#include "subidfile.h"
#include "cfgfile.h"
#include "json.h"

#define KERNEL_MAP_LINES 340

enum { OPT_JSON = 256 };

static int json, nfound;
static int nomem;               /* a finding could not be formatted */
static char **only;
static int nonly;

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " subid-check [options] [USER...]\n"
	       "\n"
	       "Check /etc/subuid and /etc/subgid for problems shadow-utils does not report.\n"
	       "\n"
	       "Options:\n"
	       " -R, --root DIR         check DIR/etc instead of /etc\n"
	       "     --json             one JSON object a finding\n"
	       "\n"
	       " -h, --help             display this help\n"
	       " -V, --version          display version\n"
	       "\n"
	       "For more details see subid-check(1).\n");
	exit(0);
}

static int wanted(const char *owner)
{
	if (nonly == 0)
		return 1;
	for (int i = 0; owner && i < nonly; i++)
		if (strcmp(owner, only[i]) == 0)
			return 1;
	return 0;
}

static void finding(const char *path, unsigned line, const char *kind, const char *fmt, ...)
	NK_PRINTF(4, 5);

static void finding(const char *path, unsigned line, const char *kind, const char *fmt, ...)
{
	NK_AUTOFREE char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	nfound++;
	if (r < 0) {
		nomem = 1;
		return;
	}
	if (json) {
		struct nk_json j;

		nk_json_file(&j, stdout, NK_JSON_SPACED);
		nk_json_obj(&j, NULL);
		nk_json_str(&j, "file", path);
		nk_json_u64(&j, "line", line);
		nk_json_str(&j, "problem", kind);
		nk_json_str(&j, "message", msg);
		nk_json_finish(&j, "\n");
	} else {
		printf("%s:%u: %s\n", path, line, msg);
	}
}

static int cmp_start(const void *a, const void *b)
{
	const struct nk_sf_line *x = *(struct nk_sf_line *const *)a;
	const struct nk_sf_line *y = *(struct nk_sf_line *const *)b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

static int cmp_text(const void *a, const void *b)
{
	const struct nk_sf_line *x = *(struct nk_sf_line *const *)a;
	const struct nk_sf_line *y = *(struct nk_sf_line *const *)b;
	int c = strcmp(x->text, y->text);
	return c ? c : (x->lineno < y->lineno ? -1 : x->lineno > y->lineno);
}

static int cmp_owner(const void *a, const void *b)
{
	const struct nk_sf_line *x = *(struct nk_sf_line *const *)a;
	const struct nk_sf_line *y = *(struct nk_sf_line *const *)b;
	int c = strcmp(x->owner, y->owner);
	return c ? c : (x->lineno < y->lineno ? -1 : x->lineno > y->lineno);
}

/* The last id of a range, in 64 bits without wrapping (a range that would
 * end past 2^64 - 1 ends there). */
static uint64_t end_of(const struct nk_sf_line *l)
{
	if (l->count == 0)
		return l->start;
	if (l->start > UINT64_MAX - (l->count - 1))
		return UINT64_MAX;
	return l->start + (l->count - 1);
}

/* Number fields that shadow reads otherwise than as plain decimal numbers
 * (strtoul base 0): one finding each. Returns how many. */
static int shadow_numbers(const struct nk_sf *f, const struct nk_sf_line *l)
{
	const char *c1 = strchr(l->text, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *c3;
	const char *fld[2], *end[2];
	int n = 0;

	if (!c2)
		return 0;
	c3 = strchr(c2 + 1, ':');
	fld[0] = c1 + 1;
	end[0] = c2;
	fld[1] = c2 + 1;
	end[1] = c3 ? c3 : c2 + 1 + strlen(c2 + 1);
	for (int i = 0; i < 2; i++) {
		char how[64];
		uint64_t v;
		int len = (int)(end[i] - fld[i]);
		if (nk_sf_shadow_num(fld[i], (size_t)len, &v, how, sizeof how) < 0 || !how[0])
			continue;
		finding(f->path, l->lineno, "shadow-reads", "shadow reads '%.*s' as %llu (%s); write the decimal number",
			len, fld[i], (unsigned long long)v, how);
		n++;
	}
	return n;
}

/* A line shadow accepts but nskit does not: what shadow makes of it. */
static void check_malformed(const struct nk_sf *f, const struct nk_sf_line *l, int odd)
{
	if (!l->sh_ok)
		finding(f->path, l->lineno, "malformed", "malformed line '%s': %s (shadow ignores it)",
			l->text, l->why);
	else if (l->sh_start + l->sh_count - 1 < l->sh_start)
		finding(f->path, l->lineno, "malformed", "malformed line '%s': %s (shadow reads it but grants no ids)",
			l->text, l->why);
	else if (!odd || l->has_range)
		finding(f->path, l->lineno, "malformed", "malformed line '%s': %s (shadow reads it as range %llu-%llu of '%s')",
			l->text, l->why, (unsigned long long)l->sh_start,
			(unsigned long long)(l->sh_start + l->sh_count - 1), l->owner);
}

/* The real ids a range of an owner P (or NULL: no user) must not hold:
 * any user's uid (group's gid) but the owner's own, which check_range
 * reports as "own-id". */
static void check_real_ids(const struct nk_sf *f, const struct nk_sf_line *l, int gid,
			   const struct nk_pwent *p, const struct nk_pwdb *db)
{
	if (!gid) {
		const struct nk_pwent *u = nk_pwdb_uid_in(db, l->start, end_of(l));
		if (u && (!p || u->uid != p->uid || (u = nk_pwdb_uid_in(db, (uint64_t)p->uid + 1, end_of(l)))))
			finding(f->path, l->lineno, "real-id", "range %llu-%llu of '%s' contains uid %u of user '%s'",
				(unsigned long long)l->start, (unsigned long long)end_of(l),
				l->owner, u->uid, u->name);
	} else {
		const struct nk_grent *g = nk_pwdb_gid_in(db, l->start, end_of(l));
		if (g && (!p || g->gid != p->gid || (g = nk_pwdb_gid_in(db, (uint64_t)p->gid + 1, end_of(l)))))
			finding(f->path, l->lineno, "real-id", "range %llu-%llu of '%s' contains gid %u of group '%s'",
				(unsigned long long)l->start, (unsigned long long)end_of(l),
				l->owner, g->gid, g->name);
	}
}

/* A well-formed range: its size, its end, its owner and the real ids in it. */
static void check_range(const struct nk_sf *f, const struct nk_sf_line *l, int gid, struct nk_pwdb *db)
{
	const char *what = gid ? "gid" : "uid";
	const struct nk_pwent *p;

	if (end_of(l) > NK_ID_MAX)
		finding(f->path, l->lineno, "past-max", "range %llu-%llu of '%s' ends past %lu, the highest %s",
			(unsigned long long)l->start, (unsigned long long)end_of(l), l->owner,
			NK_ID_MAX, what);
	if (l->count < 65536)
		finding(f->path, l->lineno, "small", "range %llu-%llu of '%s' has %llu ids, fewer than 65536 (images with nobody 65534 need 65536)",
			(unsigned long long)l->start, (unsigned long long)end_of(l), l->owner,
			(unsigned long long)l->count);
	p = nk_pwdb_owner(db, l->owner);
	if (!p) {
		finding(f->path, l->lineno, "no-owner", "owner '%s' is no user (renamed or deleted? fix or remove the line)",
			l->owner);
	} else {
		uint32_t own = gid ? p->gid : p->uid;
		if (own >= l->start && own <= end_of(l))
			finding(f->path, l->lineno, "own-id", "range %llu-%llu of '%s' contains its own %s %u",
				(unsigned long long)l->start, (unsigned long long)end_of(l),
				l->owner, what, own);
	}
	check_real_ids(f, l, gid, p, db);
}

/* The lines of a file, checked one by one. The ranges nskit reads go to
 * V[*N]; what shadow grants, where it differs from what nskit reads, to
 * SYN[*NSYN], so that the overlap sweep sees both. */
static void check_lines(struct nk_sf *f, int gid, struct nk_pwdb *db, struct nk_sf_line **v,
			size_t *n, struct nk_sf_line *syn, size_t *nsyn)
{
	for (size_t i = 0; i < f->n; i++) {
		struct nk_sf_line *l = &f->lines[i];
		int odd = 0;

		if (!wanted(l->owner))
			continue;
		if (l->sh_ok)
			odd = shadow_numbers(f, l);
		if (l->kind == NK_SF_BAD)
			check_malformed(f, l, odd);
		if (l->sh_ok && l->sh_start + l->sh_count - 1 >= l->sh_start &&
		    (l->kind != NK_SF_RANGE || l->sh_start != l->start || l->sh_count != l->count)) {
			syn[*nsyn] = *l;
			syn[*nsyn].start = l->sh_start;
			syn[*nsyn].count = l->sh_count;
			(*nsyn)++;
		}
		if (l->kind != NK_SF_RANGE)
			continue;
		v[(*n)++] = l;
		check_range(f, l, gid, db);
	}
}

/* Overlaps between owners, as we read the ranges and as shadow does:
 * sweep by start, against the range that reaches furthest so far. */
static void check_overlaps(const struct nk_sf *f, struct nk_sf_line **v, size_t n)
{
	const struct nk_sf_line *far = NULL;

	qsort(v, n, sizeof *v, cmp_start);
	for (size_t i = 0; i < n; i++) {
		if (far && v[i]->start <= end_of(far) && strcmp(far->owner, v[i]->owner) != 0) {
			const struct nk_sf_line *a = far->lineno < v[i]->lineno ? v[i] : far;
			const struct nk_sf_line *b = a == far ? v[i] : far;
			finding(f->path, a->lineno, "overlap", "range %llu-%llu of '%s' overlaps range %llu-%llu of '%s' (line %u)",
				(unsigned long long)a->start, (unsigned long long)end_of(a), a->owner,
				(unsigned long long)b->start, (unsigned long long)end_of(b), b->owner,
				b->lineno);
		}
		if (!far || end_of(v[i]) > end_of(far))
			far = v[i];
	}
}

/* Duplicate lines, and more extents for one owner than one user namespace
 * map holds. V holds the lines as read (no shadow readings). */
static void check_repeats(const struct nk_sf *f, int gid, struct nk_sf_line **v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_text);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i]->text, v[i - 1]->text) == 0)
			finding(f->path, v[i]->lineno, "duplicate", "duplicate of line %u", v[i - 1]->lineno);
	qsort(v, n, sizeof *v, cmp_owner);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i; j < n && strcmp(v[j]->owner, v[i]->owner) == 0; j++)
			;
		if (j - i > KERNEL_MAP_LINES - 1)
			finding(f->path, v[i]->lineno, "too-many", "'%s' has %zu ranges; with its own %s a map holds at most %d lines (the kernel's limit)",
				v[i]->owner, j - i, gid ? "gid" : "uid", KERNEL_MAP_LINES);
	}
}

/* The checks of one file. */
static int check_file(struct nk_sf *f, int gid, struct nk_pwdb *db, struct nk_err *e)
{
	NK_AUTOFREE struct nk_sf_line **v = malloc((2 * f->n + 1) * sizeof *v);
	NK_AUTOFREE struct nk_sf_line *syn = malloc((f->n + 1) * sizeof *syn);
	size_t n = 0, nsyn = 0, nall;

	if (!v || !syn)
		return nk_errf(e, ENOMEM, "out of memory");
	check_lines(f, gid, db, v, &n, syn, &nsyn);
	if (nonly == 0 && !f->final_newline)
		finding(f->path, (unsigned)f->n, "no-newline", "no newline at the end of the file (shadow may join the next line added to this one)");
	nall = n;
	for (size_t i = 0; i < nsyn; i++)
		v[nall++] = &syn[i];
	check_overlaps(f, v, nall);
	n = 0;
	for (size_t i = 0; i < nall; i++)
		if (v[i] < syn || v[i] >= syn + nsyn)
			v[n++] = v[i];
	check_repeats(f, gid, v, n);
	return 0;
}

/* Total ids of each owner in a file, sorted by owner. */
struct tot {
	const char *owner;
	uint64_t ids;
	unsigned line;
};

static int cmp_tot(const void *a, const void *b)
{
	return strcmp(((const struct tot *)a)->owner, ((const struct tot *)b)->owner);
}

static struct tot *totals(const struct nk_sf *f, size_t *n)
{
	struct tot *t = malloc((f->n + 1) * sizeof *t);
	size_t k = 0, out = 0;

	if (!t)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		if (f->lines[i].kind == NK_SF_RANGE && wanted(f->lines[i].owner))
			t[k++] = (struct tot){ f->lines[i].owner, f->lines[i].count, f->lines[i].lineno };
	/* stable enough: first line kept by a merge that keeps the lowest line */
	qsort(t, k, sizeof *t, cmp_tot);
	for (size_t i = 0; i < k; i++) {
		if (out && strcmp(t[out - 1].owner, t[i].owner) == 0) {
			t[out - 1].ids += t[i].ids;
			if (t[i].line < t[out - 1].line)
				t[out - 1].line = t[i].line;
			continue;
		}
		t[out++] = t[i];
	}
	*n = out;
	return t;
}

static int check_pairs(const struct nk_sf *fu, const struct nk_sf *fg, struct nk_err *e)
{
	size_t nu = 0, ng = 0, i = 0, j = 0;
	NK_AUTOFREE struct tot *u = totals(fu, &nu);
	NK_AUTOFREE struct tot *g = totals(fg, &ng);

	if (!u || !g)
		return nk_errf(e, ENOMEM, "out of memory");
	while (i < nu || j < ng) {
		int c = i == nu ? 1 : j == ng ? -1 : strcmp(u[i].owner, g[j].owner);
		if (c < 0) {
			finding(fu->path, u[i].line, "no-gid", "'%s' has subordinate uids but no gids in %s (run 'subid-alloc %s')",
				u[i].owner, fg->path, u[i].owner);
			i++;
		} else if (c > 0) {
			finding(fg->path, g[j].line, "no-uid", "'%s' has subordinate gids but no uids in %s (run 'subid-alloc %s')",
				g[j].owner, fu->path, g[j].owner);
			j++;
		} else {
			if (u[i].ids != g[j].ids)
				finding(fg->path, g[j].line, "sizes", "'%s' has %llu subordinate gids but %llu uids (%s line %u)",
					g[j].owner, (unsigned long long)g[j].ids,
					(unsigned long long)u[i].ids, fu->path, u[i].line);
			i++;
			j++;
		}
	}
	return 0;
}

static const char *parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "R:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'R': root = optarg; break;
		case OPT_JSON: json = 1; break;
		default: nk_std_option_or_err(c, usage);
		}
	}
	only = argv + optind;
	nonly = argc - optind;
	return root;
}

/* The users and both files, from one fd of the folder DIR/etc (opened
 * once: a tree swapped meanwhile cannot mix files); with --root, DIR/etc
 * and the files in it must not be links (nk_cfg_opendir(), nk_sf_read()). */
static int load(const char *root, struct nk_pwdb *db, struct nk_sf *f, struct nk_err *e)
{
	static const char *const names[2] = { "subuid", "subgid" };
	NK_AUTOCLOSE int etcfd = -1;

	if (nk_cfg_opendir(root, &etcfd, e) < 0 || nk_pwdb_load_at(db, etcfd, root, e) < 0)
		return -e->code;
	for (int i = 0; i < 2; i++) {
		NK_AUTOFREE char *path = NULL;

		if (asprintf(&path, "%s/etc/%s", root ? root : "", names[i]) < 0)
			return nk_errf(e, ENOMEM, "out of memory");
		if (nk_sf_init_at(&f[i], etcfd, names[i], path, e) < 0 || nk_sf_read(&f[i], e) < 0)
			return -e->code;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct nk_sf f[2] = { { 0 }, { 0 } };
	struct nk_pwdb db = { 0 };
	struct nk_err e;
	const char *root;
	int r;

	nk_tool_init("subid-check", argv);
	root = parse_opts(argc, argv);
	r = load(root, &db, f, &e);
	if (r == 0)
		r = check_file(&f[0], 0, &db, &e);
	if (r == 0)
		r = check_file(&f[1], 1, &db, &e);
	if (r == 0)
		r = check_pairs(&f[0], &f[1], &e);
	if (r == 0 && nomem)
		r = nk_errf(&e, ENOMEM, "out of memory");
	nk_sf_free(&f[0]);
	nk_sf_free(&f[1]);
	nk_pwdb_free(&db);
	if (r < 0) {
		nk_err_print(&e);
		return 2;
	}
	return nfound ? 1 : 0;
}
