/* Unit tests for lib/cfgfile.c: what a config file of DIR/etc may be. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "nkcheck.h"
#include "cfgfile.h"

static char dir[256];
static int dfd = -1;

static void setup(void)
{
	int fd;

	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "nskit-cfgfile"));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	fd = openat(dfd, "plain", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_eq(write(fd, "a b\n", 4), 4);
	close(fd);
	ck_assert_int_eq(symlinkat("plain", dfd, "link"), 0);
	ck_assert_int_eq(symlinkat("/dev/zero", dfd, "zero"), 0);
	ck_assert_int_eq(mkfifoat(dfd, "fifo", 0644), 0);
	ck_assert_int_eq(mkdirat(dfd, "sub", 0755), 0);
	/* Sparse files: 1 byte past the cap, and exactly the cap. */
	fd = openat(dfd, "huge", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_eq(ftruncate(fd, (off_t)NK_CFG_MAX_SMALL + 1), 0);
	close(fd);
	fd = openat(dfd, "full", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_eq(ftruncate(fd, (off_t)NK_CFG_MAX_SMALL), 0);
	close(fd);
}

static void teardown(void)
{
	static const char *names[] = { "plain", "link", "zero", "fifo", "huge", "full" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlinkat(dfd, names[i], 0);
	unlinkat(dfd, "sub", AT_REMOVEDIR);
	close(dfd);
	rmdir(dir);
}

static const struct {
	const char *name;
	unsigned flags;
	int ret;
	const char *msg;      /* after "cannot read P: " */
	size_t len;
} cases[] = {
	{ "plain", 0, 0, NULL, 4 },
	{ "missing", 0, -ENOENT, "No such file or directory", 0 },
	{ "link", 0, -ELOOP, "it is a symbolic link (replace it with the file)", 0 },
	{ "link", NK_CFG_FOLLOW, 0, NULL, 4 },
	{ "zero", 0, -ELOOP, "it is a symbolic link (replace it with the file)", 0 },
	{ "zero", NK_CFG_FOLLOW, -EINVAL, "not a regular file", 0 },
	{ "fifo", 0, -EINVAL, "not a regular file", 0 },
	{ "fifo", NK_CFG_FOLLOW, -EINVAL, "not a regular file", 0 },
	{ "sub", 0, -EINVAL, "not a regular file", 0 },
	{ "huge", 0, -EFBIG, "larger than 1 MiB, the limit for this file", 0 },
	{ "full", 0, 0, NULL, NK_CFG_MAX_SMALL },
};

START_TEST(test_read)
{
	struct nk_err e;
	struct stat st;
	char *buf = (char *)1, want[512];
	size_t len = 99;
	int r;

	alarm(10);      /* a FIFO must never block */
	r = nk_cfg_read_at(dfd, cases[_i].name, "P", cases[_i].flags, NK_CFG_MAX_SMALL, &buf, &len,
			   &st, &e);
	ck_assert_int_eq(r, cases[_i].ret);
	if (r == 0) {
		ck_assert_uint_eq(len, cases[_i].len);
		ck_assert_uint_eq((size_t)st.st_size, cases[_i].len);
		ck_assert(S_ISREG(st.st_mode));
		ck_assert_int_eq(buf[len], '\0');
		if (len == 4)
			ck_assert_str_eq(buf, "a b\n");
		free(buf);
		return;
	}
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	snprintf(want, sizeof want, "cannot read P: %s", cases[_i].msg);
	ck_assert_str_eq(e.msg, want);
}
END_TEST

START_TEST(test_opendir)
{
	char root[512], p[600];
	struct nk_err e;
	int fd;

	snprintf(root, sizeof root, "%s/sub", dir);
	snprintf(p, sizeof p, "%s/sub/etc", dir);
	ck_assert_int_eq(nk_cfg_opendir(root, &fd, &e), -ENOENT);
	ck_assert_int_eq(symlink("/etc", p), 0);
	ck_assert_int_eq(nk_cfg_opendir(root, &fd, &e), -ELOOP);
	snprintf(p, sizeof p, "cannot use %s/sub/etc: it is a symbolic link (--root follows no links below DIR)", dir);
	ck_assert_str_eq(e.msg, p);
	ck_assert_int_eq(fd, -1);
	snprintf(p, sizeof p, "%s/sub/etc", dir);
	unlink(p);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_int_eq(nk_cfg_opendir(root, &fd, &e), 0);
	close(fd);
	rmdir(p);
	ck_assert_uint_eq(nk_cfg_flags(NULL), NK_CFG_FOLLOW);
	ck_assert_uint_eq(nk_cfg_flags(root), 0);
}
END_TEST

START_TEST(test_open_parent)
{
	char p[600];
	char *name = (char *)"x";
	struct nk_err e;
	int fd = 0;

	snprintf(p, sizeof p, "%s/plain", dir);
	ck_assert_int_eq(nk_cfg_open_parent(p, O_PATH, &fd, &name, &e), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, "plain");
	free(name);
	close(fd);
	/* No such folder: no fd, no name, no error (no file either). */
	snprintf(p, sizeof p, "%s/none/subuid", dir);
	ck_assert_int_eq(nk_cfg_open_parent(p, O_RDONLY, &fd, &name, &e), 0);
	ck_assert_int_eq(fd, -1);
	ck_assert_ptr_null(name);
	/* A file where the folder should be. */
	snprintf(p, sizeof p, "%s/plain/subuid", dir);
	ck_assert_int_eq(nk_cfg_open_parent(p, O_RDONLY, &fd, &name, &e), -ENOTDIR);
	ck_assert_int_eq(fd, -1);
	ck_assert_ptr_null(name);
	ck_assert_int_eq(e.code, ENOTDIR);
}
END_TEST

static Suite *cfgfile_suite(void)
{
	Suite *s = suite_create("cfgfile");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_read, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_opendir);
	tcase_add_test(tc, test_open_parent);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(cfgfile_suite)
