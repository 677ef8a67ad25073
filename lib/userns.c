#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include "proc.h"
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

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

/* The helper: wait for the go byte, write the maps of TARGET, report. */
static void __attribute__((noreturn))
run_helper(pid_t target, int go, int report, const struct nk_maps *m, const struct nk_plan *p)
{
	struct nk_err e;
	char c;

	memset(&e, 0, sizeof e);
	/* If the parent dies, so does the helper: it has nobody to work for. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != target)
		_exit(1);
	if (read_full(go, &c, 1) != 1)
		_exit(1);          /* parent gave up before unsharing */
	if (nk_write_maps(target, m, p, &e) < 0 && e.code == 0)
		e.code = EIO;
	/* One write below PIPE_BUF: atomic. */
	if (write(report, &e, sizeof e) != (ssize_t)sizeof e)
		_exit(1);
	_exit(0);
}

int nk_userns_create(int flags, const struct nk_maps *m, const struct nk_plan *p,
		     struct nk_err *e)
{
	int go[2], rep[2], st, r;
	pid_t self = getpid(), helper;
	struct nk_err he;
	ssize_t n;

	if (!m) {
		if (unshare(flags) < 0)
			return nk_syserr(e, errno, "cannot create a user namespace");
		return 0;
	}
	if (!nk_userns_needs_helper(p)) {
		if (unshare(flags) < 0)
			return nk_syserr(e, errno, "cannot create a user namespace");
		r = nk_write_maps(self, m, p, e);
		if (r < 0)
			return nk_err_prefix(e, "cannot write the maps of the new namespace");
		return 0;
	}

	if (pipe2(go, O_CLOEXEC) < 0)
		return nk_syserr(e, errno, "cannot create a pipe");
	if (pipe2(rep, O_CLOEXEC) < 0) {
		r = errno;
		close(go[0]);
		close(go[1]);
		return nk_syserr(e, r, "cannot create a pipe");
	}
	helper = fork();
	if (helper < 0) {
		r = errno;
		close(go[0]);
		close(go[1]);
		close(rep[0]);
		close(rep[1]);
		return nk_syserr(e, r, "cannot fork the helper that writes the maps");
	}
	if (helper == 0) {
		close(go[1]);
		close(rep[0]);
		run_helper(self, go[0], rep[1], m, p);
	}
	close(go[0]);
	close(rep[1]);
	if (unshare(flags) < 0) {
		r = errno;
		close(go[1]);      /* the helper reads EOF and exits */
		close(rep[0]);
		wait_child(helper);
		return nk_syserr(e, r, "cannot create a user namespace");
	}
	if (write(go[1], "g", 1) != 1) {
		r = errno;
		close(go[1]);
		close(rep[0]);
		kill(helper, SIGKILL);
		wait_child(helper);
		return nk_syserr(e, r, "cannot wake the helper that writes the maps");
	}
	close(go[1]);
	n = read_full(rep[0], &he, sizeof he);
	close(rep[0]);
	st = wait_child(helper);
	if (n != (ssize_t)sizeof he) {
		if (st != -1 && WIFSIGNALED(st))
			return nk_errf(e, EIO, "the helper that writes the maps was killed by signal %d",
				       WTERMSIG(st));
		return nk_errf(e, EIO, "the helper that writes the maps ended without a report");
	}
	if (he.code) {
		he.msg[sizeof he.msg - 1] = '\0';
		*e = he;
		return nk_err_prefix(e, "cannot write the maps of the new namespace");
	}
	return 0;
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

int nk_become(uid_t uid, gid_t gid, int keep_caps, struct nk_err *e)
{
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return nk_syserr(e, errno, "cannot keep capabilities");
	if (setresgid(gid, gid, gid) < 0) {
		if (errno == EINVAL)
			return nk_errf(e, EINVAL, "cannot become gid %u: it is not mapped in the namespace",
				       (unsigned)gid);
		return nk_syserr(e, errno, "cannot become gid %u", (unsigned)gid);
	}
	if (setresuid(uid, uid, uid) < 0) {
		if (errno == EINVAL)
			return nk_errf(e, EINVAL, "cannot become uid %u: it is not mapped in the namespace",
				       (unsigned)uid);
		return nk_syserr(e, errno, "cannot become uid %u", (unsigned)uid);
	}
	if (keep_caps) {
		unsigned last = CAP_LAST_CAP;
		int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			char buf[16];
			ssize_t n = read(fd, buf, sizeof buf - 1);

			if (n > 0) {
				buf[n] = '\0';
				last = (unsigned)strtoul(buf, NULL, 10);
			}
			close(fd);
		}
		/* Effective and inheritable from permitted, then ambient: the
		 * only set that survives an exec of a file without file
		 * capabilities by a non-root uid. */
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_get_caps_process() < 0)
			return nk_errf(e, EPERM, "cannot read the capabilities of this process");
		for (unsigned c = 0; c <= last; c++)
			if (capng_have_capability(CAPNG_PERMITTED, c))
				capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_INHERITABLE, c);
		if (capng_apply(CAPNG_SELECT_CAPS) < 0)
			return nk_errf(e, EPERM, "cannot set the capabilities of this process");
		for (unsigned c = 0; c <= last; c++)
			if (capng_have_capability(CAPNG_PERMITTED, c) &&
			    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				return nk_syserr(e, errno, "cannot raise capability %u in the ambient set", c);
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

int nk_userns_info_json(pid_t pid, uint64_t userns, char *buf, size_t len)
{
	int n = snprintf(buf, len, "{\"pid\":%d,\"userns\":%llu}\n", (int)pid,
			 (unsigned long long)userns);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
