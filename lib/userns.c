#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include "caps.h"
#include "num.h"
#include "proc.h"
#include "json.h"
#include "userns.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

int nk_userns_needs_helper(const struct nk_plan *p)
{
	/* A process may write its own map only for its own id, and only
	 * without relying on privilege in the parent namespace (which it has
	 * left once it unshared). */
	for (int t = NK_UID; t <= NK_GID; t++)
		if (p->how[t] != NK_WRITE_DIRECT || p->privileged[t])
			return 1;
	return 0;
}

/* Creating: the children that write the maps from this namespace
 * (newuidmap, newgidmap, or our privilege here) are started first and
 * wait; this process unshares; they are released and write its maps
 * while it writes any map that is just its own id itself. They are
 * clone(CLONE_VM) children (mapwrite.c), so starting them copies no page
 * tables, and no process has to hold the namespace for us to join later:
 * we are in it from the start. */
static int create_with_writers(int flags, const struct nk_maps *m, const struct nk_plan *p,
			       struct nk_err *e)
{
	struct nk_writers *ws;
	pid_t self = getpid();
	int r, err;

	r = nk_writers_prepare(self, m, p, 1, &ws, e);
	if (r < 0)
		return r;
	if (unshare(flags) < 0) {
		err = errno;
		nk_writers_cancel(ws);
		return nk_syserr(e, err, "cannot create a user namespace");
	}
	/* setgroups must be "deny" before gid_map is written. */
	if (p->setgroups == NK_SETGROUPS_DENY && (r = nk_write_setgroups(self, -1, NK_SETGROUPS_DENY, e)) < 0) {
		nk_writers_cancel(ws);
		return nk_err_prefix(e, "cannot write the maps of the new namespace");
	}
	if (nk_writers_run(ws, self, -1, m, p, e) < 0)
		return nk_err_prefix(e, "cannot write the maps of the new namespace");
	return 0;
}

int nk_userns_create(int flags, const struct nk_maps *m, const struct nk_plan *p,
		     struct nk_err *e)
{
	if (!m) {
		if (unshare(flags) < 0)
			return nk_syserr(e, errno, "cannot create a user namespace");
		return 0;
	}
	return create_with_writers(flags, m, p, e);
}

/* The child of nk_userns_open_mapped: a user namespace of its own, said on
 * READY, then held until HOLD is closed. */
static void __attribute__((noreturn)) mapped_child(int ready, int hold)
{
	char c = 1;

	if (unshare(CLONE_NEWUSER) < 0)
		_exit(1);
	if (nk_write_full(ready, &c, 1) < 0)
		_exit(1);
	while (read(hold, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* The maps of the child PID (in its own namespace, waiting), then its
 * namespace's descriptor. */
static int mapped_child_ns(pid_t pid, const struct nk_maps *m, const struct nk_plan *plan, struct nk_err *e)
{
	NK_AUTOCLOSE int pidfd = nk_pidfd_open(pid, 0);
	char path[64];
	int fd;

	if (nk_write_maps(pid, pidfd, m, plan, e) < 0)
		return -e->code;
	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return nk_syserr(e, errno, "cannot open %s", path);
	return fd;
}

int nk_userns_open_mapped(const struct nk_maps *m, struct nk_err *e)
{
	struct nk_plan plan;
	int ready[2], hold[2], r;
	char c;
	pid_t pid;

	if (nk_plan_write(m, NK_SETGROUPS_DENY, &plan, e) < 0)
		return -e->code;
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++)
		if (plan.how[t] != NK_WRITE_DIRECT)
			return nk_errf(e, EPERM, "cannot write the %s map of a new user namespace: %s",
				       nk_idtype_name(t), strerror(EPERM));
	if (pipe2(ready, O_CLOEXEC) < 0)
		return nk_syserr(e, errno, "cannot create a pipe");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		r = errno;
		close(ready[0]);
		close(ready[1]);
		return nk_syserr(e, r, "cannot create a pipe");
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		mapped_child(ready[1], hold[0]);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid < 0)
		r = nk_syserr(e, errno, "cannot fork");
	else if (nk_read_full(ready[0], &c, 1) < 0)
		r = nk_errf(e, EPERM, "cannot create a user namespace: the child could not");
	else
		r = mapped_child_ns(pid, m, &plan, e);
	close(ready[0]);
	close(hold[1]);         /* the child ends */
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	return r;
}

int nk_userns_owner(pid_t pid, uid_t *owner, struct nk_err *e)
{
	char path[64];
	int fd;
	uid_t u;

	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return nk_errf(e, ESRCH, "no process with pid %d", (int)pid);
		if (errno == EACCES || errno == EPERM)
			return nk_errf(e, EPERM, "process %d is not yours", (int)pid);
		return nk_syserr(e, errno, "cannot open %s", path);
	}
	if (ioctl(fd, NS_GET_OWNER_UID, &u) < 0) {
		int err = errno;

		close(fd);
		return nk_syserr(e, err, "cannot read the owner of %s", path);
	}
	close(fd);
	*owner = u;
	return 0;
}

int nk_userns_join(int pidfd, pid_t pid, struct nk_err *e)
{
	uint64_t my_mnt, their_mnt;
	int flags = CLONE_NEWUSER;
	char cwd[PATH_MAX];
	int have_cwd;

	if (nk_proc_ns_ino(0, "mnt", &my_mnt, e) < 0 || nk_proc_ns_ino(pid, "mnt", &their_mnt, e) < 0)
		return -e->code;
	if (my_mnt != their_mnt)
		flags |= CLONE_NEWNS;
	have_cwd = getcwd(cwd, sizeof cwd) != NULL;
	if (setns(pidfd, flags) < 0) {
		if (errno == ESRCH)
			return nk_errf(e, ESRCH, "process %d has ended", (int)pid);
		if (errno == EINVAL)
			return nk_errf(e, EINVAL, "cannot join the namespaces of process %d: it is in this "
				       "user namespace (nothing to join)", (int)pid);
		return nk_syserr(e, errno, "cannot join the namespaces of process %d", (int)pid);
	}
	/* Entering a mount namespace puts us at its root; go back to where we
	 * were, by path, as seen in that namespace. */
	if (flags & CLONE_NEWNS) {
		if (!have_cwd || chdir(cwd) < 0) {
			if (chdir("/") < 0)
				return nk_syserr(e, errno, "cannot change to '/' in the namespace of process %d",
						 (int)pid);
		}
	}
	return 0;
}

/* Is [a, a+n) overlapping [uid, uid+count)? */
static int overlaps(uint64_t a, uint64_t n, uint32_t uid, uint32_t count)
{
	return a < (uint64_t)uid + count && uid < a + n;
}

/* Does PID (not gone: nk_proc_gone) hold any of the host uids [uid,
 * uid+count)? Its uid map says, or, in a namespace whose uid map is not
 * written (made inside the slice's and left unmapped), the ids it runs
 * with, which are still the ones it had where it was made. *READ caches
 * what was read of it (-1: gone or unreadable). */
static int maps_any(pid_t pid, struct nk_map *m, struct nk_proc_status *st, int *read, uint32_t uid,
		    uint32_t count)
{
	struct nk_err e;

	if (!*read) {
		*read = nk_proc_status(pid, st, &e) == 0 && !nk_proc_status_gone(st) &&
			nk_map_read_proc(pid, NK_UID, m, &e) == 0 ? 1 : -1;
	}
	if (*read < 0)
		return 0;
	if (m->n == 0) {
		for (int i = 0; i < 4; i++)
			if (overlaps(st->ids[NK_UID][i], 1, uid, count))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < m->n; i++)
		if (overlaps(m->ext[i].outer, m->ext[i].count, uid, count))
			return 1;
	return 0;
}

int nk_userns_scan(const struct nk_userns_want *w, size_t n, pid_t *found, struct nk_err *e)
{
	DIR *d;
	struct dirent *de;
	size_t left = n;

	for (size_t i = 0; i < n; i++)
		found[i] = 0;
	if (n == 0)
		return 0;
	d = opendir("/proc");
	if (!d)
		return nk_syserr(e, errno, "cannot read /proc");
	while (left && (de = readdir(d))) {
		char path[64];
		struct nk_proc_status ps;
		struct nk_map m;
		struct stat st;
		pid_t pid;
		int fd, read = 0;

		if (nk_parse_pid(de->d_name, &pid) < 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;       /* gone, or not ours to inspect */
		nk_map_init(&m);
		/* Its namespace, then the ones it was made in, up to ours
		 * (NS_GET_PARENT fails with EPERM past it). */
		while (fd >= 0 && fstat(fd, &st) == 0) {
			int parent;

			for (size_t i = 0; i < n; i++) {
				if (w[i].ino != (uint64_t)st.st_ino || found[i] ||
				    !maps_any(pid, &m, &ps, &read, w[i].uid, w[i].count))
					continue;
				found[i] = pid;
				left--;
			}
			parent = ioctl(fd, NS_GET_PARENT);
			close(fd);
			fd = parent;
		}
		if (fd >= 0)
			close(fd);
		nk_map_free(&m);
	}
	closedir(d);
	return 0;
}

void nk_idspans_free(struct nk_idspans *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int span_add(struct nk_idspans *s, uint64_t start, uint64_t count, pid_t pid)
{
	struct nk_idspan *nv;

	if (count == 0 || start > NK_ID_MAX)
		return 0;
	if (start + count - 1 > NK_ID_MAX)
		count = NK_ID_MAX - start + 1;
	/* The processes of one namespace all show its extents: once is enough. */
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].start == start && s->v[i].count == count)
			return 0;
	nv = realloc(s->v, (s->n + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	s->v = nv;
	s->v[s->n++] = (struct nk_idspan){ (uint32_t)start, (uint32_t)count, pid };
	return 0;
}

static int maps_outer(const struct nk_map *m, uint32_t id)
{
	for (size_t i = 0; i < m->n; i++)
		if (overlaps(m->ext[i].outer, m->ext[i].count, id, 1))
			return 1;
	return 0;
}

/* The uid and gid maps of the user namespace NSFD, a child of ours, as a
 * child process that enters it reads them (/proc/self/uid_map there shows
 * our ids): the way to learn the map of a namespace no process of which
 * is left, only processes of namespaces made inside it. */
static int probe_maps(int nsfd, struct nk_map m[2])
{
	char buf[2 * 16384 + 2];
	size_t len = 0;
	int p[2], st, r = -EIO;
	pid_t c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c = fork();
	if (c < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (c == 0) {
		static const char *const f[2] = { "/proc/self/uid_map", "/proc/self/gid_map" };

		close(p[0]);
		if (setns(nsfd, CLONE_NEWUSER) < 0)
			_exit(1);
		for (int t = 0; t < 2; t++) {
			char b[16384];
			ssize_t n = 0, k;
			int fd = open(f[t], O_RDONLY | O_CLOEXEC);

			if (fd < 0)
				_exit(1);
			while (n < (ssize_t)sizeof b && (k = read(fd, b + n, sizeof b - (size_t)n)) > 0)
				n += k;
			if (write(p[1], b, (size_t)n) != n || write(p[1], "", 1) != 1)
				_exit(1);
			close(fd);
		}
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + len, sizeof buf - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof buf - 1)
			break;
	}
	close(p[0]);
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	buf[len] = '\0';
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && memchr(buf, '\0', len)) {
		struct nk_err e;
		const char *g = buf + strlen(buf) + 1;

		if (g < buf + len && nk_map_parse_kernel(buf, &m[0], &e) == 0 && nk_map_parse_kernel(g, &m[1], &e) == 0)
			r = 0;
	}
	return r;
}

/* For a process of PID whose maps are not written: the maps of the
 * namespace made in ours that its namespace was made inside (PM, with
 * *PROBED its inode, so that one probe serves all of that namespace's
 * processes). 1 when they are known, 0 when not (its namespace is that one
 * itself, or not ours to enter). */
static int top_maps(pid_t pid, uint64_t self, struct nk_map pm[2], uint64_t *probed, int *probed_ok)
{
	char path[64];
	struct stat st;
	int cur, par, ok = 0;

	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
	cur = open(path, O_RDONLY | O_CLOEXEC);
	if (cur < 0)
		return 0;
	for (int depth = 0; depth < 40; depth++) {
		par = ioctl(cur, NS_GET_PARENT);
		if (par < 0)
			break;          /* outside our scope: not below ours */
		if (fstat(par, &st) < 0) {
			close(par);
			break;
		}
		if ((uint64_t)st.st_ino == self) {
			/* CUR is the top one; its own maps are what we know when it
			 * is the process's own namespace: none. */
			close(par);
			if (depth > 0 && fstat(cur, &st) == 0) {
				if (*probed != (uint64_t)st.st_ino) {
					nk_map_free(&pm[0]);
					nk_map_free(&pm[1]);
					*probed = (uint64_t)st.st_ino;
					*probed_ok = probe_maps(cur, pm) == 0 && pm[0].n > 0;
				}
				ok = *probed_ok;
			}
			break;
		}
		close(cur);
		cur = par;
	}
	close(cur);
	return ok;
}

/* The steps of nk_userns_taken: one pass over /proc, each process
 * classified by the maps that say which ids it holds, their spans
 * collected. */
struct taken_scan {
	struct stat self;               /* our user namespace */
	uid_t uid;
	gid_t gid;
	struct nk_map pm[2];            /* top_maps' memo */
	uint64_t probed;
	int probed_ok;
	struct nk_idspans *out;
};

enum held {
	HELD_NONE,      /* the caller's own namespace, or the host's: it is someone there */
	HELD_BY_TOP,    /* not mapped, inside a namespace that is: TS->pm say */
	HELD_OWN,       /* an isolated namespace: its own maps M say */
};

/* Which maps say what PID holds (its own read into M). */
static enum held classify(struct taken_scan *ts, pid_t pid, struct nk_map m[2])
{
	struct nk_err e;

	/* uid_map and gid_map are readable by anyone (another user's
	 * process, whose ns link is not, in the host's namespace maps our
	 * own uid and is passed over below). */
	if (nk_map_read_proc(pid, NK_UID, &m[0], &e) == 0 && nk_map_read_proc(pid, NK_GID, &m[1], &e) == 0 &&
	    (m[0].n == 0 || m[1].n == 0) && top_maps(pid, (uint64_t)ts->self.st_ino, ts->pm, &ts->probed, &ts->probed_ok))
		/* Not mapped, inside a namespace that is: that one says (the
		 * caller's own, or a slice, held by this process). */
		return !maps_outer(&ts->pm[0], ts->uid) && !maps_outer(&ts->pm[1], ts->gid) ? HELD_BY_TOP : HELD_NONE;
	return !maps_outer(&m[0], ts->uid) && !maps_outer(&m[1], ts->gid) ? HELD_OWN : HELD_NONE;
}

/* The outer ids of M as spans of PID. */
static int add_map_spans(struct nk_idspans out[2], const struct nk_map m[2], pid_t pid)
{
	int r = 0;

	for (int t = NK_UID; t <= NK_GID && r == 0; t++)
		for (size_t i = 0; i < m[t].n && r == 0; i++)
			r = span_add(&out[t], m[t].ext[i].outer, m[t].ext[i].count, pid);
	return r;
}

/* For each side whose map M is not written (yet, or ever): the ids PID
 * runs with, which it had where the namespace was made. */
static int add_run_ids(struct nk_idspans out[2], const struct nk_map m[2], const struct nk_proc_status *ps,
		       pid_t pid)
{
	int r = 0;

	for (int t = NK_UID; t <= NK_GID && r == 0; t++)
		for (int i = 0; i < 4 && r == 0 && m[t].n == 0; i++)
			r = span_add(&out[t], ps->ids[t][i], 1, pid);
	return r;
}

/* What the process PID holds, added to TS->out. */
static int taken_by(struct taken_scan *ts, pid_t pid)
{
	struct nk_proc_status ps;
	struct nk_map m[2];
	struct nk_err e;
	struct stat st;
	char path[64];
	int r = 0;

	if (nk_proc_status(pid, &ps, &e) < 0 || nk_proc_status_gone(&ps))
		return 0;
	/* Ours is the namespace the ids are counted in, not one using them. */
	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
	if (stat(path, &st) == 0 && st.st_ino == ts->self.st_ino && st.st_dev == ts->self.st_dev)
		return 0;
	nk_map_init(&m[0]);
	nk_map_init(&m[1]);
	switch (classify(ts, pid, m)) {
	case HELD_BY_TOP:
		r = add_map_spans(ts->out, ts->pm, pid);
		break;
	case HELD_OWN:
		r = add_map_spans(ts->out, m, pid);
		if (r == 0)
			r = add_run_ids(ts->out, m, &ps, pid);
		break;
	case HELD_NONE:
		break;
	}
	nk_map_free(&m[0]);
	nk_map_free(&m[1]);
	return r;
}

int nk_userns_taken(uid_t uid, gid_t gid, struct nk_idspans out[2], struct nk_err *e)
{
	struct taken_scan ts = { .uid = uid, .gid = gid, .out = out };
	struct dirent *de;
	DIR *d;
	int r = 0;

	out[NK_UID] = (struct nk_idspans){ 0, NULL };
	out[NK_GID] = (struct nk_idspans){ 0, NULL };
	if (stat("/proc/self/ns/user", &ts.self) < 0 || !(d = opendir("/proc")))
		return nk_syserr(e, errno, "cannot see which ids the user namespaces hold (/proc)");
	nk_map_init(&ts.pm[0]);
	nk_map_init(&ts.pm[1]);
	while (r == 0 && (de = readdir(d))) {
		pid_t pid;

		if (nk_parse_pid(de->d_name, &pid) == 0)
			r = taken_by(&ts, pid);
	}
	closedir(d);
	nk_map_free(&ts.pm[0]);
	nk_map_free(&ts.pm[1]);
	if (r < 0) {
		nk_idspans_free(&out[NK_UID]);
		nk_idspans_free(&out[NK_GID]);
		return nk_syserr(e, -r, "cannot see which ids the user namespaces hold (/proc)");
	}
	return 0;
}

int nk_set_propagation_all(unsigned long type, struct nk_err *e)
{
	const char *name = type == MS_SHARED ? "shared" : type == MS_SLAVE ? "slave" : "private";

	if (mount("none", "/", NULL, MS_REC | type, NULL) < 0)
		return nk_syserr(e, errno, "cannot make the mounts of the new namespace %s", name);
	return 0;
}

int nk_mount_proc(struct nk_err *e)
{
	/* Keep the new /proc from propagating anywhere, as unshare
	 * --mount-proc does. */
	if (mount("none", "/proc", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return nk_syserr(e, errno, "cannot make /proc private");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return nk_syserr(e, errno, "cannot mount a new /proc");
	return 0;
}

int nk_userns_info_json(pid_t pid, uint64_t userns, char *buf, size_t len, struct nk_err *e)
{
	struct nk_json j;
	int r;

	nk_json_buf(&j, buf, len, NK_JSON_COMPACT);
	nk_json_obj(&j, NULL);
	nk_json_i64(&j, "pid", pid);
	nk_json_u64(&j, "userns", userns);
	r = nk_json_finish(&j, "\n");
	if (r < 0)
		return nk_errf(e, -r, "the --info-fd record does not fit in %zu bytes", len);
	return (int)j.pos;
}
