/* newidmap.c - shadow-utils' newuidmap and newgidmap as programs: where
 * they are, whether they can gain their privilege, whether they take fd:N */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <linux/capability.h>
#include "caps.h"
#include "newidmap.h"

static const char *const helper_names[2] = { [NK_UID] = "newuidmap", [NK_GID] = "newgidmap" };
static const char *const helper_envs[2] = { [NK_UID] = "NEWUIDMAP", [NK_GID] = "NEWGIDMAP" };

const char *nk_helper_name(enum nk_idtype t)
{
	return helper_names[t];
}

int nk_find_helper(enum nk_idtype t, char *out, size_t len, struct nk_err *e)
{
	const char *env = getenv(helper_envs[t]);
	const char *name = nk_helper_name(t);
	const char *path = getenv("PATH");
	static const char *fallback[] = { "/usr/bin", "/usr/sbin", "/bin", "/sbin" };

	if (env && *env) {
		if (strlen(env) >= len)
			return nk_errf(e, ENAMETOOLONG, "%s path from $%s is too long", name, helper_envs[t]);
		if (access(env, X_OK) < 0)
			return nk_syserr(e, errno, "%s '%s' (from $%s) cannot be run",
					 name, env, helper_envs[t]);
		snprintf(out, len, "%s", env);
		return 0;
	}
	if (path) {
		NK_AUTOFREE char *dup = strdup(path);
		char *save = NULL;

		if (!dup)
			return nk_errf(e, ENOMEM, "out of memory");
		for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			int w;

			if (*d != '/')
				continue;       /* never a relative PATH entry */
			w = snprintf(out, len, "%s/%s", d, name);
			if (w < 0 || (size_t)w >= len)
				continue;       /* never a truncated path */
			if (access(out, X_OK) == 0)
				return 0;
		}
	}
	for (size_t i = 0; i < NK_ARRAY_SIZE(fallback); i++) {
		snprintf(out, len, "%s/%s", fallback[i], name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return nk_errf(e, ENOENT, "%s not found (install shadow-utils' %s: the 'uidmap' package on Debian and Ubuntu, "
		       "'shadow-utils' on Fedora)", name, name);
}

void nk_helper_judge(struct nk_helper_info *h)
{
	const char *name = nk_helper_name(h->t), *path = h->path;
	static const char *const caps[2] = { "cap_setuid", "cap_setgid" };
	const char *cap = caps[h->t];
	int setuid_root = h->uid == 0 && (h->mode & S_ISUID);

	h->flaws = 0;
	if (!setuid_root && !h->filecap) {
		h->flaws |= 1u << NK_HELPER_UNPRIVILEGED;
		snprintf(h->what[NK_HELPER_UNPRIVILEGED], NK_ERR_MAX, "%.900s is neither setuid root nor has the "
			 "file capability %s (owner %u, mode %04o)", path, cap, (unsigned)h->uid,
			 (unsigned)(h->mode & 07777));
		snprintf(h->fix[NK_HELPER_UNPRIVILEGED], NK_ERR_MAX, "as root: 'chmod u+s %.440s' (owner root) or "
			 "'setcap %s+ep %.440s', or reinstall it", path, cap, path);
	}
	if (h->nosuid) {
		h->flaws |= 1u << NK_HELPER_NOSUID;
		snprintf(h->what[NK_HELPER_NOSUID], NK_ERR_MAX, "%.900s is on a nosuid mount: its setuid bit and file "
			 "capabilities are ignored", path);
		snprintf(h->fix[NK_HELPER_NOSUID], NK_ERR_MAX, "install %s on a file system mounted without nosuid",
			 name);
	}
}

int nk_helper_usable(enum nk_idtype t, const char *path, struct nk_helper_info *h, struct nk_err *e)
{
	static const enum nk_errkind kinds[2] = { NK_ERRK_HELPER_UNPRIVILEGED, NK_ERRK_HELPER_NOSUID };
	static const unsigned capno[2] = { CAP_SETUID, CAP_SETGID };
	NK_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct statvfs vfs;
	struct nk_err e2;

	memset(h, 0, sizeof *h);
	h->t = t;
	snprintf(h->path, sizeof h->path, "%s", path);
	if (fd < 0 || fstat(fd, &st) < 0)
		return nk_syserr(e, errno, "cannot open %s", path);
	h->uid = st.st_uid;
	h->mode = st.st_mode;
	h->filecap = nk_cap_file_permitted(fd, capno[t], &e2) > 0;
	h->nosuid = fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
	nk_helper_judge(h);
	for (int f = NK_HELPER_UNPRIVILEGED; f <= NK_HELPER_NOSUID; f++)
		if (h->flaws & (1u << f)) {
			nk_errf(e, EPERM, "%s", h->what[f]);
			nk_err_hint(e, "%s", h->fix[f]);
			return nk_err_kind(e, kinds[f]);
		}
	return 0;
}

/* Does the regular file PATH contain NEEDLE? 1 yes, 0 no (or larger than
 * CAP bytes: not read to the end), -errno when it cannot be read. Read in
 * blocks that overlap by the needle's length, so a match across two
 * reads is found. */
static int file_contains(const char *path, const char *needle, off_t cap)
{
	NK_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	size_t nl = strlen(needle), have = 0;
	char buf[64 * 1024];
	struct stat st;
	off_t total = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	while (total < cap) {
		ssize_t n = read(fd, buf + have, sizeof buf - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		have += (size_t)n;
		total += n;
		if (memmem(buf, have, needle, nl))
			return 1;
		if (have >= nl) {
			memmove(buf, buf + have - (nl - 1), nl - 1);
			have = nl - 1;
		}
	}
	return 0;
}

int nk_helper_takes_fd(const char *helper)
{
	/* The usage line of a helper that takes a pidfd, "usage: newuidmap
	 * [<pid>|fd:<pidfd>] ...", is a string in the program file (upstream
	 * 4.14 and later; Debian 12's 4.13 and Debian 13's build of 4.17.4
	 * say "<pid>" only): found there, the
	 * helper takes fd:N. Read, not run:
	 * running the helper to see its usage would cost an exec of a setuid
	 * program on every run. Never assumed: a helper that cannot be read
	 * (mode 4711), is no regular file, or does not say so (a wrapper
	 * script that execs the real one) is given the pid, the safe way
	 * (see nk_write_maps); one wrongly found to take fd:N would refuse
	 * "fd:N" as a pid and write nothing. 64 MiB bounds the read. */
	return file_contains(helper, "fd:<pidfd>", (off_t)64 << 20) > 0;
}
