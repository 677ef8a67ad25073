#include <stdlib.h>
#include <string.h>
#include "nkcheck.h"
#include "report.h"

/* dr_cat_v: the text as cat -v shows it. */
static const struct {
	const char *in, *want;
} catv_cases[] = {
	{ "", "" },
	{ "plain text: 0-9 ~", "plain text: 0-9 ~" },
	{ "\033[31mred\033[0m", "^[[31mred^[[0m" },
	{ "a\tb", "a\tb" },                     /* a tab stays, as in cat -v */
	{ "bell\a cr\r bs\b", "bell^G cr^M bs^H" },
	{ "\x01\x1f", "^A^_" },
	{ "del\x7f", "del^?" },
	{ "\xc3\xa9", "M-CM-)" },               /* é in UTF-8 */
	{ "\x9b", "M-^[" },                     /* the 8-bit CSI */
	{ "\xff", "M-^?" },
	{ "\xa0", "M- " },
};

START_TEST(test_cat_v_table)
{
	char *got = dr_cat_v(catv_cases[_i].in);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, catv_cases[_i].want);
	free(got);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_cat_v_table, 0, (int)(sizeof catv_cases / sizeof catv_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(report_suite)
