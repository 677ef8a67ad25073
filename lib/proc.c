#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "proc.h"
#include "num.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static void proc_path(char *buf, size_t len, pid_t pid, const char *what)
{
	if (pid > 0)
		snprintf(buf, len, "/proc/%d/%s", (int)pid, what);
	else
		snprintf(buf, len, "/proc/self/%s", what);
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		ssize_t r = read(fd, buf + got, len - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

int nk_proc_exists(pid_t pid)
{
	char path[64];
	struct stat st;

	proc_path(path, sizeof path, pid, "");
	return stat(path, &st) == 0;
}

static int parse_two_ids(const char *buf, const char *key, uint32_t *a, uint32_t *b)
{
	const char *p = strstr(buf, key);
	char f1[16], f2[16];

	if (!p)
		return -EINVAL;
	if (sscanf(p + strlen(key), " %15s %15s", f1, f2) != 2)
		return -EINVAL;
	if (nk_parse_u32(f1, UINT32_MAX, a) < 0 || nk_parse_u32(f2, UINT32_MAX, b) < 0)
		return -EINVAL;
	return 0;
}

/* Read /proc/PID/NAME (into PATH, for messages, and BUF); a process that
 * is gone is ESRCH "no process with pid N". */
static ssize_t read_proc(pid_t pid, const char *name, char *path, size_t plen, char *buf, size_t len,
			 struct nk_err *e)
{
	ssize_t r;

	proc_path(path, plen, pid, name);
	r = read_small(path, buf, len);
	if (r == -ENOENT || r == -ESRCH)
		return nk_errf(e, ESRCH, "no process with pid %d", (int)pid);
	if (r < 0)
		return nk_syserr(e, (int)-r, "cannot read %s", path);
	return r;
}

int nk_proc_ids(pid_t pid, uid_t *ruid, uid_t *euid, gid_t *rgid, gid_t *egid,
		struct nk_err *e)
{
	char path[64], buf[4096];
	ssize_t r;
	uint32_t a, b, c, d;

	if ((r = read_proc(pid, "status", path, sizeof path, buf, sizeof buf, e)) < 0)
		return (int)r;
	if (parse_two_ids(buf, "\nUid:", &a, &b) < 0 || parse_two_ids(buf, "\nGid:", &c, &d) < 0)
		return nk_errf(e, EINVAL, "cannot parse %s", path);
	if (ruid)
		*ruid = a;
	if (euid)
		*euid = b;
	if (rgid)
		*rgid = c;
	if (egid)
		*egid = d;
	return 0;
}

static int parse_ids4(const char *buf, const char *key, uint32_t v[4])
{
	const char *p = strstr(buf, key);
	char f[4][16];

	if (!p || sscanf(p + strlen(key), " %15s %15s %15s %15s", f[0], f[1], f[2], f[3]) != 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (nk_parse_u32(f[i], UINT32_MAX, &v[i]) < 0)
			return -EINVAL;
	return 0;
}

int nk_proc_status(pid_t pid, struct nk_proc_status *st, struct nk_err *e)
{
	char path[64], buf[8192];
	const char *p;
	ssize_t r;

	memset(st, 0, sizeof *st);
	if ((r = read_proc(pid, "status", path, sizeof path, buf, sizeof buf, e)) < 0)
		return (int)r;
	p = strstr(buf, "\nState:");
	if (!p || sscanf(p + 7, " %c", &st->state) != 1)
		return nk_errf(e, EINVAL, "cannot parse %s", path);
	p = strstr(buf, "\nThreads:");
	if (!p || sscanf(p + 9, " %u", &st->threads) != 1)
		return nk_errf(e, EINVAL, "cannot parse %s", path);
	if (parse_ids4(buf, "\nUid:", st->ids[NK_UID]) < 0 || parse_ids4(buf, "\nGid:", st->ids[NK_GID]) < 0)
		return nk_errf(e, EINVAL, "cannot parse %s", path);
	/* NSpid (Linux 4.1): one pid per level, this /proc's pid namespace first. */
	p = strstr(buf, "\nNSpid:");
	if (p) {
		const char *q = p + 7;

		for (;;) {
			char *end;
			unsigned long v;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q < '0' || *q > '9')
				break;
			v = strtoul(q, &end, 10);
			st->nspid = (uint32_t)v;
			st->nspid_levels++;
			q = end;
		}
	}
	if (!st->nspid_levels) {
		st->nspid = (uint32_t)(pid > 0 ? pid : getpid());
		st->nspid_levels = 1;
	}
	return 0;
}

int nk_proc_status_gone(const struct nk_proc_status *st)
{
	return (st->state == 'Z' || st->state == 'X') && st->threads <= 1;
}

int nk_proc_gone(pid_t pid)
{
	struct nk_proc_status st;
	struct nk_err e;

	return nk_proc_status(pid, &st, &e) < 0 || nk_proc_status_gone(&st);
}

int nk_proc_ns_ino(pid_t pid, const char *name, uint64_t *ino, struct nk_err *e)
{
	char path[64], what[32];
	struct stat st;

	snprintf(what, sizeof what, "ns/%s", name);
	proc_path(path, sizeof path, pid, what);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return nk_errf(e, ESRCH, "no process with pid %d", (int)pid);
		return nk_syserr(e, errno, "cannot read %s", path);
	}
	*ino = (uint64_t)st.st_ino;
	return 0;
}

int nk_proc_stat(pid_t pid, char *state, uint64_t *start, struct nk_err *e)
{
	char path[64], buf[1024], *p, *save = NULL, *t;
	ssize_t r;
	int field = 2;

	if ((r = read_proc(pid, "stat", path, sizeof path, buf, sizeof buf, e)) < 0)
		return (int)r;
	/* comm may contain spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return nk_errf(e, EINVAL, "cannot parse %s", path);
	for (t = strtok_r(p + 1, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		field++;
		if (field == 3 && state)
			*state = t[0];
		if (field == 22)
			return nk_parse_u64(t, UINT64_MAX, start) < 0 ?
				nk_errf(e, EINVAL, "cannot parse %s", path) : 0;
	}
	return nk_errf(e, EINVAL, "cannot parse %s", path);
}

int nk_proc_starttime(pid_t pid, uint64_t *start, struct nk_err *e)
{
	return nk_proc_stat(pid, NULL, start, e);
}

int nk_proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t r;

	proc_path(path, sizeof path, pid, "cmdline");
	r = read_small(path, buf, len);
	if (r <= 0) {
		/* Kernel threads and zombies have no command line: use comm. */
		proc_path(path, sizeof path, pid, "comm");
		r = read_small(path, buf, len);
		if (r < 0)
			return (int)r;
		buf[strcspn(buf, "\n")] = '\0';
		return 0;
	}
	for (ssize_t i = 0; i < r; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	while (r > 0 && buf[r - 1] == ' ')
		buf[--r] = '\0';
	return 0;
}

int nk_pidfd_open(pid_t pid, unsigned flags)
{
	long r = syscall(SYS_pidfd_open, pid, flags);

	return r < 0 ? -errno : (int)r;
}

int nk_pidfd_send_signal(int pidfd, int sig)
{
	long r = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);

	return r < 0 ? -errno : 0;
}

int nk_no_new_privs(void)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
}

int nk_read_sysctl(const char *path, long *out)
{
	NK_AUTOFCLOSE FILE *f = fopen(path, "re");
	char buf[64];
	uint64_t v;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof buf, f))
		return -EIO;
	buf[strcspn(buf, "\n")] = '\0';
	if (nk_parse_u64(buf, LONG_MAX, &v) < 0)
		return -EINVAL;
	*out = (long)v;
	return 0;
}
