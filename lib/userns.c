#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include "num.h"
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

/* Creating with maps that need privilege in the parent namespace (the
 * setuid helpers, or root writing any map): a child is cloned straight into
 * the new user (and mount) namespace and only holds it; from out here,
 * where newuidmap, newgidmap and our own privilege still count, the maps of
 * the child's namespace are written (both helpers at once); then this
 * process joins the namespaces with one pidfd setns(2) and lets the child
 * go. No handshake is needed before the helpers start, and no process
 * stands between them and us: one fork and one round trip fewer than
 * unshare(2) plus a helper process. */
static int create_with_holder(int flags, const struct nk_maps *m, const struct nk_plan *p,
			      struct nk_err *e)
{
	int nsflags = flags & (CLONE_NEWUSER | CLONE_NEWNS);
	int hold[2], pidfd, r = 0, err;
	char cwd[PATH_MAX];
	int have_cwd = getcwd(cwd, sizeof cwd) != NULL;
	pid_t c;

	if (pipe2(hold, O_CLOEXEC) < 0)
		return nk_syserr(e, errno, "cannot create a pipe");
	/* Raw clone: fork semantics, born in the new namespaces. The child
	 * only makes async-signal-safe calls. */
	c = (pid_t)syscall(SYS_clone, (unsigned long)nsflags | SIGCHLD, NULL, NULL, NULL, 0);
	if (c < 0) {
		err = errno;
		close(hold[0]);
		close(hold[1]);
		return nk_syserr(e, err, "cannot create a user namespace");
	}
	if (c == 0) {
		char b;

		close(hold[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		while (read(hold[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(hold[0]);
	pidfd = nk_pidfd_open(c, 0);
	if (pidfd < 0)
		r = nk_syserr(e, -pidfd, "cannot open the process holding the new namespace");
	if (r == 0 && nk_write_maps(c, m, p, e) < 0)
		r = nk_err_prefix(e, "cannot write the maps of the new namespace");
	if (r == 0 && setns(pidfd, nsflags) < 0)
		r = nk_syserr(e, errno, "cannot enter the new namespace");
	close(hold[1]);          /* the holder reads EOF and exits */
	if (pidfd >= 0)
		close(pidfd);
	/* Reap it here, so that the command we become never sees a child it
	 * did not make. */
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	/* Entering a mount namespace puts us at its root: back to where we
	 * were, by path (the new namespace is a copy of ours). */
	if ((nsflags & CLONE_NEWNS) && (!have_cwd || chdir(cwd) < 0) && chdir("/") < 0)
		return nk_syserr(e, errno, "cannot change to '/' in the new namespace");
	/* A pid namespace is for our children only: unshare it now that we
	 * are privileged in the new user namespace. */
	if ((flags & CLONE_NEWPID) && unshare(CLONE_NEWPID) < 0)
		return nk_syserr(e, errno, "cannot create a pid namespace");
	return 0;
}

int nk_userns_create(int flags, const struct nk_maps *m, const struct nk_plan *p,
		     struct nk_err *e)
{
	int r;

	if (!m) {
		if (unshare(flags) < 0)
			return nk_syserr(e, errno, "cannot create a user namespace");
		return 0;
	}
	if (!nk_userns_needs_helper(p)) {
		if (unshare(flags) < 0)
			return nk_syserr(e, errno, "cannot create a user namespace");
		r = nk_write_maps(getpid(), m, p, e);
		if (r < 0)
			return nk_err_prefix(e, "cannot write the maps of the new namespace");
		return 0;
	}
	return create_with_holder(flags, m, p, e);
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

			uint32_t v;

			if (n > 0) {
				buf[n] = '\0';
				buf[strcspn(buf, "\n")] = '\0';
				if (nk_parse_u32(buf, 63, &v) == 0)
					last = v;
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
