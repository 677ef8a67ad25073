#include <string.h>
#include "nkcheck.h"
#include "logindefs.h"

static const char *sample =
	"# comment\n"
	"   # indented comment\n"
	"\n"
	"SUB_UID_MIN\t\t   200000\n"
	"SUB_UID_MAX 300000   \n"
	"ENV_PATH \"PATH=/bin:/usr/bin\"\n"
	"BAD_NUM 12x\n"
	"SUB_UID_MIN 250000\n"
	"NOVALUE\n"
	"LAST 7";

static const struct {
	const char *name;
	uint32_t def;
	int ret;
	uint32_t val;
} cases[] = {
	{ "SUB_UID_MIN", 1, 0, 250000 },        /* the last one wins */
	{ "SUB_UID_MAX", 1, 0, 300000 },        /* trailing blanks */
	{ "SUB_UID_COUNT", 65536, 0, 65536 },   /* absent: default */
	{ "BAD_NUM", 5, -EINVAL, 0 },
	{ "NOVALUE", 5, -EINVAL, 0 },
	{ "LAST", 0, 0, 7 },                    /* no final newline */
	{ "#", 3, 0, 3 },
};

START_TEST(test_u32_table)
{
	struct nk_logindefs ld;
	struct nk_err e;
	uint32_t v = 0;
	int r;

	ck_assert_int_eq(nk_logindefs_parse(&ld, "/etc/login.defs", sample, &e), 0);
	r = nk_logindefs_u32(&ld, cases[_i].name, cases[_i].def, &v, &e);
	ck_assert_msg(r == cases[_i].ret, "%s: got %d", cases[_i].name, r);
	if (r == 0)
		ck_assert_uint_eq(v, cases[_i].val);
	nk_logindefs_free(&ld);
}
END_TEST

START_TEST(test_message_and_strings)
{
	struct nk_logindefs ld;
	struct nk_err e;
	uint32_t v;

	ck_assert_int_eq(nk_logindefs_parse(&ld, "/x/login.defs", sample, &e), 0);
	ck_assert_str_eq(nk_logindefs_get(&ld, "ENV_PATH"), "PATH=/bin:/usr/bin");
	ck_assert_ptr_null(nk_logindefs_get(&ld, "MISSING"));
	ck_assert_int_lt(nk_logindefs_u32(&ld, "BAD_NUM", 0, &v, &e), 0);
	ck_assert_str_eq(e.msg, "invalid BAD_NUM '12x' in /x/login.defs line 7 (use a decimal number)");
	nk_logindefs_free(&ld);
}
END_TEST

START_TEST(test_missing_file)
{
	struct nk_logindefs ld;
	struct nk_err e;
	uint32_t v;

	ck_assert_int_eq(nk_logindefs_load(&ld, "/nonexistent/login.defs", &e), 0);
	ck_assert_int_eq(nk_logindefs_u32(&ld, "SUB_UID_MAX", 600100000, &v, &e), 0);
	ck_assert_uint_eq(v, 600100000);
	nk_logindefs_free(&ld);
	ck_assert_int_eq(nk_logindefs_load(&ld, "/", &e), -EINVAL);      /* not a regular file */
}
END_TEST

static Suite *logindefs_suite(void)
{
	Suite *s = suite_create("logindefs");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_u32_table, 0, sizeof cases / sizeof cases[0]);
	tcase_add_test(tc, test_message_and_strings);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(logindefs_suite)
