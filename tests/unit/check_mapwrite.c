#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <cap-ng.h>
#include "nkcheck.h"
#include "subid.h"
#include "mapwrite.h"
#include "newidmap.h"
#include "tool.h"
#include "proc.h"

static void drop_caps(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	ck_assert_int_eq(capng_apply(CAPNG_SELECT_BOTH), 0);
}

static void own_maps(struct nk_maps *m)
{
	nk_map_init(&m->map[NK_UID]);
	nk_map_init(&m->map[NK_GID]);
	nk_map_add(&m->map[NK_UID], 0, geteuid(), 1);
	nk_map_add(&m->map[NK_GID], 0, getegid(), 1);
}

START_TEST(test_plan_privileged)
{
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	NK_SKIP_UNLESS(geteuid() == 0, "a privileged plan needs root (the unprivileged cases cover non-root)");
	own_maps(&m);
	nk_map_add(&m.map[NK_UID], 1, 100000, 65536);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.setgroups, NK_SETGROUPS_DEFAULT);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_plan_unprivileged)
{
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	unsetenv("NEWUIDMAP");
	unsetenv("NEWGIDMAP");
	drop_caps();
	/* Only our own ids: direct writes, setgroups deny for the gid map. */
	own_maps(&m);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.setgroups, NK_SETGROUPS_DENY);
	/* setgroups allow wanted: the kernel needs newgidmap for that. */
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_ALLOW, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_HELPER);
	ck_assert_int_eq(p.setgroups, NK_SETGROUPS_DEFAULT);
	/* More than our own id: the helpers. */
	nk_map_add(&m.map[NK_UID], 1, 100000, 65536);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_HELPER);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_DIRECT);
	ck_assert(strstr(p.helper[NK_UID], "newuidmap") != NULL);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_allowed_unprivileged)
{
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;
	char want[512];

	drop_caps();
	own_maps(&m);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(nk_maps_check_allowed(&m, &p, "nskit-no-such-user", geteuid(), getegid(), &e), 0);
	nk_map_add(&m.map[NK_UID], 1, 4000000000U, 10);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(nk_maps_check_allowed(&m, &p, "nskit-no-such-user", geteuid(), getegid(), &e), -EPERM);
	/* lib names no tool: the kind and the user travel up, and the tool's
	 * report adds the fix. */
	snprintf(want, sizeof want, "cannot map uid range 4000000000-4000000009: not in %s for "
		 "'nskit-no-such-user'", nk_subid_file(NK_UID));
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(e.kind, NK_ERRK_NO_SUBIDS);
	ck_assert_str_eq(e.subject, "nskit-no-such-user");
	snprintf(want, sizeof want, "cannot map uid range 4000000000-4000000009: not in %s for "
		 "'nskit-no-such-user' (run 'subid-alloc nskit-no-such-user' as root)", nk_subid_file(NK_UID));
	{
		char text[NK_ERR_MAX + 600];

		ck_assert_str_eq(nk_err_text(&e, text, sizeof text), want);
		e.alt = ", or drop --isolate";
		ck_assert_str_eq(nk_err_text(&e, text, sizeof text) + strlen(want) - 1,
				 ", or drop --isolate)");
	}
	nk_maps_free(&m);
	/* Our own id inside a larger extent is refused with its own reason. */
	nk_map_init(&m.map[NK_UID]);
	nk_map_init(&m.map[NK_GID]);
	nk_map_add(&m.map[NK_UID], 0, geteuid(), 2);
	nk_map_add(&m.map[NK_GID], 0, getegid(), 1);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(nk_maps_check_allowed(&m, &p, "x", geteuid(), getegid(), &e), -EPERM);
	ck_assert(strstr(e.msg, "may only be mapped alone (an extent with count 1)") != NULL);
	nk_maps_free(&m);
	/* An invalid map is refused before anything else. */
	nk_map_init(&m.map[NK_UID]);
	nk_map_init(&m.map[NK_GID]);
	nk_map_add(&m.map[NK_UID], 0, geteuid(), 1);
	nk_map_add(&m.map[NK_GID], 0, getegid(), 0);
	ck_assert_int_lt(nk_maps_check_allowed(&m, &p, "x", geteuid(), getegid(), &e), 0);
	ck_assert(strstr(e.msg, "count is 0") != NULL);
	nk_maps_free(&m);
}
END_TEST

/* --- the writer children ------------------------------------------------- */

/* A stand-in for newuidmap/newgidmap: this very test program, run as
 * DIR/fake-NAME (a symlink to it). Before Check starts, it records its
 * arguments, environment, blocked signals, open descriptors and stdin in
 * DIR/fake-NAME.rec, prints DIR/fake-NAME.out and exits with the status in
 * DIR/fake-NAME.st. No shell in between: dash resets the signal mask. */
__attribute__((constructor)) static void fake_helper_main(int argc, char **argv, char **envp)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	char path[PATH_MAX], line[256];
	FILE *rec, *f;
	DIR *d;
	struct dirent *de;
	int st = 0, fds[64], n = 0;

	if (!base || strncmp(base, "/fake-", 6) != 0)
		return;
	snprintf(path, sizeof path, "%s.rec", argv[0]);
	rec = fopen(path, "we");
	if (!rec)
		_exit(99);
	fputs("argv:", rec);
	for (int i = 1; i < argc; i++)
		fprintf(rec, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
	fputs("env:", rec);
	for (char **e = envp; *e; e++)
		fprintf(rec, " %s", *e);
	fputs("\n", rec);
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "SigBlk:", 7) == 0)
			fputs(line, rec);
	if (f)
		fclose(f);
	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d)) && n < 64)
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d) && atoi(de->d_name) != fileno(rec))
			fds[n++] = atoi(de->d_name);
	if (d)
		closedir(d);
	fputs("fds:", rec);
	for (int i = 0; i < n; i++)
		for (int k = i + 1; k < n; k++)
			if (fds[k] < fds[i]) {
				int t = fds[i];

				fds[i] = fds[k];
				fds[k] = t;
			}
	for (int i = 0; i < n; i++)
		fprintf(rec, " %d", fds[i]);
	n = (int)readlink("/proc/self/fd/0", line, sizeof line - 1);
	line[n > 0 ? n : 0] = '\0';
	fprintf(rec, "\nstdin:%s\n", line);
	fclose(rec);
	snprintf(path, sizeof path, "%s.out", argv[0]);
	if ((f = fopen(path, "re"))) {
		while ((n = (int)fread(line, 1, sizeof line, f)) > 0)
			fwrite(line, 1, (size_t)n, stdout);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s.st", argv[0]);
	if ((f = fopen(path, "re"))) {
		if (fscanf(f, "%d", &st) != 1)
			st = 98;
		fclose(f);
	}
	fflush(stdout);
	_exit(st);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void fake_helper(const char *dir, const char *name, const char *out, int status, char *path,
			size_t len)
{
	char self[PATH_MAX], file[PATH_MAX + 8], st[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	snprintf(path, len, "%s/fake-%s", dir, name);
	ck_assert_int_eq(symlink(self, path), 0);
	snprintf(file, sizeof file, "%s.out", path);
	put_file(file, out);
	snprintf(file, sizeof file, "%s.st", path);
	snprintf(st, sizeof st, "%d", status);
	put_file(file, st);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void helper_plan(struct nk_plan *p, const char *uh, const char *gh)
{
	memset(p, 0, sizeof *p);
	p->how[NK_UID] = p->how[NK_GID] = NK_WRITE_HELPER;
	snprintf(p->helper[NK_UID], sizeof p->helper[NK_UID], "%s", uh);
	snprintf(p->helper[NK_GID], sizeof p->helper[NK_GID], "%s", gh);
}

static void two_maps(struct nk_maps *m)
{
	nk_map_init(&m->map[NK_UID]);
	nk_map_init(&m->map[NK_GID]);
	nk_map_add(&m->map[NK_UID], 0, 1000, 1);
	nk_map_add(&m->map[NK_UID], 1, 100000, 65536);
	nk_map_add(&m->map[NK_GID], 0, 1001, 1);
}

/* Descriptors the caller (the test runner, the shell) left open pass to
 * any program it starts; they are not ours to judge here. */
static void cloexec_all(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl >= 0)
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

/* A folder with two fake helpers that succeed, a plan that uses them, and
 * maps for both (uh and gh: PATH_MAX each). */
static void writers_fixture(char *dir, size_t len, char *uh, char *gh, struct nk_plan *p, struct nk_maps *m)
{
	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, len, "nskit-writers"));
	fake_helper(dir, "u", "", 0, uh, PATH_MAX);
	fake_helper(dir, "g", "", 0, gh, PATH_MAX);
	helper_plan(p, uh, gh);
	two_maps(m);
}

START_TEST(test_writers_run)
{
	char dir[PATH_MAX], uh[PATH_MAX], gh[PATH_MAX], rec[PATH_MAX + 8], want[256], *r;
	struct nk_writers *ws;
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;
	sigset_t usr1, old;

	cloexec_all();
	writers_fixture(dir, sizeof dir, uh, gh, &p, &m);
	/* The caller's signal mask reaches the helpers (the children wait with
	 * every signal blocked and give it back before execve). */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 1, &ws, &e), 0);
	/* Started but held: nothing has run yet. */
	usleep(50000);
	snprintf(rec, sizeof rec, "%s.rec", uh);
	ck_assert_int_eq(access(rec, F_OK), -1);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	ck_assert_int_eq(nk_writers_finish(ws, 4242, &p, 0, &e), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	r = slurp(rec);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r, "argv:4242 0 1000 1 1 100000 65536\n"
			 "env: PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C\n"
			 "SigBlk:\t0000000000000200\n"
			 "fds: 0 1 2\n"
			 "stdin:/dev/null\n");
	snprintf(rec, sizeof rec, "%s.rec", gh);
	r = slurp(rec);
	ck_assert_ptr_nonnull(r);
	snprintf(want, sizeof want, "argv:4242 0 1001 1\n");
	ck_assert_int_eq(strncmp(r, want, strlen(want)), 0);
	/* Every child reaped. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_writers_cancel)
{
	char dir[PATH_MAX], uh[PATH_MAX], gh[PATH_MAX], rec[PATH_MAX + 8];
	struct nk_writers *ws;
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	writers_fixture(dir, sizeof dir, uh, gh, &p, &m);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 1, &ws, &e), 0);
	nk_writers_cancel(ws);
	/* Neither helper ran, and no child is left. */
	snprintf(rec, sizeof rec, "%s.rec", uh);
	ck_assert_int_eq(access(rec, F_OK), -1);
	snprintf(rec, sizeof rec, "%s.rec", gh);
	ck_assert_int_eq(access(rec, F_OK), -1);
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_writers_failures)
{
	char dir[PATH_MAX - 16], uh[PATH_MAX], gh[PATH_MAX], want[PATH_MAX + 64];
	struct nk_writers *ws;
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "nskit-writers"));
	/* A helper's last line of output is the message. */
	fake_helper(dir, "u", "usage\nnewuidmap: write to uid_map failed: Operation not permitted\n", 1, uh,
		    sizeof uh);
	fake_helper(dir, "g", "", 0, gh, sizeof gh);
	helper_plan(&p, uh, gh);
	two_maps(&m);
	ck_assert_int_eq(nk_writers_prepare(getpid(), &m, &p, 0, &ws, &e), 0);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	ck_assert_int_eq(nk_writers_finish(ws, getpid(), &p, 0, &e), -EPERM);
	snprintf(want, sizeof want, "newuidmap failed: newuidmap: write to uid_map failed: Operation not "
		 "permitted (the uid map of process %d is already written; a map can be written only once)",
		 (int)getpid());
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(e.kind, NK_ERRK_MAP_WRITTEN);
	/* A helper refused for the range, but unable to gain its privilege at
	 * all: that is the cause named (and its kind), with the one fix text. */
	ck_assert_int_eq(unlink(uh), 0);
	snprintf(want, sizeof want, "%s.out", uh);
	ck_assert_int_eq(unlink(want), 0);
	snprintf(want, sizeof want, "%s.st", uh);
	ck_assert_int_eq(unlink(want), 0);
	fake_helper(dir, "u", "newuidmap: uid range [1-65537) -> [100000-165536) not allowed\n", 1, uh, sizeof uh);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 0, &ws, &e), 0);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	ck_assert_int_eq(nk_writers_finish(ws, 4242, &p, 0, &e), -EPERM);
	ck_assert_int_eq(e.kind, NK_ERRK_HELPER_UNPRIVILEGED);
	ck_assert_ptr_nonnull(strstr(e.msg, "not allowed (/"));
	ck_assert_ptr_nonnull(strstr(e.msg, "/fake-u is neither setuid root nor has the file capability "
				     "cap_setuid (owner "));
	ck_assert_ptr_nonnull(strstr(e.msg, "; as root: 'chmod u+s "));
	/* A helper that cannot be exec'd. */
	snprintf(uh, sizeof uh, "%s/fake-u.out", dir);
	ck_assert_int_eq(chmod(uh, 0644), 0);
	helper_plan(&p, uh, gh);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 0, &ws, &e), 0);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	ck_assert_int_eq(nk_writers_finish(ws, 4242, &p, 0, &e), -EACCES);
	snprintf(want, sizeof want, "cannot run %s: Permission denied", uh);
	ck_assert_str_eq(e.msg, want);
	/* The caller's own error wins and is returned as it is. */
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 0, &ws, &e), 0);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	nk_errf(&e, EIO, "mine");
	ck_assert_int_eq(nk_writers_finish(ws, 4242, &p, -EIO, &e), -EIO);
	ck_assert_str_eq(e.msg, "mine");
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	nk_maps_free(&m);
}
END_TEST

/* Both children killed while they wait: the release still works (no
 * SIGPIPE) and the outcome says what happened. */
START_TEST(test_writers_killed)
{
	char dir[PATH_MAX], uh[PATH_MAX], gh[PATH_MAX], path[64], kids[256];
	struct nk_writers *ws;
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;
	FILE *f;
	int n = 0, pid;

	writers_fixture(dir, sizeof dir, uh, gh, &p, &m);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 1, &ws, &e), 0);
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(kids, sizeof kids, f));
	fclose(f);
	for (char *q = kids; sscanf(q, "%d", &pid) == 1; n++) {
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		q = strchr(q, ' ');
		if (!q)
			break;
		q++;
	}
	ck_assert_int_eq(n, 2);
	usleep(50000);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	ck_assert_int_eq(nk_writers_finish(ws, 4242, &p, 0, &e), -EPERM);
	ck_assert_str_eq(e.msg, "newuidmap was killed by signal 9");
	nk_maps_free(&m);
}
END_TEST

/* A pidfd of a process that has ended and a pid that names another one
 * (what a reused pid looks like): nothing is written, no helper starts. */
START_TEST(test_pid_reused)
{
	char dir[PATH_MAX], uh[PATH_MAX], gh[PATH_MAX], rec[PATH_MAX + 8], want[128];
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;
	pid_t gone, other;
	int pidfd, ready[2];
	char c;

	/* The pid that "names another process": a child of ours in a user
	 * namespace of its own, whose uid_map and setgroups we may open
	 * whoever runs the test (our own /proc/self/uid_map is not writable
	 * by a normal user: the open would fail before the check). */
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	other = fork();
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	gone = fork();
	ck_assert_int_ge(gone, 0);
	if (gone == 0)
		_exit(0);
	pidfd = nk_pidfd_open(gone, 0);
	ck_assert_int_ge(pidfd, 0);
	ck_assert_int_eq(nk_test_exit_status(gone), 0);
	snprintf(want, sizeof want, "process %d has ended (its pid may name another process now)", (int)other);
	/* Direct writes: the file is opened, then found to be someone else's. */
	nk_map_init(&m.map[NK_UID]);
	nk_map_add(&m.map[NK_UID], 0, geteuid(), 1);
	memset(&p, 0, sizeof p);
	ck_assert_int_eq(nk_write_map_direct(other, pidfd, NK_UID, &m.map[NK_UID], &p, &e), -ESRCH);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(nk_write_setgroups(other, pidfd, NK_SETGROUPS_DENY, &e), -ESRCH);
	ck_assert_str_eq(e.msg, want);
	nk_map_free(&m.map[NK_UID]);
	/* Helpers: not started. */
	writers_fixture(dir, sizeof dir, uh, gh, &p, &m);
	ck_assert_int_eq(nk_write_maps(other, pidfd, &m, &p, &e), -ESRCH);
	ck_assert_str_eq(e.msg, want);
	snprintf(rec, sizeof rec, "%s.rec", uh);
	ck_assert_int_eq(access(rec, F_OK), -1);
	/* The same with the pidfd of the process the pid names: the helpers run. */
	close(pidfd);
	pidfd = nk_pidfd_open(other, 0);
	ck_assert_int_eq(nk_write_maps(other, pidfd, &m, &p, &e), 0);
	ck_assert_int_eq(access(rec, F_OK), 0);
	close(pidfd);
	nk_maps_free(&m);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
}
END_TEST

/* Helpers that log their start and end, and wait for the other to have
 * started (at once: up to 30 s, each sees the other; in sequence: the
 * first waits out its 0.3 s and ends before the second starts). */
static void logging_helper(const char *dir, const char *name, const char *other, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\ncd %s\ntouch %s.started\necho start >> log\ni=0\n"
		"while [ ! -e %s.started ] && [ $i -lt ${WAIT:-3} ]; do sleep 0.1; i=$((i + 1)); done\n"
		"[ -e %s.started ] && echo saw >> log\necho end >> log\n", dir, name, other, other);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

static const struct {
	const char *force;        /* NSKIT_HELPERS, or NULL */
	int one_cpu;              /* this process allowed one CPU only */
	int at_once;              /* what must happen */
} order_cases[] = {
	{ "sequence", 0, 0 },
	{ "parallel", 0, 1 },
	{ "parallel", 1, 1 },     /* forced, even on one CPU */
	{ NULL, 1, 0 },           /* one CPU: in sequence */
	{ NULL, 0, 1 },           /* two or more: at once */
};

START_TEST(test_writers_order)
{
	char dir[PATH_MAX], uh[PATH_MAX], gh[PATH_MAX], log[PATH_MAX + 8], *r;
	struct nk_writers *ws;
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;
	cpu_set_t cpus;

	ck_assert_int_eq(sched_getaffinity(0, sizeof cpus, &cpus), 0);
	NK_SKIP_UNLESS(order_cases[_i].one_cpu || CPU_COUNT(&cpus) > 1,
		       "at once needs two CPUs for this process");
	if (order_cases[_i].one_cpu) {
		int first = 0;

		while (!CPU_ISSET(first, &cpus))
			first++;
		CPU_ZERO(&cpus);
		CPU_SET(first, &cpus);
		ck_assert_int_eq(sched_setaffinity(0, sizeof cpus, &cpus), 0);
	}
	if (order_cases[_i].force)
		setenv("NSKIT_HELPERS", order_cases[_i].force, 1);
	else
		unsetenv("NSKIT_HELPERS");
	setenv("WAIT", order_cases[_i].at_once ? "300" : "3", 1);
	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "nskit-order"));
	logging_helper(dir, "u", "g", uh, sizeof uh);
	logging_helper(dir, "g", "u", gh, sizeof gh);
	helper_plan(&p, uh, gh);
	two_maps(&m);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 0, &ws, &e), 0);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	ck_assert_int_eq(nk_writers_finish(ws, 4242, &p, 0, &e), 0);
	snprintf(log, sizeof log, "%s/log", dir);
	r = slurp(log);
	ck_assert_ptr_nonnull(r);
	if (order_cases[_i].at_once)     /* each saw the other start */
		ck_assert_int_eq(strstr(r, "saw\n") && strstr(strstr(r, "saw\n") + 4, "saw\n"), 1);
	else                             /* the second started after the first ended */
		ck_assert_str_eq(r, "start\nend\nstart\nsaw\nend\n");
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	unsetenv("NSKIT_HELPERS");
	unsetenv("WAIT");
	nk_maps_free(&m);
}
END_TEST

/* While they wait, no child holds the other's output pipe: in sequence,
 * the second waits for the first one's output to end, and a copy of its
 * write end in the second would keep that from ever happening. */
START_TEST(test_writers_own_pipes)
{
	char dir[PATH_MAX], uh[PATH_MAX], gh[PATH_MAX], path[96], kids[256], out[2][64];
	struct nk_writers *ws;
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;
	int pid[2], n = 0;
	FILE *f;

	writers_fixture(dir, sizeof dir, uh, gh, &p, &m);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 0, &ws, &e), 0);
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(kids, sizeof kids, f));
	fclose(f);
	ck_assert_int_eq(sscanf(kids, "%d %d", &pid[0], &pid[1]), 2);
	usleep(50000);      /* each has dup2'd its output to 1 before it waits */
	for (int i = 0; i < 2; i++) {
		ssize_t l;

		snprintf(path, sizeof path, "/proc/%d/fd/1", pid[i]);
		l = readlink(path, out[i], sizeof out[i] - 1);
		ck_assert_int_gt(l, 0);
		out[i][l] = '\0';
	}
	ck_assert_str_ne(out[0], out[1]);
	for (int i = 0; i < 2; i++) {
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof path, "/proc/%d/fd", pid[i]);
		d = opendir(path);
		ck_assert_ptr_nonnull(d);
		while ((de = readdir(d))) {
			char fd[PATH_MAX], link[64];
			ssize_t l;

			snprintf(fd, sizeof fd, "%s/%s", path, de->d_name);
			l = readlink(fd, link, sizeof link - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (strcmp(link, out[!i]) != 0)
				continue;
			/* A write end of the other's pipe (a read end stops no EOF). */
			snprintf(fd, sizeof fd, "/proc/%d/fdinfo/%s", pid[i], de->d_name);
			f = fopen(fd, "re");
			ck_assert_ptr_nonnull(f);
			while (fgets(link, sizeof link, f)) {
				unsigned int fl;

				if (sscanf(link, "flags: %o", &fl) == 1)
					n += (fl & O_ACCMODE) == O_WRONLY;
			}
			fclose(f);
		}
		closedir(d);
	}
	ck_assert_int_eq(n, 0);
	nk_writers_cancel(ws);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_writers_none)
{
	struct nk_writers *ws;
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	/* Nothing for children to do: none is made. */
	memset(&p, 0, sizeof p);
	two_maps(&m);
	ck_assert_int_eq(nk_writers_prepare(4242, &m, &p, 1, &ws, &e), 0);
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(nk_writers_go(ws, &e), 0);
	ck_assert_int_eq(nk_writers_finish(ws, 4242, &p, 0, &e), 0);
	nk_maps_free(&m);
}
END_TEST

static Suite *mapwrite_suite(void)
{
	Suite *s = suite_create("mapwrite");
	TCase *tc = tcase_create("core");
	TCase *order = tcase_create("order");

	tcase_add_test(tc, test_plan_privileged);
	tcase_add_test(tc, test_plan_unprivileged);
	tcase_add_test(tc, test_allowed_unprivileged);
	tcase_add_test(tc, test_writers_run);
	tcase_add_test(tc, test_writers_cancel);
	tcase_add_test(tc, test_writers_failures);
	tcase_add_test(tc, test_writers_killed);
	tcase_add_test(tc, test_pid_reused);
	tcase_add_test(tc, test_writers_none);
	tcase_add_test(tc, test_writers_own_pipes);
	/* Shell helpers that wait: slow on a busy machine. */
	tcase_set_timeout(order, 60);
	tcase_add_loop_test(order, test_writers_order, 0, (int)(sizeof order_cases / sizeof order_cases[0]));
	suite_add_tcase(s, order);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(mapwrite_suite)
