#include <endian.h>
#include <string.h>
#include "nkcheck.h"
#include "idshift.h"

static struct nk_shift sh;

static void build(const char *from, const char *to)
{
	struct nk_maps f = { 0 }, t = { 0 };
	struct nk_err e;

	ck_assert_int_eq(nk_maps_add_spec(&f, 'b', from, &e), 0);
	ck_assert_int_eq(nk_maps_add_spec(&t, 'b', to, &e), 0);
	ck_assert_int_eq(nk_shift_build(&sh, &f, &t, &e), 0);
	nk_maps_free(&f);
	nk_maps_free(&t);
}

static int fn(void *ctx, enum nk_idtype t, uint32_t id, uint32_t *out)
{
	(void)ctx;
	return nk_shift_id(&sh, t, id, out);
}

static const struct {
	const char *from, *to;
	uint32_t in;
	int ret;
	uint32_t out;
} shift_cases[] = {
	{ "0:0:65536", "0:100000:65536", 0, 0, 100000 },
	{ "0:0:65536", "0:100000:65536", 65535, 0, 165535 },
	{ "0:0:65536", "0:100000:65536", 65536, -ENOENT, 0 },
	{ "0:100000:65536", "0:0:65536", 100005, 0, 5 },
	{ "0:100000:65536", "0:0:65536", 5, -ENOENT, 0 },
	/* overlapping ranges: the shift is a function of the stored id only */
	{ "0:100000:65536", "0:100010:65536", 100000, 0, 100010 },
	{ "0:100000:65536", "0:100010:65536", 165535, 0, 165545 },
	/* an id mapped by --from whose inner id --to does not map */
	{ "0:0:65536", "0:100000:1000", 1000, -ENOENT, 0 },
	{ "0:0:4294967295", "0:100000:65536", 4294967294U, -ENOENT, 0 },
};

START_TEST(test_shift_table)
{
	uint32_t out = 0;

	build(shift_cases[_i].from, shift_cases[_i].to);
	ck_assert_int_eq(nk_shift_id(&sh, NK_UID, shift_cases[_i].in, &out), shift_cases[_i].ret);
	ck_assert_int_eq(nk_shift_id(&sh, NK_GID, shift_cases[_i].in, &out), shift_cases[_i].ret);
	if (shift_cases[_i].ret == 0)
		ck_assert_uint_eq(out, shift_cases[_i].out);
	nk_shift_free(&sh);
}
END_TEST

START_TEST(test_shift_split)
{
	/* --from in two pieces, --to in three: every id lands right. */
	struct nk_maps f = { 0 }, t = { 0 };
	struct nk_err e;
	uint32_t o;

	nk_maps_add_spec(&f, 'b', "0:1000:1", &e);
	nk_maps_add_spec(&f, 'b', "1:100000:99", &e);
	nk_maps_add_spec(&t, 'b', "0:200000:50", &e);
	nk_maps_add_spec(&t, 'b', "50:300000:25", &e);
	nk_maps_add_spec(&t, 'b', "75:5000:25", &e);
	ck_assert_int_eq(nk_shift_build(&sh, &f, &t, &e), 0);
	ck_assert_int_eq(nk_shift_id(&sh, NK_UID, 1000, &o), 0);
	ck_assert_uint_eq(o, 200000);
	ck_assert_int_eq(nk_shift_id(&sh, NK_UID, 100048, &o), 0);
	ck_assert_uint_eq(o, 200049);
	ck_assert_int_eq(nk_shift_id(&sh, NK_UID, 100049, &o), 0);
	ck_assert_uint_eq(o, 300000);
	ck_assert_int_eq(nk_shift_id(&sh, NK_UID, 100098, &o), 0);
	ck_assert_uint_eq(o, 5024);
	ck_assert_int_eq(nk_shift_id(&sh, NK_UID, 100099, &o), -ENOENT);
	ck_assert_int_eq(nk_shift_id(&sh, NK_UID, 999, &o), -ENOENT);
	/* The image: what some id becomes (each piece, its ends). */
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 200000), 1);
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 200049), 1);
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 200050), 0);
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 300024), 1);
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 5024), 1);
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 5025), 0);
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 4999), 0);
	ck_assert_int_eq(nk_shift_in_image(&sh, NK_UID, 1000), 0);
	nk_shift_free(&sh);
	nk_maps_free(&f);
	nk_maps_free(&t);
}
END_TEST

START_TEST(test_shift_refuses_overlap)
{
	struct nk_maps f = { 0 }, t = { 0 };
	struct nk_err e;

	nk_maps_add_spec(&f, 'b', "0:0:10", &e);
	nk_maps_add_spec(&t, 'b', "0:100:10", &e);
	nk_maps_add_spec(&t, 'b', "5:200:10", &e);
	ck_assert_int_lt(nk_shift_build(&sh, &f, &t, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "overlap"));
	nk_maps_free(&f);
	nk_maps_free(&t);
}
END_TEST

/* An ACL xattr: header, then (tag, perm, id) little-endian. */
static size_t acl(unsigned char *b, const uint16_t *tags, const uint32_t *ids, size_t n)
{
	uint32_t v = htole32(2);

	memcpy(b, &v, 4);
	for (size_t i = 0; i < n; i++) {
		uint16_t t = htole16(tags[i]), p = htole16(6);
		uint32_t id = htole32(ids[i]);

		memcpy(b + 4 + 8 * i, &t, 2);
		memcpy(b + 6 + 8 * i, &p, 2);
		memcpy(b + 8 + 8 * i, &id, 4);
	}
	return 4 + 8 * n;
}

START_TEST(test_acl_shift)
{
	static const uint16_t tags[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x4000 };
	static const uint32_t ids[] = { 0xFFFFFFFF, 7, 0xFFFFFFFF, 8, 0xFFFFFFFF, 0xFFFFFFFF, 9 };
	unsigned char in[64], out[64], want[64];
	uint32_t want_ids[] = { 0xFFFFFFFF, 100007, 0xFFFFFFFF, 100008, 0xFFFFFFFF, 0xFFFFFFFF, 9 };
	size_t n = acl(in, tags, ids, 7);
	unsigned changed;
	struct nk_err e;

	acl(want, tags, want_ids, 7);
	build("0:0:65536", "0:100000:65536");
	ck_assert_int_eq(nk_acl_shift(in, out, n, fn, NULL, &changed, NULL, NULL, &e), 0);
	ck_assert_uint_eq(changed, 2);
	/* unknown tag 0x4000 and the undefined ids stay byte for byte */
	ck_assert_mem_eq(out, want, n);
	/* in place */
	ck_assert_int_eq(nk_acl_shift(in, in, n, fn, NULL, &changed, NULL, NULL, &e), 0);
	ck_assert_mem_eq(in, want, n);
	nk_shift_free(&sh);
}
END_TEST

START_TEST(test_acl_unmapped)
{
	static const uint16_t tags[] = { 0x01, 0x08 };
	static const uint32_t ids[] = { 0xFFFFFFFF, 70000 };
	unsigned char in[32], copy[32];
	size_t n = acl(in, tags, ids, 2);
	unsigned changed;
	uint32_t bad = 0;
	enum nk_idtype bt = NK_UID;
	struct nk_err e;

	memcpy(copy, in, n);
	build("0:0:65536", "0:100000:65536");
	ck_assert_int_eq(nk_acl_shift(in, NULL, n, fn, NULL, &changed, &bad, &bt, &e), -ENOENT);
	ck_assert_uint_eq(bad, 70000);
	ck_assert_int_eq(bt, NK_GID);
	ck_assert_mem_eq(in, copy, n);
	nk_shift_free(&sh);
}
END_TEST

static const struct {
	size_t len;
	uint32_t version;
	const char *msg;
} acl_bad[] = {
	{ 0, 2, "malformed ACL xattr: 0 bytes is not a header and whole entries" },
	{ 3, 2, "malformed ACL xattr: 3 bytes is not a header and whole entries" },
	{ 11, 2, "malformed ACL xattr: 11 bytes is not a header and whole entries" },
	{ 12, 1, "malformed ACL xattr: version 1, not 2" },
};

START_TEST(test_acl_malformed)
{
	unsigned char b[16] = { 0 };
	uint32_t v = htole32(acl_bad[_i].version);
	unsigned changed;
	struct nk_err e;

	memcpy(b, &v, 4);
	build("0:0:65536", "0:100000:65536");
	ck_assert_int_eq(nk_acl_shift(b, NULL, acl_bad[_i].len, fn, NULL, &changed, NULL, NULL, &e), -EINVAL);
	ck_assert_str_eq(e.msg, acl_bad[_i].msg);
	nk_shift_free(&sh);
}
END_TEST

static size_t fcaps(unsigned char *b, uint32_t magic, int rev, uint32_t rootid)
{
	uint32_t m = htole32(magic), r = htole32(rootid);

	memset(b, 0xAB, 24);
	memcpy(b, &m, 4);
	if (rev == 3) {
		memcpy(b + 20, &r, 4);
		return 24;
	}
	return rev == 2 ? 20 : 12;
}

START_TEST(test_fcaps)
{
	unsigned char in[24], out[24];
	int rev, changed;
	uint32_t bad, root;
	struct nk_err e;
	size_t n;

	build("0:0:65536", "0:100000:65536");
	/* v2: no id, kept as it is */
	n = fcaps(in, 0x02000001, 2, 0);
	ck_assert_int_eq(nk_fcaps_shift(in, out, n, fn, NULL, &rev, &changed, &bad, &e), 0);
	ck_assert_int_eq(rev, 2);
	ck_assert_int_eq(changed, 0);
	ck_assert_mem_eq(in, out, n);
	/* v3: rootid 1000 -> 101000, the rest byte for byte */
	n = fcaps(in, 0x03000001, 3, 1000);
	ck_assert_int_eq(nk_fcaps_shift(in, out, n, fn, NULL, &rev, &changed, &bad, &e), 0);
	ck_assert_int_eq(rev, 3);
	ck_assert_int_eq(changed, 1);
	ck_assert_mem_eq(in, out, 20);
	memcpy(&root, out + 20, 4);
	ck_assert_uint_eq(le32toh(root), 101000);
	/* v3 rootid outside --from */
	n = fcaps(in, 0x03000000, 3, 70000);
	ck_assert_int_eq(nk_fcaps_shift(in, NULL, n, fn, NULL, &rev, &changed, &bad, &e), -ENOENT);
	ck_assert_uint_eq(bad, 70000);
	/* v1 */
	n = fcaps(in, 0x01000000, 1, 0);
	ck_assert_int_eq(nk_fcaps_shift(in, NULL, n, fn, NULL, &rev, &changed, &bad, &e), 0);
	ck_assert_int_eq(rev, 1);
	/* wrong sizes, unknown revision */
	ck_assert_int_eq(nk_fcaps_shift(in, NULL, 20, fn, NULL, &rev, &changed, &bad, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "malformed capability xattr: 20 bytes for revision 1");
	n = fcaps(in, 0x04000000, 3, 0);
	ck_assert_int_eq(nk_fcaps_shift(in, NULL, 24, fn, NULL, &rev, &changed, &bad, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "malformed capability xattr: unknown revision 0x04000000");
	ck_assert_int_eq(nk_fcaps_shift(in, NULL, 2, fn, NULL, &rev, &changed, &bad, &e), -EINVAL);
	nk_shift_free(&sh);
}
END_TEST

START_TEST(test_fcaps_v2_to_v3)
{
	unsigned char in[24], out[24];
	uint32_t m, root;

	fcaps(in, 0x02000001, 2, 0);
	ck_assert_int_eq(nk_fcaps_v2_to_v3(in, 20, 1000, out), 0);
	memcpy(&m, out, 4);
	memcpy(&root, out + 20, 4);
	ck_assert_uint_eq(le32toh(m), 0x03000001);      /* the effective flag is kept */
	ck_assert_uint_eq(le32toh(root), 1000);
	ck_assert_mem_eq(out + 4, in + 4, 16);
	fcaps(in, 0x03000000, 3, 5);
	ck_assert_int_eq(nk_fcaps_v2_to_v3(in, 24, 0, out), -EINVAL);
	ck_assert_int_eq(nk_fcaps_v2_to_v3(in, 20, 0, out), -EINVAL);
}
END_TEST

START_TEST(test_identity_of)
{
	struct nk_maps m = { 0 }, id;
	struct nk_err e;

	nk_maps_add_spec(&m, 'b', "0:1000:1", &e);
	nk_maps_add_spec(&m, 'b', "1:100000:65536", &e);
	ck_assert_int_eq(nk_maps_identity_of(&m, &id), 0);
	ck_assert_uint_eq(id.map[NK_UID].n, 2);
	ck_assert_uint_eq(id.map[NK_UID].ext[1].inner, 1);
	ck_assert_uint_eq(id.map[NK_UID].ext[1].outer, 1);
	ck_assert_uint_eq(id.map[NK_GID].ext[1].count, 65536);
	nk_maps_free(&m);
	nk_maps_free(&id);
}
END_TEST

static Suite *idshift_suite(void)
{
	Suite *s = suite_create("idshift");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_shift_table, 0, NK_ARRAY_SIZE(shift_cases));
	tcase_add_test(tc, test_shift_split);
	tcase_add_test(tc, test_shift_refuses_overlap);
	tcase_add_test(tc, test_acl_shift);
	tcase_add_test(tc, test_acl_unmapped);
	tcase_add_loop_test(tc, test_acl_malformed, 0, NK_ARRAY_SIZE(acl_bad));
	tcase_add_test(tc, test_fcaps);
	tcase_add_test(tc, test_fcaps_v2_to_v3);
	tcase_add_test(tc, test_identity_of);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(idshift_suite)
