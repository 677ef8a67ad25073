#include <signal.h>
#include <string.h>
#include "nkcheck.h"
#include "num.h"
#include "err.h"

static const struct {
	const char *in;
	uint64_t max;
	int ret;
	uint64_t val;
} u64_cases[] = {
	{ "0", 10, 0, 0 },
	{ "10", 10, 0, 10 },
	{ "11", 10, -ERANGE, 0 },
	{ "", 10, -EINVAL, 0 },
	{ "-1", 10, -EINVAL, 0 },
	{ "+1", 10, -EINVAL, 0 },
	{ " 1", 10, -EINVAL, 0 },
	{ "1 ", 10, -EINVAL, 0 },
	{ "1x", 10, -EINVAL, 0 },
	{ "0x10", 100, -EINVAL, 0 },
	{ "007", 10, 0, 7 },
	{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
	{ "18446744073709551616", UINT64_MAX, -ERANGE, 0 },
	{ "99999999999999999999999", UINT64_MAX, -ERANGE, 0 },
	{ "99999999999999999999999x", UINT64_MAX, -EINVAL, 0 },   /* junk wins over size (found by fuzz_num) */
};

START_TEST(test_u64_table)
{
	uint64_t v = 12345;
	int r = nk_parse_u64(u64_cases[_i].in, u64_cases[_i].max, &v);

	ck_assert_msg(r == u64_cases[_i].ret, "'%s': got %d want %d",
		      u64_cases[_i].in, r, u64_cases[_i].ret);
	if (r == 0)
		ck_assert_uint_eq(v, u64_cases[_i].val);
	else
		ck_assert_uint_eq(v, 12345); /* untouched on error */
}
END_TEST

START_TEST(test_ids)
{
	uint32_t id;

	ck_assert_int_eq(nk_parse_id("4294967294", &id), 0);
	ck_assert_uint_eq(id, 4294967294U);
	ck_assert_int_eq(nk_parse_id("4294967295", &id), -ERANGE);
	ck_assert_int_eq(nk_parse_id("4294967296", &id), -ERANGE);
	ck_assert_int_eq(nk_parse_id("-0", &id), -EINVAL);
	ck_assert_int_eq(nk_parse_id(NULL, &id), -EINVAL);
	ck_assert_int_eq(nk_parse_id("1000", &id), 0);
	ck_assert_uint_eq(id, 1000);
}
END_TEST

START_TEST(test_pid_fd)
{
	pid_t p;
	int fd;

	ck_assert_int_eq(nk_parse_pid("0", &p), -ERANGE);
	ck_assert_int_eq(nk_parse_pid("1", &p), 0);
	ck_assert_int_eq(p, 1);
	ck_assert_int_eq(nk_parse_pid("2147483647", &p), 0);
	ck_assert_int_eq(nk_parse_pid("2147483648", &p), -ERANGE);
	ck_assert_int_eq(nk_parse_pid("self", &p), -EINVAL);
	ck_assert_int_eq(nk_parse_fd("0", &fd), 0);
	ck_assert_int_eq(fd, 0);
	ck_assert_int_eq(nk_parse_fd("-1", &fd), -EINVAL);
}
END_TEST

static const struct {
	const char *in;
	int ret, sig;
} sig_cases[] = {
	{ "KILL", 0, SIGKILL }, { "SIGKILL", 0, SIGKILL }, { "term", 0, SIGTERM }, { "SigHup", 0, SIGHUP },
	{ "15", 0, 15 }, { "1", 0, 1 }, { "64", 0, 64 }, { "65", -EINVAL, 0 }, { "0", -EINVAL, 0 },
	{ "", -EINVAL, 0 }, { "SIG", -EINVAL, 0 }, { "SIGSIGKILL", -EINVAL, 0 }, { "KILL ", -EINVAL, 0 },
	{ "-9", -EINVAL, 0 }, { "USR1", 0, SIGUSR1 }, { "RTMIN", -EINVAL, 0 }, { "9x", -EINVAL, 0 }, { "33", -EINVAL, 0 },
};

START_TEST(test_signal_table)
{
	int sig = 0;

	ck_assert_int_eq(nk_parse_signal(sig_cases[_i].in, &sig), sig_cases[_i].ret);
	if (sig_cases[_i].ret == 0)
		ck_assert_int_eq(sig, sig_cases[_i].sig);
}
END_TEST

START_TEST(test_messages)
{
	struct nk_err e;
	uint32_t v;

	ck_assert_int_eq(nk_parse_u32_e("12a", 100, &v, "count", &e), -EINVAL);
	ck_assert_str_eq(e.msg, "invalid count '12a': not a decimal number");
	ck_assert_int_eq(nk_parse_u32_e("101", 100, &v, "count", &e), -EINVAL);
	ck_assert_str_eq(e.msg, "count '101' is out of range (at most 100)");
	ck_assert_int_eq(nk_parse_pid_e("x", &(pid_t){0}, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "invalid pid 'x': not a decimal number");
}
END_TEST

static Suite *num_suite(void)
{
	Suite *s = suite_create("num");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_u64_table, 0, (int)(sizeof u64_cases / sizeof u64_cases[0]));
	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_pid_fd);
	tcase_add_test(tc, test_messages);
	tcase_add_loop_test(tc, test_signal_table, 0, (int)(sizeof sig_cases / sizeof sig_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(num_suite)
