#include <string.h>
#include "nkcheck.h"
#include "subid.h"

static struct nk_ranges mk(const uint32_t (*r)[2], size_t n)
{
	struct nk_ranges x = { 0, NULL };

	for (size_t i = 0; i < n; i++)
		nk_ranges_add(&x, r[i][0], r[i][1]);
	return x;
}

static const struct {
	uint32_t first, count;
	int covered;
} cover_cases[] = {
	{ 100000, 65536, 1 },
	{ 100000, 1, 1 },
	{ 165535, 1, 1 },
	{ 165536, 1, 0 },       /* hole between the ranges */
	{ 99999, 2, 0 },
	{ 200000, 10, 1 },
	{ 209990, 20, 1 },      /* spans the two adjacent ranges */
	{ 219990, 20, 0 },      /* runs past the end */
	{ 100000, 65537, 0 },
};

START_TEST(test_cover)
{
	static const uint32_t r[][2] = { { 210000, 10000 }, { 100000, 65536 }, { 200000, 10000 } };
	struct nk_ranges x = mk(r, 3);

	ck_assert_int_eq(nk_ranges_cover(&x, cover_cases[_i].first, cover_cases[_i].count),
			 cover_cases[_i].covered);
	nk_ranges_free(&x);
}
END_TEST

START_TEST(test_libsubid_unknown)
{
	struct nk_ranges x;
	struct nk_err e;
	char path[128];

	/* An unknown user owns nothing: not an error. */
	ck_assert_int_eq(nk_subid_ranges("nskit-no-such-user-xyz", NK_UID, &x, &e), 0);
	ck_assert_uint_eq(x.n, 0);
	nk_ranges_free(&x);
	/* The test world's file (NSKIT_SYSCONFDIR, set by nkcheck.h). */
	ck_assert_str_eq(nk_subid_file(NK_GID), nk_test_etc(path, sizeof path, "subgid"));
}
END_TEST

START_TEST(test_hint)
{
	struct nk_ranges x = { 0, NULL };
	char buf[320];

	/* A user with ranges is told which, in order of start. */
	nk_ranges_add(&x, 300000, 100);
	nk_ranges_add(&x, 100000, 65536);
	ck_assert_str_eq(nk_subid_hint("bob", &x, buf, sizeof buf),
			 "bob's ranges: 100000-165535, 300000-300099");
	for (uint32_t i = 0; i < 8; i++)
		nk_ranges_add(&x, 1000000 + i * 10, 10);
	ck_assert_str_eq(nk_subid_hint("bob", &x, buf, sizeof buf),
			 "bob's ranges: 100000-165535, 300000-300099, 1000000-1000009, 1000010-1000019, "
			 "1000020-1000029, 1000030-1000039, 1000040-1000049, 1000050-1000059 and 2 more");
	/* A short buffer is cut, never overrun. */
	ck_assert_str_eq(nk_subid_hint("bob", &x, buf, 20), "bob's ranges: 10000");
	nk_ranges_free(&x);
	/* None: said so; the fix that names a tool is the tool's (the caller
	 * gives the error the kind NK_ERRK_NO_SUBIDS). */
	ck_assert_str_eq(nk_subid_hint("bob", &x, buf, sizeof buf), "bob has no ranges");
}
END_TEST

/* The files source through the one parser: a user's ranges are the lines
 * nskit and shadow read alike, owned by name or uid; the owner of an id is
 * the first such line that holds it. */
static const struct {
	uint32_t id;
	int ret;
	const char *owner;
} owner_cases[] = {
	{ 100005, 1, "root" },
	{ 200004, 1, "root" },          /* owner written as uid 0 */
	{ 300000, 0, NULL },            /* "0300000": shadow reads octal: skipped */
	{ 400009, 1, "nskit-nouser" },  /* a name passwd does not know stays a name */
	{ 99999, 0, NULL },
	{ 500000, 0, NULL },            /* count 0 */
};

static void write_subuid(const char *text)
{
	char path[512];
	FILE *f;

	nk_test_etc(path, sizeof path, "subuid");
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	nk_subid_forget();
}

START_TEST(test_files_owner)
{
	char name[64] = "";
	struct nk_err e;

	write_subuid("root:100000:10\n0:200000:5\nroot:0300000:10\n# root:1:2\n"
		     "nskit-nouser:400000:10\nroot:500000:0\n");
	ck_assert_int_eq(nk_subid_owner(NK_UID, owner_cases[_i].id, name, sizeof name, &e),
			 owner_cases[_i].ret);
	if (owner_cases[_i].owner)
		ck_assert_str_eq(name, owner_cases[_i].owner);
	ck_assert_int_eq(nk_subid_owner(NK_GID, owner_cases[_i].id, name, sizeof name, &e), 0);
	write_subuid("");
}
END_TEST

START_TEST(test_files_ranges)
{
	struct nk_ranges x;
	struct nk_err e;

	write_subuid("root:100000:10\n0:200000:5\nroot:0300000:10\nroot:4294967296:1\n");
	ck_assert_int_eq(nk_subid_ranges("root", NK_UID, &x, &e), 0);
	ck_assert_uint_eq(x.n, 2);
	ck_assert_uint_eq(x.r[0].start, 100000);
	ck_assert_uint_eq(x.r[1].start, 200000);
	ck_assert_uint_eq(x.r[1].count, 5);
	nk_ranges_free(&x);
	/* A range past the highest id is an error naming the file. */
	write_subuid("root:4294967290:10\n");
	ck_assert_int_eq(nk_subid_ranges("root", NK_UID, &x, &e), -ERANGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "goes past 4294967294"));
	write_subuid("");
}
END_TEST

static const struct {
	const char *text, *name;
	int ret;
} nss_cases[] = {
	{ "", "files", 0 },
	{ "passwd: files\n", "files", 0 },
	{ "subid: sss files\n", "sss", 1 },
	{ "# subid: sss\nsubid:\nSUBID:\tfiles\nsubid: sss\n", "files", 0 },
	{ "subid:   nktest", "nktest", 1 },
};

START_TEST(test_nsswitch)
{
	char buf[256], name[64];

	snprintf(buf, sizeof buf, "%s", nss_cases[_i].text);
	ck_assert_int_eq(nk_nsswitch_subid(buf, name, sizeof name), nss_cases[_i].ret);
	ck_assert_str_eq(name, nss_cases[_i].name);
}
END_TEST

static Suite *subid_suite(void)
{
	Suite *s = suite_create("subid");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_cover, 0, (int)(sizeof cover_cases / sizeof cover_cases[0]));
	tcase_add_test(tc, test_libsubid_unknown);
	tcase_add_test(tc, test_hint);
	tcase_add_loop_test(tc, test_files_owner, 0, (int)(sizeof owner_cases / sizeof owner_cases[0]));
	tcase_add_test(tc, test_files_ranges);
	tcase_add_loop_test(tc, test_nsswitch, 0, (int)(sizeof nss_cases / sizeof nss_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(subid_suite)
