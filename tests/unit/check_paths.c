/* Unit tests for lib/paths.c: the configuration folder, and the private
 * folders of a user that no one else can make. The checks of /run/user
 * and of a home run as root in a child with a mount namespace of its own
 * (a tmpfs over /run, the world's passwd over /etc/passwd), so the
 * machine's folders are never touched. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "nkcheck.h"
#include "paths.h"

/* NSKIT_SYSCONFDIR (NULL: unset) and the folder the library uses. */
static const struct {
	const char *env, *want;
} sysconf_cases[] = {
	{ NULL, "/etc" },
	{ "", "/etc" },
	{ "etc", "/etc" },              /* relative: ignored */
	{ "./etc", "/etc" },
	{ "/tmp/world/etc", "/tmp/world/etc" },
	{ "/", "/" },
};

START_TEST(test_sysconfdir_table)
{
	const char *was = getenv("NSKIT_SYSCONFDIR");
	char keep[256];

	snprintf(keep, sizeof keep, "%s", was ? was : "");
	if (sysconf_cases[_i].env)
		setenv("NSKIT_SYSCONFDIR", sysconf_cases[_i].env, 1);
	else
		unsetenv("NSKIT_SYSCONFDIR");
	ck_assert_str_eq(nk_sysconfdir(), sysconf_cases[_i].want);
	if (was)
		setenv("NSKIT_SYSCONFDIR", keep, 1);
}
END_TEST

/* A uid nothing on the machine has: no /run/user/UID, no passwd entry. */
#define NOBODY_UID 3999999990u

START_TEST(test_unknown_uid)
{
	char out[256] = "untouched";
	struct stat st;

	ck_assert_int_ne(lstat(NK_RUNDIR "/3999999990", &st), 0);
	ck_assert_int_eq(nk_runtime_nskit_path(NOBODY_UID, out, sizeof out), 0);
	ck_assert_int_eq(nk_home_cache_nskit_path(NOBODY_UID, out, sizeof out), 0);
}
END_TEST

/* --- as root, in a mount namespace of its own ----------------------------- */

#define UID 4100000u
#define OTHER 4100001u

/* Run FN in a child with a private mount namespace; FN returns 0, or the
 * number of the step that went wrong (the failure message names it). */
static void in_own_mounts(int (*fn)(void), const char *what)
{
	pid_t c;
	int st;

	c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(100);
		_exit(fn());
	}
	st = nk_test_exit_status(c);
	ck_assert_msg(st == 0, "%s: step %d failed", what, st);
}

static int mkdir_owned(const char *p, uid_t uid, mode_t mode)
{
	return mkdir(p, mode) < 0 || chown(p, uid, uid) < 0 || chmod(p, mode) < 0 ? -1 : 0;
}

/* /run/user/UID, as logind makes it and as it must not be. */
static int runtime_steps(void)
{
	char out[256], small[20];
	const char *want = NK_RUNDIR "/4100000/nskit";

	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0 || mkdir(NK_RUNDIR, 0755) < 0)
		return 1;
	if (nk_runtime_nskit_path(UID, out, sizeof out) != 0)
		return 2;       /* missing */
	if (mkdir_owned(NK_RUNDIR "/4100000", UID, 0700) < 0)
		return 3;
	if (nk_runtime_nskit_path(UID, out, sizeof out) != 1 || strcmp(out, want) != 0)
		return 4;       /* as logind makes it */
	if (nk_runtime_nskit_path(UID, small, sizeof small) != 0)
		return 5;       /* OUT too small */
	if (chmod(NK_RUNDIR "/4100000", 0750) < 0 || nk_runtime_nskit_path(UID, out, sizeof out) != 0)
		return 6;       /* open to its group */
	if (chmod(NK_RUNDIR "/4100000", 0700) < 0 || chown(NK_RUNDIR "/4100000", OTHER, OTHER) < 0 ||
	    nk_runtime_nskit_path(UID, out, sizeof out) != 0)
		return 7;       /* someone else's */
	if (chown(NK_RUNDIR "/4100000", UID, UID) < 0 || chmod(NK_RUNDIR, 0777) < 0 ||
	    nk_runtime_nskit_path(UID, out, sizeof out) != 0)
		return 8;       /* /run/user open to anyone's writes */
	if (chmod(NK_RUNDIR, 0755) < 0 || chown(NK_RUNDIR, OTHER, OTHER) < 0 ||
	    nk_runtime_nskit_path(UID, out, sizeof out) != 0)
		return 9;       /* /run/user not root's */
	if (chown(NK_RUNDIR, 0, 0) < 0 || nk_runtime_nskit_path(UID, out, sizeof out) != 1)
		return 10;
	if (rename(NK_RUNDIR "/4100000", NK_RUNDIR "/real") < 0 || symlink("real", NK_RUNDIR "/4100000") < 0 ||
	    nk_runtime_nskit_path(UID, out, sizeof out) != 0)
		return 11;      /* a symbolic link, even to a good folder */
	return 0;
}

START_TEST(test_runtime)
{
	NK_SKIP_UNLESS(geteuid() == 0, "needs root (a tmpfs over /run in a mount namespace of its own)");
	in_own_mounts(runtime_steps, "/run/user/UID");
}
END_TEST

static char home[256], pw_file[300];

/* ~/.cache/nskit of the home the passwd file names, as UID. */
static int home_steps(void)
{
	char out[512], want[512], cache[300], small[20];
	struct stat st;

	if (mount(pw_file, "/etc/passwd", NULL, MS_BIND, NULL) < 0)
		return 1;
	snprintf(cache, sizeof cache, "%s/.cache", home);
	snprintf(want, sizeof want, "%s/.cache/nskit", home);
	if (setgroups(0, NULL) < 0 || setresgid(UID, UID, UID) < 0 || setresuid(UID, UID, UID) < 0)
		return 2;
	if (nk_home_cache_nskit_path(UID, out, sizeof out) != 1 || strcmp(out, want) != 0)
		return 3;       /* .cache made */
	if (lstat(cache, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0700 || st.st_uid != UID)
		return 4;       /* mode 0700, the user's */
	if (nk_home_cache_nskit_path(UID, out, sizeof out) != 1 || strcmp(out, want) != 0)
		return 5;       /* and found again */
	if (nk_home_cache_nskit_path(UID, small, sizeof small) != 0)
		return 6;       /* OUT too small */
	if (nk_home_cache_nskit_path(OTHER, out, sizeof out) != 0)
		return 7;       /* a home that is not OTHER's (its passwd line names ours) */
	if (nk_home_cache_nskit_path(OTHER + 1, out, sizeof out) != 0)
		return 8;       /* a relative home */
	if (rmdir(cache) < 0 || symlink("/tmp", cache) < 0 || nk_home_cache_nskit_path(UID, out, sizeof out) != 0)
		return 9;       /* .cache a symbolic link */
	return 0;
}

START_TEST(test_home_cache)
{
	FILE *f;

	NK_SKIP_UNLESS(geteuid() == 0, "needs root (a passwd bound over /etc/passwd in a mount namespace of its own)");
	ck_assert_ptr_nonnull(nk_test_mkdtemp(home, sizeof home, "home"));
	ck_assert_int_eq(chown(home, UID, UID), 0);
	ck_assert_int_eq(chmod(home, 0755), 0);
	snprintf(pw_file, sizeof pw_file, "%s.passwd", home);
	f = fopen(pw_file, "we");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "root:x:0:0:root:/root:/bin/sh\n"
		   "u:x:%u:%u::%s:/bin/sh\n"
		   "other:x:%u:%u::%s:/bin/sh\n"
		   "rel:x:%u:%u::home:/bin/sh\n",
		UID, UID, home, OTHER, OTHER, home, OTHER + 1, OTHER + 1);
	ck_assert_int_eq(fclose(f), 0);
	in_own_mounts(home_steps, "~/.cache/nskit");
}
END_TEST

static Suite *paths_suite(void)
{
	Suite *s = suite_create("paths");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_sysconfdir_table, 0, (int)(sizeof sysconf_cases / sizeof sysconf_cases[0]));
	tcase_add_test(tc, test_unknown_uid);
	tcase_add_test(tc, test_runtime);
	tcase_add_test(tc, test_home_cache);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(paths_suite)
