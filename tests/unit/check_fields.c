#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include "nkcheck.h"
#include "fields.h"

struct rec {
	uint32_t id, count, nspid;
	uint64_t big;
	int64_t when;
	pid_t pid;
};

static const struct nk_field fields[] = {
	{ "id", nk_field_id, offsetof(struct rec, id), 1 },
	{ "count", nk_field_count, offsetof(struct rec, count), 2 },
	{ "big", nk_field_u64, offsetof(struct rec, big), 4 },
	{ "when", nk_field_i64, offsetof(struct rec, when), 0 },
	{ "pid", nk_field_pid, offsetof(struct rec, pid), 8 },
	{ "nspid", nk_field_pid32, offsetof(struct rec, nspid), 0 },
};

/* KEY=VAL set on a fresh record: the return, the flags seen. */
static const struct {
	const char *key, *val;
	int ret;
	unsigned seen;
} set_cases[] = {
	{ "id", "1000", 0, 1 },
	{ "id", "4294967295", -EINVAL, 0 },     /* (uid_t)-1 is no id */
	{ "id", "-1", -EINVAL, 0 },
	{ "count", "65536", 0, 2 },
	{ "count", "0", -EINVAL, 0 },
	{ "count", "4294967296", -EINVAL, 0 },
	{ "big", "18446744073709551615", 0, 4 },
	{ "big", "1x", -EINVAL, 0 },
	{ "when", "9223372036854775807", 0, 0 },
	{ "when", "9223372036854775808", -EINVAL, 0 },
	{ "pid", "42", 0, 8 },
	{ "pid", "0", -EINVAL, 0 },
	{ "nspid", "7", 0, 0 },
	{ "new", "x", 1, 0 },                   /* unknown: the reader skips it */
	{ "ID", "1", 1, 0 },
	{ "", "", 1, 0 },
};

START_TEST(test_set_table)
{
	struct rec r;
	unsigned seen = 0;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(nk_field_set(fields, sizeof fields / sizeof *fields, &r, set_cases[_i].key,
				      set_cases[_i].val, &seen), set_cases[_i].ret);
	ck_assert_uint_eq(seen, set_cases[_i].seen);
}
END_TEST

START_TEST(test_values)
{
	struct rec r;
	unsigned seen = 0;
	size_t n = sizeof fields / sizeof *fields;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(nk_field_set(fields, n, &r, "id", "1000", &seen), 0);
	ck_assert_int_eq(nk_field_set(fields, n, &r, "count", "65536", &seen), 0);
	ck_assert_int_eq(nk_field_set(fields, n, &r, "big", "18446744073709551615", &seen), 0);
	ck_assert_int_eq(nk_field_set(fields, n, &r, "when", "12", &seen), 0);
	ck_assert_int_eq(nk_field_set(fields, n, &r, "pid", "42", &seen), 0);
	ck_assert_int_eq(nk_field_set(fields, n, &r, "nspid", "7", &seen), 0);
	ck_assert_uint_eq(seen, 15);
	ck_assert_uint_eq(r.id, 1000);
	ck_assert_uint_eq(r.count, 65536);
	ck_assert(r.big == UINT64_MAX);
	ck_assert(r.when == 12);
	ck_assert_int_eq(r.pid, 42);
	ck_assert_uint_eq(r.nspid, 7);
}
END_TEST

static Suite *fields_suite(void)
{
	Suite *s = suite_create("fields");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_set_table, 0, (int)(sizeof set_cases / sizeof set_cases[0]));
	tcase_add_test(tc, test_values);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(fields_suite)
