/* idmap-show - see and explain the uid and gid maps of a process
 *
 * Everything is read from /proc and the namespace files, as the caller sees
 * them: no privileges are needed for the caller's own processes. Nested
 * namespaces are shown level by level, from PID's namespace up to the
 * caller's (see lib/nsinfo.h for how the kernel presents the maps).
 *
 * Every mode returns a negative errno and fills struct nk_err; main
 * reports once (nk_die only in option parsing).
 */
#include <getopt.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <libsmartcols.h>
#include "idmap.h"
#include "nsinfo.h"
#include "num.h"
#include "proc.h"
#include "session.h"
#include "slice.h"
#include "subid.h"
#include "tool.h"

enum mode { MODE_TABLE, MODE_MAP, MODE_AUTO, MODE_TO_HOST, MODE_TO_NS, MODE_PS, MODE_FILE };

static int json;
static struct nk_slices slices;     /* the caller's live isolated slices */

/* The caller's slices (nsenter-user --isolate, idmap-apply --isolate), so
 * that an extent can name the session or process it belongs to. Nothing to
 * read (no folder, not the caller's) is not an error here: no names. */
static void load_slices(void)
{
	struct nk_err e;
	int dirfd;

	dirfd = nk_slice_dir_open(getuid(), 0, &e);
	if (dirfd < 0)
		return;
	if (nk_slices_load_live(dirfd, &slices, &e) < 0)
		slices.n = 0;
	close(dirfd);
}

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] [PID]\n"
	       " %s --auto [USER]\n"
	       "\n"
	       "Show the uid and gid maps of PID's user namespace (default: this process) and who owns the ids.\n"
	       "\n"
	       "Options:\n"
	       " -m, --map            print the maps as a map stream (input of idmap-apply --from)\n"
	       " -a, --auto [USER]    print the default rootless map of USER (default: you)\n"
	       " -t, --to-host ID     translate ID as PID's namespace sees it to your view\n"
	       " -n, --to-ns ID       translate ID as you see it to PID's namespace's view\n"
	       " -g, --gid            --to-host and --to-ns translate a gid (default: uid)\n"
	       " -p, --ps             the processes of PID's user namespace and their users\n"
	       " -f, --file PATH      the owner of PATH as you and as PID's namespace see it\n"
	       " -J, --json           print JSON\n"
	       "\n"
	       " -h, --help           display this help\n"
	       " -V, --version        display version\n"
	       "\n"
	       "For more details see idmap-show(1).\n", nk_progname, nk_progname);
	exit(0);
}

struct args {
	enum mode mode;
	enum nk_idtype t;
	const char *idarg, *path, *user;
	uint32_t id;
	pid_t pid;
};

static void set_mode(enum mode *m, enum mode want)
{
	if (*m != MODE_TABLE && *m != want)
		nk_usage_errorx("--map, --auto, --to-host, --to-ns, --ps and --file are mutually exclusive");
	*m = want;
}

/* --- smartcols output ------------------------------------------------------ */

/* Sticky, as lib/json.h's error: a line or a cell that could not be added
 * makes print_table() fail, so that the builders need no check each. */
static int table_oom;

struct col {
	const char *name;
	int json_type;
	int right;
};

static struct libscols_table *new_table(const char *name, const struct col *cols, size_t n)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb) {
		table_oom = 1;
		return NULL;
	}
	scols_table_set_name(tb, name);
	scols_table_enable_json(tb, json);
	scols_table_enable_minout(tb, 1);
	for (size_t i = 0; i < n; i++) {
		struct libscols_column *cl = scols_table_new_column(tb, cols[i].name, 0,
								   cols[i].right ? SCOLS_FL_RIGHT : 0);

		if (!cl)
			table_oom = 1;
		else if (json)
			scols_column_set_json_type(cl, cols[i].json_type);
	}
	return tb;
}

static void cell(struct libscols_line *ln, size_t i, const char *fmt, ...) NK_PRINTF(3, 4);
static void cell(struct libscols_line *ln, size_t i, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int r;

	if (!ln)
		return;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0 || scols_line_refer_data(ln, i, s) < 0) {
		if (r >= 0)
			free(s);
		table_oom = 1;
	}
}

static struct libscols_line *new_line(struct libscols_table *tb)
{
	struct libscols_line *ln = tb ? scols_table_new_line(tb, NULL) : NULL;

	if (!ln)
		table_oom = 1;
	return ln;
}

static int print_table(struct libscols_table *tb, struct nk_err *e)
{
	if (tb && !table_oom)
		scols_print_table(tb);
	scols_unref_table(tb);
	return table_oom ? nk_errf(e, ENOMEM, "out of memory") : 0;
}

static void range_text(char *buf, size_t len, uint32_t first, uint32_t count)
{
	if (count == 1)
		snprintf(buf, len, "%u", first);
	else
		snprintf(buf, len, "%u-%llu", first, (unsigned long long)first + count - 1);
}

/* --- user and group names ---------------------------------------------------- */

static void host_name(enum nk_idtype t, uint32_t id, char *buf, size_t len)
{
	if (t == NK_UID) {
		struct passwd *pw = getpwuid(id);

		if (pw) {
			snprintf(buf, len, "%s", pw->pw_name);
			return;
		}
	} else {
		struct group *gr = getgrgid(id);

		if (gr) {
			snprintf(buf, len, "%s", gr->gr_name);
			return;
		}
	}
	snprintf(buf, len, "%u", id);
}

/* The name in the namespace: the process's own /etc/passwd (its root), as
 * podman top does; the number when there is none. */
static void ns_name(pid_t pid, enum nk_idtype t, uint32_t id, char *buf, size_t len)
{
	static const char *const db[2] = { "passwd", "group" };
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/root/etc/%s", (int)pid, db[t]);
	if (nk_name_in_file(path, id, buf, len) < 0)
		snprintf(buf, len, "%u", id);
}

/* --- the table of every level ------------------------------------------------ */

/* The first three cells of a row: level, namespace, id type. */
static struct libscols_line *level_row(struct libscols_table *tb, size_t level,
				       const struct nk_nslevel *l, enum nk_idtype t)
{
	struct libscols_line *ln = new_line(tb);

	cell(ln, 0, "%zu", level);
	cell(ln, 1, "%llu", (unsigned long long)l->ino);
	cell(ln, 2, "%s", nk_idtype_name(t));
	return ln;
}

/* A level whose map of type T is not known or not written. */
static void show_no_map(struct libscols_table *tb, size_t level, const struct nk_nslevel *l,
			enum nk_idtype t)
{
	struct libscols_line *ln = level_row(tb, level, l, t);

	for (size_t k = 3; k <= 6; k++)
		cell(ln, k, json ? "null" : "-");
	cell(ln, 7, "%s", !l->have_maps ? "unknown (no process found in this namespace)"
				     : "unmapped (no map written yet)");
}

/* Who owns the host ids of extent H: nk_range_owner(), and the session or
 * process whose isolated slice they are. */
static void extent_owner(const struct nk_nschain *c, enum nk_idtype t, const struct nk_extent *h,
			 char *owner, size_t len)
{
	const struct nk_slice *sl;
	char who[NK_SESSION_NAME_MAX + 16];
	size_t ol;

	nk_range_owner(t, h->outer, h->count, owner, len);
	if (c->self || !(sl = nk_slice_lookup(&slices, t, h->outer, h->count)))
		return;
	ol = strlen(owner);
	nk_slice_owner(sl, who, sizeof who);
	snprintf(owner + ol, len - ol, ", slice of %s", who);
}

/* The rows of extent H of level I: the same ids in the parent's view, split
 * where the parent's own map splits them. */
static void show_extent(struct libscols_table *tb, const struct nk_nschain *c, size_t i,
			enum nk_idtype t, const struct nk_extent *h)
{
	const struct nk_nslevel *l = &c->lv[i], *up = i + 1 < c->n ? &c->lv[i + 1] : NULL;
	size_t level = c->self ? 0 : c->n - i;
	struct nk_map one, sub;
	char owner[512], a[32], b[32], d[32];

	nk_map_init(&one);
	nk_map_init(&sub);
	if (nk_map_add(&one, h->inner, h->outer, h->count) < 0)
		table_oom = 1;
	if ((!up || !up->have_maps || nk_map_rebase(&one, &up->host.map[t], &sub) < 0) &&
	    nk_map_copy(&sub, &one) < 0)
		table_oom = 1;
	extent_owner(c, t, h, owner, sizeof owner);
	for (size_t y = 0; y < sub.n; y++) {
		const struct nk_extent *s = &sub.ext[y];
		uint32_t hf = h->outer + (s->inner - h->inner);
		struct libscols_line *ln = level_row(tb, level, l, t);

		if (json) {
			cell(ln, 3, "%u", s->inner);
			cell(ln, 4, "%u", s->outer);
			cell(ln, 6, "%u", hf);
		} else {
			range_text(a, sizeof a, s->inner, s->count);
			range_text(b, sizeof b, s->outer, s->count);
			range_text(d, sizeof d, hf, s->count);
			cell(ln, 3, "%s", a);
			cell(ln, 4, "%s", b);
			cell(ln, 6, "%s", d);
		}
		cell(ln, 5, "%u", s->count);
		cell(ln, 7, "%s", owner);
	}
	nk_map_free(&one);
	nk_map_free(&sub);
}

static int show_table(const struct nk_nschain *c, struct nk_err *e)
{
	static const struct col cols[] = {
		{ "LEVEL", SCOLS_JSON_NUMBER, 1 }, { "USERNS", SCOLS_JSON_NUMBER, 1 },
		{ "TYPE", SCOLS_JSON_STRING, 0 }, { "INSIDE", SCOLS_JSON_NUMBER, 1 },
		{ "OUTSIDE", SCOLS_JSON_NUMBER, 1 }, { "COUNT", SCOLS_JSON_NUMBER, 1 },
		{ "HOST", SCOLS_JSON_NUMBER, 1 }, { "OWNER", SCOLS_JSON_STRING, 0 },
	};
	struct libscols_table *tb = new_table("maps", cols, NK_ARRAY_SIZE(cols));

	for (size_t i = 0; i < c->n; i++) {
		const struct nk_nslevel *l = &c->lv[i];

		for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
			const struct nk_map *host = &l->host.map[t];

			if (!l->have_maps || host->n == 0) {
				show_no_map(tb, c->self ? 0 : c->n - i, l, t);
				continue;
			}
			for (size_t x = 0; x < host->n; x++)
				show_extent(tb, c, i, t, &host->ext[x]);
		}
	}
	return print_table(tb, e);
}

/* --- the other modes ----------------------------------------------------------- */

static int show_map(const struct nk_nschain *c, pid_t pid, struct nk_err *e)
{
	if (c->lv[0].host.map[NK_UID].n == 0 && c->lv[0].host.map[NK_GID].n == 0)
		return nk_errf(e, ENOENT, "process %d has no uid or gid map yet (write one with 'idmap-apply %d')",
			       (int)pid, (int)pid);
	printf("# maps of process %d (user namespace %llu)\n", (int)pid,
	       (unsigned long long)c->lv[0].ino);
	nk_mapstream_print(stdout, &c->lv[0].host);
	return 0;
}

static int show_translate(const struct nk_nschain *c, pid_t pid, enum nk_idtype t, uint32_t id,
			  int to_host, struct nk_err *e)
{
	static const struct col cols[] = {
		{ "TYPE", SCOLS_JSON_STRING, 0 }, { "INSIDE", SCOLS_JSON_NUMBER, 1 },
		{ "HOST", SCOLS_JSON_NUMBER, 1 }, { "MAPPED", SCOLS_JSON_BOOLEAN, 0 },
	};
	const struct nk_map *m = &c->lv[0].host.map[t];
	struct libscols_table *tb;
	struct libscols_line *ln;
	uint32_t out;
	int mapped;

	if (!c->lv[0].have_maps || m->n == 0)
		return nk_errf(e, ENOENT, "process %d has no %s map yet: every %s is unmapped", (int)pid,
			       nk_idtype_name(t), nk_idtype_name(t));
	if (to_host) {
		mapped = nk_map_to_outer(m, id, &out) == 0;
		if (!mapped)
			return nk_errf(e, EINVAL, "%s %u is not mapped in the user namespace of process %d: the kernel "
				       "refuses it there (EINVAL, \"invalid argument\") (see 'idmap-show %d')",
				       nk_idtype_name(t), id, (int)pid, (int)pid);
	} else {
		mapped = nk_map_to_inner(m, id, &out) == 0;
		if (!mapped)
			out = nk_overflow_id(t);
	}
	if (!json) {
		printf("%u\n", out);
		return 0;
	}
	tb = new_table("ids", cols, NK_ARRAY_SIZE(cols));
	ln = new_line(tb);
	cell(ln, 0, "%s", nk_idtype_name(t));
	cell(ln, 1, "%u", to_host ? id : out);
	cell(ln, 2, "%u", to_host ? out : id);
	cell(ln, 3, "%s", mapped ? "1" : "0");   /* smartcols: "0" is false */
	return print_table(tb, e);
}

static int show_ps(const struct nk_nschain *c, struct nk_err *e)
{
	static const struct col cols[] = {
		{ "PID", SCOLS_JSON_NUMBER, 1 }, { "USER", SCOLS_JSON_STRING, 0 },
		{ "HUSER", SCOLS_JSON_STRING, 0 }, { "COMMAND", SCOLS_JSON_STRING, 0 },
	};
	const struct nk_map *m = &c->lv[0].host.map[NK_UID];
	struct libscols_table *tb;
	NK_AUTOFREE pid_t *pids = NULL;
	size_t n;

	if (nk_ns_pids(c->lv[0].ino, &pids, &n, e) < 0)
		return -e->code;
	tb = new_table("processes", cols, NK_ARRAY_SIZE(cols));
	if (tb)
		scols_column_set_flags(scols_table_get_column(tb, 3), SCOLS_FL_NOEXTREMES);
	for (size_t i = 0; i < n; i++) {
		uid_t euid;
		uint32_t in, hid;
		char user[256], huser[256], cmd[4096];
		struct libscols_line *ln;
		struct nk_err gone;

		if (nk_proc_ids(pids[i], NULL, &euid, NULL, NULL, &gone) < 0)
			continue;           /* gone meanwhile */
		if (nk_proc_cmdline(pids[i], cmd, sizeof cmd) < 0)
			continue;
		if (c->self) {
			/* Our own namespace: ids as we see them, host ids one level up. */
			in = euid;
			if (nk_map_to_outer(m, euid, &hid) < 0)
				hid = euid;
		} else {
			hid = euid;
			if (nk_map_to_inner(m, euid, &in) < 0)
				in = nk_overflow_id(NK_UID);
		}
		ns_name(pids[i], NK_UID, in, user, sizeof user);
		host_name(NK_UID, hid, huser, sizeof huser);
		ln = new_line(tb);
		cell(ln, 0, "%d", (int)pids[i]);
		cell(ln, 1, "%s", user);
		cell(ln, 2, "%s", huser);
		cell(ln, 3, "%s", cmd);
	}
	return print_table(tb, e);
}

static int show_file(const struct nk_nschain *c, pid_t pid, const char *path, struct nk_err *e)
{
	static const struct col cols[] = {
		{ "TYPE", SCOLS_JSON_STRING, 0 }, { "HOST", SCOLS_JSON_NUMBER, 1 },
		{ "INSIDE", SCOLS_JSON_NUMBER, 1 }, { "NOTE", SCOLS_JSON_STRING, 0 },
	};
	struct libscols_table *tb;
	struct stat st;

	if (stat(path, &st) < 0)
		return nk_syserr(e, errno, "cannot read the owner of '%s'", path);
	tb = new_table("owner", cols, NK_ARRAY_SIZE(cols));
	const uint32_t owner[2] = { st.st_uid, st.st_gid };
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *m = &c->lv[0].host.map[t];
		uint32_t id = owner[t], in;
		const char *tn = nk_idtype_name(t);
		struct libscols_line *ln = new_line(tb);
		char hn[256], note[512];

		host_name(t, id, hn, sizeof hn);
		if (c->self) {
			in = id;
			snprintf(note, sizeof note, "process %d shares your user namespace", (int)pid);
		} else if (nk_map_to_inner(m, id, &in) == 0) {
			snprintf(note, sizeof note, "%s %u (%s) is mapped to %u in the namespace", tn, id, hn, in);
		} else {
			in = nk_overflow_id(t);
			snprintf(note, sizeof note, "%s %u (%s) is not mapped: the namespace sees the overflow %s %u "
				 "(nobody) and cannot change the file's owner", tn, id, hn, tn, in);
		}
		cell(ln, 0, "%s", tn);
		if (json)
			cell(ln, 1, "%u", id);
		else
			cell(ln, 1, "%u (%s)", id, hn);
		cell(ln, 2, "%u", in);
		cell(ln, 3, "%s", note);
	}
	return print_table(tb, e);
}

static int auto_table(const struct nk_maps *maps, struct nk_err *e)
{
	static const struct col cols[] = {
		{ "TYPE", SCOLS_JSON_STRING, 0 }, { "INSIDE", SCOLS_JSON_NUMBER, 1 },
		{ "OUTSIDE", SCOLS_JSON_NUMBER, 1 }, { "COUNT", SCOLS_JSON_NUMBER, 1 },
	};
	struct libscols_table *tb = new_table("maps", cols, NK_ARRAY_SIZE(cols));

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *m = &maps->map[t];

		for (size_t i = 0; i < m->n; i++) {
			struct libscols_line *ln = new_line(tb);

			cell(ln, 0, "%s", nk_idtype_name(t));
			cell(ln, 1, "%u", m->ext[i].inner);
			cell(ln, 2, "%u", m->ext[i].outer);
			cell(ln, 3, "%u", m->ext[i].count);
		}
	}
	return print_table(tb, e);
}

static int show_auto(const char *user, struct nk_err *e)
{
	struct nk_maps maps = { 0 };
	struct passwd *pw;
	uint32_t id;
	char name[256];
	int r = 0;

	if (user) {
		pw = getpwnam(user);
		if (!pw && nk_parse_id(user, &id) == 0)
			pw = getpwuid(id);
		if (!pw)
			return nk_errf(e, ENOENT, "no user '%s'", user);
	} else {
		pw = getpwuid(getuid());
		if (!pw)
			return nk_errf(e, ENOENT, "your uid %u has no name in the passwd database", getuid());
	}
	snprintf(name, sizeof name, "%s", pw->pw_name);
	if (nk_maps_build(NK_MAPS_AUTO, name, pw->pw_uid, pw->pw_gid, NULL, &maps, e) < 0) {
		nk_maps_free(&maps);
		return -e->code;
	}
	if (json) {
		r = auto_table(&maps, e);
	} else {
		printf("# default rootless map of '%s': %s to 0, then every subordinate range\n", name, name);
		nk_mapstream_print(stdout, &maps);
	}
	nk_maps_free(&maps);
	return r;
}

/* --- main ---------------------------------------------------------------------- */

static void parse_opts(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "map", no_argument, NULL, 'm' },
		{ "auto", no_argument, NULL, 'a' },
		{ "to-host", required_argument, NULL, 't' },
		{ "to-ns", required_argument, NULL, 'n' },
		{ "gid", no_argument, NULL, 'g' },
		{ "ps", no_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct nk_err e;
	int c;

	while ((c = getopt_long(argc, argv, "mat:n:gpf:JhV", opts, NULL)) != -1) {
		switch (c) {
		case 'm': set_mode(&a->mode, MODE_MAP); break;
		case 'a': set_mode(&a->mode, MODE_AUTO); break;
		case 't': set_mode(&a->mode, MODE_TO_HOST); a->idarg = optarg; break;
		case 'n': set_mode(&a->mode, MODE_TO_NS); a->idarg = optarg; break;
		case 'g': a->t = NK_GID; break;
		case 'p': set_mode(&a->mode, MODE_PS); break;
		case 'f': set_mode(&a->mode, MODE_FILE); a->path = optarg; break;
		case 'J': json = 1; break;
		default: nk_std_option_or_err(c, usage);
		}
	}
	if (argc - optind > 1)
		nk_usage_errorx("too many arguments: only one %s", a->mode == MODE_AUTO ? "USER" : "PID");
	if (a->t == NK_GID && a->mode != MODE_TO_HOST && a->mode != MODE_TO_NS)
		nk_usage_errorx("--gid goes with --to-host or --to-ns");
	if (a->mode == MODE_AUTO) {
		a->user = optind < argc ? argv[optind] : NULL;
		return;
	}
	if (a->idarg && nk_parse_id_e(a->idarg, &a->id, nk_idtype_name(a->t), &e) < 0)
		nk_die_err(1, &e);
	if (optind < argc && nk_parse_pid_e(argv[optind], &a->pid, &e) < 0)
		nk_die_err(1, &e);
}

/* Every mode but --auto works on PID's chain of namespaces. */
static int show_pid(struct args *a, struct nk_err *e)
{
	struct nk_nschain chain;
	int r;

	if (nk_nschain_read(a->pid, &chain, e) < 0)
		return -e->code;
	if (a->pid == 0)
		a->pid = getpid();
	switch (a->mode) {
	case MODE_MAP:
		r = show_map(&chain, a->pid, e);
		break;
	case MODE_TO_HOST:
	case MODE_TO_NS:
		r = show_translate(&chain, a->pid, a->t, a->id, a->mode == MODE_TO_HOST, e);
		break;
	case MODE_PS:
		r = show_ps(&chain, e);
		break;
	case MODE_FILE:
		r = show_file(&chain, a->pid, a->path, e);
		break;
	default:
		load_slices();
		r = show_table(&chain, e);
		nk_slices_free(&slices);
	}
	nk_nschain_free(&chain);
	return r;
}

int main(int argc, char **argv)
{
	struct args a = { .mode = MODE_TABLE, .t = NK_UID };
	struct nk_err e;
	int r;

	nk_tool_init("idmap-show", argv);
	parse_opts(argc, argv, &a);
	r = a.mode == MODE_AUTO ? show_auto(a.user, &e) : show_pid(&a, &e);
	if (r < 0) {
		nk_err_print(&e);
		return 1;
	}
	return 0;
}
