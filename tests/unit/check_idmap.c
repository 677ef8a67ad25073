#include <string.h>
#include "nkcheck.h"
#include "idmap.h"
#include "subid.h"

/* --- compact specs ----------------------------------------------------- */
static const struct {
	const char *spec;
	int ok;
	struct nk_extent x;
	const char *msg;
} specs[] = {
	{ "0:1000:1", 1, { 0, 1000, 1 }, NULL },
	{ "1:100000:65536", 1, { 1, 100000, 65536 }, NULL },
	{ "0:0:4294967295", 1, { 0, 0, 4294967295U }, NULL },
	{ "4294967294:1:1", 1, { 4294967294U, 1, 1 }, NULL },
	{ "", 0, { 0, 0, 0 }, "invalid map '': expected INNER:OUTER:COUNT" },
	{ "1:2", 0, { 0, 0, 0 }, "invalid map '1:2': expected INNER:OUTER:COUNT" },
	{ "1:2:3:4", 0, { 0, 0, 0 }, "invalid map '1:2:3:4': expected INNER:OUTER:COUNT" },
	{ "a:2:3", 0, { 0, 0, 0 }, "invalid map 'a:2:3': invalid inside id 'a'" },
	{ "1:-2:3", 0, { 0, 0, 0 }, "invalid map '1:-2:3': invalid outside id '-2'" },
	{ "1:2:", 0, { 0, 0, 0 }, "invalid map '1:2:': invalid count ''" },
	{ "1:2:3x", 0, { 0, 0, 0 }, "invalid map '1:2:3x': invalid count '3x'" },
	{ "4294967295:0:1", 0, { 0, 0, 0 },
	  "invalid map '4294967295:0:1': inside id '4294967295' is out of range (at most 4294967294)" },
	{ "0:0:4294967296", 0, { 0, 0, 0 },
	  "invalid map '0:0:4294967296': count '4294967296' is out of range (at most 4294967295)" },
	{ " 1:2:3", 0, { 0, 0, 0 }, "invalid map ' 1:2:3': invalid inside id ' 1'" },
};

START_TEST(test_spec)
{
	struct nk_extent x = { 7, 7, 7 };
	struct nk_err e;
	int r = nk_spec_parse(specs[_i].spec, &x, &e);

	if (specs[_i].ok) {
		ck_assert_msg(r == 0, "'%s': %s", specs[_i].spec, e.msg);
		ck_assert_uint_eq(x.inner, specs[_i].x.inner);
		ck_assert_uint_eq(x.outer, specs[_i].x.outer);
		ck_assert_uint_eq(x.count, specs[_i].x.count);
	} else {
		ck_assert_int_eq(r, -EINVAL);
		ck_assert_str_eq(e.msg, specs[_i].msg);
	}
}
END_TEST

/* --- map stream ---------------------------------------------------------- */
START_TEST(test_stream_ok)
{
	const char *text = "# a comment\n"
			   "u 0 1000 1   # the caller\n"
			   "\n"
			   "   g 0 1000 1\n"
			   "b 1 100000 65536\n"
			   "\tu\t65537 300000 10";     /* no final newline */
	struct nk_maps m = { 0 };
	struct nk_err e;

	ck_assert_int_eq(nk_mapstream_parse(text, strlen(text), "t", &m, &e), 0);
	ck_assert_uint_eq(m.map[NK_UID].n, 3);
	ck_assert_uint_eq(m.map[NK_GID].n, 2);
	ck_assert_uint_eq(m.map[NK_UID].ext[0].outer, 1000);
	ck_assert_uint_eq(m.map[NK_UID].ext[1].inner, 1);
	ck_assert_uint_eq(m.map[NK_UID].ext[2].outer, 300000);
	ck_assert_uint_eq(m.map[NK_GID].ext[1].count, 65536);
	nk_maps_free(&m);
}
END_TEST

static const struct {
	const char *text;
	const char *msg;
} bad_streams[] = {
	{ "x 0 1 1\n", "t:1: expected 'u', 'g' or 'b' and INSIDE OUTSIDE COUNT" },
	{ "u 0 1\n", "t:1: expected 'u', 'g' or 'b' and INSIDE OUTSIDE COUNT" },
	{ "u 0 1 1 1\n", "t:1: expected 'u', 'g' or 'b' and INSIDE OUTSIDE COUNT" },
	{ "uu 0 1 1\n", "t:1: expected 'u', 'g' or 'b' and INSIDE OUTSIDE COUNT" },
	{ "# ok\nu 0 1 1\ng 0 x 1\n", "t:3: invalid outside id 'x'" },
	{ "b 0 1 -1\n", "t:1: invalid count '-1'" },
	{ "u 0:1:1\n", "t:1: expected 'u', 'g' or 'b' and INSIDE OUTSIDE COUNT" },
	{ "u 4294967295 1 1\n", "t:1: inside id '4294967295' is out of range (at most 4294967294)" },
};

START_TEST(test_stream_bad)
{
	struct nk_maps m = { 0 };
	struct nk_err e;

	ck_assert_int_eq(nk_mapstream_parse(bad_streams[_i].text, strlen(bad_streams[_i].text), "t", &m, &e),
			 -EINVAL);
	ck_assert_str_eq(e.msg, bad_streams[_i].msg);
	nk_maps_free(&m);
}
END_TEST

START_TEST(test_stream_nul)
{
	struct nk_maps m = { 0 };
	struct nk_err e;

	ck_assert_int_eq(nk_mapstream_parse("u 0 1 1\0\n", 9, "t", &m, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "t:1: NUL byte in map stream");
	nk_maps_free(&m);
}
END_TEST

static char *print_maps(const struct nk_maps *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	nk_mapstream_print(f, m);
	fclose(f);
	return buf;
}

START_TEST(test_stream_roundtrip)
{
	struct nk_maps m = { 0 }, m2 = { 0 };
	struct nk_err e;
	char *out;

	nk_map_add(&m.map[NK_UID], 0, 1000, 1);
	nk_map_add(&m.map[NK_UID], 1, 100000, 65536);
	nk_map_add(&m.map[NK_GID], 0, 1000, 1);
	nk_map_add(&m.map[NK_GID], 1, 100000, 65536);
	out = print_maps(&m);
	ck_assert_str_eq(out, "b 0 1000 1\nb 1 100000 65536\n");
	free(out);
	m.map[NK_GID].ext[0].outer = 1001;
	out = print_maps(&m);
	ck_assert_str_eq(out, "u 0 1000 1\nu 1 100000 65536\ng 0 1001 1\ng 1 100000 65536\n");
	ck_assert_int_eq(nk_mapstream_parse(out, strlen(out), "t", &m2, &e), 0);
	ck_assert(nk_map_equal(&m.map[NK_UID], &m2.map[NK_UID]));
	ck_assert(nk_map_equal(&m.map[NK_GID], &m2.map[NK_GID]));
	free(out);
	nk_maps_free(&m);
	nk_maps_free(&m2);
}
END_TEST

/* --- validation ---------------------------------------------------------- */
static const struct {
	struct nk_extent x[3];
	int n;
	const char *msg;    /* NULL: valid */
} vcases[] = {
	{ { { 0, 1000, 1 }, { 1, 100000, 65536 } }, 2, NULL },
	{ { { 0, 0, 4294967295U } }, 1, NULL },
	{ { { 4294967294U, 5, 1 } }, 1, NULL },
	{ { { 0, 1000, 0 } }, 1, "uid extent 1 (0:1000:0): count is 0" },
	{ { { 4294967290U, 1, 10 } }, 1,
	  "uid extent 1 (4294967290:1:10): inside range 4294967290-4294967299 goes past 4294967294" },
	{ { { 0, 1, 1 }, { 1, 4294967294U, 2 } }, 2,
	  "uid extent 2 (1:4294967294:2): outside range 4294967294-4294967295 goes past 4294967294" },
	{ { { 0, 1000, 10 }, { 5, 2000, 10 } }, 2,
	  "uid extents 1 (0:1000:10) and 2 (5:2000:10) overlap inside (ids 5-9)" },
	{ { { 0, 1000, 10 }, { 20, 1009, 5 } }, 2,
	  "uid extents 1 (0:1000:10) and 2 (20:1009:5) overlap outside (ids 1009-1009)" },
	{ { { 0, 1, 1 }, { 1, 2, 1 }, { 0, 3, 1 } }, 3,
	  "uid extents 1 (0:1:1) and 3 (0:3:1) overlap inside (ids 0-0)" },
	{ { { 0, 0, 0 } }, 0, "the uid map is empty" },
};

START_TEST(test_validate)
{
	struct nk_map m;
	struct nk_err e;
	int r;

	nk_map_init(&m);
	for (int i = 0; i < vcases[_i].n; i++)
		nk_map_add(&m, vcases[_i].x[i].inner, vcases[_i].x[i].outer, vcases[_i].x[i].count);
	r = nk_map_validate(&m, NK_UID, &e);
	if (!vcases[_i].msg)
		ck_assert_msg(r == 0, "case %d: %s", _i, e.msg);
	else {
		ck_assert_int_lt(r, 0);
		ck_assert_str_eq(e.msg, vcases[_i].msg);
	}
	nk_map_free(&m);
}
END_TEST

START_TEST(test_validate_limits)
{
	struct nk_map m;
	struct nk_err e;

	/* 340 short extents fit in a page: valid. */
	nk_map_init(&m);
	for (uint32_t i = 0; i < 340; i++)
		nk_map_add(&m, i, i + 1000, 1);
	ck_assert_int_eq(nk_map_validate(&m, NK_GID, &e), 0);
	nk_map_add(&m, 340, 5000, 1);
	ck_assert_int_eq(nk_map_validate(&m, NK_GID, &e), -E2BIG);
	ck_assert_str_eq(e.msg, "the gid map has 341 extents; the kernel takes at most 340");
	nk_map_free(&m);

	/* 200 extents of long numbers are more than a page of text. */
	nk_map_init(&m);
	for (uint32_t i = 0; i < 200; i++)
		nk_map_add(&m, 1000000000U + i * 10, 2000000000U + i * 10, 10);
	ck_assert_int_eq(nk_map_validate(&m, NK_UID, &e), -E2BIG);
	ck_assert_str_eq(e.msg, "the uid map is 200 extents, too long for the kernel's one-page write "
			 "(4096 bytes); use fewer extents");
	nk_map_free(&m);
}
END_TEST

/* --- kernel text, translation ---------------------------------------------- */
START_TEST(test_kernel_parse)
{
	struct nk_map m;
	struct nk_err e;
	uint32_t v;

	nk_map_init(&m);
	ck_assert_int_eq(nk_map_parse_kernel("         0       1000          1\n"
					     "         1     100000      65536\n", &m, &e), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_int_eq(nk_map_to_outer(&m, 0, &v), 0);
	ck_assert_uint_eq(v, 1000);
	ck_assert_int_eq(nk_map_to_outer(&m, 65536, &v), 0);
	ck_assert_uint_eq(v, 165535);
	ck_assert_int_eq(nk_map_to_outer(&m, 65537, &v), -ENOENT);
	ck_assert_int_eq(nk_map_to_inner(&m, 100000, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(nk_map_to_inner(&m, 999, &v), -ENOENT);
	ck_assert_int_eq(nk_map_find_inner_range(&m, 1, 65536), 1);
	ck_assert_int_eq(nk_map_find_inner_range(&m, 0, 2), -1);   /* spans two extents */
	ck_assert_uint_eq(nk_map_total(&m), 65537);
	nk_map_free(&m);

	nk_map_init(&m);
	ck_assert_int_eq(nk_map_parse_kernel("0 1 2 3\n", &m, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "map line 1: unexpected '3'");
	ck_assert_int_eq(nk_map_parse_kernel("0 x 2\n", &m, &e), -EINVAL);
	ck_assert_int_eq(nk_map_parse_kernel("0 1\n", &m, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "map line 1: expected three numbers");
	nk_map_free(&m);
}
END_TEST

START_TEST(test_read_proc_self)
{
	struct nk_maps m = { 0 };
	struct nk_err e;

	ck_assert_int_eq(nk_maps_read_proc(0, &m, &e), 0);
	ck_assert_uint_ge(m.map[NK_UID].n, 1);
	ck_assert_uint_ge(m.map[NK_GID].n, 1);
	nk_maps_free(&m);
	ck_assert_int_eq(nk_map_read_proc(999999999, NK_UID, &m.map[NK_UID], &e), -ENOENT);
	ck_assert_str_eq(e.msg, "cannot open /proc/999999999/uid_map: No such file or directory");
}
END_TEST

START_TEST(test_format)
{
	struct nk_map m;
	char buf[64];

	nk_map_init(&m);
	nk_map_add(&m, 0, 1000, 1);
	nk_map_add(&m, 1, 100000, 65536);
	ck_assert_int_eq(nk_map_format(&m, buf, sizeof buf), 24);
	ck_assert_str_eq(buf, "0 1000 1\n1 100000 65536\n");
	ck_assert_int_eq(nk_map_format(&m, buf, 20), -ENOSPC);
	nk_map_free(&m);
}
END_TEST

/* --- the standard maps -------------------------------------------------- */

static struct nk_ranges mk(const uint32_t (*r)[2], size_t n)
{
	struct nk_ranges x = { 0, NULL };

	for (size_t i = 0; i < n; i++)
		nk_ranges_add(&x, r[i][0], r[i][1]);
	return x;
}

static char *fmt(const struct nk_map *m)
{
	static char buf[1024];

	if (nk_map_format(m, buf, sizeof buf) < 0)
		return NULL;
	return buf;
}

START_TEST(test_auto)
{
	static const uint32_t r[][2] = { { 300000, 1000 }, { 100000, 65536 } };
	struct nk_ranges x = mk(r, 2);
	struct nk_map m;
	struct nk_err e;

	ck_assert_int_eq(nk_map_build_auto(1000, &x, &m, &e), 0);
	/* sorted by start, as podman maps them; inside ids contiguous from 1 */
	ck_assert_str_eq(fmt(&m), "0 1000 1\n1 100000 65536\n65537 300000 1000\n");
	ck_assert_int_eq(nk_map_validate(&m, NK_UID, &e), 0);
	nk_map_free(&m);
	nk_ranges_free(&x);

	x = mk(NULL, 0);
	ck_assert_int_eq(nk_map_build_auto(1000, &x, &m, &e), 0);
	ck_assert_str_eq(fmt(&m), "0 1000 1\n");
	nk_map_free(&m);
}
END_TEST

START_TEST(test_auto_too_many)
{
	static const uint32_t r[][2] = { { 0, 4294967295U } };
	struct nk_ranges x = mk(r, 1);
	struct nk_map m;
	struct nk_err e;

	ck_assert_int_eq(nk_map_build_auto(1000, &x, &m, &e), -ERANGE);
	ck_assert_str_eq(e.msg, "the subordinate ranges hold more ids than a namespace can map");
	nk_ranges_free(&x);
}
END_TEST

static const struct {
	uint32_t self;
	const char *want;
} keepid_cases[] = {
	{ 1000, "0 100000 1000\n1000 1000 1\n1001 101000 64536\n65537 300000 1000\n" },
	{ 0, "0 0 1\n1 100000 65536\n65537 300000 1000\n" },
	/* the caller's id falls in the second range's inside ids */
	{ 65600, "0 100000 65536\n65536 300000 64\n65600 65600 1\n65601 300064 936\n" },
	/* the caller's id is past every subordinate id */
	{ 70000, "0 100000 65536\n65536 300000 1000\n70000 70000 1\n" },
};

START_TEST(test_keepid)
{
	static const uint32_t r[][2] = { { 100000, 65536 }, { 300000, 1000 } };
	struct nk_ranges x = mk(r, 2);
	struct nk_map m;
	struct nk_err e;

	ck_assert_int_eq(nk_map_build_keepid(keepid_cases[_i].self, &x, &m, &e), 0);
	ck_assert_str_eq(fmt(&m), keepid_cases[_i].want);
	ck_assert_int_eq(nk_map_validate(&m, NK_UID, &e), 0);
	ck_assert_uint_eq(nk_map_total(&m), 65536 + 1000 + 1);
	nk_map_free(&m);
	nk_ranges_free(&x);
}
END_TEST

static Suite *idmap_suite(void)
{
	Suite *s = suite_create("idmap");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_spec, 0, (int)(sizeof specs / sizeof specs[0]));
	tcase_add_test(tc, test_stream_ok);
	tcase_add_loop_test(tc, test_stream_bad, 0, (int)(sizeof bad_streams / sizeof bad_streams[0]));
	tcase_add_test(tc, test_stream_nul);
	tcase_add_test(tc, test_stream_roundtrip);
	tcase_add_loop_test(tc, test_validate, 0, (int)(sizeof vcases / sizeof vcases[0]));
	tcase_add_test(tc, test_validate_limits);
	tcase_add_test(tc, test_kernel_parse);
	tcase_add_test(tc, test_read_proc_self);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_auto);
	tcase_add_test(tc, test_auto_too_many);
	tcase_add_loop_test(tc, test_keepid, 0, (int)(sizeof keepid_cases / sizeof keepid_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(idmap_suite)
