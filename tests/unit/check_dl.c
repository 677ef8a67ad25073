/* check_dl - lib/dl: loading a library on first use */
#include <string.h>
#include "nkcheck.h"
#include "dl.h"
#include "util.h"

START_TEST(test_load)
{
	size_t (*my_strlen)(const char *) = NULL;
	int (*my_abs)(int) = NULL;
	const struct nk_dl_sym syms[] = {
		{ "strlen", (void **)&my_strlen },
		{ "abs", (void **)&my_abs },
	};
	struct nk_err e;

	ck_assert_int_eq(nk_dl_load("libc.so.6", "libc6", syms, NK_ARRAY_SIZE(syms), &e), 0);
	ck_assert_ptr_nonnull(my_strlen);
	ck_assert_uint_eq(my_strlen("nskit"), 5);
	ck_assert_int_eq(my_abs(-3), 3);
}
END_TEST

START_TEST(test_missing_library)
{
	void (*f)(void) = NULL;
	const struct nk_dl_sym syms[] = { { "f", (void **)&f } };
	struct nk_err e;

	ck_assert_int_eq(nk_dl_load("libnskit-none.so.9", "nskit-none", syms, 1, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "cannot load libnskit-none.so.9 (package nskit-none): libnskit-none.so.9: "
			 "cannot open shared object file: No such file or directory");
}
END_TEST

START_TEST(test_missing_symbol)
{
	void (*f)(void) = NULL;
	size_t (*my_strlen)(const char *) = NULL;
	const struct nk_dl_sym syms[] = {
		{ "strlen", (void **)&my_strlen },
		{ "nskit_no_such_function", (void **)&f },
	};
	struct nk_err e;

	ck_assert_int_eq(nk_dl_load("libc.so.6", "libc6", syms, NK_ARRAY_SIZE(syms), &e), -ENOENT);
	ck_assert_str_eq(e.msg, "libc.so.6 has no nskit_no_such_function (package libc6 too old?)");
	ck_assert_ptr_null(f);
}
END_TEST

static Suite *dl_suite(void)
{
	Suite *s = suite_create("dl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_missing_library);
	tcase_add_test(tc, test_missing_symbol);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(dl_suite)
