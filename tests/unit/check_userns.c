/* check_userns - lib/userns: plans, joining, creating (in children) */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <unistd.h>
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

	struct nk_err e;

	ck_assert_int_eq(nk_userns_info_json(42, 4026532841ULL, buf, sizeof buf, &e), 31);
	ck_assert_str_eq(buf, "{\"pid\":42,\"userns\":4026532841}\n");
	ck_assert_int_eq(nk_userns_info_json(42, 4026532841ULL, buf, 10, &e), -ENOSPC);
	ck_assert_int_eq(e.code, ENOSPC);
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
	st = nk_test_exit_status(c);
	ck_assert_int_ne(st, 2);
	ck_assert_int_ne(st, 3);
	ck_assert_int_ne(st, 4);
}
END_TEST

/* Creating with maps, in a child: the maps are written from outside
 * while the process is already inside, and it stays the same process with
 * no child left behind. ROOT: a privileged map (0:0:1 and 1:100000:10) written by a
 * writer child that stays outside; otherwise just our own ids, written by
 * the process itself after unshare. */
static int create_in_child(int root)
{
	pid_t c = fork();

	if (c == 0) {
		struct nk_maps m;
		struct nk_plan p;
		struct nk_map got;
		struct nk_err e;
		uid_t u = geteuid();
		gid_t g = getegid();
		pid_t self = getpid();

		memset(&p, 0, sizeof p);
		nk_map_init(&m.map[NK_UID]);
		nk_map_init(&m.map[NK_GID]);
		if (root) {
			nk_map_add(&m.map[NK_UID], 0, 0, 1);
			nk_map_add(&m.map[NK_UID], 1, 100000, 10);
			nk_map_add(&m.map[NK_GID], 0, 0, 1);
			nk_map_add(&m.map[NK_GID], 1, 100000, 10);
			p.privileged[NK_UID] = p.privileged[NK_GID] = 1;
		} else {
			nk_map_add(&m.map[NK_UID], 0, u, 1);
			nk_map_add(&m.map[NK_GID], 0, g, 1);
			p.setgroups = NK_SETGROUPS_DENY;
		}
		if (nk_userns_create(CLONE_NEWUSER | CLONE_NEWNS, &m, &p, &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			_exit(2);
		}
		nk_map_init(&got);
		if (nk_map_read_proc(0, NK_UID, &got, &e) < 0 || got.n != (root ? 2 : 1) ||
		    got.ext[0].inner != 0 || got.ext[0].outer != u || got.ext[0].count != 1 ||
		    (root && (got.ext[1].inner != 1 || got.ext[1].outer != 100000 || got.ext[1].count != 10)))
			_exit(3);
		nk_map_free(&got);
		nk_map_init(&got);
		if (nk_map_read_proc(0, NK_GID, &got, &e) < 0 || got.n != (root ? 2 : 1) ||
		    got.ext[0].outer != g || (root && got.ext[1].outer != 100000))
			_exit(4);
		if (getpid() != self || geteuid() != 0)
			_exit(5);
		if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
			_exit(6);
		_exit(0);
	}
	return nk_test_exit_status(c);
}

START_TEST(test_create_own_ids)
{
	ck_assert_int_eq(create_in_child(0), 0);
}
END_TEST

START_TEST(test_create_privileged)
{
	NK_SKIP_UNLESS(geteuid() == 0, "creating with a privileged writer needs root (test_create_own_ids covers non-root)");
	ck_assert_int_eq(create_in_child(1), 0);
}
END_TEST

static int create_touch_check(const struct nk_maps *m, const struct nk_plan *p, const char *pidfile)
{
	struct nk_writers *ws;
	struct nk_err e;

	if (nk_writers_prepare(getpid(), m, p, 1, &ws, &e) < 0 || nk_writers_go(ws, &e) < 0 ||
	    nk_writers_finish(ws, getpid(), p, 0, &e) < 0)
		return -1;
	return access(pidfile, F_OK);
}

/* unshare fails: the helpers waiting to write are let go without running. */
START_TEST(test_create_fails)
{
	char dir[PATH_MAX], pidfile[64];
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "nskit-create"));
	ck_assert_int_eq(chdir(dir), 0);
	memset(&p, 0, sizeof p);
	/* touch(1) as the helpers: had they run, ./PID would exist. */
	p.how[NK_UID] = p.how[NK_GID] = NK_WRITE_HELPER;
	strcpy(p.helper[NK_UID], "/usr/bin/touch");
	strcpy(p.helper[NK_GID], "/usr/bin/touch");
	nk_map_init(&m.map[NK_UID]);
	nk_map_init(&m.map[NK_GID]);
	nk_map_add(&m.map[NK_UID], 0, 100000, 10);
	nk_map_add(&m.map[NK_GID], 0, 100000, 10);
	/* CLONE_PARENT is not a flag unshare(2) takes. */
	ck_assert_int_eq(nk_userns_create(CLONE_NEWUSER | CLONE_PARENT, &m, &p, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "cannot create a user namespace: Invalid argument");
	snprintf(pidfile, sizeof pidfile, "%d", (int)getpid());
	ck_assert_int_eq(access(pidfile, F_OK), -1);
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	/* The same with touch allowed to run: ./PID appears (the check above
	 * can fail). */
	ck_assert_int_eq(create_touch_check(&m, &p, pidfile), 0);
	nk_maps_free(&m);
}
END_TEST

/* Our own namespace has a process mapping our first uid (us); an inode no
 * namespace has, none; ids it does not map, none. */
START_TEST(test_scan)
{
	struct nk_userns_want w[3];
	struct nk_err e;
	struct nk_map m;
	uint64_t ino;
	pid_t found[3];

	nk_map_init(&m);
	ck_assert_int_eq(nk_map_read_proc(0, NK_UID, &m, &e), 0);
	ck_assert_int_eq(nk_proc_ns_ino(0, "user", &ino, &e), 0);
	w[0] = (struct nk_userns_want){ ino, m.ext[0].outer, 1 };
	w[1] = (struct nk_userns_want){ ino + 1000000, m.ext[0].outer, 1 };
	w[2] = (struct nk_userns_want){ ino, 0, 0 };
	nk_map_free(&m);
	ck_assert_int_eq(nk_userns_scan(w, 3, found, &e), 0);
	ck_assert_int_gt(found[0], 0);
	ck_assert_int_eq(found[1], 0);
	ck_assert_int_eq(found[2], 0);
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
	tcase_add_test(tc, test_create_own_ids);
	tcase_add_test(tc, test_create_privileged);
	tcase_add_test(tc, test_create_fails);
	tcase_add_test(tc, test_scan);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(userns_suite)
