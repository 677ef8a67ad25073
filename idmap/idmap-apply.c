/* idmap-apply - write the uid and gid maps of a process
 *
 * The maps are checked before anything is written (kernel rules, the
 * caller's subordinate ranges, the parent namespace's map), then written
 * directly where the kernel allows it and otherwise through newuidmap and
 * newgidmap, run at the same time.
 */
#include <getopt.h>
#include <string.h>
#include "mapwrite.h"
#include "mapopt.h"
#include "idmap.h"
#include "num.h"
#include "proc.h"
#include "pwdb.h"
#include "slice.h"
#include "subid.h"
#include "tool.h"

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

/* One run: the options, then the target and the maps found for it. */
struct apply {
	struct nk_mapopts mo;
	struct nk_plan plan;
	int dry;
	pid_t pid;
	int pidfd;               /* held from before the checks to the writes */
	uid_t uid;
	gid_t gid;
	char user[256];
	uint64_t ns_target;      /* the target's user namespace */
	/* --isolate: the slice, reserved under this process until the maps
	 * are written (slice_dirfd >= 0 while it is). */
	int slice_dirfd;
	uint64_t my_start, pid_start;
};

static void parse_options(int argc, char **argv, struct apply *a)
{
	static const struct option opts[] = {
		NK_MAPOPTS_LONGOPTS("uid", "gid"),
		{ "from", required_argument, NULL, NK_MAPOPT_FROM },
		{ "isolate", optional_argument, NULL, NK_MAPOPT_ISOLATE },
		{ "setgroups", required_argument, NULL, NK_MAPOPT_SETGROUPS },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct nk_mapopt_names names = {
		.uid = "--uid", .gid = "--gid", .from = "--from", .nomap = NULL
	};
	struct nk_err e;
	int c;

	nk_mapopts_init(&a->mo, &names);
	while ((c = getopt_long(argc, argv, "arku:g:m:f:nhV", opts, NULL)) != -1) {
		/* -f is --from */
		if (nk_mapopts_option_or_err(&a->mo, c == 'f' ? NK_MAPOPT_FROM : c, optarg))
			continue;
		switch (c) {
		case 'n':
			a->dry = 1;
			break;
		default:
			nk_std_option_or_err(c, usage);
		}
	}
	if (optind == argc)
		nk_usage_errorx("no PID given");
	if (argc - optind > 1)
		nk_usage_errorx("too many arguments: only one PID");
	if (nk_parse_pid_e(argv[optind], &a->pid, &e) < 0)
		nk_die_err(1, &e);
	if (a->mo.mode == NK_MAPMODE_NONE)
		a->mo.mode = NK_MAPMODE_AUTO;
}

/* A pidfd held from before the checks to the writes: the pid then always
 * names the process that was checked (see nk_write_maps). */
static int open_target(struct apply *a, struct nk_err *e)
{
	a->pidfd = nk_pidfd_open(a->pid, 0);
	if (a->pidfd == -ESRCH)
		return nk_errf(e, ESRCH, "no process with pid %d", (int)a->pid);
	if (a->pidfd < 0)
		return nk_syserr(e, -a->pidfd, "cannot open process %d", (int)a->pid);
	return 0;
}

/* --isolate: a slice recorded under this process first: if anything fails
 * before the maps are written, it is released (and would be reclaimed once
 * we end). Once they are, the record names PID and its namespace. */
static int reserve_slice(struct apply *a, struct nk_err *e)
{
	int dirfd = nk_slice_dir_open(a->uid, 1, e);

	if (dirfd < 0)
		return dirfd;
	if (nk_proc_starttime(a->pid, &a->pid_start, e) < 0 || nk_proc_starttime(0, &a->my_start, e) < 0 ||
	    nk_slice_maps(dirfd, a->user, a->mo.slice_size, getpid(), a->my_start, NULL, &a->mo.maps, NULL,
			  e) < 0) {
		close(dirfd);
		e->alt = e->code == ENOSPC ? ", or use a smaller --isolate=SIZE" : ", or drop --isolate";
		return -e->code;
	}
	a->slice_dirfd = dirfd;
	return 0;
}

/* A slice still reserved under this process (a failure or --dry-run) is
 * free again. */
static void release_slice(struct apply *a)
{
	struct nk_err e;

	if (a->slice_dirfd < 0)
		return;
	nk_slice_release(a->slice_dirfd, getpid(), a->my_start, &e);
	close(a->slice_dirfd);
	a->slice_dirfd = -1;
}

/* The maps, chosen, planned and checked before anything is written. */
static int choose_maps(struct apply *a, struct nk_err *e)
{
	nk_user_name(a->uid, a->user, sizeof a->user);
	if (a->mo.mode == NK_MAPMODE_ISOLATE && reserve_slice(a, e) < 0)
		return -e->code;
	return nk_mapopts_finish(&a->mo, a->user, a->uid, a->gid, &a->plan, e);
}

/* Ours (or we are privileged), in a user namespace other than ours, and
 * without maps yet. */
static int check_target(struct apply *a, struct nk_err *e)
{
	uint64_t ns_self;
	uid_t euid;

	if (nk_proc_ids(a->pid, NULL, &euid, NULL, NULL, e) < 0)
		return -e->code;
	if (euid != geteuid() && !a->plan.privileged[NK_UID]) {
		nk_errf(e, EPERM, "process %d belongs to uid %u, not to you (uid %u)", (int)a->pid, euid,
			geteuid());
		return nk_err_kind(e, NK_ERRK_NOT_OWNER);
	}
	if (nk_proc_ns_ino(0, "user", &ns_self, e) < 0 || nk_proc_ns_ino(a->pid, "user", &a->ns_target, e) < 0)
		return -e->code;
	if (ns_self == a->ns_target)
		return nk_errf(e, EINVAL, "process %d is in this user namespace, not in a new one (nothing to map)",
			       (int)a->pid);
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		struct nk_map cur;
		size_t n;

		nk_map_init(&cur);
		if (nk_map_read_proc(a->pid, t, &cur, e) < 0)
			return -e->code;
		n = cur.n;
		nk_map_free(&cur);
		if (n > 0)
			return nk_errf(e, EEXIST, "process %d already has a %s map (a map can be written only once)",
				       (int)a->pid, nk_idtype_name(t));
	}
	return 0;
}

/* --dry-run: how each map would be written, then the maps. */
static void print_plan(const struct apply *a)
{
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (t == NK_GID && a->plan.setgroups == NK_SETGROUPS_DENY)
			printf("# /proc/%d/setgroups: deny\n", (int)a->pid);
		printf("# /proc/%d/%s_map: %s\n", (int)a->pid, nk_idtype_name(t),
		       a->plan.how[t] == NK_WRITE_DIRECT ? "direct write" : a->plan.helper[t]);
	}
	nk_mapstream_print(stdout, &a->mo.maps);
}

/* Write the maps; an --isolate slice then names the target. */
static int apply_maps(struct apply *a, struct nk_err *e)
{
	if (nk_write_maps(a->pid, a->pidfd, &a->mo.maps, &a->plan, e) < 0)
		return nk_err_prefix(e, "cannot apply the maps to process %d", (int)a->pid);
	if (a->slice_dirfd < 0)
		return 0;
	if (nk_slice_move(a->slice_dirfd, getpid(), a->my_start, a->pid, a->pid_start, NULL, a->ns_target, e) < 0)
		return -e->code;
	close(a->slice_dirfd);
	a->slice_dirfd = -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct apply a = { .pidfd = -1, .slice_dirfd = -1, .uid = getuid(), .gid = getgid() };
	struct nk_err e;
	int r;

	nk_tool_init("idmap-apply", argv);
	parse_options(argc, argv, &a);
	r = open_target(&a, &e);
	if (r == 0)
		r = choose_maps(&a, &e);
	if (r == 0)
		r = check_target(&a, &e);
	if (r == 0 && a.dry)
		print_plan(&a);
	else if (r == 0)
		r = apply_maps(&a, &e);
	release_slice(&a);
	nk_maps_free(&a.mo.maps);
	if (a.pidfd >= 0)
		close(a.pidfd);
	if (r < 0)
		nk_die_err(1, &e);
	return 0;
}
