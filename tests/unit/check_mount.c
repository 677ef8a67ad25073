#include <string.h>
#include <sys/mount.h>
#include "nkcheck.h"
#include "mount.h"
#include "err.h"

/* --- optional fields ------------------------------------------------------ */

static const struct {
	const char *in;
	int ret;
	unsigned long flags;
	unsigned int peer, master;
	const char *name;
} field_cases[] = {
	{ "", 0, MS_PRIVATE, 0, 0, "private" },
	{ NULL, 0, MS_PRIVATE, 0, 0, "private" },
	{ "shared:1", 0, MS_SHARED, 1, 0, "shared" },
	{ "shared:4294967295", 0, MS_SHARED, 4294967295U, 0, "shared" },
	{ "master:7", 0, MS_SLAVE, 0, 7, "private,slave" },
	{ "shared:3 master:1", 0, MS_SHARED | MS_SLAVE, 3, 1, "shared,slave" },
	{ "master:1 propagate_from:2", 0, MS_SLAVE, 0, 1, "private,slave" },
	{ "unbindable", 0, MS_UNBINDABLE, 0, 0, "private,unbindable" },
	{ "  shared:12   ", 0, MS_SHARED, 12, 0, "shared" },
	{ "shared:2 newtag:9", 0, MS_SHARED, 2, 0, "shared" },
	{ "propagate_from:2", 0, MS_PRIVATE, 0, 0, "private" },
	{ "shared:", -EINVAL, 0, 0, 0, NULL },
	{ "shared:0", -EINVAL, 0, 0, 0, NULL },
	{ "shared:x", -EINVAL, 0, 0, 0, NULL },
	{ "shared:-1", -EINVAL, 0, 0, 0, NULL },
	{ "master:4294967296", -EINVAL, 0, 0, 0, NULL },
	{ "shared:1 master:", -EINVAL, 0, 0, 0, NULL },
};

START_TEST(test_fields_table)
{
	struct nk_prop p = { 99, 99, 99 };
	int r = nk_prop_parse_fields(field_cases[_i].in, &p);

	ck_assert_msg(r == field_cases[_i].ret, "'%s': got %d want %d",
		      field_cases[_i].in ? field_cases[_i].in : "(null)", r,
		      field_cases[_i].ret);
	if (r < 0) {
		ck_assert_uint_eq(p.flags, 99);  /* untouched on error */
		return;
	}
	ck_assert_uint_eq(p.flags, field_cases[_i].flags);
	ck_assert_uint_eq(p.peer, field_cases[_i].peer);
	ck_assert_uint_eq(p.master, field_cases[_i].master);
	ck_assert_str_eq(nk_prop_name(p.flags), field_cases[_i].name);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(nk_prop_type_name(MS_SHARED), "shared");
	ck_assert_str_eq(nk_prop_type_name(MS_SLAVE), "slave");
	ck_assert_str_eq(nk_prop_type_name(MS_PRIVATE), "private");
	ck_assert_str_eq(nk_prop_type_name(MS_UNBINDABLE), "unbindable");
	ck_assert_ptr_null(nk_prop_type_name(MS_SHARED | MS_REC));
	ck_assert_ptr_null(nk_prop_type_name(0));
	ck_assert_str_eq(nk_prop_name(MS_SHARED | MS_UNBINDABLE), "shared,unbindable");
	ck_assert_str_eq(nk_prop_name(MS_SLAVE | MS_UNBINDABLE), "private,slave,unbindable");
}
END_TEST

/* --- paths ---------------------------------------------------------------- */

static const struct {
	const char *path, *top;
	bool under;
} under_cases[] = {
	{ "/", "/", true },
	{ "/a", "/", true },
	{ "/a", "/a", true },
	{ "/a/b", "/a", true },
	{ "/a/b", "/a/", true },
	{ "/ab", "/a", false },
	{ "/a", "/a/b", false },
	{ "/", "/a", false },
	{ "/srv/x y/z", "/srv/x y", true },
};

START_TEST(test_under_table)
{
	ck_assert_msg(nk_path_is_under(under_cases[_i].path, under_cases[_i].top) ==
		      under_cases[_i].under, "'%s' under '%s'",
		      under_cases[_i].path, under_cases[_i].top);
}
END_TEST

/* --- mount tables --------------------------------------------------------- */

static const char fixture[] =
	"27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"22 27 0:21 / /proc rw,relatime shared:5 - proc proc rw\n"
	"40 27 0:39 / /srv rw,relatime master:1 - tmpfs tmpfs rw\n"
	"41 40 254:0 /home/data /srv/data rw shared:7 master:1 - ext4 /dev/vda rw\n"
	"42 40 0:40 / /srv/x\\040y rw unbindable - tmpfs none rw\n"
	"43 40 0:41 / /srv/data rw - tmpfs top rw\n"
	"44 27 0:42 / /srvx rw propagate_from:1 - tmpfs t2 rw\n";

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/check_mount.XXXXXX");
	int fd;

	ck_assert_ptr_nonnull(path);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static struct libmnt_table *fixture_table(void)
{
	struct libmnt_table *tb = NULL;
	struct nk_err e;
	char *path = write_tmp(fixture);
	int r = nk_mount_table_read(path, &tb, &e);

	unlink(path);
	free(path);
	ck_assert_msg(r == 0, "read: %s", e.msg);
	ck_assert_int_eq(mnt_table_get_nents(tb), 7);
	return tb;
}

static const struct {
	const char *path;
	const char *exact;       /* nk_mount_find_target, NULL: none */
	const char *holder;      /* nk_mount_find_containing: its source */
	const char *prop;
	unsigned int peer, master;
	const char *source;
} lookup_cases[] = {
	{ "/", "/dev/vda", "/dev/vda", "shared", 1, 0, "/dev/vda" },
	{ "/proc", "proc", "proc", "shared", 5, 0, "proc" },
	{ "/proc/self", NULL, "proc", "shared", 5, 0, "proc" },
	{ "/srv", "tmpfs", "tmpfs", "private,slave", 0, 1, "tmpfs" },
	/* two mounts stacked on /srv/data: the later one is on top */
	{ "/srv/data", "top", "top", "private", 0, 0, "top" },
	{ "/srv/data/a/b", NULL, "top", "private", 0, 0, "top" },
	{ "/srv/x y", "none", "none", "private,unbindable", 0, 0, "none" },
	{ "/srv/x", NULL, "tmpfs", "private,slave", 0, 1, "tmpfs" },
	{ "/srvx", "t2", "t2", "private", 0, 0, "t2" },
	{ "/usr/bin", NULL, "/dev/vda", "shared", 1, 0, "/dev/vda" },
};

START_TEST(test_lookup_table)
{
	struct libmnt_table *tb = fixture_table();
	struct libmnt_fs *fs;
	struct nk_prop p;
	struct nk_err e;
	char *src;

	fs = nk_mount_find_target(tb, lookup_cases[_i].path);
	if (lookup_cases[_i].exact) {
		ck_assert_ptr_nonnull(fs);
		ck_assert_str_eq(mnt_fs_get_source(fs), lookup_cases[_i].exact);
	} else {
		ck_assert_ptr_null(fs);
	}
	fs = nk_mount_find_containing(tb, lookup_cases[_i].path);
	ck_assert_ptr_nonnull(fs);
	ck_assert_str_eq(mnt_fs_get_source(fs), lookup_cases[_i].holder);
	ck_assert_int_eq(nk_prop_of_fs(fs, &p, &e), 0);
	ck_assert_str_eq(nk_prop_name(p.flags), lookup_cases[_i].prop);
	ck_assert_uint_eq(p.peer, lookup_cases[_i].peer);
	ck_assert_uint_eq(p.master, lookup_cases[_i].master);
	src = nk_mount_source(fs);
	ck_assert_str_eq(src, lookup_cases[_i].source);
	free(src);
	mnt_unref_table(tb);
}
END_TEST

START_TEST(test_bind_source)
{
	struct libmnt_table *tb = fixture_table();
	struct libmnt_fs *fs = NULL;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	char *src;

	/* the fourth line: a bind mount of /home/data, as findmnt shows it */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(mnt_table_next_fs(tb, it, &fs), 0);
	ck_assert_str_eq(mnt_fs_get_target(fs), "/srv/data");
	src = nk_mount_source(fs);
	ck_assert_str_eq(src, "/dev/vda[/home/data]");
	free(src);
	mnt_free_iter(it);
	mnt_unref_table(tb);
}
END_TEST

START_TEST(test_bad_tables)
{
	struct libmnt_table *tb = NULL;
	struct nk_err e;
	char *path;
	int r;

	r = nk_mount_table_read("/nonexistent/mountinfo", &tb, &e);
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_str_eq(e.msg, "cannot read the mount table '/nonexistent/mountinfo': "
			 "No such file or directory");
	ck_assert_ptr_null(tb);

	path = write_tmp("27 1 254:0 / / rw shared:1 - ext4 /dev/vda rw\n"
			 "garbage line here\n");
	r = nk_mount_table_read(path, &tb, &e);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_null(tb);
	ck_assert_msg(strstr(e.msg, "bad line 2") != NULL, "message: %s", e.msg);
	unlink(path);
	free(path);
}
END_TEST

/* The running kernel's table: libmount and our field parser agree. */
START_TEST(test_self)
{
	struct libmnt_table *tb = NULL;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	struct nk_err e;
	int n = 0;

	ck_assert_int_eq(nk_mount_table_read(NULL, &tb, &e), 0);
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		struct nk_prop p, q;

		ck_assert_int_eq(nk_prop_of_fs(fs, &p, &e), 0);
		ck_assert_int_eq(nk_prop_parse_fields(mnt_fs_get_optional_fields(fs), &q), 0);
		ck_assert_uint_eq(p.flags, q.flags);
		ck_assert_uint_eq(p.peer, q.peer);
		ck_assert_uint_eq(p.master, q.master);
		n++;
	}
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(nk_mount_find_containing(tb, "/"));
	mnt_free_iter(it);
	mnt_unref_table(tb);
}
END_TEST

START_TEST(test_canonicalize)
{
	struct nk_err e;
	char *out = NULL;

	ck_assert_int_eq(nk_mount_canonicalize("/proc/../proc//self/..", &out, &e), 0);
	ck_assert_str_eq(out, "/proc");
	free(out);
	out = NULL;
	ck_assert_int_eq(nk_mount_canonicalize("/nonexistent/x", &out, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "'/nonexistent/x' does not exist");
	ck_assert_int_eq(nk_mount_canonicalize("", &out, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "'' does not exist");
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_bad_type)
{
	struct nk_err e;

	/* refused before the kernel is asked */
	ck_assert_int_eq(nk_mount_set_propagation("/", MS_SHARED | MS_SLAVE, true, &e), -EINVAL);
	ck_assert_int_eq(nk_mount_set_propagation("/", MS_BIND, false, &e), -EINVAL);
}
END_TEST

static Suite *mount_suite(void)
{
	Suite *s = suite_create("mount");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_fields_table, 0, NK_ARRAY_SIZE(field_cases));
	tcase_add_test(tc, test_type_names);
	tcase_add_loop_test(tc, test_under_table, 0, NK_ARRAY_SIZE(under_cases));
	tcase_add_loop_test(tc, test_lookup_table, 0, NK_ARRAY_SIZE(lookup_cases));
	tcase_add_test(tc, test_bind_source);
	tcase_add_test(tc, test_bad_tables);
	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_canonicalize);
	tcase_add_test(tc, test_bad_type);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(mount_suite)
