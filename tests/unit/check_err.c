#include <string.h>
#include "nkcheck.h"
#include "err.h"

START_TEST(test_chain)
{
	struct nk_err e;

	ck_assert_int_eq(nk_errf(&e, EPERM, "uid range %d-%d not allowed", 1, 2), -EPERM);
	ck_assert_int_eq(nk_err_prefix(&e, "cannot apply map to pid %d", 42), -EPERM);
	ck_assert_str_eq(e.msg, "cannot apply map to pid 42: uid range 1-2 not allowed");
	ck_assert_int_eq(nk_err_hint(&e, "run 'subid-alloc %s' as root", "alice"), -EPERM);
	ck_assert_str_eq(e.msg, "cannot apply map to pid 42: uid range 1-2 not allowed "
			 "(run 'subid-alloc alice' as root)");
}
END_TEST

START_TEST(test_codes)
{
	struct nk_err e;

	/* A negative code is taken as its absolute value, 0 as EINVAL/EIO. */
	ck_assert_int_eq(nk_errf(&e, -ENOENT, "x"), -ENOENT);
	ck_assert_int_eq(e.code, ENOENT);
	ck_assert_int_eq(nk_errf(&e, 0, "x"), -EINVAL);
	ck_assert_int_eq(nk_syserr(&e, 0, "x"), -EIO);
	ck_assert_int_eq(nk_syserr(&e, ENOENT, "cannot open '%s'", "/x"), -ENOENT);
	ck_assert_str_eq(e.msg, "cannot open '/x': No such file or directory");
	nk_err_clear(&e);
	ck_assert_int_eq(e.code, 0);
	ck_assert_str_eq(e.msg, "");
}
END_TEST

START_TEST(test_truncation)
{
	struct nk_err e;
	char big[3000];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	nk_errf(&e, EINVAL, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), NK_ERR_MAX - 1);
	/* Context still goes in front, and the result stays a C string. */
	nk_err_prefix(&e, "context");
	ck_assert(strncmp(e.msg, "context: aaa", 12) == 0);
	ck_assert_uint_eq(strlen(e.msg), NK_ERR_MAX - 1);
	nk_err_hint(&e, "hint");
	ck_assert_uint_eq(strlen(e.msg), NK_ERR_MAX - 1);
}
END_TEST

static Suite *err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_codes);
	tcase_add_test(tc, test_truncation);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(err_suite)
