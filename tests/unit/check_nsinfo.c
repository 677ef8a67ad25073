#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "nkcheck.h"
#include "nsinfo.h"
#include "proc.h"

/* nk_map_rebase: child extents (in our ids) expressed in the parent's ids. */
static const struct {
	const char *child, *parent, *want;   /* kernel map text; want "" = -ENOENT */
} rebase_cases[] = {
	/* level 2 "0 1 1000" under level 1 "0 1000 1 / 1 100000 65536", seen from the host */
	{ "0 100000 1000", "0 1000 1\n1 100000 65536", "0 1 1000\n" },
	{ "0 1000 1", "0 1000 1\n1 100000 65536", "0 0 1\n" },
	/* split over two parent extents */
	{ "0 100 20", "0 100 10\n50 110 10", "0 0 10\n10 50 10\n" },
	/* partly unmapped */
	{ "0 100 20", "0 100 10", "" },
	{ "5 7 1", "0 0 4294967295", "5 7 1\n" },
};

START_TEST(test_rebase)
{
	struct nk_map c, p, out;
	struct nk_err e;
	char buf[256];
	int r;

	nk_map_init(&c);
	nk_map_init(&p);
	ck_assert_int_eq(nk_map_parse_kernel(rebase_cases[_i].child, &c, &e), 0);
	ck_assert_int_eq(nk_map_parse_kernel(rebase_cases[_i].parent, &p, &e), 0);
	r = nk_map_rebase(&c, &p, &out);
	if (!*rebase_cases[_i].want) {
		ck_assert_int_eq(r, -ENOENT);
		ck_assert_uint_eq(out.n, 0);
	} else {
		ck_assert_int_eq(r, 0);
		ck_assert_int_ge(nk_map_format(&out, buf, sizeof buf), 0);
		ck_assert_str_eq(buf, rebase_cases[_i].want);
	}
	nk_map_free(&c);
	nk_map_free(&p);
	nk_map_free(&out);
}
END_TEST

START_TEST(test_name_in_file)
{
	char path[64], buf[64];
	int fd = nk_test_mkstemp(path, sizeof path, "nk-nsinfo");
	static const char text[] = "root:x:0:0:root:/root:/bin/sh\n"
				   "bad line\n"
				   "daemon:x:1:1::/:/bin/false\n"
				   ":x:7:7::/:/bin/false\n"
				   "nobody:x:65534:65534::/:/bin/false\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof text - 1), (int)sizeof text - 1);
	close(fd);
	ck_assert_int_eq(nk_name_in_file(path, 1, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "daemon");
	ck_assert_int_eq(nk_name_in_file(path, 65534, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "nobody");
	ck_assert_int_eq(nk_name_in_file(path, 7, buf, sizeof buf), -ENOENT);   /* empty name */
	ck_assert_int_eq(nk_name_in_file(path, 2, buf, sizeof buf), -ENOENT);
	unlink(path);
	ck_assert_int_eq(nk_name_in_file(path, 0, buf, sizeof buf), -ENOENT);
}
END_TEST

START_TEST(test_owner_words)
{
	char buf[256], want[64];

	nk_range_owner(NK_UID, 0, 4294967295U, buf, sizeof buf);
	ck_assert_str_eq(buf, "host");
	nk_range_owner(NK_UID, NK_ID_INVALID, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "unmapped");
	nk_range_owner(NK_UID, getuid(), 1, buf, sizeof buf);
	snprintf(want, sizeof want, "caller ");
	ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "got '%s'", buf);
}
END_TEST

START_TEST(test_overflow)
{
	uint32_t v = nk_overflow_id(NK_UID);

	ck_assert_uint_gt(v, 0);
	ck_assert_uint_eq(nk_overflow_id(NK_GID) > 0, 1);
}
END_TEST

START_TEST(test_chain_self)
{
	struct nk_nschain c;
	struct nk_err e;
	uint64_t ino;

	ck_assert_int_eq(nk_nschain_read(0, &c, &e), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(c.self, 1);
	ck_assert_int_eq(nk_proc_ns_ino(0, "user", &ino, &e), 0);
	ck_assert_uint_eq(c.lv[0].ino, ino);
	ck_assert_int_eq(c.lv[0].have_maps, 1);
	ck_assert_uint_ge(c.lv[0].host.map[NK_UID].n, 1);
	nk_nschain_free(&c);
	ck_assert_int_eq(nk_nschain_read(2147483647, &c, &e), -ESRCH);
}
END_TEST

/* A child in a new user namespace that maps only our own uid: one level,
 * its map to our ids, and nk_ns_pids finds it. */
START_TEST(test_chain_child)
{
	int go[2], ready[2];
	pid_t c;
	char b = 0, map[64];
	struct nk_nschain ch;
	struct nk_err e;
	pid_t *pids;
	size_t n, found = 0;
	uid_t uid = geteuid();

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ready), 0);
	c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		int fd;

		close(go[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
		fd = open("/proc/self/uid_map", O_WRONLY);
		if (fd < 0 || write(fd, map, strlen(map)) < 0)
			_exit(2);
		close(fd);
		if (write(ready[1], "x", 1) != 1 || read(go[0], &b, 1) < 0)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	ck_assert_int_eq(nk_nschain_read(c, &ch, &e), 0);
	ck_assert_uint_eq(ch.n, 1);
	ck_assert_int_eq(ch.self, 0);
	ck_assert_int_eq(ch.lv[0].pid, c);
	ck_assert_uint_eq(ch.lv[0].host.map[NK_UID].n, 1);
	ck_assert_uint_eq(ch.lv[0].host.map[NK_UID].ext[0].inner, 0);
	ck_assert_uint_eq(ch.lv[0].host.map[NK_UID].ext[0].outer, uid);
	ck_assert_uint_eq(ch.lv[0].parent.map[NK_UID].ext[0].outer, uid);
	ck_assert_uint_eq(ch.lv[0].host.map[NK_GID].n, 0);      /* no gid map written */
	ck_assert_uint_eq(ch.lv[0].owner, uid);
	ck_assert_int_eq(nk_ns_pids(ch.lv[0].ino, &pids, &n, &e), 0);
	for (size_t i = 0; i < n; i++)
		if (pids[i] == c)
			found = 1;
	ck_assert_uint_eq(found, 1);
	free(pids);
	nk_nschain_free(&ch);
	close(go[1]);
	waitpid(c, NULL, 0);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

static Suite *nsinfo_suite(void)
{
	Suite *s = suite_create("nsinfo");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_rebase, 0, (int)NK_ARRAY_SIZE(rebase_cases));
	tcase_add_test(tc, test_name_in_file);
	tcase_add_test(tc, test_owner_words);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_chain_self);
	tcase_add_test(tc, test_chain_child);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(nsinfo_suite)
