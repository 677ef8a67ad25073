#include <errno.h>
#include <string.h>
#include "nkcheck.h"
#include "json.h"

START_TEST(test_compact)
{
	char buf[256];
	struct nk_json j;

	nk_json_buf(&j, buf, sizeof buf, NK_JSON_COMPACT);
	nk_json_obj(&j, NULL);
	nk_json_i64(&j, "pid", 42);
	nk_json_u64(&j, "userns", 4026531837ULL);
	nk_json_bool(&j, "ok", 1);
	nk_json_str(&j, "none", NULL);
	nk_json_arr(&j, "a");
	nk_json_u64(&j, NULL, 1);
	nk_json_u64(&j, NULL, 2);
	nk_json_end(&j);
	nk_json_double(&j, "s", 1.23456, 2);
	ck_assert_int_eq(nk_json_finish(&j, "\n"), 0);
	ck_assert_str_eq(buf, "{\"pid\":42,\"userns\":4026531837,\"ok\":true,\"none\":null,\"a\":[1,2],\"s\":1.23}\n");
	ck_assert_uint_eq(j.pos, strlen(buf));
}
END_TEST

START_TEST(test_spaced_lines)
{
	char buf[512];
	struct nk_json j;

	/* subid-alloc --json's shape: the changes one a line. */
	nk_json_buf(&j, buf, sizeof buf, NK_JSON_LINES);
	nk_json_obj(&j, NULL);
	nk_json_bool(&j, "dry_run", 0);
	nk_json_arr(&j, "changes");
	for (int i = 0; i < 2; i++) {
		nk_json_obj(&j, NULL);
		nk_json_str(&j, "file", i ? "/etc/subgid" : "/etc/subuid");
		nk_json_u64(&j, "start", 100000);
		nk_json_end(&j);
	}
	ck_assert_int_eq(nk_json_finish(&j, "\n"), 0);
	ck_assert_str_eq(buf, "{\"dry_run\": false, \"changes\": [\n"
			 "  {\"file\": \"/etc/subuid\", \"start\": 100000},\n"
			 "  {\"file\": \"/etc/subgid\", \"start\": 100000}\n"
			 "]}\n");
	nk_json_buf(&j, buf, sizeof buf, NK_JSON_LINES);
	nk_json_obj(&j, NULL);
	nk_json_arr(&j, "changes");
	ck_assert_int_eq(nk_json_finish(&j, NULL), 0);
	ck_assert_str_eq(buf, "{\"changes\": []}");
	nk_json_buf(&j, buf, sizeof buf, NK_JSON_SPACED);
	nk_json_obj(&j, NULL);
	nk_json_str(&j, "file", "x");
	nk_json_u64(&j, "line", 5);
	ck_assert_int_eq(nk_json_finish(&j, NULL), 0);
	ck_assert_str_eq(buf, "{\"file\": \"x\", \"line\": 5}");
}
END_TEST

START_TEST(test_escape)
{
	char buf[256];
	struct nk_json j;

	/* An owner name is whatever /etc/subuid says: quote, backslash and
	 * control characters are escaped, UTF-8 passes through. */
	nk_json_buf(&j, buf, sizeof buf, NK_JSON_COMPACT);
	nk_json_str(&j, NULL, "a\"b\\c\nd\te\x01\x1f\xc3\xa9");
	ck_assert_int_eq(nk_json_finish(&j, NULL), 0);
	ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\xc3\xa9\"");
	nk_json_buf(&j, buf, sizeof buf, NK_JSON_COMPACT);
	nk_json_obj(&j, NULL);
	nk_json_str(&j, "k\"ey", "");
	ck_assert_int_eq(nk_json_finish(&j, NULL), 0);
	ck_assert_str_eq(buf, "{\"k\\\"ey\":\"\"}");
	/* Not UTF-8 (Latin-1 "\xe9", a lone continuation byte, an overlong
	 * '/', a surrogate, a sequence cut by the end): U+FFFD a byte, so the
	 * output stays valid JSON; valid 2-, 3- and 4-byte sequences pass. */
	nk_json_buf(&j, buf, sizeof buf, NK_JSON_COMPACT);
	nk_json_str(&j, NULL, "a\xe9" "b\x80\xc0\xaf\xed\xa0\x80\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x82");
	ck_assert_int_eq(nk_json_finish(&j, NULL), 0);
	ck_assert_str_eq(buf, "\"a\\ufffdb\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xe2\x82\xac\xf0\x9f\x98\x80"
			 "\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(test_errors)
{
	char buf[8], deep[256];
	struct nk_json j;
	FILE *f;

	nk_json_buf(&j, buf, sizeof buf, NK_JSON_COMPACT);
	nk_json_str(&j, NULL, "0123456789");
	ck_assert_int_eq(nk_json_finish(&j, NULL), -ENOSPC);
	ck_assert_uint_lt(strlen(buf), sizeof buf);
	nk_json_buf(&j, deep, sizeof deep, NK_JSON_COMPACT);
	for (int i = 0; i < NK_JSON_DEPTH + 1; i++)
		nk_json_arr(&j, NULL);
	ck_assert_int_eq(nk_json_finish(&j, NULL), -EINVAL);
	f = fopen("/dev/full", "we");
	ck_assert_ptr_nonnull(f);
	setvbuf(f, NULL, _IONBF, 0);
	nk_json_file(&j, f, NK_JSON_COMPACT);
	nk_json_u64(&j, NULL, 1);
	ck_assert_int_eq(nk_json_finish(&j, "\n"), -EIO);
	fclose(f);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_compact);
	tcase_add_test(tc, test_spaced_lines);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(json_suite)
