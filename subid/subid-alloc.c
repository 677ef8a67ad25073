/* subid-alloc - give users subordinate uid and gid ranges in /etc/subuid
 * and /etc/subgid, in bulk, with shadow-utils' locking and policy.
 *
 * Policy lives here; the file model, locking, writing and the interval
 * allocator are in lib/subidfile.c, login.defs in lib/logindefs.c.
 */
#include <getopt.h>
#include <string.h>
#include <libsmartcols.h>
#include "tool.h"
#include "num.h"
#include "logindefs.h"
#include "cfgfile.h"
#include "pwdb.h"
#include "subidfile.h"
#include "subid.h"
#include "util.h"

enum { OPT_UID_ONLY = 256, OPT_GID_ONLY, OPT_ALIGN, OPT_DET, OPT_RELEASE, OPT_JSON, OPT_CREATE };

static void usage(void)
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

static char *etcpath(const char *root, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/etc/%s", root ? root : "", name) < 0)
		nk_die(1, "out of memory");
	return p;
}

struct users {
	const struct nk_pwent **v;
	size_t n, cap;
};

static void users_add(struct users *u, const struct nk_pwent *p)
{
	if (nk_grow(&u->v, u->n, &u->cap, sizeof *u->v, 64) < 0)
		nk_die(1, "out of memory");
	u->v[u->n++] = p;
}

static const struct nk_pwent *resolve(struct nk_pwdb *db, const char *name, const char *passwd)
{
	const struct nk_pwent *p = nk_pwdb_owner(db, name);

	if (!p)
		nk_die(1, "unknown user '%s' (not in %s)", name, passwd);
	return p;
}

static void read_from(struct users *u, struct nk_pwdb *db, const char *file, const char *passwd)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
	char *line = NULL;
	size_t len = 0;
	ssize_t r;

	if (!f)
		nk_die(1, "cannot read %s: %s", file, strerror(errno));
	while ((r = getline(&line, &len, f)) > 0) {
		char *s = line;
		while (r > 0 && (s[r - 1] == '\n' || s[r - 1] == ' ' || s[r - 1] == '\t'))
			s[--r] = '\0';
		s += strspn(s, " \t");
		if (*s == '\0' || *s == '#')
			continue;
		users_add(u, resolve(db, s, passwd));
	}
	if (ferror(f))
		nk_die(1, "cannot read %s: %s", file, strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
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
static void dedup(struct users *u)
{
	struct pidx *v = malloc((u->n + 1) * sizeof *v);
	char *drop = calloc(u->n + 1, 1);
	size_t k = 0;

	if (!v || !drop)
		nk_die(1, "out of memory");
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
	free(v);
	free(drop);
}

/* Owner index: range lines sorted by owner, for lookups in O(log n). */
struct oidx {
	struct nk_sf_line **v;
	size_t n;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct nk_sf_line *x = *(struct nk_sf_line *const *)a;
	const struct nk_sf_line *y = *(struct nk_sf_line *const *)b;
	int c = strcmp(x->owner, y->owner);
	return c ? c : (x < y ? -1 : x > y);
}

static void oidx_build(struct oidx *o, struct nk_sf *f)
{
	o->v = malloc((f->n + 1) * sizeof *o->v);
	o->n = 0;
	if (!o->v)
		nk_die(1, "out of memory");
	for (size_t i = 0; i < f->n; i++)
		if (f->lines[i].has_range && f->lines[i].owner)
			o->v[o->n++] = &f->lines[i];
	qsort(o->v, o->n, sizeof *o->v, cmp_owner);
}

/* Call FN on every range line owned by KEY. */
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

struct idspace {
	const char *kind;       /* "UID" or "GID" */
	char *path;
	struct nk_sf file;
	struct nk_space space;
	struct oidx idx;
	struct nk_alloc_policy pol;
	int on;
};

static void load_policy(struct idspace *s, const struct nk_logindefs *ld, const struct opts *o,
			uint32_t uid_min)
{
	char kmin[32], kmax[32], kcnt[32];
	struct nk_err e;
	uint32_t min, max, cmax, count;

	snprintf(kmin, sizeof kmin, "SUB_%s_MIN", s->kind);
	snprintf(kmax, sizeof kmax, "SUB_%s_MAX", s->kind);
	snprintf(kcnt, sizeof kcnt, "SUB_%s_COUNT", s->kind);
	if (nk_logindefs_u32(ld, kmin, 100000, &min, &e) < 0 ||
	    nk_logindefs_u32(ld, kmax, 600100000, &max, &e) < 0 ||
	    nk_logindefs_u32(ld, kcnt, 65536, &count, &e) < 0)
		nk_die_err(1, &e);
	if (o->have_count)
		count = o->count;
	else if (count == 0)
		nk_die(1, "%s is 0 in %s (use --count N)", kcnt, ld->path);
	/* useradd's own sanity check (find_new_sub_uids.c: min > max,
	 * count >= max, min + count - 1 > max), with the top capped at
	 * NK_ID_MAX: 4294967295 is (uid_t)-1, no id. count >= max matters
	 * only where min is 0 or 1; the third test covers it otherwise. */
	cmax = max > NK_ID_MAX ? (uint32_t)NK_ID_MAX : max;
	if (min > max || count >= max || (uint64_t)min + count - 1 > cmax)
		nk_die(1, "cannot allocate: %s %u, %s %u and count %u leave no room (fix %s or use a smaller --count)",
		       kmin, min, kmax, max, count, ld->path);
	s->pol.min = min;
	s->pol.max = cmax;
	s->pol.count = count;
	s->pol.align = o->align;
	s->pol.deterministic = o->det;
	s->pol.uid_min = uid_min;
}

struct change {
	struct idspace *s;
	const char *owner;
	uint64_t start, count;
	int add;
};

/* Every exit once locked (nk_die included) releases the locks. */
static struct idspace *locked_sp;
static int locked_pw, locked_pwfd = -1;

static void release_locks(void)
{
	for (int g = 0; locked_sp && g < 2; g++)
		nk_sf_unlock(&locked_sp[g].file);
	if (locked_pw)
		nk_pwunlock(locked_pwfd);
	locked_pw = 0;
	locked_pwfd = -1;
}

static const char *const file_names[2] = { "subuid", "subgid" };

static struct change *changes;
static size_t nchanges, capchanges;

static void note(struct idspace *s, const char *owner, uint64_t start, uint64_t count, int add)
{
	if (nchanges == capchanges) {
		capchanges = capchanges ? capchanges * 2 : 256;
		changes = realloc(changes, capchanges * sizeof *changes);
		if (!changes)
			nk_die(1, "out of memory");
	}
	changes[nchanges++] = (struct change){ s, owner, start, count, add };
}

static void die_alloc(int r, const struct idspace *s, const struct nk_pwent *p,
		      const char *ldpath)
{
	const struct nk_alloc_policy *pol = &s->pol;

	if (r == -ENOSPC)
		nk_die(1, "cannot allocate for '%s': no free range of %llu ids left in %llu-%llu (raise SUB_%s_MAX in %s or use a smaller --count)",
		       p->name, (unsigned long long)pol->count, (unsigned long long)pol->min,
		       (unsigned long long)pol->max, s->kind, ldpath);
	if (r == -ERANGE && p->uid < pol->uid_min)
		nk_die(1, "cannot allocate for '%s': --deterministic needs a uid of at least UID_MIN %u, not %u",
		       p->name, pol->uid_min, p->uid);
	if (r == -ERANGE || r == -EBUSY) {
		uint64_t st = pol->min + (uint64_t)(p->uid - pol->uid_min) * pol->count;
		if (r == -ERANGE)
			nk_die(1, "cannot allocate for '%s': deterministic range %llu-%llu ends past SUB_%s_MAX %llu (raise it in %s or use a smaller --count)",
			       p->name, (unsigned long long)st,
			       (unsigned long long)(st + pol->count - 1), s->kind,
			       (unsigned long long)pol->max, ldpath);
		nk_die(1, "cannot allocate for '%s': deterministic range %llu-%llu is taken in %s (run 'subid-check' to see by whom)",
		       p->name, (unsigned long long)st, (unsigned long long)(st + pol->count - 1),
		       s->path);
	}
	nk_die(1, "cannot allocate for '%s': %s", p->name, strerror(-r));
}

static void print_changes(const struct opts *o)
{
	if (o->json) {
		printf("{\"dry_run\": %s, \"changes\": [", o->dry ? "true" : "false");
		for (size_t i = 0; i < nchanges; i++) {
			const struct change *c = &changes[i];
			printf("%s\n  {\"file\": \"%s\", \"action\": \"%s\", \"owner\": \"%s\", \"start\": %llu, \"count\": %llu}",
			       i ? "," : "", c->s->path, c->add ? "add" : "remove", c->owner,
			       (unsigned long long)c->start, (unsigned long long)c->count);
		}
		printf("%s]}\n", nchanges ? "\n" : "");
		return;
	}
	for (size_t i = 0; i < nchanges; i++) {
		const struct change *c = &changes[i];
		printf("%s: %s %s:%llu:%llu\n", c->s->path, c->add ? "add" : "remove", c->owner,
		       (unsigned long long)c->start, (unsigned long long)c->count);
	}
}

/* --list ------------------------------------------------------------------- */

static struct libscols_table *tb;

static void list_row(const char *owner, const char *type, uint64_t start, uint64_t count)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char buf[32];

	if (!ln)
		nk_die(1, "out of memory");
	scols_line_set_data(ln, 0, owner);
	scols_line_set_data(ln, 1, type);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)start);
	scols_line_set_data(ln, 2, buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)count);
	scols_line_set_data(ln, 3, buf);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)(start + count - 1));
	scols_line_set_data(ln, 4, buf);
}

static int do_list(const struct opts *o, char **argv, int argc, const char *nss,
		   struct idspace *sp)
{
	static const char *cols[] = { "OWNER", "TYPE", "START", "COUNT", "END" };
	struct nk_err e;

	scols_init_debug(0);
	tb = scols_new_table();
	if (!tb)
		nk_die(1, "out of memory");
	if (o->json) {
		scols_table_enable_json(tb, 1);
		scols_table_set_name(tb, "subids");
	}
	for (size_t i = 0; i < NK_ARRAY_SIZE(cols); i++) {
		struct libscols_column *cl = scols_table_new_column(tb, cols[i], 0,
								    i >= 2 ? SCOLS_FL_RIGHT : 0);
		if (!cl)
			nk_die(1, "out of memory");
		if (i >= 2)
			scols_column_set_json_type(cl, SCOLS_JSON_NUMBER);
	}
	if (!o->root && (argc > 0 || nss)) {
		/* The real root: through libsubid, which honours nsswitch.conf. */
		struct nk_pwdb db;
		if (argc == 0 && nk_pwdb_load(&db, NULL, &e) < 0)
			nk_die_err(1, &e);
		size_t n = argc > 0 ? (size_t)argc : db.nusers;
		for (size_t i = 0; i < n; i++) {
			const char *owner = argc > 0 ? argv[i] : db.users[i].name;
			for (int g = 0; g < 2; g++) {
				struct nk_ranges r;
				if ((g && o->uid_only) || (!g && o->gid_only))
					continue;
				if (nk_libsubid_ranges(owner, g ? NK_GID : NK_UID, &r, &e) < 0)
					nk_die_err(1, &e);
				for (size_t k = 0; k < r.n; k++)
					list_row(owner, g ? "gid" : "uid", r.r[k].start, r.r[k].count);
				nk_ranges_free(&r);
			}
		}
		if (argc == 0)
			nk_pwdb_free(&db);
	} else {
		NK_AUTOCLOSE int etcfd = -1;
		if (nk_sf_opendir(o->root, &etcfd, &e) < 0)
			nk_die_err(1, &e);
		for (int g = 0; g < 2; g++) {
			struct nk_sf *f = &sp[g].file;
			if (!sp[g].on)
				continue;
			if (nk_sf_init_at(f, etcfd, file_names[g], sp[g].path, &e) < 0 ||
			    nk_sf_read(f, &e) < 0)
				nk_die_err(1, &e);
			for (size_t i = 0; i < f->n; i++) {
				const struct nk_sf_line *l = &f->lines[i];
				int want = argc == 0;
				if (l->kind != NK_SF_RANGE)
					continue;
				for (int a = 0; a < argc && !want; a++)
					want = strcmp(l->owner, argv[a]) == 0;
				if (want)
					list_row(l->owner, g ? "gid" : "uid", l->start, l->count);
			}
		}
	}
	scols_print_table(tb);
	scols_unref_table(tb);
	return 0;
}

int main(int argc, char **argv)
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
	struct opts o = { 0 };
	struct nk_err e;
	struct nk_logindefs ld;
	struct nk_pwdb db;
	struct users users = { 0 };
	struct idspace sp[2] = { { .kind = "UID" }, { .kind = "GID" } };
	NK_AUTOFREE char *ldpath = NULL, *passwd = NULL;
	char nss_buf[64];
	const char *nss;
	uint32_t uid_min, uid_max;
	int c, pwfd = -1, etcfd = -1;

	nk_tool_init("subid-alloc", argv);
	while ((c = getopt_long(argc, argv, "c:Af:lnR:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (nk_parse_u32_e(optarg, NK_ID_MAX, &o.count, "count", &e) < 0)
				nk_die_err(1, &e);
			if (o.count == 0)
				nk_die(1, "invalid count '0': a range needs at least 1 id");
			o.have_count = 1;
			break;
		case OPT_UID_ONLY: o.uid_only = 1; break;
		case OPT_GID_ONLY: o.gid_only = 1; break;
		case OPT_ALIGN:
			if (nk_parse_u32_e(optarg, NK_ID_MAX, &o.align, "alignment", &e) < 0)
				nk_die_err(1, &e);
			if (o.align == 0)
				nk_die(1, "invalid alignment '0': use 1 or more");
			break;
		case OPT_DET: o.det = 1; break;
		case 'A': o.all = 1; break;
		case 'f': o.from = optarg; break;
		case OPT_RELEASE: o.release = 1; break;
		case 'l': o.list = 1; break;
		case 'n': o.dry = 1; break;
		case 'R': o.root = optarg; break;
		case OPT_JSON: o.json = 1; break;
		case OPT_CREATE: o.create = 1; break;
		case 'h': usage(); break;
		case 'V': nk_print_version(); break;
		default: nk_usage_error();
		}
	}
	argc -= optind;
	argv += optind;
	if (o.uid_only && o.gid_only)
		nk_usage_errorx("--uid-only and --gid-only exclude each other");
	if (o.list + o.release > 1)
		nk_usage_errorx("--list and --release exclude each other");
	if ((o.list || o.release) && (o.det || o.align || o.have_count || o.create))
		nk_usage_errorx("--count, --align, --deterministic and --create only go with an allocation");
	if (o.det && o.align)
		nk_usage_errorx("--deterministic and --align exclude each other");
	if (!o.list && argc == 0 && !o.all && !o.from)
		nk_usage_errorx("no user given (name users, or use --all or --from)");
	if (o.root && o.root[0] == '\0')
		nk_usage_errorx("--root needs a folder");

	sp[0].path = etcpath(o.root, "subuid");
	sp[1].path = etcpath(o.root, "subgid");
	sp[0].on = !o.gid_only;
	sp[1].on = !o.uid_only;
	if (nk_subid_source_at(o.root, nss_buf, sizeof nss_buf, &e) < 0)
		nk_die_err(1, &e);
	nss = strcmp(nss_buf, "files") != 0 ? nss_buf : NULL;
	if (o.list) {
		do_list(&o, argv, argc, nss, sp);
		for (int g = 0; g < 2; g++) {
			nk_sf_free(&sp[g].file);
			free(sp[g].path);
		}
		return 0;
	}
	if (nss)
		nk_die(1, "cannot %s subordinate ids: %s names '%s' as their source (subid: %s); the central service owns the ranges (manage them there)",
		       o.release ? "release" : "allocate", etcpath(o.root, "nsswitch.conf"), nss, nss);

	ldpath = etcpath(o.root, "login.defs");
	passwd = etcpath(o.root, "passwd");
	/* Everything is reached from an fd of the folder: with --root, no
	 * link below DIR is followed, no FIFO opened, no file read past its cap. */
	if (nk_sf_opendir(o.root, &etcfd, &e) < 0 ||
	    nk_logindefs_load_at(&ld, etcfd, "login.defs", ldpath, nk_cfg_flags(o.root), &e) < 0)
		nk_die_err(1, &e);
	if (nk_logindefs_u32(&ld, "UID_MIN", 1000, &uid_min, &e) < 0 ||
	    nk_logindefs_u32(&ld, "UID_MAX", 60000, &uid_max, &e) < 0)
		nk_die_err(1, &e);
	if (!o.release)
		for (int g = 0; g < 2; g++)
			if (sp[g].on)
				load_policy(&sp[g], &ld, &o, uid_min);

	if (nk_pwdb_load(&db, o.root, &e) < 0)
		nk_die_err(1, &e);
	for (int i = 0; i < argc; i++)
		users_add(&users, resolve(&db, argv[i], passwd));
	if (o.from)
		read_from(&users, &db, o.from, passwd);
	if (o.all)
		for (size_t i = 0; i < db.nusers; i++)
			if (db.users[i].uid >= uid_min && db.users[i].uid <= uid_max)
				users_add(&users, &db.users[i]);

	dedup(&users);
	/* Locks first, then read: what we allocate from is what we replace. */
	for (int g = 0; g < 2; g++)
		if (sp[g].on && nk_sf_init_at(&sp[g].file, etcfd, file_names[g], sp[g].path, &e) < 0)
			nk_die_err(1, &e);
	locked_sp = sp;
	atexit(release_locks);
	if (!o.dry) {
		if (nk_pwlock(o.root, etcfd, &pwfd, &e) < 0)
			nk_die_err(1, &e);
		locked_pw = 1;
		locked_pwfd = pwfd;
		for (int g = 0; g < 2; g++)
			if (sp[g].on && nk_sf_lock(&sp[g].file, 20, &e) < 0)
				nk_die_err(1, &e);
	}
	for (int g = 0; g < 2; g++) {
		uint32_t *ids;
		size_t nids;
		if (!sp[g].on)
			continue;
		if (nk_sf_read(&sp[g].file, &e) < 0)
			nk_die_err(1, &e);
		/* The owner index points into the lines: no realloc after it. */
		if (nk_sf_reserve(&sp[g].file, users.n) < 0)
			nk_die(1, "out of memory");
		oidx_build(&sp[g].idx, &sp[g].file);
		if (o.release)
			continue;
		/* Real ids are taken too: a uid in passwd is never subordinate. */
		nids = g ? db.ngroups : db.nusers;
		ids = malloc((nids + 1) * sizeof *ids);
		if (!ids)
			nk_die(1, "out of memory");
		for (size_t i = 0; i < nids; i++)
			ids[i] = g ? db.groups[i].gid : db.users[i].uid;
		if (nk_space_build(&sp[g].space, &sp[g].file, ids, nids) < 0)
			nk_die(1, "out of memory");
		free(ids);
	}

	/* useradd treats a missing file as "subordinate ids are off" and
	 * never creates one: neither do we, unless told to. */
	if (!o.release && !o.create) {
		int gone[2];
		for (int g = 0; g < 2; g++)
			gone[g] = sp[g].on && !sp[g].file.exists;
		if (gone[0] && gone[1])
			nk_die(1, "cannot allocate: %s and %s do not exist, which turns subordinate ids off (create them with --create)",
			       sp[0].path, sp[1].path);
		for (int g = 0; g < 2; g++)
			if (gone[g])
				nk_die(1, "cannot allocate: %s does not exist, which turns subordinate %ss off (create it with --create, or use %s)",
				       sp[g].path, g ? "gid" : "uid", g ? "--uid-only" : "--gid-only");
	}

	/* One pass over the users. */
	for (size_t i = 0; i < users.n; i++) {
		const struct nk_pwent *p = users.v[i];
		uint64_t have[2] = { UINT64_MAX, UINT64_MAX }, got[2];
		int need[2] = { 0, 0 };

		if (o.release) {
			for (int g = 0; g < 2; g++) {
				if (!sp[g].on)
					continue;
				release_user(&sp[g].idx, p, &sp[g].file);
			}
			continue;
		}
		for (int g = 0; g < 2; g++) {
			if (!sp[g].on)
				continue;
			have[g] = existing(&sp[g].idx, p, sp[g].pol.count);
			need[g] = have[g] == UINT64_MAX;
		}
		if (!need[0] && !need[1])
			continue;
		for (int g = 0; g < 2; g++) {
			int r;
			if (!need[g])
				continue;
			/* Prefer the start of the other range: uid and gid ranges
			 * of a user then begin at the same number. */
			r = nk_alloc(&sp[g].space, &sp[g].pol, p->uid,
				     g == 0 ? have[1] : (need[0] ? got[0] : have[0]), &got[g]);
			if (r < 0)
				die_alloc(r, &sp[g], p, ldpath);
			if (nk_sf_add(&sp[g].file, p->name, got[g], sp[g].pol.count) < 0)
				nk_die(1, "out of memory");
			note(&sp[g], p->name, got[g], sp[g].pol.count, 1);
		}
	}
	if (o.release)
		for (int g = 0; g < 2; g++)
			for (size_t k = 0; sp[g].on && k < sp[g].file.n; k++)
				if (sp[g].file.lines[k].removed)
					note(&sp[g], sp[g].file.lines[k].owner,
					     sp[g].file.lines[k].start, sp[g].file.lines[k].count, 0);

	if (!o.dry) {
		/* Both files or neither. */
		if (nk_sf_write2(sp[0].on ? &sp[0].file : NULL, sp[1].on ? &sp[1].file : NULL,
				 &e) < 0)
			nk_die_err(1, &e);
		release_locks();
	}
	print_changes(&o);
	for (int g = 0; g < 2; g++) {
		nk_sf_free(&sp[g].file);
		nk_space_free(&sp[g].space);
		free(sp[g].idx.v);
		free(sp[g].path);
	}
	free(users.v);
	free(changes);
	locked_sp = NULL;
	close(etcfd);
	nk_pwdb_free(&db);
	nk_logindefs_free(&ld);
	return 0;
}
