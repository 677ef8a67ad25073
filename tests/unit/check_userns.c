/* check_userns - what of lib/userns can be checked without a new namespace */
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include "nkcheck.h"
#include "proc.h"
#include "userns.h"

static const struct {
	enum nk_write how[2];
	int privileged[2];
	int needs;
} plans[] = {
	{ { NK_WRITE_DIRECT, NK_WRITE_DIRECT }, { 0, 0 }, 0 },   /* --map-root: the process writes */
	{ { NK_WRITE_HELPER, NK_WRITE_HELPER }, { 0, 0 }, 1 },   /* --auto: newuidmap, newgidmap */
	{ { NK_WRITE_DIRECT, NK_WRITE_HELPER }, { 0, 0 }, 1 },   /* --setgroups allow: newgidmap */
	{ { NK_WRITE_DIRECT, NK_WRITE_DIRECT }, { 1, 1 }, 1 },   /* root: from the parent namespace */
	{ { NK_WRITE_DIRECT, NK_WRITE_DIRECT }, { 1, 0 }, 1 },
};

START_TEST(test_needs_helper)
{
	struct nk_plan p;

	memset(&p, 0, sizeof p);
	p.how[0] = plans[_i].how[0];
	p.how[1] = plans[_i].how[1];
	p.privileged[0] = plans[_i].privileged[0];
	p.privileged[1] = plans[_i].privileged[1];
	ck_assert_int_eq(nk_userns_needs_helper(&p), plans[_i].needs);
}
END_TEST

START_TEST(test_info_json)
{
	char buf[64];

	ck_assert_int_eq(nk_userns_info_json(42, 4026532841ULL, buf, sizeof buf), 31);
	ck_assert_str_eq(buf, "{\"pid\":42,\"userns\":4026532841}\n");
	ck_assert_int_eq(nk_userns_info_json(42, 4026532841ULL, buf, 10), -ENOSPC);
}
END_TEST

START_TEST(test_owner)
{
	struct nk_err e;
	uid_t owner;

	ck_assert_int_eq(nk_userns_owner(getpid(), &owner, &e), 0);
	/* Our own namespace: the initial one belongs to uid 0, a test run in a
	 * rootless namespace to whoever made it; either way a real uid. */
	ck_assert_uint_ne(owner, (uid_t)-1);
	ck_assert_int_eq(nk_userns_owner(999999999, &owner, &e), -ESRCH);
	ck_assert_str_eq(e.msg, "no process with pid 999999999");
}
END_TEST

/* Joining a process that is in our own user namespace is refused with a
 * message, and nothing changes. */
START_TEST(test_join_self)
{
	struct nk_err e;
	int fd = nk_pidfd_open(getpid(), 0);
	char msg[128];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(nk_userns_join(fd, getpid(), &e), -EINVAL);
	snprintf(msg, sizeof msg, "cannot join the namespaces of process %d: it is in this user namespace "
		 "(nothing to join)", (int)getpid());
	ck_assert_str_eq(e.msg, msg);
	close(fd);
}
END_TEST

/* Creating with no map, in a child: a new user namespace, unmapped. */
START_TEST(test_create_nomap)
{
	pid_t c = fork();
	int st;

	ck_assert_int_ge(c, 0);
	if (c == 0) {
		struct nk_err e;
		uint64_t before, after;

		if (nk_proc_ns_ino(0, "user", &before, &e) < 0)
			_exit(2);
		if (nk_userns_create(CLONE_NEWUSER, NULL, NULL, &e) < 0)
			_exit(77);   /* user namespaces disabled here */
		if (nk_proc_ns_ino(0, "user", &after, &e) < 0)
			_exit(3);
		_exit(after != before && getuid() == 65534 ? 0 : 4);
	}
	ck_assert_int_eq(waitpid(c, &st, 0), c);
	ck_assert(WIFEXITED(st));
	ck_assert_int_ne(WEXITSTATUS(st), 2);
	ck_assert_int_ne(WEXITSTATUS(st), 3);
	ck_assert_int_ne(WEXITSTATUS(st), 4);
}
END_TEST

static Suite *userns_suite(void)
{
	Suite *s = suite_create("userns");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_needs_helper, 0, (int)NK_ARRAY_SIZE(plans));
	tcase_add_test(tc, test_info_json);
	tcase_add_test(tc, test_owner);
	tcase_add_test(tc, test_join_self);
	tcase_add_test(tc, test_create_nomap);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(userns_suite)
