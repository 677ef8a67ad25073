/* idmap-show - see and explain the uid and gid maps of a process
 *
 * Everything is read from /proc and the namespace files, as the caller sees
 * them: no privileges are needed for the caller's own processes. Nested
 * namespaces are shown level by level, from PID's namespace up to the
 * caller's (see lib/nsinfo.h for how the kernel presents the maps).
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

static void set_mode(enum mode *m, enum mode want)
{
	if (*m != MODE_TABLE && *m != want)
		nk_usage_errorx("--map, --auto, --to-host, --to-ns, --ps and --file are mutually exclusive");
	*m = want;
}

/* --- smartcols output ------------------------------------------------------ */

struct col {
	const char *name;
	int json_type;
	int right;
};

static struct libscols_table *new_table(const char *name, const struct col *cols, size_t n)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		nk_die(1, "out of memory");
	scols_table_set_name(tb, name);
	scols_table_enable_json(tb, json);
	scols_table_enable_minout(tb, 1);
	for (size_t i = 0; i < n; i++) {
		struct libscols_column *cl = scols_table_new_column(tb, cols[i].name, 0,
								   cols[i].right ? SCOLS_FL_RIGHT : 0);

		if (!cl)
			nk_die(1, "out of memory");
		if (json)
			scols_column_set_json_type(cl, cols[i].json_type);
	}
	return tb;
}

static void cell(struct libscols_line *ln, size_t i, const char *fmt, ...) NK_PRINTF(3, 4);
static void cell(struct libscols_line *ln, size_t i, const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		nk_die(1, "out of memory");
	va_end(ap);
	if (scols_line_refer_data(ln, i, s) < 0)
		nk_die(1, "out of memory");
}

static struct libscols_line *new_line(struct libscols_table *tb)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);

	if (!ln)
		nk_die(1, "out of memory");
	return ln;
}

static void print_table(struct libscols_table *tb)
{
	scols_print_table(tb);
	scols_unref_table(tb);
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
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/root/etc/%s", (int)pid, t == NK_UID ? "passwd" : "group");
	if (nk_name_in_file(path, id, buf, len) < 0)
		snprintf(buf, len, "%u", id);
}

/* --- modes ----------------------------------------------------------------- */

static void show_table(const struct nk_nschain *c)
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
		size_t level = c->self ? 0 : c->n - i;

		for (int t = NK_UID; t <= NK_GID; t++) {
			const struct nk_map *host = nk_maps_get((struct nk_maps *)&l->host, (enum nk_idtype)t);

			if (!l->have_maps || host->n == 0) {
				struct libscols_line *ln = new_line(tb);

				cell(ln, 0, "%zu", level);
				cell(ln, 1, "%llu", (unsigned long long)l->ino);
				cell(ln, 2, "%s", nk_idtype_name((enum nk_idtype)t));
				for (int k = 3; k <= 6; k++)
					cell(ln, (size_t)k, json ? "null" : "-");
				cell(ln, 7, "%s", !l->have_maps ? "unknown (no process found in this namespace)"
							    : "unmapped (no map written yet)");
				continue;
			}
			for (size_t x = 0; x < host->n; x++) {
				const struct nk_extent *h = &host->ext[x];
				struct nk_map one, sub;
				char owner[512], a[32], b[32], d[32];

				/* The same ids in the parent's view: split where its map splits. */
				nk_map_init(&one);
				nk_map_add(&one, h->inner, h->outer, h->count);
				if (i + 1 >= c->n || !c->lv[i + 1].have_maps ||
				    nk_map_rebase(&one, nk_maps_get((struct nk_maps *)&c->lv[i + 1].host,
								    (enum nk_idtype)t), &sub) < 0)
					nk_map_copy(&sub, &one);
				nk_range_owner((enum nk_idtype)t, h->outer, h->count, owner, sizeof owner);
				if (!c->self) {
					const struct nk_slice *sl = nk_slice_lookup(&slices, (enum nk_idtype)t,
										    h->outer, h->count);

					if (sl) {
						char who[NK_SESSION_NAME_MAX + 16];
						size_t ol = strlen(owner);

						nk_slice_owner(sl, who, sizeof who);
						snprintf(owner + ol, sizeof owner - ol, ", slice of %s", who);
					}
				}
				for (size_t y = 0; y < sub.n; y++) {
					const struct nk_extent *s = &sub.ext[y];
					uint32_t hf = h->outer + (s->inner - h->inner);
					struct libscols_line *ln = new_line(tb);

					cell(ln, 0, "%zu", level);
					cell(ln, 1, "%llu", (unsigned long long)l->ino);
					cell(ln, 2, "%s", nk_idtype_name((enum nk_idtype)t));
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
		}
	}
	print_table(tb);
}

static int show_translate(const struct nk_nschain *c, pid_t pid, enum nk_idtype t, uint32_t id, int to_host)
{
	static const struct col cols[] = {
		{ "TYPE", SCOLS_JSON_STRING, 0 }, { "INSIDE", SCOLS_JSON_NUMBER, 1 },
		{ "HOST", SCOLS_JSON_NUMBER, 1 }, { "MAPPED", SCOLS_JSON_BOOLEAN, 0 },
	};
	const struct nk_map *m = t == NK_UID ? &c->lv[0].host.map[NK_UID] : &c->lv[0].host.map[NK_GID];
	uint32_t out;
	int mapped;

	if (!c->lv[0].have_maps || m->n == 0)
		nk_die(1, "process %d has no %s map yet: every %s is unmapped", (int)pid,
		       nk_idtype_name(t), nk_idtype_name(t));
	if (to_host) {
		mapped = nk_map_to_outer(m, id, &out) == 0;
		if (!mapped)
			nk_die(1, "%s %u is not mapped in the user namespace of process %d: the kernel "
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
	{
		struct libscols_table *tb = new_table("ids", cols, NK_ARRAY_SIZE(cols));
		struct libscols_line *ln = new_line(tb);

		cell(ln, 0, "%s", nk_idtype_name(t));
		cell(ln, 1, "%u", to_host ? id : out);
		cell(ln, 2, "%u", to_host ? out : id);
		cell(ln, 3, "%s", mapped ? "1" : "0");   /* smartcols: "0" is false */
		print_table(tb);
	}
	return 0;
}

static void show_ps(const struct nk_nschain *c)
{
	static const struct col cols[] = {
		{ "PID", SCOLS_JSON_NUMBER, 1 }, { "USER", SCOLS_JSON_STRING, 0 },
		{ "HUSER", SCOLS_JSON_STRING, 0 }, { "COMMAND", SCOLS_JSON_STRING, 0 },
	};
	struct libscols_table *tb = new_table("processes", cols, NK_ARRAY_SIZE(cols));
	const struct nk_map *m = &c->lv[0].host.map[NK_UID];
	pid_t *pids;
	size_t n;
	struct nk_err e;

	if (nk_ns_pids(c->lv[0].ino, &pids, &n, &e) < 0)
		nk_die_err(1, &e);
	scols_column_set_flags(scols_table_get_column(tb, 3), SCOLS_FL_NOEXTREMES);
	for (size_t i = 0; i < n; i++) {
		uid_t euid;
		uint32_t in, hid;
		char user[256], huser[256], cmd[4096];
		struct libscols_line *ln;

		if (nk_proc_ids(pids[i], NULL, &euid, NULL, NULL, &e) < 0)
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
	free(pids);
	print_table(tb);
}

static int show_file(const struct nk_nschain *c, pid_t pid, const char *path)
{
	static const struct col cols[] = {
		{ "TYPE", SCOLS_JSON_STRING, 0 }, { "HOST", SCOLS_JSON_NUMBER, 1 },
		{ "INSIDE", SCOLS_JSON_NUMBER, 1 }, { "NOTE", SCOLS_JSON_STRING, 0 },
	};
	struct libscols_table *tb;
	struct stat st;

	if (stat(path, &st) < 0)
		nk_die(1, "cannot read the owner of '%s': %s", path, strerror(errno));
	tb = new_table("owner", cols, NK_ARRAY_SIZE(cols));
	for (int t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *m = t == NK_UID ? &c->lv[0].host.map[NK_UID] : &c->lv[0].host.map[NK_GID];
		uint32_t id = t == NK_UID ? st.st_uid : st.st_gid, in;
		const char *tn = nk_idtype_name((enum nk_idtype)t);
		struct libscols_line *ln = new_line(tb);
		char hn[256], note[512];

		host_name((enum nk_idtype)t, id, hn, sizeof hn);
		if (c->self) {
			in = id;
			snprintf(note, sizeof note, "process %d shares your user namespace", (int)pid);
		} else if (nk_map_to_inner(m, id, &in) == 0) {
			snprintf(note, sizeof note, "%s %u (%s) is mapped to %u in the namespace", tn, id, hn, in);
		} else {
			in = nk_overflow_id((enum nk_idtype)t);
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
	print_table(tb);
	return 0;
}

static int show_auto(const char *user)
{
	struct nk_maps maps = { 0 };
	struct passwd *pw;
	struct nk_err e;
	uint32_t id;
	char name[256];

	if (user) {
		pw = getpwnam(user);
		if (!pw && nk_parse_id(user, &id) == 0)
			pw = getpwuid(id);
		if (!pw)
			nk_die(1, "no user '%s'", user);
	} else {
		pw = getpwuid(getuid());
		if (!pw)
			nk_die(1, "your uid %u has no name in the passwd database", getuid());
	}
	snprintf(name, sizeof name, "%s", pw->pw_name);
	if (nk_maps_build(NK_MAPS_AUTO, name, pw->pw_uid, pw->pw_gid, NULL, &maps, &e) < 0)
		nk_die_err(1, &e);
	if (json) {
		static const struct col cols[] = {
			{ "TYPE", SCOLS_JSON_STRING, 0 }, { "INSIDE", SCOLS_JSON_NUMBER, 1 },
			{ "OUTSIDE", SCOLS_JSON_NUMBER, 1 }, { "COUNT", SCOLS_JSON_NUMBER, 1 },
		};
		struct libscols_table *tb = new_table("maps", cols, NK_ARRAY_SIZE(cols));

		for (int t = NK_UID; t <= NK_GID; t++) {
			const struct nk_map *m = nk_maps_get(&maps, (enum nk_idtype)t);

			for (size_t i = 0; i < m->n; i++) {
				struct libscols_line *ln = new_line(tb);

				cell(ln, 0, "%s", nk_idtype_name((enum nk_idtype)t));
				cell(ln, 1, "%u", m->ext[i].inner);
				cell(ln, 2, "%u", m->ext[i].outer);
				cell(ln, 3, "%u", m->ext[i].count);
			}
		}
		print_table(tb);
	} else {
		printf("# default rootless map of '%s': %s to 0, then every subordinate range\n", name, name);
		nk_mapstream_print(stdout, &maps);
	}
	nk_maps_free(&maps);
	return 0;
}

int main(int argc, char **argv)
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
	enum mode mode = MODE_TABLE;
	enum nk_idtype t = NK_UID;
	const char *idarg = NULL, *path = NULL;
	struct nk_nschain chain;
	struct nk_err e;
	uint32_t id = 0;
	pid_t pid = 0;
	int c, r = 0;

	nk_tool_init("idmap-show", argv);
	while ((c = getopt_long(argc, argv, "mat:n:gpf:JhV", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			set_mode(&mode, MODE_MAP);
			break;
		case 'a':
			set_mode(&mode, MODE_AUTO);
			break;
		case 't':
			set_mode(&mode, MODE_TO_HOST);
			idarg = optarg;
			break;
		case 'n':
			set_mode(&mode, MODE_TO_NS);
			idarg = optarg;
			break;
		case 'g':
			t = NK_GID;
			break;
		case 'p':
			set_mode(&mode, MODE_PS);
			break;
		case 'f':
			set_mode(&mode, MODE_FILE);
			path = optarg;
			break;
		case 'J':
			json = 1;
			break;
		case 'h':
			usage();
		case 'V':
			nk_print_version();
		default:
			nk_usage_error();
		}
	}
	if (argc - optind > 1)
		nk_usage_errorx("too many arguments: only one %s", mode == MODE_AUTO ? "USER" : "PID");
	if (t == NK_GID && mode != MODE_TO_HOST && mode != MODE_TO_NS)
		nk_usage_errorx("--gid goes with --to-host or --to-ns");
	if (mode == MODE_AUTO)
		return show_auto(optind < argc ? argv[optind] : NULL);
	if (idarg && nk_parse_id_e(idarg, &id, nk_idtype_name(t), &e) < 0)
		nk_die_err(1, &e);
	if (optind < argc && nk_parse_pid_e(argv[optind], &pid, &e) < 0)
		nk_die_err(1, &e);
	if (nk_nschain_read(pid, &chain, &e) < 0)
		nk_die_err(1, &e);
	if (pid == 0)
		pid = getpid();

	switch (mode) {
	case MODE_MAP:
		if (chain.lv[0].host.map[NK_UID].n == 0 && chain.lv[0].host.map[NK_GID].n == 0) {
			nk_nschain_free(&chain);
			nk_die(1, "process %d has no uid or gid map yet (write one with 'idmap-apply %d')",
			       (int)pid, (int)pid);
		}
		printf("# maps of process %d (user namespace %llu)\n", (int)pid,
		       (unsigned long long)chain.lv[0].ino);
		nk_mapstream_print(stdout, &chain.lv[0].host);
		break;
	case MODE_TO_HOST:
	case MODE_TO_NS:
		r = show_translate(&chain, pid, t, id, mode == MODE_TO_HOST);
		break;
	case MODE_PS:
		show_ps(&chain);
		break;
	case MODE_FILE:
		r = show_file(&chain, pid, path);
		break;
	default:
		load_slices();
		show_table(&chain);
		nk_slices_free(&slices);
	}
	nk_nschain_free(&chain);
	return r;
}
