#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
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
 * clone(CLONE_VM) children (helper.c), so starting them copies no page
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

/* Does PID (alive, not a zombie) map any of [uid, uid+count)? *MAPV caches
 * its uid map (n == 0 and cap == 1: unreadable). */
static int maps_any(pid_t pid, struct nk_map *m, int *read, uint32_t uid, uint32_t count)
{
	struct nk_err e;
	uint64_t start;
	char state;

	if (!*read) {
		*read = nk_proc_stat(pid, &state, &start, &e) == 0 && state != 'Z' && state != 'X' &&
			nk_map_read_proc(pid, NK_UID, m, &e) == 0 ? 1 : -1;
	}
	if (*read < 0)
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t a = m->ext[i].outer, b = a + m->ext[i].count;

		if (a < (uint64_t)uid + count && uid < b)
			return 1;
	}
	return 0;
}

int nk_userns_scan(const struct nk_userns_want *w, size_t n, pid_t *found)
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
		return -errno;
	while (left && (de = readdir(d))) {
		char path[64];
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
				    !maps_any(pid, &m, &read, w[i].uid, w[i].count))
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

int nk_become(uid_t uid, gid_t gid, int keep_caps, int drop_groups, struct nk_err *e)
{
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return nk_syserr(e, errno, "cannot keep capabilities");
	/* The caller's supplementary groups would otherwise go with the new
	 * ids (shown as the overflow gid, still granting their access). EPERM:
	 * setgroups is denied in this namespace (CVE-2018-7169: dropping a
	 * group could bypass a "deny this group" permission), so they stay. */
	if (drop_groups && setgroups(0, NULL) < 0 && errno != EPERM)
		return nk_syserr(e, errno, "cannot drop the supplementary groups");
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
	if (keep_caps)
		return nk_caps_to_ambient(e);
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
	struct nk_json j;
	int r;

	nk_json_buf(&j, buf, len, NK_JSON_COMPACT);
	nk_json_obj(&j, NULL);
	nk_json_i64(&j, "pid", pid);
	nk_json_u64(&j, "userns", userns);
	r = nk_json_finish(&j, "\n");
	return r < 0 ? r : (int)j.pos;
}
