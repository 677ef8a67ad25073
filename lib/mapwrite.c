#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "caps.h"
#include <linux/capability.h>
#include "mapwrite.h"
#include "newidmap.h"
#include "proc.h"
#include "subid.h"

static int only_own_id(const struct nk_map *m, uint32_t id)
{
	return m->n == 1 && m->ext[0].outer == id && m->ext[0].count == 1;
}

int nk_plan_write(const struct nk_maps *m, enum nk_setgroups sg, struct nk_plan *p,
		  struct nk_err *e)
{
	const uint32_t self[2] = { [NK_UID] = geteuid(), [NK_GID] = getegid() };
	uint64_t eff = nk_caps_effective();   /* one capget for both questions */

	memset(p, 0, sizeof *p);
	p->setgroups = sg == NK_SETGROUPS_DENY ? NK_SETGROUPS_DENY : NK_SETGROUPS_DEFAULT;
	p->privileged[NK_UID] = (eff >> CAP_SETUID) & 1;
	p->privileged[NK_GID] = (eff >> CAP_SETGID) & 1;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (p->privileged[t]) {
			p->how[t] = NK_WRITE_DIRECT;
		} else if (only_own_id(&m->map[t], self[t]) &&
			   (t == NK_UID || sg != NK_SETGROUPS_ALLOW)) {
			p->how[t] = NK_WRITE_DIRECT;
			if (t == NK_GID)
				p->setgroups = NK_SETGROUPS_DENY;
		} else {
			p->how[t] = NK_WRITE_HELPER;
			if (nk_find_helper(t, p->helper[t], sizeof p->helper[t], e) < 0)
				return -e->code;
		}
	}
	return 0;
}

static void range_text(char *buf, size_t len, const struct nk_extent *x)
{
	if (x->count == 1)
		snprintf(buf, len, "%u", x->outer);
	else
		snprintf(buf, len, "%u-%llu", x->outer, (unsigned long long)x->outer + x->count - 1);
}

/* Is the outside range X of a T map mapped in our own namespace, whose T
 * map is OWN (IDENTITY: all of it)? The kernel maps each extent through a
 * single parent extent. */
static int check_in_own_ns(const struct nk_map *own, int identity, enum nk_idtype t,
			   const struct nk_extent *x, struct nk_err *e)
{
	const char *tn = nk_idtype_name(t);
	uint64_t lo = x->outer, hi = (uint64_t)x->outer + x->count - 1;
	char rt[64];

	if (identity || nk_map_find_inner_range(own, x->outer, x->count) >= 0)
		return 0;
	range_text(rt, sizeof rt, x);
	/* Does some extent of ours meet the range at all? */
	for (size_t k = 0; k < own->n; k++)
		if (own->ext[k].inner <= hi && lo <= (uint64_t)own->ext[k].inner + own->ext[k].count - 1)
			return nk_errf(e, EPERM, "cannot map %s range %s: it spans more than one extent "
				       "of this namespace's %s_map (split it at the extent boundaries)", tn, rt, tn);
	return nk_errf(e, EPERM, "cannot map %s range %s: not mapped in this user namespace "
		       "(see /proc/self/%s_map)", tn, rt, tn);
}

/* Unprivileged: is X the caller's own id SELF alone, or inside USER's
 * subordinate ranges SUB (read on first need, HAVE_SUB says so)? */
static int check_delegated(const char *user, enum nk_idtype t, uint32_t self, const struct nk_extent *x,
			   struct nk_ranges *sub, int *have_sub, struct nk_err *e)
{
	const char *tn = nk_idtype_name(t);
	char rt[64], hint[320];

	if (x->count == 1 && x->outer == self)
		return 0;
	if (!*have_sub) {
		if (nk_subid_ranges(user, t, sub, e) < 0)
			return -e->code;
		*have_sub = 1;
	}
	if (nk_ranges_cover(sub, x->outer, x->count))
		return 0;
	range_text(rt, sizeof rt, x);
	if (x->outer <= self && (uint64_t)self < (uint64_t)x->outer + x->count)
		return nk_errf(e, EPERM, "cannot map %s range %s: your own %s %u may only be mapped "
			       "alone (an extent with count 1)", tn, rt, tn, self);
	/* A user with ranges needs no subid-alloc: name the ranges the map
	 * must stay within. One without gets the fix from the tool. */
	if (sub->n == 0) {
		nk_errf(e, EPERM, "cannot map %s range %s: not in %s for '%s'", tn, rt, nk_subid_where(t), user);
		return nk_err_no_subids(e, user);
	}
	return nk_errf(e, EPERM, "cannot map %s range %s: not in %s for '%s' (%s)", tn, rt,
		       nk_subid_where(t), user, nk_subid_hint(user, sub, hint, sizeof hint));
}

/* Every extent of the T map MAP, as nk_maps_check_allowed. */
static int check_map_allowed(const struct nk_map *map, enum nk_idtype t, int privileged, const char *user,
			     uint32_t self, struct nk_err *e)
{
	struct nk_map own;
	struct nk_ranges sub = { 0, NULL };
	int have_sub = 0, identity, r;

	if (nk_map_validate(map, t, e) < 0)
		return -e->code;
	/* Our own namespace's map: the ids that exist here at all. */
	nk_map_init(&own);
	r = nk_map_read_proc(0, t, &own, e);
	identity = own.n == 1 && own.ext[0].inner == 0 && own.ext[0].outer == 0 &&
		   own.ext[0].count == UINT32_MAX;
	for (size_t i = 0; i < map->n && r == 0; i++) {
		r = check_in_own_ns(&own, identity, t, &map->ext[i], e);
		if (r == 0 && !privileged)
			r = check_delegated(user, t, self, &map->ext[i], &sub, &have_sub, e);
	}
	nk_map_free(&own);
	nk_ranges_free(&sub);
	return r;
}

int nk_maps_check_allowed(const struct nk_maps *m, const struct nk_plan *p,
			  const char *user, uid_t uid, gid_t gid, struct nk_err *e)
{
	const uint32_t self[2] = { [NK_UID] = uid, [NK_GID] = gid };

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (check_map_allowed(&m->map[t], t, p->privileged[t], user, self[t], e) < 0)
			return -e->code;
	return 0;
}

/* Is the process behind PIDFD gone? (-1: no pidfd, nothing to say.) */
static int ended(int pidfd)
{
	return pidfd >= 0 && nk_pidfd_send_signal(pidfd, 0) == -ESRCH;
}

static int ended_err(pid_t pid, struct nk_err *e)
{
	return nk_errf(e, ESRCH, "process %d has ended (its pid may name another process now)", (int)pid);
}

/* open(2) /proc/PID/NAME for writing, and with PIDFD make sure the file
 * belongs to that very process: it is still alive after the open, so the
 * pid was not reused in between. */
static int open_proc_w(pid_t pid, int pidfd, const char *name, char *path, size_t len,
		       struct nk_err *e)
{
	int fd;

	snprintf(path, len, "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return nk_errf(e, ESRCH, "no process with pid %d", (int)pid);
		return nk_syserr(e, errno, "cannot open %s", path);
	}
	if (ended(pidfd)) {
		close(fd);
		return ended_err(pid, e);
	}
	return fd;
}

int nk_write_setgroups(pid_t pid, int pidfd, enum nk_setgroups sg, struct nk_err *e)
{
	char path[64];
	const char *v = sg == NK_SETGROUPS_DENY ? "deny" : "allow";
	int fd = open_proc_w(pid, pidfd, "setgroups", path, sizeof path, e);

	if (fd < 0)
		return fd;
	if (write(fd, v, strlen(v)) < 0) {
		int err = errno;

		close(fd);
		return nk_syserr(e, err, "cannot write '%s' to %s", v, path);
	}
	close(fd);
	return 0;
}

/* Why might a write of PID's T map have failed with E? The hint for the
 * message in HINT (empty when none), and the kind of the cause found (E's
 * own kind when none). Decided on data: E's kind, the map as it is now,
 * the helper's file, this process's no_new_privs, the target's owner. */
static enum nk_errkind explain(pid_t pid, enum nk_idtype t, const struct nk_plan *p,
			       const struct nk_err *e, char *hint, size_t len)
{
	struct nk_map cur;
	struct nk_err e2;
	uid_t euid;

	hint[0] = '\0';
	nk_map_init(&cur);
	if (nk_map_read_proc(pid, t, &cur, &e2) == 0 && cur.n > 0) {
		snprintf(hint, len, "the %s map of process %d is already written; a map can be written only once",
			 nk_idtype_name(t), (int)pid);
		nk_map_free(&cur);
		return NK_ERRK_MAP_WRITTEN;
	}
	nk_map_free(&cur);
	if (p->how[t] == NK_WRITE_HELPER) {
		struct nk_helper_info h;

		if (nk_no_new_privs()) {
			snprintf(hint, len, "no_new_privs is set for this process, so the kernel ignores the setuid bit "
				 "and file capabilities of %s; run it from a context without no_new_privs", p->helper[t]);
			return NK_ERRK_NO_NEW_PRIVS;
		}
		if (nk_helper_usable(t, p->helper[t], &h, &e2) < 0 && e2.kind != NK_ERRK_NONE) {
			int f = e2.kind == NK_ERRK_HELPER_NOSUID ? NK_HELPER_NOSUID : NK_HELPER_UNPRIVILEGED;

			snprintf(hint, len, "%s; %s", h.what[f], h.fix[f]);
			return e2.kind;
		}
		if (e->kind == NK_ERRK_HELPER_DENIED) {
			snprintf(hint, len, "the range is not delegated to you in %s", nk_subid_where(t));
			return e->kind;
		}
	}
	if (e->kind == NK_ERRK_MAP_REFUSED && nk_proc_ids(pid, NULL, &euid, NULL, NULL, &e2) == 0 &&
	    euid != geteuid()) {
		snprintf(hint, len, "process %d belongs to uid %u, not to you", (int)pid, euid);
		return NK_ERRK_NOT_OWNER;
	}
	return e->kind;
}

int nk_write_map_direct(pid_t pid, int pidfd, enum nk_idtype t, const struct nk_map *m,
			const struct nk_plan *p, struct nk_err *e)
{
	char path[64], name[16], buf[8192], hint[NK_ERR_MAX];
	ssize_t len = nk_map_format(m, buf, sizeof buf);
	enum nk_errkind kind;
	int fd, err;

	if (len < 0)
		return nk_errf(e, E2BIG, "the %s map is too long", nk_idtype_name(t));
	snprintf(name, sizeof name, "%s_map", nk_idtype_name(t));
	fd = open_proc_w(pid, pidfd, name, path, sizeof path, e);
	if (fd < 0)
		return fd;
	/* The kernel takes the whole map in one write, at offset 0. */
	if (write(fd, buf, (size_t)len) == len) {
		close(fd);
		return 0;
	}
	err = errno;
	close(fd);
	nk_syserr(e, err, "cannot write %s", path);
	if (err == EPERM)
		nk_err_kind(e, NK_ERRK_MAP_REFUSED);
	kind = explain(pid, t, p, e, hint, sizeof hint);
	if (hint[0])
		nk_err_hint(e, "%s", hint);
	nk_err_kind(e, kind);
	return -err;
}

/* --- writer children --------------------------------------------------- */

/* A map that must be written from this namespace is written by a child:
 * newuidmap or newgidmap exec'd by it, or (when the caller is about to
 * leave the namespace, see nk_userns_create) a privileged direct write.
 *
 * The children are clone(CLONE_VM) with stacks of their own: no page
 * tables are copied, and unlike posix_spawn(3) nothing walks all 64
 * signal dispositions (libnskit installs no signal handlers, so none can
 * run in a child that shares our memory). Each waits on the "go" pipe, so
 * they can be started before the target namespace exists; once released
 * they only dup2, read, open/write or execve. They read only fields of
 * their struct nk_writer that we never change while they run, and write
 * nothing of ours but its err. errno they share with us (glibc keeps it
 * in the thread's TLS): it is written only when one of their calls fails,
 * and only a failure of ours at the same instant could then report the
 * other's error number; nothing but a message depends on it. The tools are linked with
 * -z now, so no call of theirs goes through the lazy binding of ld.so. */
enum { WR_NONE, WR_HELPER, WR_DIRECT };

#define WR_STACK (64 * 1024)
/* Where a child's stack starts: its top, except where stacks grow up. */
#if defined(__hppa__)
#define WR_STACK_START(s) (s)
#else
#define WR_STACK_START(s) ((s) + WR_STACK)
#endif

struct nk_writer {
	int kind;
	pid_t pid;
	int out;                 /* read end of the helper's stdout+stderr */
	int outw;                /* its write end, closed here once the child has it */
	int child_out;           /* the same number, for the child: read only */
	volatile int err;        /* errno of a failed exec or write, set by the child */
	char **argv;             /* helper command line */
	size_t argc;
	char pidbuf[16];         /* "PID", or "fd:N" */
	int procfd;              /* N: /proc/PID for the helper, or -1 */
	char path[64];           /* direct: /proc/PID/uid_map */
	char buf[8192];          /* direct: the map text */
	size_t buflen;
	char text[2048];         /* helper: the tail of its output */
	size_t len;
	int go, go_w, devnull;
	int other_out;           /* the other writer's write end, open at our clone: closed */
	const sigset_t *mask;    /* the mask to restore before execve */
	char *stack;
};

struct nk_writers {
	struct nk_writer w[2];
	int go[2];
	int devnull;
	sigset_t mask;
	int held;                /* children still waiting on go (in sequence: the second) */
	int leaving;             /* privileged direct writes are the children's */
};

static char *helper_envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };

static int writer_main(void *arg)
{
	struct nk_writer *w = arg;
	ssize_t n;
	char c;

	/* Our copy of the write end would keep us from ever seeing EOF; our
	 * copy of the other helper's output would keep its reader from seeing
	 * it end while we wait (in sequence, we wait for just that). */
	close(w->go_w);
	if (w->other_out >= 0)
		close(w->other_out);
	if (w->kind == WR_HELPER &&
	    (dup2(w->devnull, 0) < 0 || dup2(w->child_out, 1) < 0 || dup2(w->child_out, 2) < 0)) {
		w->err = errno;
		_exit(127);
	}
	/* Every signal is blocked here: read returns only data or EOF. */
	n = read(w->go, &c, 1);
	if (n != 1)
		_exit(0);                /* cancelled: write nothing */
	if (w->kind == WR_DIRECT) {
		int fd = open(w->path, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, w->buf, w->buflen) != (ssize_t)w->buflen) {
			w->err = errno;
			_exit(1);
		}
		_exit(0);
	}
	/* The helper gets the target as "fd:N": N must survive the exec.
	 * The fd table is this child's own (no CLONE_FILES). */
	if (w->procfd >= 0 && fcntl(w->procfd, F_SETFD, 0) < 0) {
		w->err = errno;
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, w->mask, NULL);
	execve(w->argv[0], w->argv, helper_envp);
	w->err = errno;
	_exit(127);
}

static void writer_free(struct nk_writer *w)
{
	if (w->argv) {
		for (size_t i = 2; i < w->argc; i++)
			free(w->argv[i]);
		free(w->argv);
	}
	if (w->out >= 0)
		close(w->out);
	if (w->outw >= 0)
		close(w->outw);
	free(w->stack);
}

static void writers_free(struct nk_writers *ws)
{
	for (int t = 0; t < 2; t++)
		writer_free(&ws->w[t]);
	if (ws->go[0] >= 0)
		close(ws->go[0]);
	if (ws->go[1] >= 0)
		close(ws->go[1]);
	if (ws->devnull >= 0)
		close(ws->devnull);
	free(ws);
}

static int writer_setup(struct nk_writers *ws, enum nk_idtype t, int kind, pid_t target,
			int procfd, const struct nk_map *m, const struct nk_plan *p, struct nk_err *e)
{
	struct nk_writer *w = &ws->w[t];

	w->kind = kind;
	if (kind == WR_DIRECT) {
		ssize_t len = nk_map_format(m, w->buf, sizeof w->buf);

		if (len < 0)
			return nk_errf(e, E2BIG, "the %s map is too long", nk_idtype_name(t));
		w->buflen = (size_t)len;
		snprintf(w->path, sizeof w->path, "/proc/%d/%s_map", (int)target, nk_idtype_name(t));
		return 0;
	}
	w->argv = calloc(3 + m->n * 3, sizeof *w->argv);
	if (!w->argv)
		return nk_errf(e, ENOMEM, "out of memory");
	if (procfd >= 0 && p->by_fd[t]) {
		w->procfd = procfd;
		snprintf(w->pidbuf, sizeof w->pidbuf, "fd:%d", procfd);
	} else
		snprintf(w->pidbuf, sizeof w->pidbuf, "%d", (int)target);
	w->argv[w->argc++] = (char *)p->helper[t];
	w->argv[w->argc++] = w->pidbuf;
	for (size_t i = 0; i < m->n; i++)
		if (asprintf(&w->argv[w->argc++], "%u", m->ext[i].inner) < 0 ||
		    asprintf(&w->argv[w->argc++], "%u", m->ext[i].outer) < 0 ||
		    asprintf(&w->argv[w->argc++], "%u", m->ext[i].count) < 0) {
			w->argv[--w->argc] = NULL;
			return nk_errf(e, ENOMEM, "out of memory");
		}
	if (ws->devnull < 0) {
		ws->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (ws->devnull < 0)
			return nk_syserr(e, errno, "cannot open /dev/null");
	}
	{
		int pfd[2];

		if (pipe2(pfd, O_CLOEXEC) < 0)
			return nk_syserr(e, errno, "cannot create a pipe");
		w->out = pfd[0];
		w->outw = pfd[1];
	}
	return 0;
}

static int writers_prepare(pid_t target, int procfd, const struct nk_maps *m,
			   const struct nk_plan *p, int leaving, struct nk_writers **out,
			   struct nk_err *e);

int nk_writers_prepare(pid_t target, const struct nk_maps *m, const struct nk_plan *p, int leaving,
		       struct nk_writers **out, struct nk_err *e)
{
	return writers_prepare(target, -1, m, p, leaving, out, e);
}

static int writers_prepare(pid_t target, int procfd, const struct nk_maps *m,
			   const struct nk_plan *p, int leaving, struct nk_writers **out,
			   struct nk_err *e)
{
	struct nk_writers *ws = calloc(1, sizeof *ws);
	sigset_t all;
	int r = 0;

	*out = NULL;
	if (!ws)
		return nk_errf(e, ENOMEM, "out of memory");
	ws->go[0] = ws->go[1] = ws->devnull = -1;
	ws->leaving = leaving;
	for (int t = 0; t < 2; t++) {
		ws->w[t].out = ws->w[t].outw = -1;
		ws->w[t].procfd = -1;
	}
	for (enum nk_idtype t = NK_UID; t <= NK_GID && r == 0; t++) {
		if (p->how[t] == NK_WRITE_HELPER)
			r = writer_setup(ws, t, WR_HELPER, target, procfd, &m->map[t], p, e);
		else if (leaving && p->privileged[t])
			r = writer_setup(ws, t, WR_DIRECT, target, -1, &m->map[t], p, e);
	}
	if (r == 0 && (ws->w[NK_UID].kind || ws->w[NK_GID].kind) && pipe2(ws->go, O_CLOEXEC) < 0)
		r = nk_syserr(e, errno, "cannot create a pipe");
	if (r < 0) {
		writers_free(ws);
		return r;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &ws->mask);
	for (enum nk_idtype t = NK_UID; t <= NK_GID && r == 0; t++) {
		struct nk_writer *w = &ws->w[t];

		if (w->kind == WR_NONE)
			continue;
		/* Set before the clone and never changed while the child runs:
		 * it shares this memory. */
		w->go = ws->go[0];
		w->go_w = ws->go[1];
		w->other_out = ws->w[!t].outw;
		w->devnull = ws->devnull;
		w->child_out = w->outw;
		w->mask = &ws->mask;
		w->stack = malloc(WR_STACK);
		if (!w->stack) {
			r = nk_errf(e, ENOMEM, "out of memory");
			break;
		}
		w->pid = clone(writer_main, WR_STACK_START(w->stack), CLONE_VM | SIGCHLD, w);
		if (w->pid < 0) {
			w->pid = 0;
			r = nk_syserr(e, errno, "cannot start %s",
				      w->kind == WR_HELPER ? nk_helper_name(t) : "a process");
		}
		close(w->outw);
		w->outw = -1;
	}
	sigprocmask(SIG_SETMASK, &ws->mask, NULL);
	/* go[0] stays open here until the release: were every child gone
	 * by then, the write would otherwise raise SIGPIPE. */
	if (r < 0) {
		nk_writers_cancel(ws);
		return r;
	}
	*out = ws;
	return 0;
}

/* Both helpers at once, or one after the other? Each is an exec of a
 * setuid program, most of it CPU work (the dynamic loader, libaudit and
 * libselinux start-up); at once they overlap only where a second CPU is
 * free for the second, so with one CPU allowed to this process they go in
 * sequence (at once they would only add context switches). With two or
 * more they go at once. Measured with bench/idmap-apply (bench/idmap-apply.md,
 * 2 CPUs, busy: in sequence took 1.10x as long as at once; under taskset
 * to one CPU at once gained nothing, 0.99x). NSKIT_HELPERS=sequence|parallel
 * overrides the choice, for that bench. */
static int helpers_at_once(void)
{
	const char *force = getenv("NSKIT_HELPERS");
	cpu_set_t cpus;

	if (force && strcmp(force, "sequence") == 0)
		return 0;
	if (force && strcmp(force, "parallel") == 0)
		return 1;
	if (sched_getaffinity(0, sizeof cpus, &cpus) < 0)
		return 1;
	return CPU_COUNT(&cpus) > 1;
}

/* Release N more children: one byte for each, from the go pipe (a pipe
 * write this small is atomic). The last release closes it. */
static int release(struct nk_writers *ws, int n, struct nk_err *e)
{
	char b[2] = { 'g', 'g' };
	int r = 0;

	if (write(ws->go[1], b, (size_t)n) != n)
		r = nk_syserr(e, errno, "cannot start the helpers");
	ws->held = r < 0 ? 0 : ws->held - n;  /* failed: EOF cancels the rest */
	if (ws->held == 0) {
		close(ws->go[1]);
		close(ws->go[0]);
		ws->go[1] = ws->go[0] = -1;
	}
	return r;
}

int nk_writers_go(struct nk_writers *ws, struct nk_err *e)
{
	if (ws->go[1] < 0)
		return 0;                /* no children */
	ws->held = (ws->w[NK_UID].kind != WR_NONE) + (ws->w[NK_GID].kind != WR_NONE);
	/* In sequence: the second is released when the first has ended
	 * (nk_writers_finish), and only two helpers: a direct write's child
	 * runs no program. */
	if (ws->w[NK_UID].kind == WR_HELPER && ws->w[NK_GID].kind == WR_HELPER && !helpers_at_once())
		return release(ws, 1, e);
	return release(ws, ws->held, e);
}

static int reap(pid_t pid, int *st)
{
	pid_t w;

	while ((w = waitpid(pid, st, 0)) < 0 && errno == EINTR)
		;
	return w < 0 ? -errno : 0;
}

void nk_writers_cancel(struct nk_writers *ws)
{
	if (!ws)
		return;
	/* EOF on the go pipe: the children exit without writing. */
	if (ws->go[1] >= 0) {
		close(ws->go[1]);
		ws->go[1] = -1;
	}
	for (int t = 0; t < 2; t++) {
		int st;

		if (ws->w[t].pid > 0)
			reap(ws->w[t].pid, &st);
	}
	writers_free(ws);
}

/* Last non-empty line of a helper's output, for the message. */
static const char *last_line(char *out)
{
	char *end = out + strlen(out);

	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	for (char *q = end; q > out; q--)
		if (q[-1] == '\n')
			return q;
	return out;
}

/* What a helper's last line of output says, as a kind: the one place its
 * text is read (it runs with LC_ALL=C; shadow's messages, src/newuidmap.c
 * and lib/idmapping.c: "newuidmap: uid range [A-B) -> [C-D) not allowed",
 * "newuidmap: write to uid_map failed: Operation not permitted"). */
static enum nk_errkind helper_refusal(const char *line)
{
	static const char eperm[] = "_map failed: Operation not permitted";
	size_t n = strlen(line), k = sizeof eperm - 1;

	if (strstr(line, " range [") && strstr(line, ") not allowed"))
		return NK_ERRK_HELPER_DENIED;
	if (n >= k && strcmp(line + n - k, eperm) == 0)
		return NK_ERRK_MAP_REFUSED;
	return NK_ERRK_NONE;
}

/* Read the helpers' output until both have closed it (ended); in
 * sequence, the first one's end releases the second. 0, or the error of
 * that release (in E2). */
static int collect_output(struct nk_writers *ws, struct nk_err *e2)
{
	int r = 0;

	for (;;) {
		struct pollfd pf[2];
		int np = 0, idx[2];

		for (int t = 0; t < 2; t++)
			if (ws->w[t].out >= 0) {
				pf[np].fd = ws->w[t].out;
				pf[np].events = POLLIN;
				idx[np++] = t;
			}
		if (np == 0)
			return r;
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			/* A helper still held would wait for its turn for ever:
			 * EOF on the go pipe cancels it. */
			if (ws->held > 0) {
				close(ws->go[1]);
				close(ws->go[0]);
				ws->go[1] = ws->go[0] = -1;
				ws->held = 0;
			}
			return r < 0 ? r : nk_syserr(e2, errno, "cannot wait for the helpers");
		}
		for (int i = 0; i < np; i++) {
			struct nk_writer *w = &ws->w[idx[i]];
			ssize_t n;

			if (!pf[i].revents)
				continue;
			n = read(w->out, w->text + w->len, sizeof w->text - 1 - w->len);
			if (n > 0) {
				w->len += (size_t)n;
				if (w->len == sizeof w->text - 1)
					w->len = 0;   /* keep the tail */
			} else if (n == 0 || errno != EINTR) {
				close(w->out);
				w->out = -1;
				/* The first helper has ended: the second's turn. */
				if (ws->held > 0 && release(ws, ws->held, e2) < 0 && r == 0)
					r = -e2->code;
			}
		}
	}
}

/* The T writer W ended with status ST, not 0: say why, with a hint, and
 * the kind of refusal. */
static int writer_failed(struct nk_writer *w, enum nk_idtype t, int st, pid_t target,
			 const struct nk_plan *p, struct nk_err *e)
{
	const char *line = last_line(w->text);
	char hint[NK_ERR_MAX];
	enum nk_errkind kind;

	if (w->kind == WR_DIRECT) {
		nk_syserr(e, w->err ? w->err : EIO, "cannot write %s", w->path);
		if (w->err == EPERM)
			nk_err_kind(e, NK_ERRK_MAP_REFUSED);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && w->err) {
		return nk_syserr(e, w->err, "cannot run %s", w->argv[0]);
	} else if (WIFSIGNALED(st)) {
		/* Killed (the OOM killer, someone's kill): not a refusal the
		 * hints below could explain. */
		return nk_errf(e, EPERM, "%s was killed by signal %d", nk_helper_name(t), WTERMSIG(st));
	} else if (*line) {
		nk_errf(e, EPERM, "%s failed: %s", nk_helper_name(t), line);
		nk_err_kind(e, helper_refusal(line));
	} else {
		nk_errf(e, EPERM, "%s failed with exit status %d", nk_helper_name(t), WEXITSTATUS(st));
	}
	kind = explain(target, t, p, e, hint, sizeof hint);
	if (hint[0])
		nk_err_hint(e, "%s", hint);
	nk_err_kind(e, kind);
	return -e->code;
}

int nk_writers_finish(struct nk_writers *ws, pid_t target, const struct nk_plan *p, int first_err,
		      struct nk_err *e)
{
	struct nk_err e2;
	int r = collect_output(ws, &e2);

	if (r < 0 && !first_err) {
		*e = e2;
		first_err = r;
	}
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		struct nk_writer *w = &ws->w[t];
		int st = -1;

		if (w->pid <= 0)
			continue;
		if ((r = reap(w->pid, &st)) < 0) {
			if (!first_err)
				first_err = nk_syserr(e, -r, "cannot wait for %s",
						      w->kind == WR_HELPER ? nk_helper_name(t) : "the map writer");
			continue;
		}
		w->text[w->len] = '\0';
		if ((WIFEXITED(st) && WEXITSTATUS(st) == 0) || first_err)
			continue;
		first_err = writer_failed(w, t, st, target, p, e);
	}
	writers_free(ws);
	return first_err;
}

/* The helpers ran while PIDFD's process might have ended: if it did, the
 * pid they were given may have named another process by then. */
static int helpers_outlived(pid_t pid, int pidfd, const struct nk_plan *p, struct nk_err *e)
{
	static const char *const file[2] = { [NK_UID] = "uid_map", [NK_GID] = "gid_map" };
	const char *h[2], *f[2];
	int n = 0;

	if (!ended(pidfd))
		return 0;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (p->how[t] == NK_WRITE_HELPER && !p->by_fd[t]) {
			f[n] = file[t];
			h[n++] = nk_helper_name(t);
		}
	if (n == 0)
		return 0;
	return nk_errf(e, ESRCH, "process %d ended while %s%s%s ran: its pid may name another process now, "
		       "which may have been given the maps (see /proc/%d/%s; a helper that takes "
		       "fd:N closes this window)",
		       (int)pid, h[0], n > 1 ? " and " : "", n > 1 ? h[1] : "", (int)pid, f[0]);
}

/* The steps of nk_write_maps. */

/* setgroups must be "deny" before gid_map is written. */
static int setgroups_first(pid_t pid, int pidfd, const struct nk_plan *p, struct nk_err *e)
{
	if (p->setgroups != NK_SETGROUPS_DENY)
		return 0;
	return nk_write_setgroups(pid, pidfd, NK_SETGROUPS_DENY, e);
}

/* Which helpers get the target as fd:N (P->by_fd), given a pidfd: those
 * that take it. 1 when a helper gets the bare pid. */
static int choose_fd_or_pid(int pidfd, struct nk_plan *p)
{
	int by_pid = 0;

	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		p->by_fd[t] = pidfd >= 0 && p->how[t] == NK_WRITE_HELPER && nk_helper_takes_fd(p->helper[t]);
		by_pid |= p->how[t] == NK_WRITE_HELPER && !p->by_fd[t];
	}
	return by_pid;
}

/* /proc/PID opened into *PROCFD for the helpers that take fd:N (-1 when
 * none does). */
static int open_proc(pid_t pid, const struct nk_plan *p, int *procfd, struct nk_err *e)
{
	char path[32];

	*procfd = -1;
	if (!p->by_fd[NK_UID] && !p->by_fd[NK_GID])
		return 0;
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	*procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*procfd < 0)
		return errno == ENOENT ? ended_err(pid, e) : nk_syserr(e, errno, "cannot open %s", path);
	return 0;
}

/* After the writers ran (R): did the process end meanwhile, and what does
 * that say of where the maps went? The result to return. */
static int pid_reuse_diagnosis(pid_t pid, int pidfd, int procfd, int by_pid, const struct nk_plan *p, int r,
			       struct nk_err *e)
{
	/* A helper given the pid opens /proc/PID itself, later: found alive
	 * after it ran, the process held the pid all along (a pid is free
	 * for reuse only once its process is reaped, which ends the pidfd's
	 * process too). Otherwise say so: the maps may have gone elsewhere. */
	if (r < 0 && procfd >= 0 && !by_pid && ended(pidfd)) {
		/* The helper's own complaint (it found the folder empty) and
		 * the hints for it would mislead: say what happened. */
		enum nk_idtype t = p->by_fd[NK_UID] ? NK_UID : NK_GID;

		nk_errf(e, ESRCH, "process %d ended before %s wrote its map (given the process as fd:N, it wrote no other)",
			(int)pid, nk_helper_name(t));
		return -ESRCH;
	}
	if (by_pid && pidfd >= 0) {
		/* A mixed pair (one helper takes fd:N, the other only a pid):
		 * the fd: one's failure is the ending itself and says nothing
		 * of where the other wrote, so the ending is what is told, as
		 * when both were given the pid and one succeeded. */
		int mixed = procfd >= 0;
		struct nk_err e2;
		int r2 = helpers_outlived(pid, pidfd, p, r < 0 && !mixed ? &e2 : e);

		if (r2 < 0 && (r == 0 || mixed))
			r = r2;
		else if (r2 < 0)
			nk_err_hint(e, "and process %d has ended since", (int)pid);
	}
	return r;
}

int nk_write_maps(pid_t pid, int pidfd, const struct nk_maps *m, const struct nk_plan *p,
		  struct nk_err *e)
{
	struct nk_plan plan = *p;
	struct nk_writers *ws;
	NK_AUTOCLOSE int procfd = -1;
	int r, by_pid;

	r = setgroups_first(pid, pidfd, &plan, e);
	if (r < 0)
		return r;
	/* A helper that takes "fd:N" gets the target as /proc/PID opened
	 * here, while the pidfd shows it is the process checked: it then
	 * writes through that folder, which fails once the process ends,
	 * whatever process takes the pid. */
	if (ended(pidfd))
		return ended_err(pid, e);
	by_pid = choose_fd_or_pid(pidfd, &plan);
	r = open_proc(pid, &plan, &procfd, e);
	if (r < 0)
		return r;
	r = writers_prepare(pid, procfd, m, &plan, 0, &ws, e);
	if (r < 0)
		return r;
	/* The helpers take a pid or /proc/PID: it must still name the
	 * process checked. */
	if (ended(pidfd)) {
		nk_writers_cancel(ws);
		return ended_err(pid, e);
	}
	r = nk_writers_run(ws, pid, pidfd, m, &plan, e);
	return pid_reuse_diagnosis(pid, pidfd, procfd, by_pid, &plan, r, e);
}

int nk_writers_run(struct nk_writers *ws, pid_t pid, int pidfd, const struct nk_maps *m,
		   const struct nk_plan *p, struct nk_err *e)
{
	struct nk_err e2;
	int r, first_err = 0;

	r = nk_writers_go(ws, e);
	if (r < 0) {
		nk_writers_cancel(ws);
		return r;
	}
	/* Direct writes of ours while the helpers run. */
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (p->how[t] != NK_WRITE_DIRECT || (ws->leaving && p->privileged[t]))
			continue;
		r = nk_write_map_direct(pid, pidfd, t, &m->map[t], p, first_err ? &e2 : e);
		if (r < 0 && !first_err)
			first_err = r;
	}
	return nk_writers_finish(ws, pid, p, first_err, e);
}
