#include <stdint.h>
#include <string.h>
#include "nkcheck.h"
#include "search.h"

static int int_below(const void *elem, const void *key)
{
	return *(const int *)elem < *(const int *)key;
}

static const int sorted[] = { 2, 4, 4, 4, 9 };

/* KEY in SORTED: where it is, or would go. */
static const struct {
	int key;
	size_t n;       /* how many of SORTED to search */
	size_t at;
} cases[] = {
	{ 1, 5, 0 },
	{ 2, 5, 0 },
	{ 3, 5, 1 },
	{ 4, 5, 1 },    /* the first of equal ones */
	{ 5, 5, 4 },
	{ 9, 5, 4 },
	{ 10, 5, 5 },   /* past the end: N */
	{ 4, 0, 0 },    /* an empty array */
	{ 9, 1, 1 },
	{ 1, 1, 0 },
};

START_TEST(test_lower_bound_table)
{
	ck_assert_uint_eq(nk_lower_bound(sorted, cases[_i].n, sizeof *sorted, &cases[_i].key, int_below),
			  cases[_i].at);
}
END_TEST

static int str_below(const void *elem, const void *key)
{
	return strcmp(*(const char *const *)elem, key) < 0;
}

START_TEST(test_strings)
{
	const char *names[] = { "alice", "bob", "carol" };

	ck_assert_uint_eq(nk_lower_bound(names, 3, sizeof *names, "bob", str_below), 1);
	ck_assert_uint_eq(nk_lower_bound(names, 3, sizeof *names, "bobby", str_below), 2);
	ck_assert_uint_eq(nk_lower_bound(names, 3, sizeof *names, "zed", str_below), 3);
}
END_TEST

static Suite *search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_lower_bound_table, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(search_suite)
