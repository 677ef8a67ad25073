#include <string.h>
#include <cap-ng.h>
#include "nkcheck.h"
#include "helper.h"

static void drop_caps(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	ck_assert_int_eq(capng_apply(CAPNG_SELECT_BOTH), 0);
}

START_TEST(test_find_env)
{
	char buf[PATH_MAX];
	struct nk_err e;

	setenv("NEWUIDMAP", "/bin/true", 1);
	ck_assert_int_eq(nk_find_helper(NK_UID, buf, sizeof buf, &e), 0);
	ck_assert_str_eq(buf, "/bin/true");
	setenv("NEWGIDMAP", "/nonexistent/newgidmap", 1);
	ck_assert_int_eq(nk_find_helper(NK_GID, buf, sizeof buf, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "newgidmap '/nonexistent/newgidmap' (from $NEWGIDMAP) cannot be run: "
			 "No such file or directory");
}
END_TEST

START_TEST(test_find_missing)
{
	char buf[PATH_MAX];
	struct nk_err e;

	unsetenv("NEWUIDMAP");
	setenv("PATH", "relative:/nonexistent", 1);
	/* falls back to the standard folders, where the uidmap package puts it */
	if (access("/usr/bin/newuidmap", X_OK) == 0) {
		ck_assert_int_eq(nk_find_helper(NK_UID, buf, sizeof buf, &e), 0);
		ck_assert_str_eq(buf, "/usr/bin/newuidmap");
	}
	setenv("NEWUIDMAP", "", 1);
	setenv("PATH", "/nonexistent", 1);
	setenv("NEWUIDMAP", "/etc/passwd", 1);   /* exists, not executable */
	ck_assert_int_lt(nk_find_helper(NK_UID, buf, sizeof buf, &e), 0);
	ck_assert_str_eq(e.msg, "newuidmap '/etc/passwd' (from $NEWUIDMAP) cannot be run: Permission denied");
}
END_TEST

static void own_maps(struct nk_maps *m)
{
	nk_map_init(&m->uid);
	nk_map_init(&m->gid);
	nk_map_add(&m->uid, 0, geteuid(), 1);
	nk_map_add(&m->gid, 0, getegid(), 1);
}

START_TEST(test_plan_privileged)
{
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	if (geteuid() != 0)
		return;     /* the unprivileged cases below cover non-root */
	own_maps(&m);
	nk_map_add(&m.uid, 1, 100000, 65536);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.setgroups, NK_SETGROUPS_DEFAULT);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_plan_unprivileged)
{
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	unsetenv("NEWUIDMAP");
	unsetenv("NEWGIDMAP");
	drop_caps();
	/* Only our own ids: direct writes, setgroups deny for the gid map. */
	own_maps(&m);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.setgroups, NK_SETGROUPS_DENY);
	/* setgroups allow wanted: the kernel needs newgidmap for that. */
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_ALLOW, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_DIRECT);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_HELPER);
	ck_assert_int_eq(p.setgroups, NK_SETGROUPS_DEFAULT);
	/* More than our own id: the helpers. */
	nk_map_add(&m.uid, 1, 100000, 65536);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(p.how[NK_UID], NK_WRITE_HELPER);
	ck_assert_int_eq(p.how[NK_GID], NK_WRITE_DIRECT);
	ck_assert(strstr(p.helper[NK_UID], "newuidmap") != NULL);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_allowed_unprivileged)
{
	struct nk_maps m;
	struct nk_plan p;
	struct nk_err e;

	drop_caps();
	own_maps(&m);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(nk_maps_check_allowed(&m, &p, "nskit-no-such-user", geteuid(), getegid(), &e), 0);
	nk_map_add(&m.uid, 1, 4000000000U, 10);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(nk_maps_check_allowed(&m, &p, "nskit-no-such-user", geteuid(), getegid(), &e), -EPERM);
	ck_assert_str_eq(e.msg, "cannot map uid range 4000000000-4000000009: not in /etc/subuid for "
			 "'nskit-no-such-user' (run 'subid-alloc nskit-no-such-user' as root)");
	nk_maps_free(&m);
	/* Our own id inside a larger extent is refused with its own reason. */
	nk_map_init(&m.uid);
	nk_map_init(&m.gid);
	nk_map_add(&m.uid, 0, geteuid(), 2);
	nk_map_add(&m.gid, 0, getegid(), 1);
	ck_assert_int_eq(nk_plan_write(&m, NK_SETGROUPS_DEFAULT, &p, &e), 0);
	ck_assert_int_eq(nk_maps_check_allowed(&m, &p, "x", geteuid(), getegid(), &e), -EPERM);
	ck_assert(strstr(e.msg, "may only be mapped alone (an extent with count 1)") != NULL);
	nk_maps_free(&m);
	/* An invalid map is refused before anything else. */
	nk_map_init(&m.uid);
	nk_map_init(&m.gid);
	nk_map_add(&m.uid, 0, geteuid(), 1);
	nk_map_add(&m.gid, 0, getegid(), 0);
	ck_assert_int_lt(nk_maps_check_allowed(&m, &p, "x", geteuid(), getegid(), &e), 0);
	ck_assert(strstr(e.msg, "count is 0") != NULL);
	nk_maps_free(&m);
}
END_TEST

static Suite *helper_suite(void)
{
	Suite *s = suite_create("helper");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_find_env);
	tcase_add_test(tc, test_find_missing);
	tcase_add_test(tc, test_plan_privileged);
	tcase_add_test(tc, test_plan_unprivileged);
	tcase_add_test(tc, test_allowed_unprivileged);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(helper_suite)
