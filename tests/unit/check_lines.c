#include <errno.h>
#include <string.h>
#include "nkcheck.h"
#include "lines.h"

/* TEXT read line by line: the lines, joined by '|'. */
static const struct {
	const char *in;
	const char *lines;
	unsigned count;
} view_cases[] = {
	{ "", "", 0 },
	{ "a", "a", 1 },
	{ "a\n", "a", 1 },              /* a final '\n' starts no empty line */
	{ "a\nb", "a|b", 2 },
	{ "\n\nb\n", "||b", 3 },
	{ "one two\n  \n", "one two|  ", 2 },
};

START_TEST(test_view_table)
{
	struct nk_lines l;
	const char *line;
	size_t len;
	char got[64] = "";
	unsigned n = 0;

	nk_lines_init(&l, view_cases[_i].in, strlen(view_cases[_i].in));
	while (nk_lines_view(&l, &line, &len)) {
		if (n++)
			strcat(got, "|");
		strncat(got, line, len);
		ck_assert_uint_eq(l.no, n);
	}
	ck_assert_str_eq(got, view_cases[_i].lines);
	ck_assert_uint_eq(n, view_cases[_i].count);
}
END_TEST

START_TEST(test_next)
{
	static const char text[] = "short\nmuch too long\nnul\0x\nlast";
	struct nk_lines l;
	char buf[8];

	nk_lines_init(&l, text, sizeof text - 1);
	ck_assert_int_eq(nk_lines_next(&l, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "short");
	ck_assert_int_eq(nk_lines_next(&l, buf, sizeof buf), -E2BIG);
	ck_assert_uint_eq(l.no, 2);
	ck_assert_int_eq(nk_lines_next(&l, buf, sizeof buf), -EINVAL);
	ck_assert_uint_eq(l.no, 3);
	ck_assert_int_eq(nk_lines_next(&l, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "last");
	ck_assert_int_eq(nk_lines_next(&l, buf, sizeof buf), 0);
	/* exactly SIZE - 1 bytes fit */
	nk_lines_init(&l, "1234567", 7);
	ck_assert_int_eq(nk_lines_next(&l, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "1234567");
}
END_TEST

START_TEST(test_words)
{
	char line[] = "  u 0\t1000  1 extra";
	char *w[4];

	ck_assert_uint_eq(nk_words(line, " \t", w, 4), 4);
	ck_assert_str_eq(w[0], "u");
	ck_assert_str_eq(w[3], "1");
	char blank[] = " \t ";
	ck_assert_uint_eq(nk_words(blank, " \t", w, 4), 0);
}
END_TEST

static Suite *lines_suite(void)
{
	Suite *s = suite_create("lines");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_view_table, 0, (int)(sizeof view_cases / sizeof view_cases[0]));
	tcase_add_test(tc, test_next);
	tcase_add_test(tc, test_words);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(lines_suite)
