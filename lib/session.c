#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "fields.h"
#include "lines.h"
#include "num.h"
#include "paths.h"
#include "proc.h"
#include "session.h"
#include "userns.h"

int nk_session_name_valid(const char *name, struct nk_err *e)
{
	size_t n = strlen(name);
	int digits = 1;

	if (n == 0)
		return nk_errf(e, EINVAL, "empty session name");
	if (n > NK_SESSION_NAME_MAX)
		return nk_errf(e, EINVAL, "session name '%.20s...' is longer than %d characters",
			       name, NK_SESSION_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return nk_errf(e, EINVAL, "invalid session name '%s': it may not start with '%c'",
			       name, name[0]);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return nk_errf(e, EINVAL, "invalid session name '%s': use letters, digits, '_', '.' "
				       "and '-'", name);
		if (c < '0' || c > '9')
			digits = 0;
	}
	if (digits)
		return nk_errf(e, EINVAL, "invalid session name '%s': a number names a process", name);
	return 0;
}

int nk_session_dir_path(const char *xdg, uid_t uid, char *out, size_t len, struct nk_err *e)
{
	int n;

	if (xdg && *xdg) {
		if (xdg[0] != '/')
			return nk_errf(e, EINVAL, "XDG_RUNTIME_DIR '%s' is not an absolute path", xdg);
		n = snprintf(out, len, "%s/nskit", xdg);
	} else {
		n = snprintf(out, len, "/tmp/nskit-%u", (unsigned)uid);
	}
	if (n < 0 || (size_t)n >= len)
		return nk_errf(e, ENAMETOOLONG, "the session folder path is too long");
	return 0;
}

static int check_dir(const char *path, const struct stat *st, uid_t uid, struct nk_err *e)
{
	if (!S_ISDIR(st->st_mode))
		return nk_errf(e, ENOTDIR, "session folder '%s' is not a folder (remove it)", path);
	if (st->st_uid != uid)
		return nk_errf(e, EPERM, "session folder '%s' belongs to uid %u, not to you (uid %u) "
			       "(set XDG_RUNTIME_DIR to your own runtime folder)", path,
			       (unsigned)st->st_uid, (unsigned)uid);
	if (st->st_mode & 077)
		return nk_errf(e, EPERM, "session folder '%s' is open to others (mode %04o) (run 'chmod 700 %s')",
			       path, (unsigned)(st->st_mode & 07777), path);
	return 0;
}

int nk_session_dir_open(const char *path, uid_t uid, int create, struct nk_err *e)
{
	NK_AUTOCLOSE int fd = -1;
	struct stat st;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return nk_syserr(e, errno, "cannot create the session folder '%s'", path);
	/* lstat first, for a message that names the owner when we may not
	 * even open it; then the checks again on what was opened. */
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return nk_errf(e, ENOENT, "no session folder '%s'", path);
		return nk_syserr(e, errno, "cannot open the session folder '%s'", path);
	}
	if (check_dir(path, &st, uid, e) < 0)
		return -e->code;
	/* O_NOFOLLOW: in /tmp someone else could have put a symlink there. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return nk_errf(e, ENOTDIR, "session folder '%s' is not a folder (remove it)", path);
		return nk_syserr(e, errno, "cannot open the session folder '%s'", path);
	}
	if (fstat(fd, &st) < 0)
		return nk_syserr(e, errno, "cannot stat the session folder '%s'", path);
	if (check_dir(path, &st, uid, e) < 0)
		return -e->code;
	return nk_steal_fd(&fd);
}

int nk_session_dir_open_user(const char *xdg, uid_t uid, int create, struct nk_err *e)
{
	char path[4096], alt[4096];
	struct stat st;
	struct nk_err e2;
	int fd;

	if (nk_session_dir_path(xdg, uid, path, sizeof path, e) < 0)
		return -e->code;
	fd = nk_session_dir_open(path, uid, create, e);
	if (fd >= 0 || (xdg && *xdg) || (e->code != EPERM && e->code != ENOTDIR))
		return fd;
	/* /tmp/nskit-UID made first by someone else (or a symlink or a file
	 * of theirs there): never used, and they must not deny us sessions.
	 * They go to a folder no one else can make, as the slice records do:
	 * /run/user/UID/nskit where logind made /run/user/UID, else
	 * ~/.cache/nskit. Every action finds them there by the same steps. */
	if (lstat(path, &st) < 0 || st.st_uid == uid)
		return fd;      /* ours: the message says how to fix it */
	if (!nk_runtime_nskit_path(uid, alt, sizeof alt) && !nk_home_cache_nskit_path(uid, alt, sizeof alt))
		return nk_errf(e, EPERM, "'%s' belongs to uid %u, not to you (uid %u), and there is no other place "
			       "for your sessions (no " NK_RUNDIR "/%u, no home folder of yours) (set XDG_RUNTIME_DIR "
			       "to your own runtime folder, or ask root to remove '%s')", path, (unsigned)st.st_uid,
			       (unsigned)uid, (unsigned)uid, path);
	fd = nk_session_dir_open(alt, uid, create, &e2);
	if (fd < 0)
		*e = e2;
	return fd;
}

int nk_session_format(const struct nk_session *s, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "nskit-session 1\nname=%s\npid=%d\nstart=%llu\nuid=%u\nuserns=%llu\nmntns=%llu\ncreated=%lld\n",
			 s->name, (int)s->pid, (unsigned long long)s->start, s->uid,
			 (unsigned long long)s->userns, (unsigned long long)s->mntns, (long long)s->created);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

enum { F_NAME = 1, F_PID = 2, F_START = 4, F_UID = 8, F_USERNS = 16, F_MNTNS = 32, F_CREATED = 64 };

/* A record's fields after its name; one that is not here is skipped (a
 * newer version's). */
static const struct nk_field session_fields[] = {
	{ "pid", nk_field_pid, offsetof(struct nk_session, pid), F_PID },
	{ "start", nk_field_u64, offsetof(struct nk_session, start), F_START },
	{ "uid", nk_field_id, offsetof(struct nk_session, uid), F_UID },
	{ "userns", nk_field_u64, offsetof(struct nk_session, userns), F_USERNS },
	{ "mntns", nk_field_u64, offsetof(struct nk_session, mntns), F_MNTNS },
	{ "created", nk_field_i64, offsetof(struct nk_session, created), F_CREATED },
};

int nk_session_parse(const char *text, const char *name, struct nk_session *s, struct nk_err *e)
{
	const unsigned need = F_NAME | F_PID | F_START | F_UID | F_USERNS;
	struct nk_lines lines;
	char line[256];
	unsigned seen = 0;
	int r;

	memset(s, 0, sizeof *s);
	nk_lines_init(&lines, text, strlen(text));
	while ((r = nk_lines_next(&lines, line, sizeof line)) != 0) {
		unsigned lineno = lines.no;
		char *eq;

		if (r < 0)
			return nk_errf(e, EINVAL, "session '%s': line %u is too long", name, lineno);
		if (lineno == 1) {
			if (strcmp(line, "nskit-session 1") != 0)
				return nk_errf(e, EINVAL, "session '%s': not a session record (first line '%s')",
					       name, line);
			continue;
		}
		if (line[0] == '\0')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return nk_errf(e, EINVAL, "session '%s': line %u: no '='", name, lineno);
		*eq++ = '\0';
		if (strcmp(line, "name") == 0) {
			if (strcmp(eq, name) != 0)
				return nk_errf(e, EINVAL, "session '%s': the record names session '%s'", name, eq);
			snprintf(s->name, sizeof s->name, "%s", eq);
			seen |= F_NAME;
		} else if (nk_field_set(session_fields, sizeof session_fields / sizeof *session_fields, s, line, eq,
					&seen) < 0) {
			return nk_errf(e, EINVAL, "session '%s': line %u: invalid %s '%s'", name, lineno, line, eq);
		}
	}
	if (lines.no == 0)
		return nk_errf(e, EINVAL, "session '%s': empty record", name);
	if ((seen & need) != need)
		return nk_errf(e, EINVAL, "session '%s': incomplete record (needs name, pid, start, uid, userns)",
			       name);
	return 0;
}

int nk_read_regular_at(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	NK_AUTOCLOSE int fd = -1;
	NK_AUTOFREE char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;

	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO put there must not hang us at open (nor at read,
	 * below: it is refused first); O_NOFOLLOW: no symlink is followed. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	while (got <= max && (n = read(fd, buf + got, max + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	if (got > max)
		return -EFBIG;          /* it grew since fstat */
	buf[got] = '\0';
	*out = nk_steal(&buf);
	*len = got;
	return 0;
}

int nk_session_load(int dirfd, const char *name, struct nk_session *s, struct nk_err *e)
{
	NK_AUTOFREE char *buf = NULL;
	size_t got;
	int r;

	if (nk_session_name_valid(name, e) < 0)
		return -e->code;
	r = nk_read_regular_at(dirfd, name, 1023, &buf, &got);
	if (r == -ENOENT)
		return nk_errf(e, ENOENT, "no session '%s'", name);
	if (r == -EINVAL)
		return nk_errf(e, EINVAL, "the record of session '%s' is not a regular file (remove it)", name);
	if (r == -EFBIG)
		return nk_errf(e, EINVAL, "the record of session '%s' is too large to be one (remove it)", name);
	if (r < 0)
		return nk_syserr(e, -r, "cannot read the record of session '%s'", name);
	return nk_session_parse(buf, name, s, e);
}

int nk_session_save(int dirfd, const struct nk_session *s, struct nk_err *e)
{
	char buf[1024], tmp[NK_SESSION_NAME_MAX + 32];
	int n = nk_session_format(s, buf, sizeof buf), err;
	NK_AUTOCLOSE int fd = -1;

	if (n < 0)
		return nk_errf(e, ENOSPC, "session record too long");
	snprintf(tmp, sizeof tmp, ".%s.%d.tmp", s->name, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return nk_syserr(e, errno, "cannot write the record of session '%s'", s->name);
	if (nk_write_full(fd, buf, (size_t)n) < 0) {
		err = errno ? errno : EIO;
		unlinkat(dirfd, tmp, 0);
		return nk_syserr(e, err, "cannot write the record of session '%s'", s->name);
	}
	/* link(2) fails when the name exists: two --keep of one name cannot both win. */
	if (linkat(dirfd, tmp, dirfd, s->name, 0) < 0) {
		err = errno;
		unlinkat(dirfd, tmp, 0);
		if (err == EEXIST)
			return nk_errf(e, EEXIST, "session '%s' already exists", s->name);
		return nk_syserr(e, err, "cannot write the record of session '%s'", s->name);
	}
	unlinkat(dirfd, tmp, 0);
	return 0;
}

int nk_session_remove(int dirfd, const char *name, struct nk_err *e)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return nk_syserr(e, errno, "cannot remove the record of session '%s'", name);
	return 0;
}

static int cmp_session(const void *a, const void *b)
{
	return strcmp(((const struct nk_session *)a)->name, ((const struct nk_session *)b)->name);
}

static void nk_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

int nk_session_list(int dirfd, struct nk_session **out, size_t *n, struct nk_err *e)
{
	__attribute__((cleanup(nk_closedirp))) DIR *d = NULL;
	NK_AUTOFREE struct nk_session *v = NULL;
	NK_AUTOCLOSE int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	struct dirent *de;
	size_t cnt = 0, cap = 0;
	struct nk_err e2;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return nk_syserr(e, errno, "cannot read the session folder");
	d = fdopendir(fd);
	if (!d)
		return nk_syserr(e, errno, "cannot read the session folder");
	fd = -1;         /* the DIR has it now */
	rewinddir(d);
	while ((de = readdir(d))) {
		struct nk_session s;

		if (nk_session_name_valid(de->d_name, &e2) < 0)
			continue;        /* ".", "..", temporary files */
		if (nk_session_load(dirfd, de->d_name, &s, &e2) < 0)
			continue;        /* unreadable or not a record: not ours to show */
		if (nk_grow(&v, cnt, &cap, sizeof *v, 8) < 0)
			return nk_errf(e, ENOMEM, "out of memory");
		v[cnt++] = s;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof *v, cmp_session);
	*out = nk_steal(&v);
	*n = cnt;
	return 0;
}

int nk_session_open(const struct nk_session *s, uid_t uid, int *pidfd, struct nk_err *e)
{
	uint64_t start, ino;
	uid_t owner;
	char state = '?';
	NK_AUTOCLOSE int fd = -1;

	*pidfd = -1;
	if (s->uid != uid)
		return nk_errf(e, EPERM, "session '%s' belongs to uid %u, not to you (uid %u)", s->name,
			       s->uid, (unsigned)uid);
	fd = nk_pidfd_open(s->pid, 0);
	if (fd < 0) {
		if (fd == -ESRCH)
			return nk_errf(e, ESTALE, "session '%s' has ended (its holder, process %d, is gone)",
				       s->name, (int)s->pid);
		return nk_syserr(e, -fd, "cannot open process %d of session '%s'", (int)s->pid, s->name);
	}
	/* The pidfd pins one process; its start time says whether it is the
	 * one the record names or a later process that got the same pid. */
	if (nk_proc_stat(s->pid, &state, &start, e) < 0 || start != s->start)
		goto stale;
	/* A zombie is not a holder any more: it has left its namespaces (a
	 * parent that reaps late, as many containers' pid 1 do, keeps it). */
	if (state == 'Z' || state == 'X')
		return nk_errf(e, ESTALE, "session '%s' has ended (its holder, process %d, is a zombie its parent "
			       "has not reaped)", s->name, (int)s->pid);
	if (nk_proc_ns_ino(s->pid, "user", &ino, e) < 0) {
		uid_t euid;

		if (e->code == EACCES && nk_proc_ids(s->pid, NULL, &euid, NULL, NULL, e) == 0)
			return nk_errf(e, EPERM, "session '%s' belongs to uid %u, not to you (uid %u)", s->name,
				       (unsigned)euid, (unsigned)uid);
		goto stale;
	}
	if (ino != s->userns)
		goto stale;
	/* ... and a holder without its mount namespace is none either. */
	if (s->mntns && (nk_proc_ns_ino(s->pid, "mnt", &ino, e) < 0 || ino != s->mntns))
		goto stale;
	if (nk_userns_owner(s->pid, &owner, e) < 0)
		return -e->code;
	if (owner != uid)
		return nk_errf(e, EPERM, "session '%s' belongs to uid %u, not to you (uid %u)", s->name,
			       (unsigned)owner, (unsigned)uid);
	*pidfd = nk_steal_fd(&fd);
	return 0;
stale:
	return nk_errf(e, ESTALE, "session '%s' has ended (process %d is not its holder any more)",
		       s->name, (int)s->pid);
}

/* Until the record is written and the creator says so on COMMIT, the
 * holder only waits: if the creator dies first (the pipe reads end of file
 * without a byte), it removes the record if it was written for it, and
 * ends. A session is thus made whole or not at all. */
static void wait_commit(int commit, int dirfd, const char *name)
{
	struct nk_session s;
	struct nk_err e;
	uint64_t me;
	char c;
	ssize_t n;

	do
		n = read(commit, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return;
	if (nk_session_load(dirfd, name, &s, &e) == 0 && s.pid == getpid() &&
	    nk_proc_starttime(0, &me, &e) == 0 && s.start == me)
		unlinkat(dirfd, name, 0);
	_exit(1);
}

static void __attribute__((noreturn)) holder(int commit, int dirfd, const char *name)
{
	static const int ignore[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU,
				      SIGUSR1, SIGUSR2, SIGALRM };
	sigset_t none;
	int fd;

	setsid();
	for (size_t i = 0; i < NK_ARRAY_SIZE(ignore); i++)
		signal(ignore[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "nskit-holder", 0, 0, 0);
	wait_commit(commit, dirfd, name);
	if (chdir("/") < 0)
		_exit(1);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	/* Keep nothing else open (close_range: Linux 5.9; before it, one by one). */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		for (int i = 3; i < 1024; i++)
			close(i);
	for (;;)
		pause();
}

/* pipe2(O_CLOEXEC) into two cleanup variables. */
static int pipe_pair(int *rd, int *wr, struct nk_err *e)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return nk_syserr(e, errno, "cannot create a pipe");
	*rd = p[0];
	*wr = p[1];
	return 0;
}

int nk_session_spawn_holder(int dirfd, const char *name, pid_t *pid, int *commit, struct nk_err *e)
{
	NK_AUTOCLOSE int pid_rd = -1, pid_wr = -1, commit_rd = -1, commit_wr = -1;
	pid_t mid, h = 0;
	int st;

	*commit = -1;
	if (pipe_pair(&pid_rd, &pid_wr, e) < 0 || pipe_pair(&commit_rd, &commit_wr, e) < 0)
		return -e->code;
	mid = fork();
	if (mid < 0)
		return nk_syserr(e, errno, "cannot fork the session holder");
	if (mid == 0) {
		pid_t g;

		close(pid_rd);
		close(commit_wr);    /* only the creator may hold the commit pipe open */
		g = fork();
		if (g == 0)
			holder(commit_rd, dirfd, name);
		if (nk_write_full(pid_wr, &g, sizeof g) < 0)
			_exit(1);
		_exit(g < 0 ? 1 : 0);
	}
	close(nk_steal_fd(&pid_wr));
	close(nk_steal_fd(&commit_rd));
	if (nk_read_full(pid_rd, &h, sizeof h) < 0)
		h = 0;
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	if (h <= 0)
		return nk_errf(e, EIO, "cannot fork the session holder");
	*pid = h;
	*commit = nk_steal_fd(&commit_wr);
	return 0;
}

int nk_session_commit(int commit, struct nk_err *e)
{
	ssize_t n;

	do
		n = write(commit, "1", 1);
	while (n < 0 && errno == EINTR);
	close(commit);
	if (n != 1)
		return nk_syserr(e, n < 0 ? errno : EIO, "cannot start the session holder");
	return 0;
}

int nk_session_describe(struct nk_session *s, const char *name, pid_t pid, uid_t uid,
			struct nk_err *e)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->pid = pid;
	s->uid = uid;
	s->created = (int64_t)time(NULL);
	if (nk_proc_starttime(pid, &s->start, e) < 0 || nk_proc_ns_ino(pid, "user", &s->userns, e) < 0 ||
	    nk_proc_ns_ino(pid, "mnt", &s->mntns, e) < 0)
		return nk_err_prefix(e, "cannot describe the holder of session '%s'", name);
	return 0;
}

int nk_session_kill(int pidfd, struct nk_err *e)
{
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };
	int r = nk_pidfd_send_signal(pidfd, SIGKILL);

	if (r < 0 && r != -ESRCH)
		return nk_syserr(e, -r, "cannot stop the session holder");
	/* A pidfd becomes readable when its process has exited. */
	while ((r = poll(&pf, 1, 5000)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return nk_errf(e, ETIMEDOUT, "the session holder did not end within 5 seconds");
	return 0;
}
