#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "nkcheck.h"
#include "walk.h"

static char top[256];

/* top/{d0..d4}/{f0..f9}, top/d0/deep/er, a symlink to /etc and one to d1. */
static void make_tree(void)
{
	char p[512];

	ck_assert_ptr_nonnull(nk_test_mkdtemp(top, sizeof top, "check_walk"));
	for (int d = 0; d < 5; d++) {
		snprintf(p, sizeof p, "%s/d%d", top, d);
		ck_assert_int_eq(mkdir(p, 0755), 0);
		for (int f = 0; f < 10; f++) {
			snprintf(p, sizeof p, "%s/d%d/f%d", top, d, f);
			close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
		}
	}
	snprintf(p, sizeof p, "%s/d0/deep", top);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/d0/deep/er", top);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/etc", top);
	ck_assert_int_eq(symlink("/etc", p), 0);
	snprintf(p, sizeof p, "%s/d0/up", top);
	ck_assert_int_eq(symlink("../d1", p), 0);
}

static void rm_tree(void)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

struct count {
	pthread_mutex_t lock;
	unsigned files, dirs, links, tops;
};

static int counter(void *ctx, const struct nk_walk_entry *en, struct nk_err *e)
{
	struct count *c = ctx;

	(void)e;
	pthread_mutex_lock(&c->lock);
	if (strcmp(en->name, ".") == 0)
		c->tops++;
	else if (S_ISDIR(en->st.st_mode))
		c->dirs++;
	else if (S_ISLNK(en->st.st_mode))
		c->links++;
	else
		c->files++;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

START_TEST(test_walk_counts)
{
	unsigned threads = (unsigned)(_i == 0 ? 1 : 4);
	struct count c = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
	struct nk_walk_stats ws;
	struct nk_err e;
	int fd;

	make_tree();
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(nk_walk(fd, top, threads, counter, NULL, &c, &ws, &e), 0);
	ck_assert_uint_eq(c.tops, 1);
	ck_assert_uint_eq(c.files, 50);
	ck_assert_uint_eq(c.dirs, 7);        /* d0..d4, deep, er; never /etc or ../d1 */
	ck_assert_uint_eq(c.links, 2);
	ck_assert_uint_eq(ws.entries, 60);
	ck_assert_uint_eq(ws.dirs, 8);
	ck_assert_uint_eq(ws.errors, 0);
	/* A second walk from the same descriptor sees everything again. */
	memset(&c.files, 0, 4 * sizeof c.files);
	ck_assert_int_eq(nk_walk(fd, top, threads, counter, NULL, &c, &ws, &e), 0);
	ck_assert_uint_eq(c.files, 50);
	close(fd);
	rm_tree();
}
END_TEST

START_TEST(test_walk_not_dir)
{
	struct count c = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
	struct nk_walk_stats ws;
	struct nk_err e;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_eq(nk_walk(fd, "/dev/null", 1, counter, NULL, &c, &ws, &e), -ENOTDIR);
	ck_assert_str_eq(e.msg, "'/dev/null' is not a directory");
	close(fd);
}
END_TEST

START_TEST(test_open_dir_refuses)
{
	struct stat st;
	int fd, d;

	make_tree();
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fstat(fd, &st);
	d = nk_walk_open_dir(fd, "etc", st.st_dev);                            /* a symlink */
	ck_assert_msg(d == -ELOOP || d == -ENOTDIR, "got %d", d);
	ck_assert_int_eq(nk_walk_open_dir(fd, "..", st.st_dev), -EXDEV);       /* not beneath */
	d = nk_walk_open_dir(fd, "d0/up", st.st_dev);
	ck_assert_msg(d == -ELOOP || d == -ENOTDIR, "got %d", d);
	d = nk_walk_open_dir(fd, "d0", st.st_dev);
	ck_assert_int_ge(d, 0);
	close(d);
	close(fd);
	rm_tree();
}
END_TEST

START_TEST(test_xattr_at)
{
	char buf[64];
	ssize_t n;
	int fd;

	make_tree();
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nk_setxattr_at(fd, "d1", "user.nktest", "abc", 3) < 0 && errno == EOPNOTSUPP) {
		close(fd);
		rm_tree();
		return;         /* no user xattrs on this /tmp */
	}
	n = nk_getxattr_at(fd, "d1", "user.nktest", buf, sizeof buf);
	ck_assert_int_eq(n, 3);
	ck_assert_mem_eq(buf, "abc", 3);
	n = nk_listxattr_at(fd, "d1", buf, sizeof buf);
	ck_assert_int_ge(n, 12);
	ck_assert_ptr_nonnull(memmem(buf, (size_t)n, "user.nktest", 12));
	/* A symlink is the link itself: user xattrs are refused on links. */
	ck_assert_int_lt(nk_getxattr_at(fd, "etc", "user.nktest", buf, sizeof buf), 0);
	ck_assert_int_eq(nk_chmod_at(fd, "d1", 0700), 0);
	ck_assert_int_lt(nk_chmod_at(fd, "etc", 0700), 0);
	close(fd);
	rm_tree();
}
END_TEST

static Suite *walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_walk_counts, 0, 2);
	tcase_add_test(tc, test_walk_not_dir);
	tcase_add_test(tc, test_open_dir_refuses);
	tcase_add_test(tc, test_xattr_at);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(walk_suite)
