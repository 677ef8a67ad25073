/* nsenter-user - create, keep and join rootless user namespaces
 *
 * Process model (DESIGN.md): maps are computed and checked before the
 * kernel is touched; a helper forked early writes them (newuidmap and
 * newgidmap at the same time) while this process unshares; then this very
 * process becomes root inside and execs the command in place, so signals,
 * job control and exit status are the command's own. --fork puts a
 * forwarding parent above the command; --keep leaves a holder process so
 * that later --join commands share one user and mount namespace (the
 * session actions are in nsenter-user/nsu-session.c).
 *
 * main parses the options, checks them against the conflict table, calls
 * one function per step and reports a failure once, at its end.
 */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "caps.h"
#include "mapwrite.h"
#include "mapopt.h"
#include "idmap.h"
#include "nsu-session.h"
#include "num.h"
#include "proc.h"
#include "pwdb.h"
#include "session.h"
#include "slice.h"
#include "tool.h"
#include "userns.h"
#include "creds.h"

enum action { ACT_RUN, ACT_JOIN, ACT_STOP, ACT_LIST };

enum {
	OPT_INFO_FD = 256, OPT_BLOCK_FD, OPT_NO_MOUNT, OPT_PROPAGATION,
	OPT_KEEP_CAPS, OPT_NO_NEW_PRIVS, OPT_KEEP, OPT_STOP, OPT_LIST, OPT_JSON, OPT_KILL_CHILD
};

/* What the options asked for, and what the steps found out on the way. */
struct cfg {
	struct nk_mapopts mo;
	uid_t uid;                      /* the caller's ids, outside (getuid() is 0 once inside) */
	gid_t gid;
	enum action act;
	const char *keep, *join, *stop;
	const char *prop_name;          /* --propagation as given, NULL when not */
	unsigned long prop;             /* its mount flag; 0: unchanged */
	int info_fd, block_fd;
	int no_mount, do_fork, pidns, keep_caps, nnp, json, list, kill_sig;
	uint32_t inside[2];             /* the ids to become inside (-U, -G), by enum nk_idtype */
	int id_given[2];                /* -U, -G given */
	int become;                     /* 0: stay who we are (--no-map, and 0 is not mapped) */
	char session[NK_SESSION_NAME_MAX + 1];  /* NSKIT_SESSION for the command, "" for none */
	char **cmd;
};

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] [--] [COMMAND [ARG...]]\n"
	       "\n"
	       "Run a command as root in a new user and mount namespace, with all your\n"
	       "subordinate ids mapped; keep such a namespace as a session and join it.\n"
	       "\n"
	       "Options:\n"
	       " -a, --auto                  you to 0, then all your subordinate ids (default)\n"
	       " -r, --map-root              only your uid and gid, to 0\n"
	       " -k, --keep-id               you to your own ids, subordinate ids around them\n"
	       " -u, --uid-map INNER:OUTER:COUNT  a uid extent (repeatable)\n"
	       " -g, --gid-map INNER:OUTER:COUNT  a gid extent (repeatable)\n"
	       " -m, --map INNER:OUTER:COUNT a uid and gid extent (repeatable)\n"
	       "     --map-file FILE|-       read the maps as a map stream\n"
	       "     --isolate[=SIZE]        a slice of SIZE of your subordinate ids (default 65536)\n"
	       "                             that no other namespace of yours has, to 0..SIZE-1\n"
	       "     --no-map                write no maps (leave them to the caller)\n"
	       "     --info-fd N             with --no-map: write {\"pid\":P,\"userns\":INODE} to fd N\n"
	       "     --block-fd M            with --no-map: wait until fd M is closed, then go on\n"
	       "     --no-mount              a user namespace only (default: user + mount)\n"
	       "     --propagation slave|shared|private|unchanged\n"
	       "                             propagation of the new mount namespace (default private)\n"
	       " -f, --fork                  run COMMAND as a child, forward every signal\n"
	       "     --kill-child[=SIGNAL]   when nsenter-user dies, send SIGNAL to the child\n"
	       "                             (default SIGKILL, also without this option; implies --fork)\n"
	       " -p, --pid                   also a pid namespace with a fresh /proc (implies --fork)\n"
	       " -U, --uid ID                become this uid inside (default 0)\n"
	       " -G, --gid ID                become this gid inside (default 0)\n"
	       "     --setgroups allow|deny  whether setgroups(2) is allowed inside\n"
	       "     --keep-caps             keep the capabilities for COMMAND (ambient set)\n"
	       "     --no-new-privs          set no_new_privs before running COMMAND\n"
	       "     --keep NAME             keep the namespace as session NAME (holder process)\n"
	       " -j, --join NAME|PID         run COMMAND in the namespaces of a session or process\n"
	       "     --stop NAME             end session NAME\n"
	       "     --list                  list your sessions\n"
	       "     --json                  with --list: JSON output\n"
	       "\n"
	       " -h, --help                  display this help\n"
	       " -V, --version               display version\n"
	       "\n"
	       "For more details see nsenter-user(1).\n", nk_progname);
	exit(0);
}

static int parse_fd_opt_or_err(const char *s, const char *opt)
{
	int fd;

	if (nk_parse_fd(s, &fd) < 0)
		nk_usage_errorx("invalid %s '%s': not a file descriptor number", opt, s);
	/* It is closed once used: never the command's stdin, stdout or stderr. */
	if (fd < 3)
		nk_usage_errorx("invalid %s '%s': use a descriptor above 2 (0-2 are the command's stdin, "
				"stdout and stderr)", opt, s);
	if (fcntl(fd, F_GETFD) < 0)
		nk_die(1, "invalid %s '%s': file descriptor %d is not open", opt, s, fd);
	return fd;
}

static unsigned long parse_propagation_or_err(const char *arg)
{
	static const struct { const char *name; unsigned long flag; } props[] = {
		{ "private", MS_PRIVATE }, { "slave", MS_SLAVE }, { "shared", MS_SHARED }, { "unchanged", 0 },
	};

	for (size_t i = 0; i < NK_ARRAY_SIZE(props); i++)
		if (strcmp(arg, props[i].name) == 0)
			return props[i].flag;
	nk_usage_errorx("invalid --propagation '%s': use slave, shared, private or unchanged", arg);
}

static void parse_id_or_err(struct cfg *c, enum nk_idtype t, const char *arg)
{
	struct nk_err e;

	if (nk_parse_id_e(arg, &c->inside[t], nk_idtype_name(t), &e) < 0)
		nk_die_err(1, &e);
	c->id_given[t] = 1;
}

static const struct option long_opts[] = {
	NK_MAPOPTS_LONGOPTS("uid-map", "gid-map"),
	{ "map-file", required_argument, NULL, NK_MAPOPT_FROM },
	{ "no-map", no_argument, NULL, NK_MAPOPT_NOMAP },
	{ "isolate", optional_argument, NULL, NK_MAPOPT_ISOLATE },
	{ "info-fd", required_argument, NULL, OPT_INFO_FD },
	{ "block-fd", required_argument, NULL, OPT_BLOCK_FD },
	{ "no-mount", no_argument, NULL, OPT_NO_MOUNT },
	{ "propagation", required_argument, NULL, OPT_PROPAGATION },
	{ "fork", no_argument, NULL, 'f' },
	{ "pid", no_argument, NULL, 'p' },
	{ "kill-child", optional_argument, NULL, OPT_KILL_CHILD },
	{ "uid", required_argument, NULL, 'U' },
	{ "gid", required_argument, NULL, 'G' },
	{ "setgroups", required_argument, NULL, NK_MAPOPT_SETGROUPS },
	{ "keep-caps", no_argument, NULL, OPT_KEEP_CAPS },
	{ "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "join", required_argument, NULL, 'j' },
	{ "stop", required_argument, NULL, OPT_STOP },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void parse_options_or_err(int argc, char **argv, struct cfg *c)
{
	static const struct nk_mapopt_names names = {
		.uid = "--uid-map", .gid = "--gid-map", .from = "--map-file", .nomap = "--no-map"
	};
	int opt;

	memset(c, 0, sizeof *c);
	c->info_fd = c->block_fd = -1;
	c->prop = MS_PRIVATE;
	c->kill_sig = SIGKILL;
	c->become = 1;
	c->uid = getuid();
	c->gid = getgid();
	nk_mapopts_init(&c->mo, &names);
	while ((opt = getopt_long(argc, argv, "+arku:g:m:fpU:G:j:hV", long_opts, NULL)) != -1) {
		if (nk_mapopts_option_or_err(&c->mo, opt, optarg))
			continue;
		switch (opt) {
		case OPT_INFO_FD:
			c->info_fd = parse_fd_opt_or_err(optarg, "--info-fd");
			break;
		case OPT_BLOCK_FD:
			c->block_fd = parse_fd_opt_or_err(optarg, "--block-fd");
			break;
		case OPT_NO_MOUNT:
			c->no_mount = 1;
			break;
		case OPT_PROPAGATION:
			c->prop = parse_propagation_or_err(optarg);
			c->prop_name = optarg;
			break;
		case 'f':
			c->do_fork = 1;
			break;
		case 'p':
			c->pidns = 1;
			break;
		case OPT_KILL_CHILD:
			if (optarg && nk_parse_signal(optarg, &c->kill_sig) < 0)
				nk_usage_errorx("invalid --kill-child signal '%s': use a name (TERM, SIGKILL) or a number",
						optarg);
			c->do_fork = 1;
			break;
		case 'U':
			parse_id_or_err(c, NK_UID, optarg);
			break;
		case 'G':
			parse_id_or_err(c, NK_GID, optarg);
			break;
		case OPT_KEEP_CAPS:
			c->keep_caps = 1;
			break;
		case OPT_NO_NEW_PRIVS:
			c->nnp = 1;
			break;
		case OPT_KEEP:
			c->keep = optarg;
			break;
		case 'j':
			c->join = optarg;
			break;
		case OPT_STOP:
			c->stop = optarg;
			break;
		case OPT_LIST:
			c->list = 1;
			break;
		case OPT_JSON:
			c->json = 1;
			break;
		default:
			nk_std_option_or_err(opt, usage);
		}
	}
	c->cmd = argv + optind;
}

/* --- conflicting options ------------------------------------------------ */

/* Each option that takes part in a conflict rule, as a bit. */
enum {
	G_LIST = 1 << 0, G_STOP = 1 << 1, G_JOIN = 1 << 2, G_KEEP = 1 << 3, G_CMD = 1 << 4, G_JSON = 1 << 5,
	G_MAP = 1 << 6,                 /* any map option, --no-map included */
	G_NO_MAP = 1 << 7, G_INFO_FD = 1 << 8, G_BLOCK_FD = 1 << 9,
	G_SAME_FD = 1 << 10,            /* --info-fd and --block-fd name one descriptor */
	G_NO_MOUNT = 1 << 11, G_PROPAGATION = 1 << 12, G_FORK = 1 << 13, G_PID = 1 << 14, G_UID = 1 << 15,
	G_GID = 1 << 16, G_SETGROUPS = 1 << 17, G_KEEP_CAPS = 1 << 18, G_NNP = 1 << 19,
};
/* What only a namespace made or joined here takes. */
#define G_RUN_OPTS (G_MAP | G_INFO_FD | G_BLOCK_FD | G_NO_MOUNT | G_PROPAGATION | G_FORK | G_PID | G_UID | \
		    G_GID | G_SETGROUPS | G_KEEP_CAPS | G_NNP)
/* What makes a namespace, which --join does not. */
#define G_NEW_NS (G_MAP | G_INFO_FD | G_BLOCK_FD | G_NO_MOUNT | G_PROPAGATION | G_PID | G_SETGROUPS)

/* A rule is broken when every option of ALL is given, at least MIN of ANY
 * (MIN 0: ANY plays no part), and none of NONE. The first broken rule, in
 * this order, is the message. */
static const struct conflict {
	unsigned all, any, min, none;
	const char *msg;
} conflicts[] = {
	{ 0, G_LIST | G_STOP | G_JOIN | G_KEEP, 2, 0, "--keep, --join, --stop and --list are mutually exclusive" },
	{ G_LIST | G_CMD, 0, 0, 0, "--list takes no command" },
	{ G_LIST, G_RUN_OPTS, 1, 0, "--list takes no other options" },
	{ G_STOP | G_CMD, 0, 0, 0, "--stop takes no command" },
	{ G_STOP, G_RUN_OPTS, 1, 0, "--stop takes no other options" },
	{ G_JSON, 0, 0, G_LIST, "--json goes with --list" },
	{ G_JOIN, G_NEW_NS, 1, 0, "--join enters existing namespaces: no mapping, namespace or --setgroups options" },
	{ 0, G_INFO_FD | G_BLOCK_FD, 1, G_NO_MAP, "--info-fd and --block-fd go with --no-map" },
	{ G_SAME_FD, 0, 0, 0, "--info-fd and --block-fd must be different descriptors" },
	{ G_PID | G_NO_MOUNT, 0, 0, 0, "--pid needs a mount namespace for its /proc (drop --no-mount)" },
	{ G_PROPAGATION | G_NO_MOUNT, 0, 0, 0, "--propagation needs a mount namespace (drop --no-mount)" },
	{ G_PID | G_KEEP, 0, 0, 0, "--keep and --pid are mutually exclusive (a session has no pid namespace)" },
	{ G_NO_MAP | G_SETGROUPS, 0, 0, 0, "--setgroups goes with a map (with --no-map the caller writes setgroups)" },
};

static unsigned given(const struct cfg *c)
{
	const struct { int on; unsigned bit; } g[] = {
		{ c->list, G_LIST }, { !!c->stop, G_STOP }, { !!c->join, G_JOIN }, { !!c->keep, G_KEEP },
		{ !!*c->cmd, G_CMD }, { c->json, G_JSON }, { c->mo.mode != NK_MAPMODE_NONE, G_MAP },
		{ c->mo.mode == NK_MAPMODE_NOMAP, G_NO_MAP }, { c->info_fd >= 0, G_INFO_FD },
		{ c->block_fd >= 0, G_BLOCK_FD }, { c->info_fd >= 0 && c->info_fd == c->block_fd, G_SAME_FD },
		{ c->no_mount, G_NO_MOUNT }, { !!c->prop_name, G_PROPAGATION }, { c->do_fork, G_FORK },
		{ c->pidns, G_PID }, { c->id_given[NK_UID], G_UID }, { c->id_given[NK_GID], G_GID },
		{ c->mo.sg != NK_SETGROUPS_DEFAULT, G_SETGROUPS }, { c->keep_caps, G_KEEP_CAPS }, { c->nnp, G_NNP },
	};
	unsigned bits = 0;

	for (size_t i = 0; i < NK_ARRAY_SIZE(g); i++)
		if (g[i].on)
			bits |= g[i].bit;
	return bits;
}

/* Refuse options that do not go together; then settle what they imply. */
static void check_options_or_err(struct cfg *c)
{
	unsigned bits = given(c);

	for (size_t i = 0; i < NK_ARRAY_SIZE(conflicts); i++) {
		const struct conflict *r = &conflicts[i];

		if ((bits & r->all) == r->all && (unsigned)__builtin_popcount(bits & r->any) >= r->min &&
		    !(bits & r->none))
			nk_usage_errorx("%s", r->msg);
	}
	c->act = c->list ? ACT_LIST : c->stop ? ACT_STOP : c->join ? ACT_JOIN : ACT_RUN;
	if (c->pidns)
		c->do_fork = 1;
	if (c->act == ACT_RUN && c->mo.mode == NK_MAPMODE_NONE)
		c->mo.mode = NK_MAPMODE_AUTO;
}

/* --- create: maps first, checked before the kernel is touched ---------- */

/* --isolate: a slice of the caller's subordinate ids, recorded under this
 * very process: the command is exec'd in place (same pid, same start
 * time), and a failure before that ends it, which frees the slice. Once
 * the namespace exists the record names it too (a slice is held while any
 * process is in it); --keep hands it to the holder. Returns the slice
 * folder's fd. */
static int reserve_slice(struct cfg *c, const char *user, uint64_t *my_start, struct nk_err *e)
{
	NK_AUTOCLOSE int sdirfd = nk_slice_dir_open(c->uid, 1, e);

	if (sdirfd < 0 || nk_proc_starttime(0, my_start, e) < 0 ||
	    nk_slice_maps(sdirfd, user, c->mo.slice_size, getpid(), *my_start, c->keep, &c->mo.maps, NULL, e) < 0) {
		e->alt = e->code == ENOSPC ? ", or use a smaller --isolate=SIZE" : ", or drop --isolate";
		return -e->code;
	}
	return nk_steal_fd(&sdirfd);
}

/* The ids to become inside must be mapped; setgroups "allow" must be
 * possible with the maps chosen. */
static int check_inside(struct cfg *c, const struct nk_plan *plan, struct nk_err *e)
{
	const struct nk_map *gm = &c->mo.maps.map[NK_GID];

	/* newgidmap writes "deny" itself when the map is only the caller's
	 * gid (CVE-2018-7169): say so instead of silently running with
	 * setgroups denied. */
	if (c->mo.sg == NK_SETGROUPS_ALLOW && !plan->privileged[NK_GID] && gm->n == 1 &&
	    gm->ext[0].outer == c->gid && gm->ext[0].count == 1)
		return nk_errf(e, EINVAL, "cannot allow setgroups with only your own gid mapped: newgidmap denies it "
			       "then (CVE-2018-7169) (map subordinate gids too, or use --setgroups deny)");
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		uint32_t outer;

		if (nk_map_to_outer(&c->mo.maps.map[t], c->inside[t], &outer) < 0)
			return nk_errf(e, EINVAL, "cannot become %s %u inside: the %s map does not map it (see --%s)",
				       nk_idtype_name(t), c->inside[t], nk_idtype_name(t), nk_idtype_name(t));
	}
	return 0;
}

/* The maps of the new namespace, planned and checked. With --isolate,
 * *SDIRFD is the slice folder's fd and *MY_START this process's start time,
 * which the slice record names. */
static int plan_maps(struct cfg *c, struct nk_plan *plan, int *sdirfd, uint64_t *my_start, struct nk_err *e)
{
	char user[256];

	nk_user_name(c->uid, user, sizeof user);
	if (c->mo.mode == NK_MAPMODE_ISOLATE && (*sdirfd = reserve_slice(c, user, my_start, e)) < 0)
		return *sdirfd;
	nk_mapopts_finish_or_err(&c->mo, user, c->uid, c->gid, plan);
	if (c->mo.mode == NK_MAPMODE_KEEPID) {
		const uint32_t own[2] = { [NK_UID] = c->uid, [NK_GID] = c->gid };

		for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
			if (!c->id_given[t])
				c->inside[t] = own[t];
	}
	return check_inside(c, plan, e);
}

/* --info-fd: {"pid":P,"userns":INODE} for whoever writes our maps. */
static int write_info(int fd, struct nk_err *e)
{
	char buf[128];
	uint64_t ino;
	int n;

	if (nk_proc_ns_ino(0, "user", &ino, e) < 0)
		return -e->code;
	/* A record too long for BUF (128 bytes hold any) is told as the
	 * write's failure, as every other. */
	n = nk_userns_info_json(getpid(), ino, buf, sizeof buf, e);
	if (n < 0 || nk_write_full(fd, buf, (size_t)n) < 0)
		return nk_syserr(e, n < 0 || !errno ? EIO : errno, "cannot write to --info-fd %d", fd);
	return 0;
}

/* --block-fd: wait until the other end is closed. */
static int wait_block(int fd, struct nk_err *e)
{
	char buf[256];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) != 0)
		if (n < 0 && errno != EINTR)
			return nk_syserr(e, errno, "cannot read --block-fd %d", fd);
	return 0;
}

/* --no-map: tell the caller where we are, wait until it has written the
 * maps, and become root (or -U/-G) only where it mapped 0. */
static int hand_off_maps(struct cfg *c, struct nk_err *e)
{
	struct nk_maps m;
	uint32_t outer;
	int r = 0;

	if (c->info_fd >= 0) {
		r = write_info(c->info_fd, e);
		close(c->info_fd);
	}
	if (r == 0 && c->block_fd >= 0) {
		r = wait_block(c->block_fd, e);
		close(c->block_fd);
	}
	if (r < 0 || c->id_given[NK_UID] || c->id_given[NK_GID])
		return r;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		nk_map_init(&m.map[t]);
	if (nk_map_read_proc(0, NK_UID, &m.map[NK_UID], e) < 0 || nk_map_read_proc(0, NK_GID, &m.map[NK_GID], e) < 0)
		r = -e->code;
	else if (nk_map_to_outer(&m.map[NK_UID], 0, &outer) < 0 || nk_map_to_outer(&m.map[NK_GID], 0, &outer) < 0)
		c->become = 0;
	nk_maps_free(&m);
	return r;
}

/* The new namespaces, their maps written (or handed off), propagation
 * set, and with --keep the session's holder and record. */
static int create(struct cfg *c, struct nk_err *e)
{
	NK_AUTOCLOSE int dirfd = -1, sdirfd = -1;
	int nomap = c->mo.mode == NK_MAPMODE_NOMAP;
	int flags = CLONE_NEWUSER | (c->no_mount ? 0 : CLONE_NEWNS) | (c->pidns ? CLONE_NEWPID : 0);
	uint64_t my_start = 0, ino;
	struct nk_plan plan;
	int r;

	if (c->keep && (dirfd = nsu_keep_prepare(c->keep, c->uid, e)) < 0)
		return dirfd;
	if (!nomap && plan_maps(c, &plan, &sdirfd, &my_start, e) < 0)
		return -e->code;
	r = nk_userns_create(flags, nomap ? NULL : &c->mo.maps, &plan, e);
	nk_maps_free(&c->mo.maps);
	if (r < 0)
		return r;
	if (sdirfd >= 0 && (nk_proc_ns_ino(0, "user", &ino, e) < 0 ||
			    nk_slice_move(sdirfd, getpid(), my_start, getpid(), my_start, c->keep, ino, e) < 0))
		return -e->code;
	if (nomap && hand_off_maps(c, e) < 0)
		return -e->code;
	if (!c->no_mount && c->prop && nk_set_propagation_all(c->prop, e) < 0)
		return -e->code;
	if (c->keep && nsu_keep_start(dirfd, c->keep, c->uid, sdirfd, my_start, e) < 0)
		return -e->code;
	if (c->keep)
		snprintf(c->session, sizeof c->session, "%s", c->keep);
	return 0;
}

/* --- run ---------------------------------------------------------------- */

static void set_env(uid_t ruid, gid_t rgid, const char *session)
{
	char b[16];

	/* What buildah's and podman's own unshare set (containers/storage
	 * pkg/unshare): with them, podman and buildah know they already run in
	 * their rootless user namespace and do not try to make another. */
	if (ruid != 0) {
		setenv("_CONTAINERS_USERNS_CONFIGURED", "done", 1);
		snprintf(b, sizeof b, "%u", (unsigned)ruid);
		setenv("_CONTAINERS_ROOTLESS_UID", b, 1);
		snprintf(b, sizeof b, "%u", (unsigned)rgid);
		setenv("_CONTAINERS_ROOTLESS_GID", b, 1);
		setenv("BUILDAH_ISOLATION", "rootless", 0);
	}
	if (session)
		setenv("NSKIT_SESSION", session, 1);
}

/* The child died of SIG: die of it too, as util-linux unshare --fork does,
 * so that the caller sees a death by signal (a shell's 128+N, Python's -N),
 * not an exit status that looks like one. No core of ours is added to the
 * child's. _exit is the fallback for a signal that cannot kill. */
static void __attribute__((noreturn)) die_of(int sig)
{
	struct rlimit nocore = { 0, 0 };
	sigset_t one;

	setrlimit(RLIMIT_CORE, &nocore);
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

/* --fork: the parent forwards every signal to the child and returns its
 * status (a death by signal is passed on as one); a child stopped by job
 * control stops the parent too. */
static void __attribute__((noreturn)) forward_until_exit(pid_t child)
{
	sigset_t all;
	siginfo_t si;
	int st;

	sigfillset(&all);
	for (;;) {
		if (sigwaitinfo(&all, &si) < 0)
			continue;
		if (si.si_signo == SIGCHLD) {
			pid_t r;

			while ((r = waitpid(child, &st, WNOHANG | WUNTRACED)) == child) {
				/* _exit: this parent wrote nothing to flush, and after
				 * unshare(CLONE_NEWPID) with its pid 1 gone it cannot
				 * create a process any more (which at-exit code such as
				 * LeakSanitizer's would try). */
				if (WIFEXITED(st))
					_exit(WEXITSTATUS(st));
				if (WIFSIGNALED(st))
					die_of(WTERMSIG(st));
				if (WIFSTOPPED(st))
					kill(getpid(), SIGSTOP);
			}
			continue;
		}
		/* Signals the terminal sends (SI_KERNEL) already reach the child:
		 * it is in our process group. Everything sent to us is passed on. */
		if (si.si_code == SI_KERNEL && si.si_signo != SIGCONT)
			continue;
		kill(child, si.si_signo);
	}
}

/* Become the ids asked for, unless we stay who we are. */
static int become(const struct cfg *c, struct nk_err *e)
{
	if (!c->become)
		return 0;
	return nk_become(c->inside[NK_UID], c->inside[NK_GID], c->keep_caps,
			 c->id_given[NK_UID] || c->id_given[NK_GID], e);
}

/* Everything between the namespace and the exec: the environment, with
 * --fork a forwarding parent (which never returns), the ids, no_new_privs. */
static int prepare_command(const struct cfg *c, struct nk_err *e)
{
	set_env(c->uid, c->gid, c->session[0] ? c->session : NULL);
	if (c->do_fork) {
		sigset_t all, old;
		pid_t child, parent = getpid();
		struct pollfd pf;
		int alive[2];

		/* The parent holds the write end until it dies: the child can tell
		 * whether it died before PR_SET_PDEATHSIG was set, even in a new
		 * pid namespace (where getppid() says 0 whatever happened). */
		if (pipe2(alive, O_CLOEXEC) < 0)
			return nk_syserr(e, errno, "cannot create a pipe");
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		child = fork();
		if (child < 0)
			return nk_syserr(e, errno, "cannot fork");
		if (child > 0) {
			/* The parent keeps its ids: it only waits and forwards. */
			close(alive[0]);
			forward_until_exit(child);
		}
		close(alive[1]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if ((c->pidns && nk_mount_proc(e) < 0) || become(c, e) < 0)
			return -e->code;
		/* Set after the id change, which clears it: the child gets
		 * KILL_SIG (--kill-child) when the parent dies, however it dies. */
		prctl(PR_SET_PDEATHSIG, c->kill_sig, 0, 0, 0);
		/* Dead before that: the command is not run. */
		pf = (struct pollfd){ .fd = alive[0], .events = POLLIN };
		if (poll(&pf, 1, 0) != 0 || (getppid() != parent && !c->pidns))
			_exit(1);
		close(alive[0]);
	} else if (become(c, e) < 0) {
		return -e->code;
	}
	if (c->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nk_syserr(e, errno, "cannot set no_new_privs");
	return 0;
}

/* Exec CMD in place (no command: the user's shell); returns only when it
 * could not be run. */
static int exec_command(char **argv, struct nk_err *e)
{
	char *shell_argv[2];

	if (!argv[0]) {
		const char *sh = getenv("SHELL");

		shell_argv[0] = (char *)(sh && *sh ? sh : "/bin/sh");
		shell_argv[1] = NULL;
		argv = shell_argv;
	}
	nk_tool_restore_signals();
	execvp(argv[0], argv);
	return nk_syserr(e, errno, "cannot run '%s'", argv[0]);
}

int main(int argc, char **argv)
{
	struct cfg c;
	struct nk_err e;
	int r, status = 1;

	nk_tool_init("nsenter-user", argv);
	parse_options_or_err(argc, argv, &c);
	check_options_or_err(&c);
	if (c.act == ACT_LIST)
		r = nsu_list(c.json, &e);
	else if (c.act == ACT_STOP)
		r = nsu_stop(c.stop, &e);
	/* --keep-caps needs libcap-ng after setns/unshare: load it now, from
	 * our own filesystem, not from the one of the namespace we enter. */
	else if (c.keep_caps && nk_capng_load(&e) < 0)
		r = -e.code;
	else if (c.act == ACT_JOIN)
		r = nsu_join(c.join, c.session, &e);
	else
		r = create(&c, &e);
	/* --keep without a command: the session is all there is to do. */
	if (r == 0 && (c.act == ACT_JOIN || c.act == ACT_RUN) && !(c.keep && !*c.cmd)) {
		r = prepare_command(&c, &e);
		if (r == 0) {
			r = exec_command(c.cmd, &e);
			status = r == -ENOENT ? 127 : 126;
		}
	}
	if (r < 0)
		nk_die_err(status, &e);
	return 0;
}
