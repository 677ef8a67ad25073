#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
	char *path = malloc(64);
	int fd;

	ck_assert_ptr_nonnull(path);
	fd = nk_test_mkstemp(path, 64, "check_mount");
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
	struct nk_mount_target t = { (char *)"/", -1, true, NULL };
	struct nk_err e;

	/* refused before the kernel is asked */
	ck_assert_int_eq(nk_mount_target_set_propagation(&t, MS_SHARED | MS_SLAVE, true, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "bad propagation type 0x180000");
	ck_assert_int_eq(nk_mount_target_set_propagation(&t, MS_BIND, false, &e), -EINVAL);
	ck_assert_int_eq(nk_mount_target_set_propagation(&t, MS_PRIVATE, false, &e), -EBADF);
	ck_assert_int_eq(nk_mount_target_bind_self(&t, &e), -EBADF);
}
END_TEST

/* --- targets: the object checked is the object changed -------------------
 *
 * nk_mount_target_open() only reads (realpath, an O_PATH open, statx): these
 * run unprivileged and change no mount. The change itself, through the
 * descriptor, is tested as root in tests/integration/mnt-share/race.sh. */

static char tdir[64];      /* a temporary folder: tdir/d, tdir/x/d */

static void tdir_setup(void)
{
	char p[128];

	ck_assert_ptr_nonnull(nk_test_mkdtemp(tdir, sizeof tdir, "check_mount"));
	snprintf(p, sizeof p, "%s/d", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/x", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/x/d", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/y", tdir);   /* what a swapped x points to */
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/y/d", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
}

static void tdir_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
	ck_assert_int_eq(system(cmd), 0);
}

static uint64_t mnt_id_of(const char *path)
{
	struct statx sx;

	ck_assert_int_eq(statx(AT_FDCWD, path, 0, STATX_MNT_ID, &sx), 0);
	ck_assert(sx.stx_mask & STATX_MNT_ID);
	return sx.stx_mnt_id;
}

static void same_inode(int fd, const char *path)
{
	struct stat a, b;

	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_msg(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
		      "the descriptor is not '%s'", path);
}

START_TEST(test_target_real)
{
	struct nk_mount_target t = NK_MOUNT_TARGET_INIT;
	struct libmnt_table *tb = NULL;
	struct nk_err e;
	char d[128], link[128], real[PATH_MAX], old[PATH_MAX + 8];

	ck_assert_int_eq(nk_mount_table_read(NULL, &tb, &e), 0);
	ck_assert_msg(nk_mount_target_open(tb, "/", &t, &e) == 0, "/: %s", e.msg);
	ck_assert(t.mount_point);
	ck_assert_str_eq(t.path, "/");
	ck_assert_str_eq(mnt_fs_get_target(t.fs), "/");
	ck_assert_uint_eq((uint64_t)mnt_fs_get_id(t.fs), mnt_id_of("/"));
	nk_mount_target_close(&t);
	ck_assert_int_eq(t.fd, -1);
	nk_mount_target_close(&t);  /* twice is fine */

	/* a folder: not a mount point, on the mount that holds it */
	snprintf(d, sizeof d, "%s/d", tdir);
	ck_assert_ptr_nonnull(realpath(d, real));
	ck_assert_msg(nk_mount_target_open(tb, d, &t, &e) == 0, "%s: %s", d, e.msg);
	ck_assert(!t.mount_point);
	ck_assert_ptr_eq(t.fs, nk_mount_find_containing(tb, real));
	ck_assert_uint_eq((uint64_t)mnt_fs_get_id(t.fs), mnt_id_of(real));
	same_inode(t.fd, real);
	nk_mount_target_close(&t);

	/* a symbolic link TARGET: the folder it resolves to is opened; once
	 * open, the link pointing elsewhere changes nothing */
	snprintf(link, sizeof link, "%s/link", tdir);
	ck_assert_int_eq(symlink(d, link), 0);
	ck_assert_msg(nk_mount_target_open(tb, link, &t, &e) == 0, "%s: %s", link, e.msg);
	ck_assert_str_eq(t.path, real);
	ck_assert(!t.mount_point);
	same_inode(t.fd, real);
	/* alice swaps the folder for a link to / after the check */
	snprintf(old, sizeof old, "%s.old", real);
	ck_assert_int_eq(rename(real, old), 0);
	ck_assert_int_eq(symlink("/", real), 0);
	same_inode(t.fd, old);      /* still the folder that was checked */
	nk_mount_target_close(&t);
	mnt_unref_table(tb);
}
END_TEST

/* The hook runs between realpath() and the open: what it does there is
 * what a user racing the tool could do. */
static int hook_case;

static void swap_hook(const char *path)
{
	char p[160], q[160];

	switch (hook_case) {
	case 0:  /* the folder becomes a link to / */
		snprintf(p, sizeof p, "%s.old", path);
		ck_assert_int_eq(rename(path, p), 0);
		ck_assert_int_eq(symlink("/", path), 0);
		break;
	case 1:  /* a folder on the way becomes a link to another folder with a 'd' */
		snprintf(p, sizeof p, "%s/x", tdir);
		snprintf(q, sizeof q, "%s/x.old", tdir);
		ck_assert_int_eq(rename(p, q), 0);
		snprintf(q, sizeof q, "%s/y", tdir);
		ck_assert_int_eq(symlink(q, p), 0);
		break;
	case 2:  /* the folder is gone */
		snprintf(p, sizeof p, "%s.old", path);
		ck_assert_int_eq(rename(path, p), 0);
		break;
	}
}

static const struct {
	const char *sub;     /* below tdir */
	int ret;
	const char *msg;     /* %1$s: the resolved path, %2$s: the argument (both
			      * positional: _FORTIFY_SOURCE refuses a mix) */
} hook_cases[] = {
	{ "d", -EAGAIN, "'%1$s' was replaced while it was being checked (run the command again)%2$.0s" },
	{ "x/d", -EAGAIN, "'%1$s' was replaced while it was being checked (run the command again)%2$.0s" },
	{ "d", -ENOENT, "%1$.0s'%2$s' does not exist" },
};

START_TEST(test_target_hook)
{
	struct nk_mount_target t = NK_MOUNT_TARGET_INIT;
	struct libmnt_table *tb = NULL;
	struct nk_err e;
	char arg[128], real[PATH_MAX], want[NK_ERR_MAX];

	ck_assert_int_eq(nk_mount_table_read(NULL, &tb, &e), 0);
	snprintf(arg, sizeof arg, "%s/%s", tdir, hook_cases[_i].sub);
	ck_assert_ptr_nonnull(realpath(arg, real));
	hook_case = _i;
	nk_mount_target_test_hook = swap_hook;
	ck_assert_int_eq(nk_mount_target_open(tb, arg, &t, &e), hook_cases[_i].ret);
	nk_mount_target_test_hook = NULL;
	snprintf(want, sizeof want, hook_cases[_i].msg, real, arg);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(t.fd, -1);
	ck_assert_ptr_null(t.path);
	mnt_unref_table(tb);
}
END_TEST

/* A table that does not list what is opened: the object was replaced (or
 * a mount added or removed) after the table was read. */
enum { T_ROOT, T_ROOT_FAKE_ID, T_ROOT_STACKED, T_DIR_AS_MOUNT, T_NOWHERE };

static const struct {
	int table;
	const char *sub;     /* NULL: "/", else below tdir */
	int ret;
	const char *msg;
} table_cases[] = {
	{ T_ROOT, NULL, 0, NULL },
	{ T_ROOT_FAKE_ID, NULL, -EAGAIN, "'/' was replaced while it was being checked (run the command again)" },
	{ T_ROOT_STACKED, NULL, 0, NULL },
	{ T_DIR_AS_MOUNT, "d", -EAGAIN, "'%s' was replaced while it was being checked (run the command again)" },
	{ T_NOWHERE, "d", -ENOENT, "'%s' is not on any mount of this mount namespace" },
};

START_TEST(test_target_table)
{
	struct nk_mount_target t = NK_MOUNT_TARGET_INIT;
	struct libmnt_table *tb = NULL;
	struct nk_err e;
	char arg[128], real[PATH_MAX], text[PATH_MAX + 512], want[NK_ERR_MAX], *path;
	unsigned long long root = mnt_id_of("/"), fake = root + 100000;
	int r;

	if (table_cases[_i].sub)
		snprintf(arg, sizeof arg, "%s/%s", tdir, table_cases[_i].sub);
	else
		strcpy(arg, "/");
	ck_assert_ptr_nonnull(realpath(arg, real));
	switch (table_cases[_i].table) {
	case T_ROOT:
		snprintf(text, sizeof text, "%llu 1 0:1 / / rw shared:1 - ext4 /dev/r rw\n", root);
		break;
	case T_ROOT_FAKE_ID:
		snprintf(text, sizeof text, "%llu 1 0:1 / / rw shared:1 - ext4 /dev/r rw\n", fake);
		break;
	case T_ROOT_STACKED:  /* the lookup takes the last listed, a stale one */
		snprintf(text, sizeof text, "%llu 1 0:1 / / rw shared:1 - ext4 /dev/r rw\n"
			 "%llu 1 0:2 / / rw - tmpfs stale rw\n", root, fake);
		break;
	case T_DIR_AS_MOUNT:
		snprintf(text, sizeof text, "%llu 1 0:1 / / rw - ext4 /dev/r rw\n"
			 "%llu %llu 0:1 / %s rw - tmpfs gone rw\n", root,
			 (unsigned long long)mnt_id_of(real), root, real);
		break;
	case T_NOWHERE:
		snprintf(text, sizeof text, "%llu 1 0:1 / /nowhere rw - ext4 /dev/r rw\n", fake);
		break;
	}
	path = write_tmp(text);
	r = nk_mount_table_read(path, &tb, &e);
	unlink(path);
	free(path);
	ck_assert_msg(r == 0, "read: %s", e.msg);

	r = nk_mount_target_open(tb, arg, &t, &e);
	ck_assert_msg(r == table_cases[_i].ret, "%s: got %d want %d (%s)", arg, r,
		      table_cases[_i].ret, r < 0 ? e.msg : "");
	if (r == 0) {
		ck_assert(t.mount_point);
		ck_assert_uint_eq((uint64_t)mnt_fs_get_id(t.fs), root);
		ck_assert_str_eq(mnt_fs_get_target(t.fs), "/");
		nk_mount_target_close(&t);
	} else {
		snprintf(want, sizeof want, table_cases[_i].msg, real);
		ck_assert_str_eq(e.msg, want);
	}
	mnt_unref_table(tb);
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

	tc = tcase_create("target");
	tcase_add_checked_fixture(tc, tdir_setup, tdir_teardown);
	tcase_add_test(tc, test_target_real);
	tcase_add_loop_test(tc, test_target_hook, 0, NK_ARRAY_SIZE(hook_cases));
	tcase_add_loop_test(tc, test_target_table, 0, NK_ARRAY_SIZE(table_cases));
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(mount_suite)
