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
	ck_assert_int_eq(nk_walk(fd, top, threads, 0, counter, NULL, &c, &ws, &e), 0);
	ck_assert_uint_eq(c.tops, 1);
	ck_assert_uint_eq(c.files, 50);
	ck_assert_uint_eq(c.dirs, 7);        /* d0..d4, deep, er; never /etc or ../d1 */
	ck_assert_uint_eq(c.links, 2);
	ck_assert_uint_eq(ws.entries, 60);
	ck_assert_uint_eq(ws.dirs, 8);
	ck_assert_uint_eq(ws.errors, 0);
	/* A second walk from the same descriptor sees everything again. */
	memset(&c.files, 0, 4 * sizeof c.files);
	ck_assert_int_eq(nk_walk(fd, top, threads, 0, counter, NULL, &c, &ws, &e), 0);
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

	ck_assert_int_eq(nk_walk(fd, "/dev/null", 1, 0, counter, NULL, &c, &ws, &e), -ENOTDIR);
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
	d = nk_walk_open_dir(fd, "etc", O_RDONLY, 0, st.st_dev);                            /* a symlink */
	ck_assert_msg(d == -ELOOP || d == -ENOTDIR, "got %d", d);
	ck_assert_int_eq(nk_walk_open_dir(fd, "..", O_RDONLY, 0, st.st_dev), -EXDEV);       /* not beneath */
	d = nk_walk_open_dir(fd, "d0/up", O_RDONLY, 0, st.st_dev);
	ck_assert_msg(d == -ELOOP || d == -ENOTDIR, "got %d", d);
	d = nk_walk_open_dir(fd, "d0", O_RDONLY, 0, st.st_dev);
	ck_assert_int_ge(d, 0);
	close(d);
	close(fd);
	rm_tree();
}
END_TEST

/* The entry's descriptor is the inode its statx describes. */
static int same_inode(void *ctx, const struct nk_walk_entry *en, struct nk_err *e)
{
	struct count *c = ctx;
	struct stat st;

	(void)e;
	if (fstat(en->fd, &st) == 0 && st.st_ino == en->st.st_ino && st.st_dev == en->st.st_dev &&
	    (st.st_mode & S_IFMT) == (en->st.st_mode & S_IFMT) && en->fd_path == !S_ISDIR(st.st_mode)) {
		pthread_mutex_lock(&c->lock);
		c->files++;
		pthread_mutex_unlock(&c->lock);
	}
	return 0;
}

START_TEST(test_walk_entry_fd)
{
	struct count c = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
	struct nk_walk_stats ws;
	struct nk_err e;
	int fd;

	make_tree();
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(nk_walk(fd, top, 2, 0, same_inode, NULL, &c, &ws, &e), 0);
	ck_assert_uint_eq(c.files, 60);    /* every entry: dirs O_RDONLY, the rest O_PATH */
	close(fd);
	rm_tree();
}
END_TEST

static int stopper(void *ctx, const struct nk_walk_entry *en, struct nk_err *e)
{
	(void)e;
	if (S_ISREG(en->st.st_mode))
		return NK_WALK_STOP;
	return counter(ctx, en, e);
}

START_TEST(test_walk_stop)
{
	struct count c = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
	struct nk_walk_stats ws;
	struct nk_err e;
	int fd;

	make_tree();
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(nk_walk(fd, top, 1, 0, stopper, NULL, &c, &ws, &e), 0);
	ck_assert_int_eq(ws.stopped, 1);
	ck_assert_uint_lt(ws.entries, 60);
	close(fd);
	rm_tree();
}
END_TEST

/* NK_WALK_BYNAME: a directory's non-directories come by name (fd -1),
 * the directory again (post) after them; NK_WALK_NEED_FD for "f3" makes
 * it come again, open. */
struct byname {
	pthread_mutex_t lock;
	unsigned pre, post, named, opened, f3_named, f3_opened, bad_order;
	unsigned files_seen[5];
};

static int byname_cb(void *ctx, const struct nk_walk_entry *en, struct nk_err *e)
{
	struct byname *b = ctx;
	int r = 0, d = -1;

	(void)e;
	if (en->dirpath)
		sscanf(strrchr(en->dirpath, '/') + 1, "d%d", &d);
	pthread_mutex_lock(&b->lock);
	if (S_ISDIR(en->st.st_mode)) {
		if (en->post) {
			b->post++;
			if (en->name[0] == 'd' && sscanf(en->name, "d%d", &d) == 1 && d < 5 && b->files_seen[d] < 10)
				b->bad_order++;
		} else {
			b->pre++;
			r = NK_WALK_BYNAME;
		}
	} else if (en->fd < 0) {
		b->named++;
		if (d >= 0 && d < 5 && !S_ISLNK(en->st.st_mode))
			b->files_seen[d]++;
		if (strcmp(en->name, "f3") == 0) {
			b->f3_named++;
			if (d >= 0 && d < 5)
				b->files_seen[d]--;     /* counted when it comes open */
			r = NK_WALK_NEED_FD;
		}
	} else {
		struct stat st;

		b->opened++;
		if (strcmp(en->name, "f3") == 0 && fstat(en->fd, &st) == 0 && st.st_ino == en->st.st_ino) {
			b->f3_opened++;
			if (d >= 0 && d < 5)
				b->files_seen[d]++;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

START_TEST(test_walk_byname)
{
	struct byname b = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct nk_walk_stats ws;
	struct nk_err e;
	int fd;

	make_tree();
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(nk_walk(fd, top, 2, 0, byname_cb, NULL, &b, &ws, &e), 0);
	close(fd);
	/* top, d0..d4, deep, er: each before and after what it holds. */
	ck_assert_uint_eq(b.pre, 8);
	ck_assert_uint_eq(b.post, 8);
	/* 50 files, 2 symlinks by name; the five f3 again, open. */
	ck_assert_uint_eq(b.named, 52);
	ck_assert_uint_eq(b.f3_named, 5);
	ck_assert_uint_eq(b.f3_opened, 5);
	ck_assert_uint_eq(b.opened, 5);
	ck_assert_uint_eq(b.bad_order, 0);
	rm_tree();
}
END_TEST

START_TEST(test_fd_xattr)
{
	char buf[64];
	ssize_t n;
	int fd, d1, lnk;
	struct stat st, etc;

	make_tree();
	ck_assert_int_eq(stat("/etc", &etc), 0);
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d1 = openat(fd, "d1/f1", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	lnk = openat(fd, "etc", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_ge(d1, 0);
	ck_assert_int_ge(lnk, 0);
	if (nk_fd_setxattr(d1, 1, "user.nktest", "abc", 3) < 0 && errno == EOPNOTSUPP) {
		close(d1);
		close(lnk);
		close(fd);
		rm_tree();
		return;         /* no user xattrs on this /tmp */
	}
	n = nk_fd_getxattr(d1, 1, "user.nktest", buf, sizeof buf);
	ck_assert_int_eq(n, 3);
	ck_assert_mem_eq(buf, "abc", 3);
	n = nk_fd_listxattr(d1, 1, buf, sizeof buf);
	ck_assert_int_ge(n, 12);
	ck_assert_ptr_nonnull(memmem(buf, (size_t)n, "user.nktest", 12));
	/* A symlink's descriptor is the link itself: user xattrs are refused
	 * on links, and /etc is never reached. */
	ck_assert_int_lt(nk_fd_getxattr(lnk, 1, "user.nktest", buf, sizeof buf), 0);
	ck_assert_int_eq(nk_fd_chmod(d1, 1, 0600), 0);
	ck_assert_int_eq(fstatat(fd, "d1/f1", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_lt(nk_fd_chmod(lnk, 1, 0700), 0);       /* a link has no mode to set */
	ck_assert_int_eq(stat("/etc", &st), 0);
	ck_assert_uint_eq(st.st_mode, etc.st_mode);
	close(d1);
	close(lnk);
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
	tcase_add_test(tc, test_walk_entry_fd);
	tcase_add_test(tc, test_walk_stop);
	tcase_add_test(tc, test_fd_xattr);
	tcase_add_test(tc, test_walk_byname);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(walk_suite)
