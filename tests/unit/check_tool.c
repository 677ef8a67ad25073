#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sys/statvfs.h>
#include <string.h>
#include <sys/wait.h>
#include "nkcheck.h"
#include "tool.h"

/* Run FN in a child with stdout and stderr to pipes; return its status and
 * what it wrote. */
static int in_child(void (*fn)(void), char *out, size_t outlen, char *err, size_t errlen)
{
	int po[2], pe[2], st;
	pid_t c;
	ssize_t n;

	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	c = fork();
	if (c == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		fn();
		exit(0);
	}
	close(po[1]);
	close(pe[1]);
	n = read(po[0], out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	n = read(pe[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(po[0]);
	close(pe[0]);
	waitpid(c, &st, 0);
	return st;
}

static void do_version(void)
{
	nk_tool_init("check-tool", NULL);
	nk_print_version();
}

static void do_usage(void)
{
	nk_tool_init("check-tool", NULL);
	nk_usage_errorx("bad %s", "thing");
}

static void do_die(void)
{
	nk_tool_init("check-tool", NULL);
	nk_die(3, "cannot %s", "go on");
}

static void do_closed(void)
{
	close(0);
	close(1);
	nk_tool_init("check-tool", NULL);
	/* fd 0 reads as empty, fd 1 fails: nothing we open lands on them */
	{
		char c;
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 3 || read(0, &c, 1) != 0)
			_exit(9);
	}
	printf("lost\n");
}

START_TEST(test_version)
{
	char out[256], err[256];
	int st = in_child(do_version, out, sizeof out, err, sizeof err);

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "check-tool from nskit " NSKIT_VERSION "\n");
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_usage)
{
	char out[256], err[256];
	int st = in_child(do_usage, out, sizeof out, err, sizeof err);

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_str_eq(err, "check-tool: bad thing\nTry 'check-tool --help' for more information.\n");
}
END_TEST

START_TEST(test_die)
{
	char out[256], err[256];
	int st = in_child(do_die, out, sizeof out, err, sizeof err);

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ck_assert_str_eq(err, "check-tool: cannot go on\n");
}
END_TEST

START_TEST(test_closed_streams)
{
	char out[256], err[256];
	int st = in_child(do_closed, out, sizeof out, err, sizeof err);

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_str_eq(err, "check-tool: write error: standard output is closed\n");
}
END_TEST

/* A copy of this test binary started as "secure-copy" runs nk_tool_init
 * and says whether it was let through. */
__attribute__((constructor)) static void secure_copy_main(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "secure-copy") != 0)
		return;
	nk_tool_init("check-tool", argv);
	if (write(1, "ran\n", 4) < 0)
		_exit(2);
	_exit(0);
}

/* Run the copy at PATH as uid and gid 65534 (through in_child): its
 * status, stdout, stderr. */
static const char *copy_path;

static void exec_copy(void)
{
	char *const args[] = { "secure-copy", NULL };

	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		_exit(98);
	execv(copy_path, args);
	_exit(97);
}

static int run_copy(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	copy_path = path;
	return in_child(exec_copy, out, outlen, err, errlen);
}

START_TEST(test_secure)
{
	char dir[PATH_MAX], path[PATH_MAX + 8], cmd[2 * PATH_MAX + 64], out[256], err[512];
	struct statvfs sv;
	int st;

	/* This process runs without setuid or file capabilities. */
	ck_assert_int_eq(nk_is_secure(), 0);
	NK_SKIP_UNLESS(geteuid() == 0, "giving a copy file capabilities and running it as another user needs root");
	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "secure"));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(statvfs(dir, &sv), 0);
	NK_SKIP_UNLESS(!(sv.f_flag & ST_NOSUID), "the test folder is on a nosuid filesystem (file capabilities are ignored)");
	snprintf(path, sizeof path, "%s/copy", dir);
	snprintf(cmd, sizeof cmd, "cp /proc/%d/exe %s && chmod 0755 %s", (int)getpid(), path, path);
	ck_assert_int_eq(system(cmd), 0);
	/* The plain copy runs. */
	st = run_copy(path, out, sizeof out, err, sizeof err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "plain copy: status %d, stderr %s", st, err);
	ck_assert_str_eq(out, "ran\n");
	/* With a file capability, the kernel sets AT_SECURE: refused. */
	snprintf(cmd, sizeof cmd, "setcap cap_net_raw+ep %s", path);
	ck_assert_int_eq(system(cmd), 0);
	st = run_copy(path, out, sizeof out, err, sizeof err);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "check-tool: refusing to run setuid, setgid or with file capabilities; "
			      "nskit delegates privileged steps to newuidmap/newgidmap\n");
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *tool_suite(void)
{
	Suite *s = suite_create("tool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_die);
	tcase_add_test(tc, test_closed_streams);
	tcase_add_test(tc, test_secure);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(tool_suite)
