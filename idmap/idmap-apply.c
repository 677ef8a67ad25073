/* idmap-apply - write the uid and gid maps of a process
 *
 * The maps are checked before anything is written (kernel rules, the
 * caller's subordinate ranges, the parent namespace's map), then written
 * directly where the kernel allows it and otherwise through newuidmap and
 * newgidmap, run at the same time.
 */
#include <getopt.h>
#include <pwd.h>
#include <string.h>
#include "helper.h"
#include "mapopt.h"
#include "idmap.h"
#include "num.h"
#include "proc.h"
#include "session.h"
#include "slice.h"
#include "subid.h"
#include "tool.h"

enum { OPT_ISOLATE = 256 };

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] PID\n"
	       "\n"
	       "Write the uid and gid maps of process PID's new user namespace.\n"
	       "\n"
	       "Options:\n"
	       " -a, --auto                  you to 0, then all your subordinate ids (default)\n"
	       " -r, --map-root              only your uid and gid, to 0\n"
	       " -k, --keep-id               you to your own ids, subordinate ids around them\n"
	       " -u, --uid INNER:OUTER:COUNT a uid extent (repeatable)\n"
	       " -g, --gid INNER:OUTER:COUNT a gid extent (repeatable)\n"
	       " -m, --map INNER:OUTER:COUNT a uid and gid extent (repeatable)\n"
	       " -f, --from FILE|-           read the maps as a map stream\n"
	       "     --isolate[=SIZE]        a slice of SIZE of your subordinate ids (default 65536)\n"
	       "                             that no other namespace of yours has, to 0..SIZE-1\n"
	       "     --setgroups allow|deny  what /proc/PID/setgroups is set to\n"
	       " -n, --dry-run               print the maps and how they would be written\n"
	       "\n"
	       " -h, --help                  display this help\n"
	       " -V, --version               display version\n"
	       "\n"
	       "For more details see idmap-apply(1).\n", nk_progname);
	exit(0);
}

/* --isolate: the slice reserved under this process until the maps are
 * written; a failure on the way releases it at once (it would be reclaimed
 * anyway, but a refused command should leave nothing behind). */
static int pending_dirfd = -1;
static pid_t pending_pid;
static uint64_t pending_start;

static void release_pending(void)
{
	struct nk_err e;

	if (pending_dirfd >= 0 && getpid() == pending_pid)
		nk_slice_release(pending_dirfd, pending_pid, pending_start, &e);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "auto", no_argument, NULL, 'a' },
		{ "map-root", no_argument, NULL, 'r' },
		{ "keep-id", no_argument, NULL, 'k' },
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "map", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'f' },
		{ "isolate", optional_argument, NULL, OPT_ISOLATE },
		{ "setgroups", required_argument, NULL, 'S' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct nk_mapopt_names names = { "--uid", "--gid", "--from", NULL };
	struct nk_mapopts mo;
	struct nk_maps *maps = &mo.maps;
	struct nk_plan plan;
	struct nk_err e;
	int dry = 0, c;
	pid_t pid;
	uid_t uid = getuid(), euid;
	gid_t gid = getgid();
	char user[256];
	uint64_t ns_self, ns_target, my_start = 0, pid_start = 0;
	int dirfd = -1, pidfd;

	nk_tool_init("idmap-apply", argv);
	nk_mapopts_init(&mo, &names);
	while ((c = getopt_long(argc, argv, "arku:g:m:f:nhV", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			nk_mapopts_mode_or_err(&mo, NK_MAPMODE_AUTO);
			break;
		case 'r':
			nk_mapopts_mode_or_err(&mo, NK_MAPMODE_ROOT);
			break;
		case 'k':
			nk_mapopts_mode_or_err(&mo, NK_MAPMODE_KEEPID);
			break;
		case 'u':
		case 'g':
		case 'm':
			nk_mapopts_extent_or_err(&mo, c == 'm' ? 'b' : (char)c, optarg);
			break;
		case 'f':
			nk_mapopts_from_or_err(&mo, optarg);
			break;
		case OPT_ISOLATE:
			nk_mapopts_isolate_or_err(&mo, optarg);
			break;
		case 'S':
			nk_mapopts_setgroups_or_err(&mo, optarg);
			break;
		case 'n':
			dry = 1;
			break;
		case 'h':
			usage();
		case 'V':
			nk_print_version();
		default:
			nk_usage_error();
		}
	}
	if (optind == argc)
		nk_usage_errorx("no PID given");
	if (argc - optind > 1)
		nk_usage_errorx("too many arguments: only one PID");
	if (nk_parse_pid_e(argv[optind], &pid, &e) < 0)
		nk_die_err(1, &e);
	/* Held from before the checks to the writes: the pid then always
	 * names the process that was checked (see nk_write_maps). */
	pidfd = nk_pidfd_open(pid, 0);
	if (pidfd == -ESRCH)
		nk_die(1, "no process with pid %d", (int)pid);
	if (pidfd < 0)
		nk_die(1, "cannot open process %d: %s", (int)pid, strerror(-pidfd));
	if (mo.mode == NK_MAPMODE_NONE)
		mo.mode = NK_MAPMODE_AUTO;

	nk_user_name(uid, user, sizeof user);
	if (mo.mode == NK_MAPMODE_ISOLATE) {
		/* Recorded under this process first: if anything fails before the
		 * maps are written, it ends and the slice is free again. Once they
		 * are, the record names PID and its namespace. */
		if ((dirfd = nk_slice_dir_open(uid, 1, &e)) < 0 ||
		    nk_proc_starttime(pid, &pid_start, &e) < 0 || nk_proc_starttime(0, &my_start, &e) < 0 ||
		    nk_slice_maps(dirfd, user, mo.slice_size, getpid(), my_start, NULL, maps, NULL, &e) < 0)
			nk_die_err(1, &e);
		pending_dirfd = dirfd;
		pending_pid = getpid();
		pending_start = my_start;
		atexit(release_pending);
	}
	/* The maps, checked before anything is written. */
	nk_mapopts_finish_or_err(&mo, user, uid, gid, &plan);

	if (nk_proc_ids(pid, NULL, &euid, NULL, NULL, &e) < 0)
		nk_die_err(1, &e);
	if (euid != geteuid() && !plan.privileged[NK_UID])
		nk_die(1, "process %d belongs to uid %u, not to you (uid %u)", (int)pid, euid, geteuid());
	if (nk_proc_ns_ino(0, "user", &ns_self, &e) < 0 || nk_proc_ns_ino(pid, "user", &ns_target, &e) < 0)
		nk_die_err(1, &e);
	if (ns_self == ns_target)
		nk_die(1, "process %d is in this user namespace, not in a new one (nothing to map)", (int)pid);
	for (int t = NK_UID; t <= NK_GID; t++) {
		struct nk_map cur;

		nk_map_init(&cur);
		if (nk_map_read_proc(pid, (enum nk_idtype)t, &cur, &e) < 0)
			nk_die_err(1, &e);
		if (cur.n > 0)
			nk_die(1, "process %d already has a %s map (a map can be written only once)",
			       (int)pid, nk_idtype_name((enum nk_idtype)t));
		nk_map_free(&cur);
	}

	if (dry) {
		for (int t = NK_UID; t <= NK_GID; t++) {
			if (t == NK_GID && plan.setgroups == NK_SETGROUPS_DENY)
				printf("# /proc/%d/setgroups: deny\n", (int)pid);
			if (plan.how[t] == NK_WRITE_DIRECT)
				printf("# /proc/%d/%s_map: direct write\n", (int)pid, nk_idtype_name((enum nk_idtype)t));
			else
				printf("# /proc/%d/%s_map: %s\n", (int)pid, nk_idtype_name((enum nk_idtype)t),
				       plan.helper[t]);
		}
		nk_mapstream_print(stdout, maps);
		nk_maps_free(maps);
		return 0;       /* the slice is released at exit */
	}
	if (nk_write_maps(pid, pidfd, maps, &plan, &e) < 0) {
		nk_err_prefix(&e, "cannot apply the maps to process %d", (int)pid);
		nk_die_err(1, &e);
	}
	nk_maps_free(maps);
	if (dirfd >= 0) {
		if (nk_slice_move(dirfd, getpid(), my_start, pid, pid_start, NULL, ns_target, &e) < 0)
			nk_die_err(1, &e);
		pending_dirfd = -1;
		close(dirfd);
	}
	return 0;
}
