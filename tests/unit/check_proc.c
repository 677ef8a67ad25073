#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include "nkcheck.h"
#include "proc.h"

START_TEST(test_self)
{
	uid_t ru, eu;
	gid_t rg, eg;
	uint64_t ino, start, start2;
	struct nk_err e;
	char buf[256];

	ck_assert_int_eq(nk_proc_ids(0, &ru, &eu, &rg, &eg, &e), 0);
	ck_assert_uint_eq(ru, getuid());
	ck_assert_uint_eq(eu, geteuid());
	ck_assert_uint_eq(rg, getgid());
	ck_assert_uint_eq(eg, getegid());
	ck_assert_int_eq(nk_proc_ids(getpid(), &ru, NULL, NULL, NULL, &e), 0);
	ck_assert_int_eq(nk_proc_ns_ino(0, "user", &ino, &e), 0);
	ck_assert_uint_gt(ino, 0);
	ck_assert_int_eq(nk_proc_starttime(0, &start, &e), 0);
	ck_assert_int_eq(nk_proc_starttime(getpid(), &start2, &e), 0);
	ck_assert_uint_eq(start, start2);
	ck_assert_int_eq(nk_proc_cmdline(0, buf, sizeof buf), 0);
	ck_assert(strstr(buf, "check_proc") != NULL);
	ck_assert(nk_proc_exists(getpid()));
}
END_TEST

START_TEST(test_missing)
{
	struct nk_err e;
	uint64_t v;

	ck_assert_int_eq(nk_proc_ids(999999999, NULL, NULL, NULL, NULL, &e), -ESRCH);
	ck_assert_str_eq(e.msg, "no process with pid 999999999");
	ck_assert_int_eq(nk_proc_starttime(999999999, &v, &e), -ESRCH);
	ck_assert_int_eq(nk_proc_ns_ino(999999999, "user", &v, &e), -ESRCH);
	ck_assert(!nk_proc_exists(999999999));
}
END_TEST

START_TEST(test_pidfd)
{
	pid_t c = fork();
	int fd, st;

	if (c == 0) {
		pause();
		_exit(0);
	}
	fd = nk_pidfd_open(c, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(nk_pidfd_send_signal(fd, SIGKILL), 0);
	ck_assert_int_eq(waitpid(c, &st, 0), c);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert_int_eq(nk_pidfd_send_signal(fd, SIGKILL), -ESRCH);
	close(fd);
	ck_assert_int_eq(nk_pidfd_open(999999999, 0), -ESRCH);
}
END_TEST

START_TEST(test_sysctl_read)
{
	long v = -5;

	ck_assert_int_eq(nk_read_sysctl("/proc/sys/kernel/overflowuid", &v), 0);
	ck_assert_int_ge(v, 0);
	ck_assert_int_eq(nk_read_sysctl("/proc/sys/kernel/no-such-sysctl", &v), -ENOENT);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_pidfd);
	tcase_add_test(tc, test_sysctl_read);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(proc_suite)
