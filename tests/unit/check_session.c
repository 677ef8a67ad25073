/* check_session - session records: names, parsing, stale detection */
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "nkcheck.h"
#include "proc.h"
#include "session.h"

static const struct { const char *name; int ok; const char *msg; } names[] = {
	{ "build", 1, NULL },
	{ "a.b-c_D9", 1, NULL },
	{ "1a", 1, NULL },
	{ "", 0, "empty session name" },
	{ "123", 0, "invalid session name '123': a number names a process" },
	{ ".hidden", 0, "invalid session name '.hidden': it may not start with '.'" },
	{ "-x", 0, "invalid session name '-x': it may not start with '-'" },
	{ "a/b", 0, "invalid session name 'a/b': use letters, digits, '_', '.' and '-'" },
	{ "a b", 0, "invalid session name 'a b': use letters, digits, '_', '.' and '-'" },
	{ "0123456789012345678901234567890123456789012345678901234567890123x", 0,
	  "session name '01234567890123456789...' is longer than 64 characters" },
};

START_TEST(test_name)
{
	struct nk_err e;
	int r = nk_session_name_valid(names[_i].name, &e);

	ck_assert_int_eq(r == 0, names[_i].ok);
	if (!names[_i].ok)
		ck_assert_str_eq(e.msg, names[_i].msg);
}
END_TEST

static const char good[] = "nskit-session 1\nname=s\npid=42\nstart=777\nuid=1000\nuserns=4026531837\n"
			   "mntns=4026531841\ncreated=1700000000\n";

static const struct { const char *text; const char *msg; } bad[] = {
	{ "", "session 's': empty record" },
	{ "nskit-session 2\nname=s\n", "session 's': not a session record (first line 'nskit-session 2')" },
	{ "nskit-session 1\nname=t\n", "session 's': the record names session 't'" },
	{ "nskit-session 1\nname=s\npid=0\n", "session 's': line 3: invalid pid '0'" },
	{ "nskit-session 1\nname=s\npid=-1\n", "session 's': line 3: invalid pid '-1'" },
	{ "nskit-session 1\nname=s\nstart=1x\n", "session 's': line 3: invalid start '1x'" },
	{ "nskit-session 1\nname=s\nuid=4294967295\n", "session 's': line 3: invalid uid '4294967295'" },
	{ "nskit-session 1\nname=s\nnonsense\n", "session 's': line 3: no '='" },
	{ "nskit-session 1\nname=s\npid=4\n", "session 's': incomplete record (needs name, pid, start, uid, userns)" },
};

START_TEST(test_parse_bad)
{
	struct nk_session s;
	struct nk_err e;

	ck_assert_int_lt(nk_session_parse(bad[_i].text, "s", &s, &e), 0);
	ck_assert_str_eq(e.msg, bad[_i].msg);
}
END_TEST

START_TEST(test_parse_roundtrip)
{
	struct nk_session s, t;
	struct nk_err e;
	char buf[1024];

	ck_assert_int_eq(nk_session_parse(good, "s", &s, &e), 0);
	ck_assert_str_eq(s.name, "s");
	ck_assert_int_eq(s.pid, 42);
	ck_assert_uint_eq(s.start, 777);
	ck_assert_uint_eq(s.uid, 1000);
	ck_assert_uint_eq(s.userns, 4026531837ULL);
	ck_assert_uint_eq(s.mntns, 4026531841ULL);
	ck_assert_int_eq(s.created, 1700000000);
	ck_assert_int_gt(nk_session_format(&s, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, good);
	ck_assert_int_eq(nk_session_parse(buf, "s", &t, &e), 0);
	ck_assert_mem_eq(&s, &t, sizeof s);
	/* Unknown keys are ignored (a later version may add some). */
	ck_assert_int_eq(nk_session_parse("nskit-session 1\nname=s\npid=1\nstart=2\nuid=3\nuserns=4\nnew=x\n",
					  "s", &t, &e), 0);
	ck_assert_int_eq(nk_session_format(&s, buf, 10), -ENOSPC);
}
END_TEST

START_TEST(test_dir_path)
{
	char p[64];
	struct nk_err e;

	ck_assert_int_eq(nk_session_dir_path("/run/user/1000", 1000, p, sizeof p, &e), 0);
	ck_assert_str_eq(p, "/run/user/1000/nskit");
	ck_assert_int_eq(nk_session_dir_path(NULL, 1000, p, sizeof p, &e), 0);
	ck_assert_str_eq(p, "/tmp/nskit-1000");
	ck_assert_int_eq(nk_session_dir_path("", 7, p, sizeof p, &e), 0);
	ck_assert_str_eq(p, "/tmp/nskit-7");
	ck_assert_int_lt(nk_session_dir_path("run", 7, p, sizeof p, &e), 0);
	ck_assert_str_eq(e.msg, "XDG_RUNTIME_DIR 'run' is not an absolute path");
}
END_TEST

/* Stale detection on a real process: live, pid reused (start differs),
 * user namespace differs, gone. */
START_TEST(test_open_stale)
{
	struct nk_session s;
	struct nk_err e;
	int fd, st, ready[2];
	char msg[256], c;
	pid_t child;

	/* A holder lives in a user namespace of the session's owner: so does
	 * this child, for root and for anyone else running the tests. */
	ck_assert_int_eq(pipe(ready), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);
	ck_assert_int_eq(nk_session_describe(&s, "t", child, getuid(), &e), 0);
	ck_assert_int_eq(nk_session_open(&s, getuid(), &fd, &e), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);

	s.start++;
	ck_assert_int_eq(nk_session_open(&s, getuid(), &fd, &e), -ESTALE);
	snprintf(msg, sizeof msg, "session 't' has ended (process %d is not its holder any more)", (int)child);
	ck_assert_str_eq(e.msg, msg);
	ck_assert_int_eq(fd, -1);
	s.start--;
	s.userns++;
	ck_assert_int_eq(nk_session_open(&s, getuid(), &fd, &e), -ESTALE);
	s.userns--;
	ck_assert_int_eq(nk_session_open(&s, getuid() + 1, &fd, &e), -EPERM);

	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	ck_assert_int_eq(nk_session_open(&s, getuid(), &fd, &e), -ESTALE);
	snprintf(msg, sizeof msg, "session 't' has ended (its holder, process %d, is gone)", (int)child);
	ck_assert_str_eq(e.msg, msg);
}
END_TEST

/* Save is exclusive, load reads it back, list finds it, remove removes it. */
START_TEST(test_save_load_list)
{
	char tmpl[64];
	char *d = nk_test_mkdtemp(tmpl, sizeof tmpl, "check_session");
	struct nk_session s, t, *v;
	struct nk_err e;
	size_t n;
	int dfd;

	ck_assert_ptr_nonnull(d);
	dfd = nk_session_dir_open(d, getuid(), 0, &e);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(nk_session_parse(good, "s", &s, &e), 0);
	ck_assert_int_eq(nk_session_save(dfd, &s, &e), 0);
	ck_assert_int_eq(nk_session_save(dfd, &s, &e), -EEXIST);
	ck_assert_str_eq(e.msg, "session 's' already exists");
	ck_assert_int_eq(nk_session_load(dfd, "s", &t, &e), 0);
	ck_assert_mem_eq(&s, &t, sizeof s);
	ck_assert_int_eq(nk_session_load(dfd, "nope", &t, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "no session 'nope'");   /* the tool adds where to look */
	ck_assert_int_eq(nk_session_list(dfd, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "s");
	free(v);
	ck_assert_int_eq(nk_session_remove(dfd, "s", &e), 0);
	ck_assert_int_eq(nk_session_list(dfd, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	close(dfd);
	/* A folder open to others is refused. */
	ck_assert_int_eq(chmod(d, 0755), 0);
	ck_assert_int_eq(nk_session_dir_open(d, getuid(), 0, &e), -EPERM);
	rmdir(d);
}
END_TEST

/* Files of a folder someone may have planted things in: only regular
 * files, never followed, never waited on, never larger than asked. */
START_TEST(test_read_regular)
{
	char tmpl[64], path[128];
	char *d = nk_test_mkdtemp(tmpl, sizeof tmpl, "check_session");
	char *buf;
	size_t len;
	int dfd, fd;

	ck_assert_ptr_nonnull(d);
	dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(nk_read_regular_at(dfd, "none", 100, &buf, &len), -ENOENT);
	fd = openat(dfd, "reg", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_eq(write(fd, "hello\n", 6), 6);
	close(fd);
	ck_assert_int_eq(nk_read_regular_at(dfd, "reg", 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(buf, "hello\n");
	free(buf);
	ck_assert_int_eq(nk_read_regular_at(dfd, "reg", 6, &buf, &len), 0);
	free(buf);
	ck_assert_int_eq(nk_read_regular_at(dfd, "reg", 5, &buf, &len), -EFBIG);
	snprintf(path, sizeof path, "%s/fifo", d);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(nk_read_regular_at(dfd, "fifo", 100, &buf, &len), -EINVAL);
	ck_assert_int_eq(symlinkat("reg", dfd, "link"), 0);
	ck_assert_int_eq(nk_read_regular_at(dfd, "link", 100, &buf, &len), -EINVAL);
	ck_assert_int_eq(mkdirat(dfd, "dir", 0700), 0);
	ck_assert_int_eq(nk_read_regular_at(dfd, "dir", 100, &buf, &len), -EINVAL);
	/* A FIFO as a session record: a message, not a hang. */
	{
		struct nk_session s;
		struct nk_err e;

		ck_assert_int_eq(nk_session_load(dfd, "fifo", &s, &e), -EINVAL);
		ck_assert_str_eq(e.msg, "the record of session 'fifo' is not a regular file (remove it)");
	}
	unlinkat(dfd, "reg", 0);
	unlinkat(dfd, "fifo", 0);
	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "dir", AT_REMOVEDIR);
	close(dfd);
	rmdir(d);
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_name, 0, (int)NK_ARRAY_SIZE(names));
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)NK_ARRAY_SIZE(bad));
	tcase_add_test(tc, test_parse_roundtrip);
	tcase_add_test(tc, test_dir_path);
	tcase_add_test(tc, test_open_stale);
	tcase_add_test(tc, test_save_load_list);
	tcase_add_test(tc, test_read_regular);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(session_suite)
