/* nkcheck.h - shared bits of the Check unit suites */
#ifndef NSKIT_NKCHECK_H
#define NSKIT_NKCHECK_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A world of its own for every suite, whatever the machine holds: before
 * main, a fresh folder /tmp/nskit-unit.RUN.<random> is made (RUN: the
 * tests/run it belongs to, NSKIT_SANDBOX_RUN), with an etc/ of
 * empty subuid and subgid, an nsswitch.conf of files alone and an empty
 * login.defs (by NK_CHECK_MAIN, so copies of the binary that tests run as
 * fake helpers make none), and the library is pointed at it (NSKIT_SYSCONFDIR, see
 * lib/paths.h). Every temporary file of a test goes below the folder too
 * (nk_test_mkdtemp, nk_test_mkstemp), and the folder goes when the suite
 * ends, so a run leaves nothing in /tmp. */
static char nk_test_root[64];
static pid_t nk_test_root_owner;

static int nk_test_rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(p) < 0 ? 0 : 0;
}

static void nk_test_world_end(void)
{
	/* Check forks a child a test; only the suite's own process clears up. */
	if (nk_test_root[0] && getpid() == nk_test_root_owner)
		nftw(nk_test_root, nk_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void nk_test_world(void)
{
	static const char *files[][2] = {
		{ "subuid", "" }, { "subgid", "" }, { "login.defs", "" },
		{ "nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\n" },
	};
	const char *inherited = getenv("NSKIT_TEST_WORLD");
	char p[128];
	FILE *f;

	/* A copy of the test binary run by a test (a fake helper) lives in
	 * the world of the suite that started it. */
	if (inherited && strlen(inherited) < sizeof nk_test_root) {
		snprintf(nk_test_root, sizeof nk_test_root, "%s", inherited);
		snprintf(p, sizeof p, "%s/etc", nk_test_root);
		setenv("NSKIT_SYSCONFDIR", p, 1);
		return;
	}
	/* Named after the tests/run it belongs to (NSKIT_SANDBOX_RUN), as the
	 * sandboxes are: that run's cleanup check judges its own. mkdtemp
	 * replaces the last six characters of the name with random ones. */
	{
		const char *run = getenv("NSKIT_SANDBOX_RUN");
		int ok = run && *run && strlen(run) < 24 && !strchr(run, '/');
		size_t n = (size_t)snprintf(nk_test_root, sizeof nk_test_root, "/tmp/nskit-unit.%s%s", ok ? run : "",
					    ok ? "." : "");

		memset(nk_test_root + n, 'X', 6);
		nk_test_root[n + 6] = '\0';
	}
	if (!mkdtemp(nk_test_root)) {
		perror("nkcheck: cannot make the test world");
		exit(99);
	}
	nk_test_root_owner = getpid();
	atexit(nk_test_world_end);
	chmod(nk_test_root, 0755);
	snprintf(p, sizeof p, "%s/etc", nk_test_root);
	if (mkdir(p, 0755) < 0) {
		perror("nkcheck: cannot make the test world");
		exit(99);
	}
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/etc/%s", nk_test_root, files[i][0]);
		if (!(f = fopen(p, "we")) || fputs(files[i][1], f) < 0 || fclose(f) != 0) {
			perror("nkcheck: cannot make the test world");
			exit(99);
		}
	}
	snprintf(p, sizeof p, "%s/etc", nk_test_root);
	setenv("NSKIT_SYSCONFDIR", p, 1);
	setenv("NSKIT_TEST_WORLD", nk_test_root, 1);
}

/* The test world's etc/NAME, in BUF. */
static inline const char *nk_test_etc(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/etc/%s", nk_test_root, name);
	return buf;
}

/* NK_SKIP_UNLESS(cond, reason): a check that cannot run here (root only, as
 * a normal user) is a skip, never a pass: it prints "nkcheck: SKIP test:
 * reason", which tests/run counts as a skip. With NSKIT_MUST_WORK=1 (CI)
 * a skip is a failure. */
static inline void nk_test_skip(const char *fn, const char *reason)
{
	const char *must = getenv("NSKIT_MUST_WORK");
	size_t n = strlen(fn);

	if (n > 3 && strcmp(fn + n - 3, "_fn") == 0)
		n -= 3;
	if (must && strcmp(must, "1") == 0)
		ck_abort_msg("%.*s cannot run here (%s) and NSKIT_MUST_WORK=1", (int)n, fn, reason);
	printf("nkcheck: SKIP %.*s: %s\n", (int)n, fn, reason);
	fflush(stdout);
}
#define NK_SKIP_UNLESS(cond, reason)                     \
	do {                                             \
		if (!(cond)) {                           \
			nk_test_skip(__func__, reason);  \
			return;                          \
		}                                        \
	} while (0)

/* Every check_<module>.c defines its suite and ends with NK_CHECK_MAIN(fn). */
#define NK_CHECK_MAIN(suite_fn)                                  \
	int main(void)                                           \
	{                                                        \
		SRunner *sr;                                     \
		int nfailed;                                     \
		nk_test_world();                                 \
		sr = srunner_create(suite_fn());                 \
		srunner_run_all(sr, CK_NORMAL);                  \
		nfailed = srunner_ntests_failed(sr);             \
		srunner_free(sr);                                \
		return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE; \
	}

/* A fresh temporary folder (nk_test_mkdtemp) or file (nk_test_mkstemp,
 * returns its fd) named NAME.<six random characters> in the suite's test
 * world, its path in BUF. One place builds the template that mkdtemp(3)
 * and mkstemp(3) want. */
static inline int nk_test_template(char *buf, size_t len, const char *name)
{
	static const char six[] = { 'X', 'X', 'X', 'X', 'X', 'X', '\0' };
	int n = snprintf(buf, len, "%s/%s.%s", nk_test_root, name, six);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

static inline char *nk_test_mkdtemp(char *buf, size_t len, const char *name)
{
	return nk_test_template(buf, len, name) == 0 ? mkdtemp(buf) : NULL;
}

static inline int nk_test_mkstemp(char *buf, size_t len, const char *name)
{
	return nk_test_template(buf, len, name) == 0 ? mkstemp(buf) : -1;
}

/* Wait for child PID, which must exit (not be killed); its exit status. */
static inline int nk_test_exit_status(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

#endif
