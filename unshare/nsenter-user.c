/* nsenter-user - create, keep and join rootless user namespaces
 *
 * Process model (DESIGN.md): maps are computed and checked before the
 * kernel is touched; a helper forked early writes them (newuidmap and
 * newgidmap at the same time) while this process unshares; then this very
 * process becomes root inside and execs the command in place, so signals,
 * job control and exit status are the command's own. --fork puts a
 * forwarding parent above the command; --keep leaves a holder process so
 * that later --join commands share one user and mount namespace.
 */
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <libsmartcols.h>
#include "caps.h"
#include "dl.h"
#include "helper.h"
#include "mapopt.h"
#include "idmap.h"
#include "num.h"
#include "proc.h"
#include "session.h"
#include "slice.h"
#include "subid.h"
#include "tool.h"
#include "userns.h"

enum action { ACT_RUN, ACT_JOIN, ACT_STOP, ACT_LIST };

enum {
	OPT_NO_MAP = 256, OPT_INFO_FD, OPT_BLOCK_FD, OPT_NO_MOUNT, OPT_PROPAGATION, OPT_SETGROUPS,
	OPT_KEEP_CAPS, OPT_NO_NEW_PRIVS, OPT_KEEP, OPT_STOP, OPT_LIST, OPT_JSON, OPT_MAP_FILE, OPT_ISOLATE,
	OPT_KILL_CHILD
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

static int parse_fd_opt(const char *s, const char *opt)
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

static const char *session_dir(char *path, size_t len)
{
	struct nk_err e;

	if (nk_session_dir_path(getenv("XDG_RUNTIME_DIR"), getuid(), path, len, &e) < 0)
		nk_die_err(1, &e);
	return path;
}

static void fmt_age(char *buf, size_t len, int64_t secs, int json)
{
	if (json)
		snprintf(buf, len, "%lld", (long long)secs);
	else if (secs < 120)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%lldm", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(buf, len, "%lldh", (long long)secs / 3600);
	else
		snprintf(buf, len, "%lldd", (long long)secs / 86400);
}

static void fmt_map(char *buf, size_t len, pid_t pid, enum nk_idtype t)
{
	struct nk_map m;
	struct nk_err e;
	size_t off = 0;

	buf[0] = '\0';
	nk_map_init(&m);
	if (nk_map_read_proc(pid, t, &m, &e) < 0) {
		snprintf(buf, len, "-");
		return;
	}
	for (size_t i = 0; i < m.n && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%u:%u:%u", i ? "," : "", m.ext[i].inner,
				 m.ext[i].outer, m.ext[i].count);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	nk_map_free(&m);
}

/* libsmartcols is loaded only for --list: linking it costs every run of
 * nsenter-user its load, about 0.07 ms, a twentieth of a whole create. */
static struct {
	__typeof__(scols_column_set_json_type) *column_set_json_type;
	__typeof__(scols_line_set_data) *line_set_data;
	__typeof__(scols_new_table) *new_table;
	__typeof__(scols_print_table) *print_table;
	__typeof__(scols_table_enable_json) *table_enable_json;
	__typeof__(scols_table_new_column) *table_new_column;
	__typeof__(scols_table_new_line) *table_new_line;
	__typeof__(scols_table_set_name) *table_set_name;
	__typeof__(scols_unref_table) *unref_table;
} S;

static void load_scols(void)
{
	const struct nk_dl_sym syms[] = {
		{ "scols_column_set_json_type", (void **)&S.column_set_json_type },
		{ "scols_line_set_data", (void **)&S.line_set_data },
		{ "scols_new_table", (void **)&S.new_table },
		{ "scols_print_table", (void **)&S.print_table },
		{ "scols_table_enable_json", (void **)&S.table_enable_json },
		{ "scols_table_new_column", (void **)&S.table_new_column },
		{ "scols_table_new_line", (void **)&S.table_new_line },
		{ "scols_table_set_name", (void **)&S.table_set_name },
		{ "scols_unref_table", (void **)&S.unref_table },
	};
	struct nk_err e;

	if (nk_dl_load("libsmartcols.so.1", "libsmartcols1", syms, NK_ARRAY_SIZE(syms), &e) < 0)
		nk_die_err(1, &e);
}

static int do_list(int json)
{
	char path[4096], buf[4096];
	struct nk_session *v = NULL;
	struct nk_slices sl = { 0, NULL };
	size_t n = 0, ncols = 6;
	struct nk_err e;
	struct libscols_table *tb;
	struct libscols_column *cl;
	int dirfd;
	time_t now = time(NULL);
	static const struct { const char *name; double w; int num; } cols[] = {
		{ "NAME", 0.1, 0 }, { "PID", 0.1, 1 }, { "UIDMAP", 0.3, 0 }, { "GIDMAP", 0.3, 0 },
		{ "AGE", 0.05, 1 }, { "STATE", 0.05, 0 }, { "SLICE", 0.1, 0 },
	};

	load_scols();
	dirfd = nk_session_dir_open(session_dir(path, sizeof path), getuid(), 0, &e);
	if (dirfd < 0 && dirfd != -ENOENT)
		nk_die_err(1, &e);
	if (dirfd >= 0 && nk_session_list(dirfd, &v, &n, &e) < 0)
		nk_die_err(1, &e);
	if (dirfd >= 0 && n > 0) {
		int sdir = nk_slice_dir_open(getuid(), 0, &e);

		if (sdir < 0 && sdir != -ENOENT)
			nk_die_err(1, &e);
		if (sdir >= 0 && nk_slices_load_live(sdir, &sl, &e) < 0)
			nk_die_err(1, &e);
		if (sdir >= 0)
			close(sdir);
	}
	/* The SLICE column only when a session has one (--isolate): the
	 * table of sessions without is what it always was. */
	for (size_t i = 0; i < n && ncols == 6; i++)
		for (size_t k = 0; k < sl.n; k++)
			if (sl.v[k].pid == v[i].pid && sl.v[k].start == v[i].start)
				ncols = 7;
	tb = S.new_table();
	if (!tb)
		nk_die(1, "out of memory");
	S.table_enable_json(tb, json);
	S.table_set_name(tb, "sessions");
	for (size_t i = 0; i < ncols; i++) {
		cl = S.table_new_column(tb, cols[i].name, cols[i].w, 0);
		if (!cl)
			nk_die(1, "out of memory");
		if (json)
			S.column_set_json_type(cl, cols[i].num ? SCOLS_JSON_NUMBER : SCOLS_JSON_STRING);
	}
	for (size_t i = 0; i < n; i++) {
		struct libscols_line *ln = S.table_new_line(tb, NULL);
		int pidfd, live;

		if (!ln)
			nk_die(1, "out of memory");
		live = nk_session_open(&v[i], getuid(), &pidfd, &e) == 0;
		if (pidfd >= 0)
			close(pidfd);
		S.line_set_data(ln, 0, v[i].name);
		snprintf(buf, sizeof buf, "%d", (int)v[i].pid);
		S.line_set_data(ln, 1, buf);
		if (live)
			fmt_map(buf, sizeof buf, v[i].pid, NK_UID);
		else
			snprintf(buf, sizeof buf, "-");
		S.line_set_data(ln, 2, buf);
		if (live)
			fmt_map(buf, sizeof buf, v[i].pid, NK_GID);
		S.line_set_data(ln, 3, buf);
		fmt_age(buf, sizeof buf, (int64_t)now - v[i].created, json);
		S.line_set_data(ln, 4, buf);
		S.line_set_data(ln, 5, live ? "running" : "stale");
		if (ncols > 6) {
			const struct nk_slice *x = NULL;

			for (size_t k = 0; k < sl.n && live; k++)
				if (sl.v[k].pid == v[i].pid && sl.v[k].start == v[i].start)
					x = &sl.v[k];
			if (!x)
				snprintf(buf, sizeof buf, "-");
			else if (x->uid == x->gid)
				snprintf(buf, sizeof buf, "%u-%llu", x->uid, (unsigned long long)x->uid + x->count - 1);
			else
				snprintf(buf, sizeof buf, "%u-%llu/%u-%llu", x->uid,
					 (unsigned long long)x->uid + x->count - 1, x->gid,
					 (unsigned long long)x->gid + x->count - 1);
			if (json && !x)
				S.line_set_data(ln, 6, NULL);
			else
				S.line_set_data(ln, 6, buf);
		}
	}
	nk_slices_free(&sl);
	S.print_table(tb);
	S.unref_table(tb);
	free(v);
	if (dirfd >= 0)
		close(dirfd);
	return 0;
}

/* The slice of the holder pid/start once it is gone: free when nothing is
 * left in its namespace USERNS, else kept (and the caller told). */
static void stop_slice(const char *name, pid_t pid, uint64_t start)
{
	struct nk_err e;
	pid_t left = 0;
	int sdir = nk_slice_dir_open(getuid(), 0, &e);

	if (sdir == -ENOENT)
		return;
	if (sdir < 0 || nk_slice_stop(sdir, pid, start, &left, &e) < 0)
		nk_die_err(1, &e);
	if (left > 0)
		nk_warnx("session '%s' is stopped, but process %d is still in its namespace: its slice stays taken "
			 "until no process is left there", name, (int)left);
	close(sdir);
}

static int do_stop(const char *name)
{
	char path[4096];
	struct nk_session s;
	struct nk_err e;
	int dirfd, pidfd, r;

	if (nk_session_name_valid(name, &e) < 0)
		nk_die_err(1, &e);
	dirfd = nk_session_dir_open(session_dir(path, sizeof path), getuid(), 0, &e);
	if (dirfd == -ENOENT)
		nk_die(1, "no session '%s' (see 'nsenter-user --list')", name);
	if (dirfd < 0)
		nk_die_err(1, &e);
	if (nk_session_load(dirfd, name, &s, &e) < 0)
		nk_die_err(1, &e);
	r = nk_session_open(&s, getuid(), &pidfd, &e);
	if (r == -EPERM) {
		/* The record names a process that is not ours (its pid reused by
		 * another user, or a record made up): never signal it; the
		 * record, ours, goes. */
		nk_warnx("%s: only its record is removed, the process is left alone", e.msg);
		if (nk_session_remove(dirfd, name, &e) < 0)
			nk_die_err(1, &e);
		close(dirfd);
		return 0;
	}
	if (r < 0 && r != -ESTALE)
		nk_die_err(1, &e);
	/* ESTALE: nothing to stop, the record is all that is left of it. */
	if (r == 0) {
		if (nk_session_kill(pidfd, &e) < 0)
			nk_die_err(1, &e);
		close(pidfd);
	}
	stop_slice(name, s.pid, s.start);
	if (nk_session_remove(dirfd, name, &e) < 0)
		nk_die_err(1, &e);
	close(dirfd);
	return 0;
}

/* Open the namespaces to join: session NAME or process PID. */
static int join_target(const char *arg, pid_t *pid, const char **session)
{
	struct nk_err e;
	int pidfd;

	*session = NULL;
	if (arg[0] >= '0' && arg[0] <= '9') {
		uid_t owner;

		if (nk_parse_pid_e(arg, pid, &e) < 0)
			nk_die_err(1, &e);
		pidfd = nk_pidfd_open(*pid, 0);
		if (pidfd < 0) {
			if (pidfd == -ESRCH)
				nk_die(1, "no process with pid %d", (int)*pid);
			nk_die(1, "cannot open process %d: %s", (int)*pid, strerror(-pidfd));
		}
		if (nk_userns_owner(*pid, &owner, &e) < 0)
			nk_die_err(1, &e);
		if (owner != getuid())
			nk_die(1, "process %d is not in a user namespace of yours (its namespace belongs to uid %u)",
			       (int)*pid, (unsigned)owner);
		return pidfd;
	} else {
		static struct nk_session s;
		char path[4096];
		int dirfd;

		if (nk_session_name_valid(arg, &e) < 0)
			nk_die_err(1, &e);
		dirfd = nk_session_dir_open(session_dir(path, sizeof path), getuid(), 0, &e);
		if (dirfd == -ENOENT)
			nk_die(1, "no session '%s' (see 'nsenter-user --list')", arg);
		if (dirfd < 0)
			nk_die_err(1, &e);
		if (nk_session_load(dirfd, arg, &s, &e) < 0)
			nk_die_err(1, &e);
		close(dirfd);
		if (nk_session_open(&s, getuid(), &pidfd, &e) < 0) {
			if (e.code == ESTALE)
				nk_err_hint(&e, "run 'nsenter-user --stop %s' to remove it, then '--keep %s' again",
					    arg, arg);
			nk_die_err(1, &e);
		}
		*pid = s.pid;
		*session = s.name;
		return pidfd;
	}
}

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

static void __attribute__((noreturn)) exec_command(char **argv)
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
	nk_die(errno == ENOENT ? 127 : 126, "cannot run '%s': %s", argv[0], strerror(errno));
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "auto", no_argument, NULL, 'a' },
		{ "map-root", no_argument, NULL, 'r' },
		{ "keep-id", no_argument, NULL, 'k' },
		{ "uid-map", required_argument, NULL, 'u' },
		{ "gid-map", required_argument, NULL, 'g' },
		{ "map", required_argument, NULL, 'm' },
		{ "map-file", required_argument, NULL, OPT_MAP_FILE },
		{ "no-map", no_argument, NULL, OPT_NO_MAP },
		{ "isolate", optional_argument, NULL, OPT_ISOLATE },
		{ "info-fd", required_argument, NULL, OPT_INFO_FD },
		{ "block-fd", required_argument, NULL, OPT_BLOCK_FD },
		{ "no-mount", no_argument, NULL, OPT_NO_MOUNT },
		{ "propagation", required_argument, NULL, OPT_PROPAGATION },
		{ "fork", no_argument, NULL, 'f' },
		{ "pid", no_argument, NULL, 'p' },
		{ "kill-child", optional_argument, NULL, OPT_KILL_CHILD },
		{ "uid", required_argument, NULL, 'U' },
		{ "gid", required_argument, NULL, 'G' },
		{ "setgroups", required_argument, NULL, OPT_SETGROUPS },
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
	static const struct nk_mapopt_names names = { "--uid-map", "--gid-map", "--map-file", "--no-map" };
	struct nk_mapopts mo;
	struct nk_maps *maps = &mo.maps;
	enum action act = ACT_RUN;
	struct nk_plan plan;
	struct nk_err e;
	const char *keep = NULL, *join = NULL, *stop = NULL, *session = NULL;
	const char *prop_name = NULL;
	unsigned long prop = MS_PRIVATE;
	int info_fd = -1, block_fd = -1, no_mount = 0, do_fork = 0, pidns = 0, keep_caps = 0;
	int kill_sig = SIGKILL, nnp = 0, json = 0, set_uid = 0, set_gid = 0, c, flags, dirfd = -1, sdirfd = -1;
	int commit = -1;
	uint32_t in_uid = 0, in_gid = 0;
	uint64_t my_start = 0;
	uid_t uid = getuid();
	gid_t gid = getgid();
	char **cmd;

	nk_tool_init("nsenter-user", argv);
	nk_mapopts_init(&mo, &names);
	while ((c = getopt_long(argc, argv, "+arku:g:m:fpU:G:j:hV", opts, NULL)) != -1) {
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
		case OPT_MAP_FILE:
			nk_mapopts_from_or_err(&mo, optarg);
			break;
		case OPT_NO_MAP:
			nk_mapopts_mode_or_err(&mo, NK_MAPMODE_NOMAP);
			break;
		case OPT_ISOLATE:
			nk_mapopts_isolate_or_err(&mo, optarg);
			break;
		case OPT_INFO_FD:
			info_fd = parse_fd_opt(optarg, "--info-fd");
			break;
		case OPT_BLOCK_FD:
			block_fd = parse_fd_opt(optarg, "--block-fd");
			break;
		case OPT_NO_MOUNT:
			no_mount = 1;
			break;
		case OPT_PROPAGATION:
			prop_name = optarg;
			if (strcmp(optarg, "private") == 0)
				prop = MS_PRIVATE;
			else if (strcmp(optarg, "slave") == 0)
				prop = MS_SLAVE;
			else if (strcmp(optarg, "shared") == 0)
				prop = MS_SHARED;
			else if (strcmp(optarg, "unchanged") == 0)
				prop = 0;
			else
				nk_usage_errorx("invalid --propagation '%s': use slave, shared, private or unchanged",
						optarg);
			break;
		case 'f':
			do_fork = 1;
			break;
		case 'p':
			pidns = 1;
			break;
		case OPT_KILL_CHILD:
			if (optarg && nk_parse_signal(optarg, &kill_sig) < 0)
				nk_usage_errorx("invalid --kill-child signal '%s': use a name (TERM, SIGKILL) or a number",
						optarg);
			do_fork = 1;
			break;
		case 'U':
			if (nk_parse_id_e(optarg, &in_uid, "uid", &e) < 0)
				nk_die_err(1, &e);
			set_uid = 1;
			break;
		case 'G':
			if (nk_parse_id_e(optarg, &in_gid, "gid", &e) < 0)
				nk_die_err(1, &e);
			set_gid = 1;
			break;
		case OPT_SETGROUPS:
			nk_mapopts_setgroups_or_err(&mo, optarg);
			break;
		case OPT_KEEP_CAPS:
			keep_caps = 1;
			break;
		case OPT_NO_NEW_PRIVS:
			nnp = 1;
			break;
		case OPT_KEEP:
			keep = optarg;
			break;
		case 'j':
			join = optarg;
			break;
		case OPT_STOP:
			stop = optarg;
			break;
		case OPT_LIST:
			act = ACT_LIST;
			break;
		case OPT_JSON:
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
	cmd = argv + optind;

	/* --- conflicting options ------------------------------------------ */
	if ((act == ACT_LIST) + !!stop + !!join + !!keep > 1)
		nk_usage_errorx("--keep, --join, --stop and --list are mutually exclusive");
	if (stop)
		act = ACT_STOP;
	if (join)
		act = ACT_JOIN;
	if (act == ACT_LIST || act == ACT_STOP) {
		if (*cmd)
			nk_usage_errorx("%s takes no command", act == ACT_LIST ? "--list" : "--stop");
		if (mo.mode != NK_MAPMODE_NONE || info_fd >= 0 || block_fd >= 0 || no_mount || prop_name || do_fork ||
		    pidns || set_uid || set_gid || mo.sg || keep_caps || nnp)
			nk_usage_errorx("%s takes no other options", act == ACT_LIST ? "--list" : "--stop");
		if (json && act != ACT_LIST)
			nk_usage_errorx("--json goes with --list");
		return act == ACT_LIST ? do_list(json) : do_stop(stop);
	}
	if (json)
		nk_usage_errorx("--json goes with --list");
	if (act == ACT_JOIN && (mo.mode != NK_MAPMODE_NONE || info_fd >= 0 || block_fd >= 0 || no_mount || prop_name ||
				pidns || mo.sg))
		nk_usage_errorx("--join enters existing namespaces: no mapping, namespace or --setgroups options");
	if ((info_fd >= 0 || block_fd >= 0) && mo.mode != NK_MAPMODE_NOMAP)
		nk_usage_errorx("--info-fd and --block-fd go with --no-map");
	if (info_fd >= 0 && info_fd == block_fd)
		nk_usage_errorx("--info-fd and --block-fd must be different descriptors");
	if (pidns && no_mount)
		nk_usage_errorx("--pid needs a mount namespace for its /proc (drop --no-mount)");
	if (prop_name && no_mount)
		nk_usage_errorx("--propagation needs a mount namespace (drop --no-mount)");
	if (pidns && keep)
		nk_usage_errorx("--keep and --pid are mutually exclusive (a session has no pid namespace)");
	if (pidns)
		do_fork = 1;

	/* --keep-caps needs libcap-ng after setns/unshare: load it now, from
	 * our own filesystem, not from the one of the namespace we enter. */
	if (keep_caps && nk_capng_load(&e) < 0)
		nk_die_err(1, &e);

	/* --- join ------------------------------------------------------------ */
	if (act == ACT_JOIN) {
		pid_t tpid;
		int pidfd = join_target(join, &tpid, &session);

		if (nk_userns_join(pidfd, tpid, &e) < 0)
			nk_die_err(1, &e);
		close(pidfd);
		goto run;
	}

	/* --- create: maps first, checked before the kernel is touched ------ */
	if (mo.mode == NK_MAPMODE_NONE)
		mo.mode = NK_MAPMODE_AUTO;
	if (keep) {
		char path[4096];
		struct nk_session old;
		int pidfd;

		if (nk_session_name_valid(keep, &e) < 0)
			nk_die_err(1, &e);
		dirfd = nk_session_dir_open(session_dir(path, sizeof path), uid, 1, &e);
		if (dirfd < 0)
			nk_die_err(1, &e);
		if (nk_session_load(dirfd, keep, &old, &e) == 0) {
			if (nk_session_open(&old, uid, &pidfd, &e) == 0) {
				close(pidfd);
				nk_die(1, "session '%s' already exists (process %d; join it with '--join %s' or end it "
				       "with '--stop %s')", keep, (int)old.pid, keep, keep);
			}
			if (e.code != ESTALE)
				nk_die_err(1, &e);
			if (nk_session_remove(dirfd, keep, &e) < 0)
				nk_die_err(1, &e);
		} else if (e.code != ENOENT) {
			nk_die_err(1, &e);
		}
		session = keep;
	}
	if (mo.mode != NK_MAPMODE_NOMAP) {
		char user[256];

		nk_user_name(uid, user, sizeof user);
		if (mo.mode == NK_MAPMODE_ISOLATE) {
			/* Recorded under this very process: the command is exec'd in
			 * place (same pid, same start time), and a failure before that
			 * ends it, which frees the slice. Once the namespace exists the
			 * record names it too (a slice is held while any process is in
			 * it); --keep hands it to the holder. */
			sdirfd = nk_slice_dir_open(uid, 1, &e);
			if (sdirfd < 0 || nk_proc_starttime(0, &my_start, &e) < 0 ||
			    nk_slice_maps(sdirfd, user, mo.slice_size, getpid(), my_start, keep, maps, NULL, &e) < 0)
				nk_die_err(1, &e);
		}
		nk_mapopts_finish_or_err(&mo, user, uid, gid, &plan);
		if (mo.mode == NK_MAPMODE_KEEPID) {
			if (!set_uid)
				in_uid = uid;
			if (!set_gid)
				in_gid = gid;
		}
		/* newgidmap writes "deny" itself when the map is only the
		 * caller's gid (CVE-2018-7169): say so instead of silently
		 * running with setgroups denied. */
		if (mo.sg == NK_SETGROUPS_ALLOW && !plan.privileged[NK_GID] && maps->map[NK_GID].n == 1 &&
		    maps->map[NK_GID].ext[0].outer == gid && maps->map[NK_GID].ext[0].count == 1)
			nk_die(1, "cannot allow setgroups with only your own gid mapped: newgidmap denies it then "
			       "(CVE-2018-7169) (map subordinate gids too, or use --setgroups deny)");
		for (int t = NK_UID; t <= NK_GID; t++) {
			uint32_t want = t == NK_UID ? in_uid : in_gid, dummy;

			if (nk_map_to_outer(&maps->map[t], want, &dummy) < 0)
				nk_die(1, "cannot become %s %u inside: the %s map does not map it (see --%s)",
				       nk_idtype_name((enum nk_idtype)t), want, nk_idtype_name((enum nk_idtype)t),
				       t == NK_UID ? "uid" : "gid");
		}
	} else if (mo.sg != NK_SETGROUPS_DEFAULT) {
		nk_usage_errorx("--setgroups goes with a map (with --no-map the caller writes setgroups)");
	}

	flags = CLONE_NEWUSER | (no_mount ? 0 : CLONE_NEWNS) | (pidns ? CLONE_NEWPID : 0);
	if (nk_userns_create(flags, mo.mode == NK_MAPMODE_NOMAP ? NULL : maps, &plan, &e) < 0)
		nk_die_err(1, &e);
	nk_maps_free(maps);
	if (sdirfd >= 0) {
		uint64_t ino;

		if (nk_proc_ns_ino(0, "user", &ino, &e) < 0 ||
		    nk_slice_move(sdirfd, getpid(), my_start, getpid(), my_start, keep, ino, &e) < 0)
			nk_die_err(1, &e);
	}
	/* setgroups "allow" asked for with a map written by the helper: the
	 * kernel's default is allow, so nothing to do; "deny" was written first. */

	if (mo.mode == NK_MAPMODE_NOMAP) {
		if (info_fd >= 0) {
			char buf[128];
			uint64_t ino;
			int n;

			if (nk_proc_ns_ino(0, "user", &ino, &e) < 0)
				nk_die_err(1, &e);
			n = nk_userns_info_json(getpid(), ino, buf, sizeof buf);
			if (n < 0 || write(info_fd, buf, (size_t)n) != n)
				nk_die(1, "cannot write to --info-fd %d: %s", info_fd, strerror(errno));
			close(info_fd);
		}
		if (block_fd >= 0) {
			char buf[256];
			ssize_t n;

			while ((n = read(block_fd, buf, sizeof buf)) != 0)
				if (n < 0 && errno != EINTR)
					nk_die(1, "cannot read --block-fd %d: %s", block_fd, strerror(errno));
			close(block_fd);
		}
		/* Become root (or -U/-G) only where the caller mapped it. */
		if (!set_uid && !set_gid) {
			struct nk_map um, gm;
			uint32_t dummy;

			nk_map_init(&um);
			nk_map_init(&gm);
			if (nk_map_read_proc(0, NK_UID, &um, &e) < 0 || nk_map_read_proc(0, NK_GID, &gm, &e) < 0)
				nk_die_err(1, &e);
			if (nk_map_to_outer(&um, 0, &dummy) < 0 || nk_map_to_outer(&gm, 0, &dummy) < 0)
				set_uid = set_gid = -1;   /* not mapped: stay who we are */
			nk_map_free(&um);
			nk_map_free(&gm);
		}
	}
	if (!no_mount && prop && nk_set_propagation_all(prop, &e) < 0)
		nk_die_err(1, &e);

	if (dirfd >= 0 && !keep) {
		close(dirfd);
		dirfd = -1;
	}
	if (keep) {
		struct nk_session s;
		pid_t hp;

		/* All or nothing: the holder waits for the commit, given once its
		 * record is written; if we die before, it removes what we wrote
		 * and ends, and its slice is free with it. */
		if (nk_session_spawn_holder(dirfd, keep, &hp, &commit, &e) < 0)
			nk_die_err(1, &e);
		if (nk_session_describe(&s, keep, hp, uid, &e) < 0 ||
		    (sdirfd >= 0 && nk_slice_move(sdirfd, getpid(), my_start, hp, s.start, keep, 0, &e) < 0) ||
		    nk_session_save(dirfd, &s, &e) < 0 || nk_session_commit(commit, &e) < 0) {
			kill(hp, SIGKILL);
			nk_die_err(1, &e);
		}
		close(dirfd);
		if (!*cmd)
			return 0;
	}
	if (sdirfd >= 0)
		close(sdirfd);

run:
	set_env(uid, gid, session);
	if (do_fork) {
		sigset_t all, old;
		pid_t child, parent = getpid();

		struct pollfd pf;
		int alive[2];

		/* The parent holds the write end until it dies: the child can tell
		 * whether it died before PR_SET_PDEATHSIG was set, even in a new
		 * pid namespace (where getppid() says 0 whatever happened). */
		if (pipe2(alive, O_CLOEXEC) < 0)
			nk_die(1, "cannot create a pipe: %s", strerror(errno));
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		child = fork();
		if (child < 0)
			nk_die(1, "cannot fork: %s", strerror(errno));
		if (child > 0) {
			/* The parent keeps its ids: it only waits and forwards. */
			close(alive[0]);
			forward_until_exit(child);
		}
		close(alive[1]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (pidns && nk_mount_proc(&e) < 0)
			nk_die_err(1, &e);
		if (set_uid >= 0 && nk_become(in_uid, in_gid, keep_caps, set_uid > 0 || set_gid > 0, &e) < 0)
			nk_die_err(1, &e);
		/* Set after the id change, which clears it: the child gets
		 * KILL_SIG (--kill-child) when the parent dies, however it dies. */
		prctl(PR_SET_PDEATHSIG, kill_sig, 0, 0, 0);
		/* Dead before that: the command is not run. */
		pf = (struct pollfd){ .fd = alive[0], .events = POLLIN };
		if (poll(&pf, 1, 0) != 0 || (getppid() != parent && !pidns))
			_exit(1);
		close(alive[0]);
	} else if (set_uid >= 0 && nk_become(in_uid, in_gid, keep_caps, set_uid > 0 || set_gid > 0, &e) < 0) {
		nk_die_err(1, &e);
	}
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		nk_die(1, "cannot set no_new_privs: %s", strerror(errno));
	exec_command(cmd);
}
