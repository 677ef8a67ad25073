#include <string.h>
#include "nkcheck.h"
#include "pwdb.h"

/* passwd and group lines, field by field: an empty or bad id field makes
 * the line invalid (never the next field taken for it). */
static const struct {
	const char *line;
	int group;
	int ret;
	const char *name;
	uint32_t uid, gid;
} pw_lines[] = {
	{ "alice:x:1000:1000:Alice:/home/alice:/bin/sh", 0, 0, "alice", 1000, 1000 },
	{ "bob:x:1001:100:::", 0, 0, "bob", 1001, 100 },
	{ "carol:x:1002::1234:/home/carol:/bin/sh", 0, -EINVAL, NULL, 0, 0 },   /* empty gid */
	{ "carol:x:1002:", 0, -EINVAL, NULL, 0, 0 },
	{ "carol:x::1002:::", 0, -EINVAL, NULL, 0, 0 },
	{ "carol:x:1002:1002:::/bin/sh:extra", 0, -EINVAL, NULL, 0, 0 },
	{ "carol:x:1002:1002::", 0, -EINVAL, NULL, 0, 0 },
	{ "carol:x:1002:0x10:::", 0, -EINVAL, NULL, 0, 0 },
	{ "carol:x:4294967295:1:::", 0, -EINVAL, NULL, 0, 0 },
	{ ":x:1002:1002:::", 0, -EINVAL, NULL, 0, 0 },
	{ "+nis::::::", 0, -EINVAL, NULL, 0, 0 },
	{ "# alice:x:1:1:::", 0, -EINVAL, NULL, 0, 0 },
	{ "", 0, -EINVAL, NULL, 0, 0 },
	{ "users:x:100:alice,bob", 1, 0, "users", 100, 100 },
	{ "users:x:100:", 1, 0, "users", 100, 100 },
	{ "users:x::", 1, -EINVAL, NULL, 0, 0 },
	{ "users:x:100", 1, -EINVAL, NULL, 0, 0 },
	{ "users:x:100::", 1, -EINVAL, NULL, 0, 0 },
};

START_TEST(test_parse_line)
{
	char buf[256];
	struct nk_pwent ent = { 0 };
	int r;

	snprintf(buf, sizeof buf, "%s", pw_lines[_i].line);
	r = nk_pwdb_parse_line(buf, pw_lines[_i].group, &ent);
	ck_assert_msg(r == pw_lines[_i].ret, "'%s': %d", pw_lines[_i].line, r);
	if (r == 0) {
		ck_assert_str_eq(ent.name, pw_lines[_i].name);
		ck_assert_uint_eq(ent.uid, pw_lines[_i].uid);
		ck_assert_uint_eq(ent.gid, pw_lines[_i].gid);
	}
}
END_TEST

static Suite *pwdb_suite(void)
{
	Suite *s = suite_create("pwdb");
	TCase *tp = tcase_create("parse");

	tcase_add_loop_test(tp, test_parse_line, 0, sizeof pw_lines / sizeof pw_lines[0]);
	suite_add_tcase(s, tp);
	return s;
}

NK_CHECK_MAIN(pwdb_suite)
