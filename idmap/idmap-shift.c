/* idmap-shift - shift the owners of a tree from one id map to another
 *
 * What containers/storage does the first time an image is used under a new
 * mapping, without what it loses: setuid/setgid bits and file capabilities
 * (chown clears them, even as root, even to the same owner: read before,
 * restored after), the ids in POSIX ACLs and in v3 capabilities (shifted
 * like the owners), and owners outside the map (refused with nothing
 * changed, unless --unmapped says otherwise).
 *
 * Root runs it over trees that users fill. Each PATH is opened once, with
 * no symlink on the way; the walk (lib/walk.c) then hands every entry over
 * as a descriptor of its own, from a nodev copy of the tree's mounts, and
 * every change is made through that descriptor. This file: options and
 * maps; the rest is in idmap-shift/ (shift.h says which file does what).
 */
#include <fcntl.h>
#include <getopt.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include "idmap.h"
#include "idshift.h"
#include "nsinfo.h"
#include "num.h"
#include "proc.h"
#include "shift.h"
#include "subid.h"
#include "tool.h"

#define OVERLAYFS_MAGIC 0x794c7630

enum { OPT_TO_PID = 256, OPT_FROM_PID, OPT_UNMAPPED, OPT_CHECK, OPT_MOUNT, OPT_PROGRESS,
       OPT_NO_PROGRESS, OPT_JSON, OPT_STATE_DIR, OPT_OUTSIDE_LINKS };

/* The run: what the options ask for, and the state of the tree being done. */
static struct ish_run run = { .unmapped = UNMAPPED_FAIL, .statefd = -1, .jfd = -1 };

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] PATH...\n"
	       "\n"
	       "Shift the owners of the trees at PATH from one id map to another.\n"
	       "\n"
	       "Options:\n"
	       " -t, --to FILE|-             the map the tree must end up in (map stream)\n"
	       " -u, --uid INNER:OUTER:COUNT a uid extent of --to (repeatable)\n"
	       " -g, --gid INNER:OUTER:COUNT a gid extent of --to (repeatable)\n"
	       " -m, --map INNER:OUTER:COUNT a uid and gid extent of --to (repeatable)\n"
	       "     --to-pid PID            --to is the maps of PID's user namespace\n"
	       " -a, --auto[=USER]           --to is the default rootless map of USER (you)\n"
	       " -f, --from FILE|-           the map the tree is in now (default: identity)\n"
	       "     --from-pid PID          --from is the maps of PID's user namespace\n"
	       " -r, --reverse               swap --from and --to\n"
	       "     --unmapped fail|keep|overflow\n"
	       "                             an owner outside --from: refuse before anything\n"
	       "                             changes (default), leave it, or the overflow id\n"
	       " -n, --dry-run               report what would change; change nothing\n"
	       "     --check                 exit 0 when every id lies inside --from\n"
	       " -j, --jobs N                worker threads (default: the CPUs usable)\n"
	       " -x, --one-file-system       never cross into another mount (always)\n"
	       "     --mount DEST            no chown: DEST becomes an idmapped bind mount\n"
	       "     --progress              progress on stderr (default: when it is a terminal)\n"
	       "     --no-progress           no progress\n"
	       "     --json                  print a JSON summary\n"
	       "     --outside-links keep|shift\n"
	       "                             a file with names outside the tree: leave it\n"
	       "                             (default) or shift it with the tree\n"
	       "     --state-dir DIR         where the journal of a running shift is kept\n"
	       "\n"
	       " -h, --help                  display this help\n"
	       " -V, --version               display version\n"
	       "\n"
	       "For more details see idmap-shift(1).\n", nk_progname);
	exit(0);
}

/* A struct nk_maps freed when it goes out of scope. */
static void maps_freep(struct nk_maps *m)
{
	nk_maps_free(m);
}
#define AUTOMAPS __attribute__((cleanup(maps_freep)))

/* Our own namespace's maps as FROM maps: the kernel shows them towards
 * the parent; here their ids are themselves. */
static int own_identity(struct nk_maps *m, struct nk_err *e)
{
	AUTOMAPS struct nk_maps own = { 0 };

	if (nk_maps_read_proc(0, &own, e) < 0)
		return -e->code;
	if (nk_maps_identity_of(&own, m) < 0)
		return nk_errf(e, ENOMEM, "out of memory");
	return 0;
}

/* The maps M of PID (read for OPT) are written, and in this namespace's ids. */
static int check_pid_maps(const struct nk_maps *m, pid_t pid, const char *opt, struct nk_err *e)
{
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		const struct nk_map *x = &m->map[t];

		if (x->n == 0)
			return nk_errf(e, ENOENT, "process %d has no %s map yet (%s needs a namespace with its maps written)",
				       (int)pid, nk_idtype_name(t), opt);
		for (size_t i = 0; i < x->n; i++)
			if (x->ext[i].outer == 4294967295U)
				return nk_errf(e, ERANGE, "the %s map of process %d maps ids that are not mapped in this user namespace (run it where they are)",
					       nk_idtype_name(t), (int)pid);
	}
	return 0;
}

/* Maps of a process's user namespace, in this namespace's ids. */
static int maps_of_pid(const char *arg, const char *opt, struct nk_maps *m, struct nk_err *e)
{
	pid_t pid;
	uint64_t self, other;

	if (nk_parse_pid_e(arg, &pid, e) < 0)
		return -e->code;
	if (nk_proc_ns_ino(0, "user", &self, e) < 0)
		return nk_err_prefix(e, "%s %d", opt, (int)pid);
	/* A process we may not inspect (a sibling namespace's root) is not in
	 * our namespace: our own processes are open to us. */
	if (nk_proc_ns_ino(pid, "user", &other, e) < 0) {
		if (e->code != EACCES && e->code != EPERM)
			return nk_err_prefix(e, "%s %d", opt, (int)pid);
		other = self + 1;
	}
	if (self == other)
		return own_identity(m, e);
	if (nk_maps_read_proc(pid, m, e) < 0)
		return -e->code;
	return check_pid_maps(m, pid, opt, e);
}

/* The end of the extent of O whose inner side holds ID, or 0 when none does. */
static uint64_t inner_extent_end(const struct nk_map *o, uint64_t id)
{
	for (size_t k = 0; k < o->n; k++)
		if (id >= o->ext[k].inner && id < (uint64_t)o->ext[k].inner + o->ext[k].count)
			return (uint64_t)o->ext[k].inner + o->ext[k].count;
	return 0;
}

/* Every id of TO's outer side must be mapped here, or chown fails half way. */
static int check_mapped_here(const struct nk_maps *to, struct nk_err *e)
{
	AUTOMAPS struct nk_maps own = { 0 };

	if (nk_maps_read_proc(0, &own, e) < 0)
		return -e->code;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		for (size_t i = 0; i < to->map[t].n; i++) {
			const struct nk_extent *x = &to->map[t].ext[i];
			uint64_t id = x->outer, end = id + x->count;

			while (id < end) {
				uint64_t next = inner_extent_end(&own.map[t], id);

				if (!next)
					return nk_errf(e, ERANGE, "cannot shift to %s %llu: not mapped in this user namespace (run it where the ids of the map are mapped)",
						       nk_idtype_name(t), (unsigned long long)id);
				id = next;
			}
		}
	return 0;
}

static unsigned default_jobs(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof set, &set) < 0 || (n = CPU_COUNT(&set)) < 1)
		return 1;
	return (unsigned)n > 64 ? 64 : (unsigned)n;
}

/* What the command line asks for, besides the globals of the run. */
struct cmdline {
	struct nk_maps to;
	const char *to_how, *from_how, *mount_dest, *auto_user;
	const char *to_file, *from_file, *to_pid, *from_pid;
	int reverse, progress;
	unsigned jobs;
	char **paths;
	int npaths;
};

/* One of --to, -u/-g/-m, --to-pid, --auto (C its option). */
static void parse_to_option(struct cmdline *cl, int c)
{
	const char *how = c == 't' ? "--to" : c == OPT_TO_PID ? "--to-pid" : c == 'a' ? "--auto" : "-u/-g/-m";
	struct nk_err e;

	if (cl->to_how && strcmp(cl->to_how, how) != 0)
		nk_usage_errorx("%s and %s are mutually exclusive (one --to map)", cl->to_how, how);
	if ((c == 't' && cl->to_file) || (c == OPT_TO_PID && cl->to_pid) || (c == 'a' && cl->to_how))
		nk_usage_errorx("%s given twice", how);
	cl->to_how = how;
	if (c == 't')
		cl->to_file = optarg;
	else if (c == OPT_TO_PID)
		cl->to_pid = optarg;
	else if (c == 'a')
		cl->auto_user = optarg;
	else if (nk_maps_add_spec(&cl->to, c == 'm' ? 'b' : (char)c, optarg, &e) < 0)
		nk_die_err(1, &e);
}

/* --from or --from-pid (C its option). */
static void parse_from_option(struct cmdline *cl, int c)
{
	if (cl->from_how)
		nk_usage_errorx("--from and --from-pid are mutually exclusive (one --from map)");
	cl->from_how = c == 'f' ? "--from" : "--from-pid";
	if (c == 'f')
		cl->from_file = optarg;
	else
		cl->from_pid = optarg;
}

static enum ish_unmapped parse_unmapped_or_err(const char *arg)
{
	static const char *const names[] = { [UNMAPPED_FAIL] = "fail", [UNMAPPED_KEEP] = "keep",
					     [UNMAPPED_OVERFLOW] = "overflow" };

	for (size_t k = 0; k < NK_ARRAY_SIZE(names); k++)
		if (strcmp(arg, names[k]) == 0)
			return (enum ish_unmapped)k;
	nk_usage_errorx("invalid --unmapped '%s': use fail, keep or overflow", arg);
}

static unsigned parse_jobs_or_err(const char *arg)
{
	struct nk_err e;
	uint32_t v;

	if (nk_parse_u32_e(arg, 1024, &v, "--jobs", &e) < 0)
		nk_die_err(1, &e);
	if (v == 0)
		nk_die(1, "invalid --jobs '0': at least 1 thread");
	return v;
}

/* One option C (not a map option), into CL or the run's globals. */
static void parse_option(struct cmdline *cl, int c)
{
	switch (c) {
	case 'r':
		cl->reverse = 1;
		break;
	case OPT_UNMAPPED:
		run.unmapped = parse_unmapped_or_err(optarg);
		break;
	case 'n':
		run.dry = 1;
		break;
	case OPT_CHECK:
		run.check = 1;
		break;
	case 'j':
		cl->jobs = parse_jobs_or_err(optarg);
		break;
	case 'x':
		break;
	case OPT_MOUNT:
		cl->mount_dest = optarg;
		break;
	case OPT_PROGRESS:
	case OPT_NO_PROGRESS:
		cl->progress = c == OPT_PROGRESS;
		break;
	case OPT_OUTSIDE_LINKS:
		if (strcmp(optarg, "keep") && strcmp(optarg, "shift"))
			nk_usage_errorx("invalid --outside-links '%s': use keep or shift", optarg);
		run.outside_links = strcmp(optarg, "shift") == 0;
		break;
	case OPT_JSON:
		run.json = 1;
		break;
	case OPT_STATE_DIR:
		if (*optarg != '/')
			nk_die(1, "invalid --state-dir '%s': give an absolute path", optarg);
		snprintf(run.state_dir, sizeof run.state_dir, "%s", optarg);
		break;
	default:
		nk_std_option_or_err(c, usage);
	}
}

static void parse_options(int argc, char **argv, struct cmdline *cl)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "map", required_argument, NULL, 'm' },
		{ "to-pid", required_argument, NULL, OPT_TO_PID },
		{ "auto", optional_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },
		{ "from-pid", required_argument, NULL, OPT_FROM_PID },
		{ "reverse", no_argument, NULL, 'r' },
		{ "unmapped", required_argument, NULL, OPT_UNMAPPED },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "jobs", required_argument, NULL, 'j' },
		{ "one-file-system", no_argument, NULL, 'x' },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "outside-links", required_argument, NULL, OPT_OUTSIDE_LINKS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "t:u:g:m:a::f:rnj:xhV", opts, NULL)) != -1) {
		if (c == 't' || c == 'u' || c == 'g' || c == 'm' || c == OPT_TO_PID || c == 'a')
			parse_to_option(cl, c);
		else if (c == 'f' || c == OPT_FROM_PID)
			parse_from_option(cl, c);
		else
			parse_option(cl, c);
	}
	if (optind == argc)
		nk_usage_errorx("no PATH given");
	if (!cl->to_how && !run.check)
		nk_usage_errorx("no --to map given (--to, -u/-g/-m, --to-pid or --auto)");
	if (run.check && (run.dry || cl->mount_dest))
		nk_usage_errorx("--check changes nothing: no --dry-run or --mount with it");
	if (cl->mount_dest && argc - optind != 1)
		nk_usage_errorx("--mount takes exactly one PATH");
	cl->paths = argv + optind;
	cl->npaths = argc - optind;
}

/* --auto [USER]: the default rootless map of USER (the caller). */
static int auto_map(const char *user, struct nk_maps *to, struct nk_err *e)
{
	char name[256];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (user) {
		struct passwd *pw = getpwnam(user);

		if (!pw)
			return nk_errf(e, ENOENT, "no user '%s' (check the name)", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		snprintf(name, sizeof name, "%s", user);
	} else
		nk_user_name(uid, name, sizeof name);
	if (nk_maps_build(NK_MAPS_AUTO, name, uid, gid, NULL, to, e) < 0)
		return -e->code;
	return 0;
}

/* The --to and --from maps as the options give them. */
static int read_maps(struct cmdline *cl, struct nk_maps *from, struct nk_err *e)
{
	struct nk_maps *to = &cl->to;
	int r = 0;

	if (cl->to_file)
		r = nk_mapstream_read(cl->to_file, to, e) < 0 ? -e->code : 0;
	else if (cl->to_pid)
		r = maps_of_pid(cl->to_pid, "--to-pid", to, e);
	else if (cl->to_how && strcmp(cl->to_how, "--auto") == 0)
		r = auto_map(cl->auto_user, to, e);
	if (r < 0)
		return r;
	if (cl->from_file)
		return nk_mapstream_read(cl->from_file, from, e) < 0 ? -e->code : 0;
	if (cl->from_pid)
		return maps_of_pid(cl->from_pid, "--from-pid", from, e);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		nk_map_add(&from->map[t], 0, 0, 4294967295U);
	return 0;
}

/* Neither map empty, both as the kernel would take them. */
static int check_maps(const struct nk_maps *to, const struct nk_maps *from, struct nk_err *e)
{
	static const char *const give[2] = { [NK_UID] = "-u or -m", [NK_GID] = "-g or -m" };

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (to->map[t].n == 0)
			return nk_errf(e, EINVAL, "the %s map of --to is empty (give %s)", nk_idtype_name(t), give[t]);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (from->map[t].n == 0)
			return nk_errf(e, EINVAL, "the %s map of --from is empty", nk_idtype_name(t));
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (nk_map_validate(&to->map[t], t, e) < 0)
			return nk_err_prefix(e, "invalid --to map");
		if (nk_map_validate(&from->map[t], t, e) < 0)
			return nk_err_prefix(e, "invalid --from map");
	}
	return 0;
}

/* The --to and --from maps, checked, swapped for --reverse. */
static int build_maps(struct cmdline *cl, struct nk_maps *from, struct nk_err *e)
{
	struct nk_maps *to = &cl->to;
	int r;

	if ((r = read_maps(cl, from, e)) < 0)
		return r;
	if (run.check && !cl->to_how)
		/* Only --from matters: shift it onto itself. */
		for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
			nk_map_copy(&to->map[t], &from->map[t]);
	if ((r = check_maps(to, from, e)) < 0)
		return r;
	if (cl->reverse) {
		struct nk_maps x = *to;

		*to = *from;
		*from = x;
	}
	return 0;
}

/* Whether we run in the initial user namespace (its uid map is all ids). */
static int in_init_userns(void)
{
	AUTOMAPS struct nk_maps own = { 0 };
	const struct nk_map *u = &own.map[NK_UID];
	struct nk_err e;

	return nk_maps_read_proc(0, &own, &e) == 0 && u->n == 1 && u->ext[0].inner == 0 && u->ext[0].outer == 0 &&
	       u->ext[0].count == 4294967295U;
}

/* Why P, a top directory, could not be opened (open's ERR). */
static int open_top_error(const char *p, int err, struct nk_err *e)
{
	struct stat lst;

	if (err == ELOOP || (err == ENOTDIR && lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode)))
		return nk_errf(e, ELOOP, "'%s' is a symlink (give the directory itself)", p);
	if (err == ENOTDIR)
		return nk_errf(e, ENOTDIR, "'%s' is not a directory (give the top directory of a tree)", p);
	return nk_syserr(e, err, "cannot open '%s'", p);
}

/* Open PATH, a top directory, with no symlink on the way (a directory
 * the user swaps for a symlink is refused, never followed), and refuse what
 * cannot be shifted there: its descriptor. */
static int open_top(const char *p, const struct cmdline *cl, struct stat *top, struct nk_err *e)
{
	struct statfs sfs;
	struct statvfs svfs;
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS };
	NK_AUTOCLOSE int fd = (int)syscall(SYS_openat2, AT_FDCWD, p, &how, sizeof how);

	if (fd < 0 && errno == ENOSYS)
		fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return open_top_error(p, errno, e);
	if (fstat(fd, top) < 0 || fstatfs(fd, &sfs) < 0 || fstatvfs(fd, &svfs) < 0)
		return nk_syserr(e, errno, "cannot stat '%s'", p);
	if (!cl->mount_dest && sfs.f_type == OVERLAYFS_MAGIC)
		return nk_errf(e, EINVAL, "'%s' is an overlay mount: chown through the merged view copies every file up (shift the layer directories instead)",
			       p);
	if (!run.check && !run.dry && !cl->mount_dest && (svfs.f_flag & ST_RDONLY))
		return nk_errf(e, EROFS, "cannot shift '%s': read-only file system", p);
	return nk_steal_fd(&fd);
}

/* What the shift needs to know before the first tree. */
static int prepare_run(struct cmdline *cl, const struct nk_maps *from, struct nk_err *e)
{
	struct rlimit rl;
	int r;

	run.init_userns = in_init_userns();
	if (!run.check && !cl->mount_dest && (r = check_mapped_here(&cl->to, e)) < 0)
		return r;
	run.jobs = cl->jobs ? cl->jobs : default_jobs();
	run.progress = cl->progress < 0 ? isatty(2) && !run.json : cl->progress;
	/* Held descriptors: the walk's directories, the privileged files of
	 * an undoable run. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (cl->mount_dest)
		return nk_shift_build(&run.shift, from, &cl->to, e) < 0 ? -e->code : 0;
	return ish_run_prepare(&run, from, &cl->to, e);
}

/* Every tree in turn, until one has a status: the run's status. */
static int shift_trees(const struct cmdline *cl, const int *fds, struct nk_err *e)
{
	double t0 = ish_now();
	int status = 0;

	for (int i = 0; i < cl->npaths && status == 0; i++)
		status = ish_run_tree(&run, fds[i], cl->paths[i], e);
	if (status >= 0)
		ish_print_summary(&run, t0);
	return status;
}

/* What the command line asks for: the exit status, or an error. */
static int run_command(struct cmdline *cl, struct nk_maps *from, struct nk_err *e)
{
	NK_AUTOFREE int *fds = NULL;
	struct stat top;
	int r;

	if ((r = build_maps(cl, from, e)) < 0 || (r = prepare_run(cl, from, e)) < 0)
		return r;
	if (!(fds = calloc((size_t)cl->npaths, sizeof *fds)))
		return nk_errf(e, ENOMEM, "out of memory");
	/* Every PATH is checked before any is changed. */
	for (int i = 0; i < cl->npaths; i++)
		fds[i] = -1;
	for (int i = 0; i < cl->npaths && r >= 0; i++)
		r = fds[i] = open_top(cl->paths[i], cl, &top, e);
	if (r >= 0)
		r = cl->mount_dest ? ish_mount(&run, fds[0], cl->paths[0], cl->mount_dest, e) : shift_trees(cl, fds, e);
	for (int i = 0; i < cl->npaths; i++)
		nk_closep(&fds[i]);
	return r;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { .progress = -1 };
	struct nk_maps from = { { { 0, 0, NULL }, { 0, 0, NULL } } };
	struct nk_err e;
	int r;

	nk_tool_init("idmap-shift", argv);
	parse_options(argc, argv, &cl);
	r = run_command(&cl, &from, &e);
	nk_shift_free(&run.shift);
	nk_shift_free(&run.back);
	nk_maps_free(&cl.to);
	nk_maps_free(&from);
	if (run.statefd >= 0)
		close(run.statefd);
	if (r < 0) {
		nk_err_print(&e);
		return 1;
	}
	return r;
}
