/* killat.so - LD_PRELOAD for tests: the process dies of SIGKILL as it calls
 * the libc function named in NSKIT_KILLAT (linkat, unlinkat), as a command
 * killed at that very point would (fork: see below). Only the process that loaded it dies,
 * never a child it forks (a session holder, say). NSKIT_PAUSEAT pauses
 * instead (below). */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pid_t self;

__attribute__((constructor)) static void init(void)
{
	self = getpid();
}

/* NSKIT_KILLAT_AFTER=N: die at the Nth call of that function (default 1). */
static void die_at(const char *fn)
{
	static int calls;
	const char *at = getenv("NSKIT_KILLAT"), *after = getenv("NSKIT_KILLAT_AFTER");

	if (at && strcmp(at, fn) == 0 && getpid() == self &&
	    __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) >= (after ? atoi(after) : 1))
		kill(getpid(), SIGKILL);
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	int (*real)(int, const char *, int, const char *, int) =
		(int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");

	die_at("linkat");
	return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int unlinkat(int dirfd, const char *path, int flags);
int unlinkat(int dirfd, const char *path, int flags)
{
	int (*real)(int, const char *, int) = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");

	die_at("unlinkat");
	return real(dirfd, path, flags);
}

static void pause_at(const char *fn);

/* NSKIT_KILLAT=fork: the parent dies of SIGKILL just after its fork, and
 * the child goes on only once its parent has died: what a parent killed
 * before its child could set anything up looks like. */
pid_t fork(void);
pid_t fork(void)
{
	pid_t (*real)(void) = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
	const char *at = getenv("NSKIT_KILLAT");
	struct pollfd pf;
	pid_t c;
	int pfd;

	pause_at("fork");
	if (!at || strcmp(at, "fork") != 0 || getpid() != self)
		return real();
	pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	c = real();
	if (c != 0) {
		kill(getpid(), SIGKILL);
		for (;;)
			pause();
	}
	pf.fd = pfd;
	pf.events = POLLIN;
	while (pfd >= 0 && poll(&pf, 1, -1) < 0)
		;
	close(pfd);
	return 0;
}

/* NSKIT_PAUSEAT=fchownat (or fchownat-file, or fork), NSKIT_PAUSE_DIR=DIR (two FIFOs there, "paused"
 * and "go"): at its first call of it the process says so on DIR/paused and
 * waits for EOF on DIR/go before it goes on. A test changes the tree at
 * that very point (between idmap-shift's pre-scan and its shift), with no
 * sleep: opening DIR/paused for reading blocks until the process is there. */
static void pause_at(const char *fn)
{
	static int paused;
	const char *at = getenv("NSKIT_PAUSEAT"), *dir = getenv("NSKIT_PAUSE_DIR");
	char path[4096], c;
	int fd;

	if (!at || !dir || strcmp(at, fn) != 0 || getpid() != self || __atomic_exchange_n(&paused, 1, __ATOMIC_SEQ_CST))
		return;
	snprintf(path, sizeof path, "%s/paused", dir);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)!write(fd, "p", 1);
		close(fd);
	}
	snprintf(path, sizeof path, "%s/go", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		while (read(fd, &c, 1) > 0)
			;
		close(fd);
	}
}

int fchownat(int dirfd, const char *path, uid_t owner, gid_t group, int flags);
int fchownat(int dirfd, const char *path, uid_t owner, gid_t group, int flags)
{
	int (*real)(int, const char *, uid_t, gid_t, int) =
		(int (*)(int, const char *, uid_t, gid_t, int))dlsym(RTLD_NEXT, "fchownat");

	struct stat st;

	pause_at("fchownat");
	/* fchownat-file: at the first chown of a regular file, whether by its
	 * name in a directory or through its own descriptor (with
	 * NSKIT_PAUSE_UID=N: of a file owned by N). */
	if (getenv("NSKIT_PAUSEAT") && strcmp(getenv("NSKIT_PAUSEAT"), "fchownat-file") == 0 &&
	    (*path ? fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) : fstat(dirfd, &st)) == 0 &&
	    S_ISREG(st.st_mode) &&
	    (!getenv("NSKIT_PAUSE_UID") || st.st_uid == (uid_t)strtoul(getenv("NSKIT_PAUSE_UID"), NULL, 10)))
		pause_at("fchownat-file");
	die_at("fchownat");
	return real(dirfd, path, owner, group, flags);
}
