/* subid-alloc - give users subordinate uid and gid ranges in /etc/subuid
 * and /etc/subgid, in bulk, with shadow-utils' locking and policy.
 *
 * Policy lives here; the file model, locking and writing are in
 * lib/subidfile.c, the interval allocator in lib/subidalloc.c, login.defs
 * in lib/logindefs.c. With --root, DIR/etc is opened once and every file
 * is read, locked and written from that one descriptor.
 *
 * Every function returns a negative errno and fills struct nk_err; main
 * reports once (nk_die only in option parsing).
 */
#include <getopt.h>
#include <string.h>
#include <libsmartcols.h>
#include "tool.h"
#include "num.h"
#include "logindefs.h"
#include "cfgfile.h"
#include "pwdb.h"
#include "subidalloc.h"
#include "subid.h"
#include "json.h"
#include "util.h"

enum { OPT_UID_ONLY = 256, OPT_GID_ONLY, OPT_ALIGN, OPT_DET, OPT_RELEASE, OPT_JSON, OPT_CREATE };

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " subid-alloc [options] USER...\n"
	       " subid-alloc --release USER...\n"
	       " subid-alloc --list [USER...]\n"
	       "\n"
	       "Give users subordinate uid and gid ranges in /etc/subuid and /etc/subgid.\n"
	       "\n"
	       "Options:\n"
	       " -c, --count N          size of each range (default SUB_UID_COUNT, SUB_GID_COUNT)\n"
	       "     --uid-only         only /etc/subuid\n"
	       "     --gid-only         only /etc/subgid\n"
	       "     --align N          start ranges on multiples of N\n"
	       "     --deterministic    start = SUB_UID_MIN + (uid - UID_MIN) * count\n"
	       "     --create           create /etc/subuid, /etc/subgid where absent\n"
	       " -A, --all              every user with UID_MIN <= uid <= UID_MAX\n"
	       " -f, --from FILE|-      user names or uids, one a line\n"
	       "     --release          remove the users' ranges\n"
	       " -l, --list             show ranges\n"
	       " -n, --dry-run          print what would be written; write nothing\n"
	       " -R, --root DIR         work on DIR/etc instead of /etc\n"
	       "     --json             machine-readable output\n"
	       "\n"
	       " -h, --help             display this help\n"
	       " -V, --version          display version\n"
	       "\n"
	       "For more details see subid-alloc(1).\n");
	exit(0);
}

struct opts {
	uint32_t count;
	int have_count, uid_only, gid_only, det, all, release, list, dry, json, create;
	uint32_t align;
	const char *root, *from;
};

struct users {
	const struct nk_pwent **v;
	size_t n, cap;
};

/* Owner index: range lines sorted by owner, for lookups in O(log n). */
struct oidx {
	struct nk_sf_line **v;
	size_t n;
};

struct idspace {
	const char *kind;       /* "UID" or "GID" */
	char *path;
	struct nk_sf file;
	struct nk_space space;
	struct oidx idx;
	struct nk_alloc_policy pol;
	int on;
};

struct change {
	struct idspace *s;
	const char *owner;
	uint64_t start, count;
	int add;
};

/* One run: what is read, what is locked, what changes. */
struct run {
	struct opts o;
	int etcfd;              /* DIR/etc (or /etc), opened once */
	char *ldpath, *passwd, *nsspath;
	const char *nss;        /* the central source, or NULL for the files */
	char nss_buf[64];
	struct nk_logindefs ld;
	int have_ld;
	struct nk_pwdb db;
	int have_db;
	uint32_t uid_min, uid_max;
	struct users users;
	struct idspace sp[2];
	int pwlocked, pwfd;
	struct change *changes;
	size_t nchanges, capchanges;
};

static const char *const file_names[2] = { "subuid", "subgid" };

static int oom(struct nk_err *e)
{
	return nk_errf(e, ENOMEM, "out of memory");
}

static char *etcpath(const char *root, const char *name)
{
	char *p;

	return asprintf(&p, "%s/etc/%s", root ? root : "", name) < 0 ? NULL : p;
}

static int users_add(struct users *u, const struct nk_pwent *p, struct nk_err *e)
{
	if (nk_grow(&u->v, u->n, &u->cap, sizeof *u->v, 64) < 0)
		return oom(e);
	u->v[u->n++] = p;
	return 0;
}

static int resolve(struct run *r, const char *name, struct nk_err *e)
{
	const struct nk_pwent *p = nk_pwdb_owner(&r->db, name);

	if (!p)
		return nk_errf(e, ENOENT, "unknown user '%s' (not in %s)", name, r->passwd);
	return users_add(&r->users, p, e);
}

static int read_from(struct run *r, const char *file, struct nk_err *e)
{
	NK_AUTOFCLOSE FILE *own = strcmp(file, "-") == 0 ? NULL : fopen(file, "re");
	FILE *f = own ? own : stdin;
	NK_AUTOFREE char *line = NULL;
	size_t len = 0;
	ssize_t n;

	if (!own && strcmp(file, "-") != 0)
		return nk_syserr(e, errno, "cannot read %s", file);
	while ((n = getline(&line, &len, f)) > 0) {
		char *s = line;

		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = '\0';
		s += strspn(s, " \t");
		if (*s == '\0' || *s == '#')
			continue;
		if (resolve(r, s, e) < 0)
			return -e->code;
	}
	if (ferror(f))
		return nk_syserr(e, errno, "cannot read %s", file);
	return 0;
}

struct pidx {
	const struct nk_pwent *p;
	size_t i;
};

static int cmp_pidx(const void *a, const void *b)
{
	const struct pidx *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* A user named twice (by name and by uid, or in --from and --all) is
 * handled once, where it first appears. */
static int dedup(struct users *u, struct nk_err *e)
{
	NK_AUTOFREE struct pidx *v = malloc((u->n + 1) * sizeof *v);
	NK_AUTOFREE char *drop = calloc(u->n + 1, 1);
	size_t k = 0;

	if (!v || !drop)
		return oom(e);
	for (size_t i = 0; i < u->n; i++)
		v[i] = (struct pidx){ u->v[i], i };
	qsort(v, u->n, sizeof *v, cmp_pidx);
	for (size_t i = 1; i < u->n; i++)
		if (v[i].p == v[i - 1].p)
			drop[v[i].i] = 1;
	for (size_t i = 0; i < u->n; i++)
		if (!drop[i])
			u->v[k++] = u->v[i];
	u->n = k;
	return 0;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct nk_sf_line *x = *(struct nk_sf_line *const *)a;
	const struct nk_sf_line *y = *(struct nk_sf_line *const *)b;
	int c = strcmp(x->owner, y->owner);
	return c ? c : (x < y ? -1 : x > y);
}

static int oidx_build(struct oidx *o, struct nk_sf *f, struct nk_err *e)
{
	o->v = malloc((f->n + 1) * sizeof *o->v);
	o->n = 0;
	if (!o->v)
		return oom(e);
	for (size_t i = 0; i < f->n; i++)
		if (f->lines[i].has_range && f->lines[i].owner)
			o->v[o->n++] = &f->lines[i];
	qsort(o->v, o->n, sizeof *o->v, cmp_owner);
	return 0;
}

/* The first index of a line owned by KEY. */
static size_t oidx_first(const struct oidx *o, const char *key)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(o->v[mid]->owner, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The start of the user's first range of at least COUNT ids (UINT64_MAX: none). */
static uint64_t existing(const struct oidx *o, const struct nk_pwent *p, uint64_t count)
{
	char num[16];
	const char *keys[2] = { p->name, num };
	const struct nk_sf_line *best = NULL;

	snprintf(num, sizeof num, "%u", p->uid);
	for (int k = 0; k < 2; k++)
		for (size_t i = oidx_first(o, keys[k]);
		     i < o->n && strcmp(o->v[i]->owner, keys[k]) == 0; i++) {
			const struct nk_sf_line *l = o->v[i];
			if (l->removed || l->count < count)
				continue;
			if (!best || l < best)
				best = l;
		}
	return best ? best->start : UINT64_MAX;
}

static void release_user(const struct oidx *o, const struct nk_pwent *p, struct nk_sf *f)
{
	char num[16];
	const char *keys[2] = { p->name, num };

	snprintf(num, sizeof num, "%u", p->uid);
	for (int k = 0; k < 2; k++)
		for (size_t i = oidx_first(o, keys[k]);
		     i < o->n && strcmp(o->v[i]->owner, keys[k]) == 0; i++) {
			if (!o->v[i]->removed) {
				o->v[i]->removed = 1;
				f->changed = 1;
			}
		}
}

static int load_policy(struct idspace *s, const struct nk_logindefs *ld, const struct opts *o,
		       uint32_t uid_min, struct nk_err *e)
{
	char kmin[32], kmax[32], kcnt[32];
	uint32_t min, max, cmax, count;

	snprintf(kmin, sizeof kmin, "SUB_%s_MIN", s->kind);
	snprintf(kmax, sizeof kmax, "SUB_%s_MAX", s->kind);
	snprintf(kcnt, sizeof kcnt, "SUB_%s_COUNT", s->kind);
	if (nk_logindefs_u32(ld, kmin, 100000, &min, e) < 0 ||
	    nk_logindefs_u32(ld, kmax, 600100000, &max, e) < 0 ||
	    nk_logindefs_u32(ld, kcnt, 65536, &count, e) < 0)
		return -e->code;
	if (o->have_count)
		count = o->count;
	else if (count == 0)
		return nk_errf(e, EINVAL, "%s is 0 in %s (use --count N)", kcnt, ld->path);
	/* useradd's own sanity check (find_new_sub_uids.c: min > max,
	 * count >= max, min + count - 1 > max), with the top capped at
	 * NK_ID_MAX: 4294967295 is (uid_t)-1, no id. count >= max matters
	 * only where min is 0 or 1; the third test covers it otherwise. */
	cmax = max > NK_ID_MAX ? (uint32_t)NK_ID_MAX : max;
	if (min > max || count >= max || (uint64_t)min + count - 1 > cmax)
		return nk_errf(e, EINVAL, "cannot allocate: %s %u, %s %u and count %u leave no room (fix %s or use a smaller --count)",
			       kmin, min, kmax, max, count, ld->path);
	s->pol.min = min;
	s->pol.max = cmax;
	s->pol.count = count;
	s->pol.align = o->align;
	s->pol.deterministic = o->det;
	s->pol.uid_min = uid_min;
	return 0;
}

static int note(struct run *r, struct idspace *s, const char *owner, uint64_t start, uint64_t count,
		int add, struct nk_err *e)
{
	if (nk_grow(&r->changes, r->nchanges, &r->capchanges, sizeof *r->changes, 256) < 0)
		return oom(e);
	r->changes[r->nchanges++] = (struct change){ s, owner, start, count, add };
	return 0;
}

static int alloc_error(int r, const struct idspace *s, const struct nk_pwent *p,
		       const char *ldpath, struct nk_err *e)
{
	const struct nk_alloc_policy *pol = &s->pol;
	uint64_t st = pol->min + (uint64_t)(p->uid - pol->uid_min) * pol->count;

	if (r == -ENOSPC)
		return nk_errf(e, ENOSPC, "cannot allocate for '%s': no free range of %llu ids left in %llu-%llu (raise SUB_%s_MAX in %s or use a smaller --count)",
			       p->name, (unsigned long long)pol->count, (unsigned long long)pol->min,
			       (unsigned long long)pol->max, s->kind, ldpath);
	if (r == -ERANGE && p->uid < pol->uid_min)
		return nk_errf(e, ERANGE, "cannot allocate for '%s': --deterministic needs a uid of at least UID_MIN %u, not %u",
			       p->name, pol->uid_min, p->uid);
	if (r == -ERANGE)
		return nk_errf(e, ERANGE, "cannot allocate for '%s': deterministic range %llu-%llu ends past SUB_%s_MAX %llu (raise it in %s or use a smaller --count)",
			       p->name, (unsigned long long)st, (unsigned long long)(st + pol->count - 1),
			       s->kind, (unsigned long long)pol->max, ldpath);
	if (r == -EBUSY)
		return nk_errf(e, EBUSY, "cannot allocate for '%s': deterministic range %llu-%llu is taken in %s (run 'subid-check' to see by whom)",
			       p->name, (unsigned long long)st, (unsigned long long)(st + pol->count - 1),
			       s->path);
	return nk_errf(e, -r, "cannot allocate for '%s': %s", p->name, strerror(-r));
}

static int print_changes(const struct run *r, struct nk_err *e)
{
	struct nk_json j;

	if (!r->o.json) {
		for (size_t i = 0; i < r->nchanges; i++) {
			const struct change *c = &r->changes[i];
			printf("%s: %s %s:%llu:%llu\n", c->s->path, c->add ? "add" : "remove", c->owner,
			       (unsigned long long)c->start, (unsigned long long)c->count);
		}
		return 0;
	}
	nk_json_file(&j, stdout, NK_JSON_LINES);
	nk_json_obj(&j, NULL);
	nk_json_bool(&j, "dry_run", r->o.dry);
	nk_json_arr(&j, "changes");
	for (size_t i = 0; i < r->nchanges; i++) {
		const struct change *c = &r->changes[i];

		nk_json_obj(&j, NULL);
		nk_json_str(&j, "file", c->s->path);
		nk_json_str(&j, "action", c->add ? "add" : "remove");
		nk_json_str(&j, "owner", c->owner);
		nk_json_u64(&j, "start", c->start);
		nk_json_u64(&j, "count", c->count);
		nk_json_end(&j);
	}
	if (nk_json_finish(&j, "\n") < 0)
		return nk_syserr(e, EIO, "cannot write the changes");
	return 0;
}

/* --list ------------------------------------------------------------------- */

static int list_row(struct libscols_table *tb, const char *owner, const char *type, uint64_t start,
		    uint64_t count, struct nk_err *e)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char buf[32];

	if (!ln)
		return oom(e);
	scols_line_set_data(ln, 0, owner);
	scols_line_set_data(ln, 1, type);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)start);
	scols_line_set_data(ln, 2, buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)count);
	scols_line_set_data(ln, 3, buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)(start + count - 1));
	scols_line_set_data(ln, 4, buf);
	return 0;
}

static int list_table(struct libscols_table *tb, int json, struct nk_err *e)
{
	static const char *cols[] = { "OWNER", "TYPE", "START", "COUNT", "END" };

	if (json) {
		scols_table_enable_json(tb, 1);
		scols_table_set_name(tb, "subids");
	}
	for (size_t i = 0; i < NK_ARRAY_SIZE(cols); i++) {
		struct libscols_column *cl = scols_table_new_column(tb, cols[i], 0,
								    i >= 2 ? SCOLS_FL_RIGHT : 0);
		if (!cl)
			return oom(e);
		if (i >= 2)
			scols_column_set_json_type(cl, SCOLS_JSON_NUMBER);
	}
	return 0;
}

/* The real root: through libsubid, which honours nsswitch.conf. */
static int list_libsubid(struct run *r, struct libscols_table *tb, char **argv, int argc,
			 struct nk_err *e)
{
	size_t n;

	if (argc == 0) {
		if (nk_pwdb_load_at(&r->db, -1, NULL, e) < 0)
			return -e->code;
		r->have_db = 1;
	}
	n = argc > 0 ? (size_t)argc : r->db.nusers;
	for (size_t i = 0; i < n; i++) {
		const char *owner = argc > 0 ? argv[i] : r->db.users[i].name;

		for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
			struct nk_ranges rg;
			int ret = 0;

			if (!r->sp[t].on)
				continue;
			if (nk_libsubid_ranges(owner, t, &rg, e) < 0)
				return -e->code;
			for (size_t k = 0; k < rg.n && ret == 0; k++)
				ret = list_row(tb, owner, nk_idtype_name(t), rg.r[k].start, rg.r[k].count, e);
			nk_ranges_free(&rg);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int list_files(struct run *r, struct libscols_table *tb, char **argv, int argc,
		      struct nk_err *e)
{
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		struct nk_sf *f = &r->sp[t].file;

		if (!r->sp[t].on)
			continue;
		if (nk_sf_init_at(f, r->etcfd, file_names[t], r->sp[t].path, e) < 0 ||
		    nk_sf_read(f, e) < 0)
			return -e->code;
		for (size_t i = 0; i < f->n; i++) {
			const struct nk_sf_line *l = &f->lines[i];
			int want = argc == 0;

			if (l->kind != NK_SF_RANGE)
				continue;
			for (int a = 0; a < argc && !want; a++)
				want = strcmp(l->owner, argv[a]) == 0;
			if (want && list_row(tb, l->owner, nk_idtype_name(t), l->start, l->count, e) < 0)
				return -e->code;
		}
	}
	return 0;
}

static int do_list(struct run *r, char **argv, int argc, struct nk_err *e)
{
	struct libscols_table *tb;
	int ret;

	scols_init_debug(0);
	tb = scols_new_table();
	if (!tb)
		return oom(e);
	ret = list_table(tb, r->o.json, e);
	if (ret == 0 && !r->o.root && (argc > 0 || r->nss))
		ret = list_libsubid(r, tb, argv, argc, e);
	else if (ret == 0)
		ret = list_files(r, tb, argv, argc, e);
	if (ret == 0)
		scols_print_table(tb);
	scols_unref_table(tb);
	return ret;
}

/* --- allocation and release -------------------------------------------------- */

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "uid-only", no_argument, NULL, OPT_UID_ONLY },
		{ "gid-only", no_argument, NULL, OPT_GID_ONLY },
		{ "align", required_argument, NULL, OPT_ALIGN },
		{ "deterministic", no_argument, NULL, OPT_DET },
		{ "all", no_argument, NULL, 'A' },
		{ "from", required_argument, NULL, 'f' },
		{ "release", no_argument, NULL, OPT_RELEASE },
		{ "list", no_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "root", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "create", no_argument, NULL, OPT_CREATE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct nk_err e;
	int c;

	while ((c = getopt_long(argc, argv, "c:Af:lnR:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (nk_parse_u32_e(optarg, NK_ID_MAX, &o->count, "count", &e) < 0)
				nk_die_err(1, &e);
			if (o->count == 0)
				nk_die(1, "invalid count '0': a range needs at least 1 id");
			o->have_count = 1;
			break;
		case OPT_UID_ONLY: o->uid_only = 1; break;
		case OPT_GID_ONLY: o->gid_only = 1; break;
		case OPT_ALIGN:
			if (nk_parse_u32_e(optarg, NK_ID_MAX, &o->align, "alignment", &e) < 0)
				nk_die_err(1, &e);
			if (o->align == 0)
				nk_die(1, "invalid alignment '0': use 1 or more");
			break;
		case OPT_DET: o->det = 1; break;
		case 'A': o->all = 1; break;
		case 'f': o->from = optarg; break;
		case OPT_RELEASE: o->release = 1; break;
		case 'l': o->list = 1; break;
		case 'n': o->dry = 1; break;
		case 'R': o->root = optarg; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_CREATE: o->create = 1; break;
		default: nk_std_option_or_err(c, usage);
		}
	}
	if (o->uid_only && o->gid_only)
		nk_usage_errorx("--uid-only and --gid-only exclude each other");
	if (o->list + o->release > 1)
		nk_usage_errorx("--list and --release exclude each other");
	if ((o->list || o->release) && (o->det || o->align || o->have_count || o->create))
		nk_usage_errorx("--count, --align, --deterministic and --create only go with an allocation");
	if (o->det && o->align)
		nk_usage_errorx("--deterministic and --align exclude each other");
	if (!o->list && argc - optind == 0 && !o->all && !o->from)
		nk_usage_errorx("no user given (name users, or use --all or --from)");
	if (o->root && o->root[0] == '\0')
		nk_usage_errorx("--root needs a folder");
}

/* The folder, once: every file of the run is read, locked and written from
 * this one descriptor, so that a DIR/etc swapped meanwhile cannot mix the
 * files of two trees. Then the source of subordinate ids. */
static int run_open(struct run *r, struct nk_err *e)
{
	const char *root = r->o.root;

	r->etcfd = -1;
	r->pwfd = -1;
	r->sp[NK_UID] = (struct idspace){ .kind = "UID", .on = !r->o.gid_only };
	r->sp[NK_GID] = (struct idspace){ .kind = "GID", .on = !r->o.uid_only };
	r->sp[NK_UID].path = etcpath(root, "subuid");
	r->sp[NK_GID].path = etcpath(root, "subgid");
	r->ldpath = etcpath(root, "login.defs");
	r->passwd = etcpath(root, "passwd");
	r->nsspath = etcpath(root, "nsswitch.conf");
	if (!r->sp[NK_UID].path || !r->sp[NK_GID].path || !r->ldpath || !r->passwd || !r->nsspath)
		return oom(e);
	if (nk_cfg_opendir(root, &r->etcfd, e) < 0)
		return -e->code;
	if (nk_subid_source_at(r->etcfd, root, r->nss_buf, sizeof r->nss_buf, e) < 0)
		return -e->code;
	r->nss = strcmp(r->nss_buf, "files") != 0 ? r->nss_buf : NULL;
	return 0;
}

/* login.defs, the policy, the users and who is named. */
static int load_inputs(struct run *r, int argc, char **argv, struct nk_err *e)
{
	if (nk_logindefs_load_at(&r->ld, r->etcfd, "login.defs", r->ldpath, nk_cfg_flags(r->o.root), e) < 0)
		return -e->code;
	r->have_ld = 1;
	if (nk_logindefs_u32(&r->ld, "UID_MIN", 1000, &r->uid_min, e) < 0 ||
	    nk_logindefs_u32(&r->ld, "UID_MAX", 60000, &r->uid_max, e) < 0)
		return -e->code;
	for (enum nk_idtype t = NK_UID; t <= NK_GID && !r->o.release; t++)
		if (r->sp[t].on && load_policy(&r->sp[t], &r->ld, &r->o, r->uid_min, e) < 0)
			return -e->code;
	if (nk_pwdb_load_at(&r->db, r->etcfd, r->o.root, e) < 0)
		return -e->code;
	r->have_db = 1;
	for (int i = 0; i < argc; i++)
		if (resolve(r, argv[i], e) < 0)
			return -e->code;
	if (r->o.from && read_from(r, r->o.from, e) < 0)
		return -e->code;
	for (size_t i = 0; r->o.all && i < r->db.nusers; i++)
		if (r->db.users[i].uid >= r->uid_min && r->db.users[i].uid <= r->uid_max &&
		    users_add(&r->users, &r->db.users[i], e) < 0)
			return -e->code;
	return dedup(&r->users, e);
}

/* Locks first, then read: what we allocate from is what we replace. */
static int lock_files(struct run *r, struct nk_err *e)
{
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (r->sp[t].on && nk_sf_init_at(&r->sp[t].file, r->etcfd, file_names[t], r->sp[t].path, e) < 0)
			return -e->code;
	if (r->o.dry)
		return 0;
	if (nk_pwlock(r->o.root, r->etcfd, &r->pwfd, e) < 0)
		return -e->code;
	r->pwlocked = 1;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (r->sp[t].on && nk_sf_lock(&r->sp[t].file, 20, e) < 0)
			return -e->code;
	return 0;
}

/* Read one file, index its owners and, to allocate, build its taken space:
 * real ids are taken too (a uid in passwd is never subordinate). */
static int read_space(struct run *r, enum nk_idtype t, struct nk_err *e)
{
	struct idspace *s = &r->sp[t];
	NK_AUTOFREE uint32_t *ids = NULL;
	size_t nids = t == NK_GID ? r->db.ngroups : r->db.nusers;

	if (nk_sf_read(&s->file, e) < 0)
		return -e->code;
	/* The owner index points into the lines: no realloc after it. */
	if (nk_sf_reserve(&s->file, r->users.n) < 0 || oidx_build(&s->idx, &s->file, e) < 0)
		return oom(e);
	if (r->o.release)
		return 0;
	ids = malloc((nids + 1) * sizeof *ids);
	if (!ids)
		return oom(e);
	for (size_t i = 0; i < nids; i++)
		ids[i] = t == NK_GID ? r->db.groups[i].gid : r->db.users[i].uid;
	if (nk_space_build(&s->space, &s->file, ids, nids) < 0)
		return oom(e);
	return 0;
}

/* useradd treats a missing file as "subordinate ids are off" and never
 * creates one: neither do we, unless told to. */
static int files_exist(const struct run *r, struct nk_err *e)
{
	static const char *const other[2] = { "--gid-only", "--uid-only" };
	int gone[2];

	if (r->o.release || r->o.create)
		return 0;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		gone[t] = r->sp[t].on && !r->sp[t].file.exists;
	if (gone[NK_UID] && gone[NK_GID])
		return nk_errf(e, ENOENT, "cannot allocate: %s and %s do not exist, which turns subordinate ids off (create them with --create)",
			       r->sp[NK_UID].path, r->sp[NK_GID].path);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (gone[t])
			return nk_errf(e, ENOENT, "cannot allocate: %s does not exist, which turns subordinate %ss off (create it with --create, or use %s)",
				       r->sp[t].path, nk_idtype_name(t), other[t]);
	return 0;
}

/* One user's missing ranges. The start of the other range is tried first:
 * uid and gid ranges of a user then begin at the same number. */
static int allocate_user(struct run *r, const struct nk_pwent *p, struct nk_err *e)
{
	uint64_t have[2] = { UINT64_MAX, UINT64_MAX }, got[2] = { UINT64_MAX, UINT64_MAX };
	int need[2] = { 0, 0 };

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (!r->sp[t].on)
			continue;
		have[t] = existing(&r->sp[t].idx, p, r->sp[t].pol.count);
		need[t] = have[t] == UINT64_MAX;
	}
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		struct idspace *s = &r->sp[t];
		enum nk_idtype o = !t;
		int ret;

		if (!need[t])
			continue;
		ret = nk_alloc(&s->space, &s->pol, p->uid, need[o] ? got[o] : have[o], &got[t]);
		if (ret < 0)
			return alloc_error(ret, s, p, r->ldpath, e);
		if (nk_sf_add(&s->file, p->name, got[t], s->pol.count) < 0)
			return oom(e);
		if (note(r, s, p->name, got[t], s->pol.count, 1, e) < 0)
			return -e->code;
	}
	return 0;
}

static int release_all(struct run *r, struct nk_err *e)
{
	for (size_t i = 0; i < r->users.n; i++)
		for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
			if (r->sp[t].on)
				release_user(&r->sp[t].idx, r->users.v[i], &r->sp[t].file);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		for (size_t k = 0; r->sp[t].on && k < r->sp[t].file.n; k++) {
			const struct nk_sf_line *l = &r->sp[t].file.lines[k];

			if (l->removed && note(r, &r->sp[t], l->owner, l->start, l->count, 0, e) < 0)
				return -e->code;
		}
	return 0;
}

static void unlock_files(struct run *r)
{
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		nk_sf_unlock(&r->sp[t].file);
	if (r->pwlocked)
		nk_pwunlock(r->pwfd);
	r->pwlocked = 0;
	r->pwfd = -1;
}

/* Both files or neither. */
static int write_files(struct run *r, struct nk_err *e)
{
	int ret = 0;

	if (!r->o.dry)
		ret = nk_sf_write2(r->sp[NK_UID].on ? &r->sp[NK_UID].file : NULL,
				   r->sp[NK_GID].on ? &r->sp[NK_GID].file : NULL, e);
	unlock_files(r);
	return ret;
}

static int do_change(struct run *r, int argc, char **argv, struct nk_err *e)
{
	if (r->nss)
		return nk_errf(e, EPERM, "cannot %s subordinate ids: %s names '%s' as their source (subid: %s); the central service owns the ranges (manage them there)",
			       r->o.release ? "release" : "allocate", r->nsspath, r->nss, r->nss);
	if (load_inputs(r, argc, argv, e) < 0 || lock_files(r, e) < 0)
		return -e->code;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (r->sp[t].on && read_space(r, t, e) < 0)
			return -e->code;
	if (files_exist(r, e) < 0)
		return -e->code;
	if (r->o.release && release_all(r, e) < 0)
		return -e->code;
	for (size_t i = 0; !r->o.release && i < r->users.n; i++)
		if (allocate_user(r, r->users.v[i], e) < 0)
			return -e->code;
	if (write_files(r, e) < 0)
		return -e->code;
	return print_changes(r, e);
}

static void run_free(struct run *r)
{
	unlock_files(r);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		nk_sf_free(&r->sp[t].file);
		nk_space_free(&r->sp[t].space);
		free(r->sp[t].idx.v);
		free(r->sp[t].path);
	}
	free(r->users.v);
	free(r->changes);
	free(r->ldpath);
	free(r->passwd);
	free(r->nsspath);
	if (r->etcfd >= 0)
		close(r->etcfd);
	if (r->have_db)
		nk_pwdb_free(&r->db);
	if (r->have_ld)
		nk_logindefs_free(&r->ld);
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	struct nk_err e;
	int ret;

	nk_tool_init("subid-alloc", argv);
	parse_opts(argc, argv, &r.o);
	argc -= optind;
	argv += optind;
	ret = run_open(&r, &e);
	if (ret == 0)
		ret = r.o.list ? do_list(&r, argv, argc, &e) : do_change(&r, argc, argv, &e);
	run_free(&r);
	if (ret < 0) {
		nk_err_print(&e);
		return 1;
	}
	return 0;
}
