/* check_mapopt - cli/mapopt: the map options the tools share (the
 * refusals that exit are checked by the integration tests) */
#include <string.h>
#include "nkcheck.h"
#include "mapopt.h"

static const struct nk_mapopt_names apply = { "--uid", "--gid", "--from", NULL };
static const struct nk_mapopt_names enter = { "--uid-map", "--gid-map", "--map-file", "--no-map" };

START_TEST(test_conflict_messages)
{
	char buf[512];

	nk_mapopts_conflict(&apply, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "--auto, --map-root, --keep-id, --uid/--gid/--map and --from are mutually exclusive");
	nk_mapopts_conflict(&apply, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "--isolate makes its own maps: no --auto, --map-root, --keep-id, --uid/--gid/--map or "
			 "--from");
	nk_mapopts_conflict(&enter, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "--auto, --map-root, --keep-id, --uid-map/--gid-map/--map, --map-file and --no-map "
			 "are mutually exclusive");
	nk_mapopts_conflict(&enter, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "--isolate makes its own maps: no --auto, --map-root, --keep-id, "
			 "--uid-map/--gid-map/--map, --map-file or --no-map");
}
END_TEST

START_TEST(test_options)
{
	struct nk_mapopts o;

	nk_mapopts_init(&o, &apply);
	ck_assert_int_eq(o.mode, NK_MAPMODE_NONE);
	ck_assert_uint_eq(o.slice_size, 65536);
	ck_assert_int_eq(o.sg, NK_SETGROUPS_DEFAULT);
	/* The same choice twice is no conflict. */
	nk_mapopts_extent_or_err(&o, 'u', "0:1000:1");
	nk_mapopts_extent_or_err(&o, 'b', "1:100000:10");
	ck_assert_int_eq(o.mode, NK_MAPMODE_EXPLICIT);
	ck_assert_uint_eq(o.maps.map[NK_UID].n, 2);
	ck_assert_uint_eq(o.maps.map[NK_GID].n, 1);
	ck_assert_uint_eq(o.maps.map[NK_GID].ext[0].outer, 100000);
	nk_mapopts_setgroups_or_err(&o, "deny");
	ck_assert_int_eq(o.sg, NK_SETGROUPS_DENY);
	nk_mapopts_setgroups_or_err(&o, "allow");
	ck_assert_int_eq(o.sg, NK_SETGROUPS_ALLOW);
	nk_maps_free(&o.maps);

	nk_mapopts_init(&o, &enter);
	nk_mapopts_isolate_or_err(&o, "1000");
	nk_mapopts_isolate_or_err(&o, NULL);
	ck_assert_int_eq(o.mode, NK_MAPMODE_ISOLATE);
	ck_assert_uint_eq(o.slice_size, 1000);
	nk_mapopts_init(&o, &enter);
	nk_mapopts_from_or_err(&o, "-");
	ck_assert_int_eq(o.mode, NK_MAPMODE_FROM);
	ck_assert_str_eq(o.from, "-");
}
END_TEST

/* nk_mapopts_option_or_err: each code it handles, what it makes of it. */
static const struct {
	int c;
	const char *arg;
	enum nk_mapmode mode;
	size_t nuid, ngid;
} dispatch[] = {
	{ NK_MAPOPT_AUTO, NULL, NK_MAPMODE_AUTO, 0, 0 },
	{ NK_MAPOPT_ROOT, NULL, NK_MAPMODE_ROOT, 0, 0 },
	{ NK_MAPOPT_KEEPID, NULL, NK_MAPMODE_KEEPID, 0, 0 },
	{ NK_MAPOPT_NOMAP, NULL, NK_MAPMODE_NOMAP, 0, 0 },
	{ NK_MAPOPT_UID, "0:1000:1", NK_MAPMODE_EXPLICIT, 1, 0 },
	{ NK_MAPOPT_GID, "0:1000:1", NK_MAPMODE_EXPLICIT, 0, 1 },
	{ NK_MAPOPT_MAP, "0:1000:1", NK_MAPMODE_EXPLICIT, 1, 1 },
	{ NK_MAPOPT_FROM, "maps.txt", NK_MAPMODE_FROM, 0, 0 },
	{ NK_MAPOPT_ISOLATE, "100", NK_MAPMODE_ISOLATE, 0, 0 },
	{ NK_MAPOPT_SETGROUPS, "deny", NK_MAPMODE_NONE, 0, 0 },
};

START_TEST(test_dispatch)
{
	struct nk_mapopts o;

	nk_mapopts_init(&o, &enter);
	ck_assert_int_eq(nk_mapopts_option_or_err(&o, dispatch[_i].c, dispatch[_i].arg), 1);
	ck_assert_int_eq(o.mode, dispatch[_i].mode);
	ck_assert_uint_eq(o.maps.map[NK_UID].n, dispatch[_i].nuid);
	ck_assert_uint_eq(o.maps.map[NK_GID].n, dispatch[_i].ngid);
	if (dispatch[_i].c == NK_MAPOPT_FROM)
		ck_assert_str_eq(o.from, "maps.txt");
	if (dispatch[_i].c == NK_MAPOPT_ISOLATE)
		ck_assert_uint_eq(o.slice_size, 100);
	if (dispatch[_i].c == NK_MAPOPT_SETGROUPS)
		ck_assert_int_eq(o.sg, NK_SETGROUPS_DENY);
	nk_maps_free(&o.maps);
}
END_TEST

START_TEST(test_dispatch_others)
{
	/* A tool's own options are left to it, nothing changed. */
	static const int others[] = { 'f', 'n', 'h', 'V', 'U', 256, 257, '?' };
	struct nk_mapopts o;

	nk_mapopts_init(&o, &apply);
	for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
		ck_assert_int_eq(nk_mapopts_option_or_err(&o, others[k], "x"), 0);
	ck_assert_int_eq(o.mode, NK_MAPMODE_NONE);
	ck_assert_int_eq(o.sg, NK_SETGROUPS_DEFAULT);
}
END_TEST

static Suite *mapopt_suite(void)
{
	Suite *s = suite_create("mapopt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_conflict_messages);
	tcase_add_test(tc, test_options);
	tcase_add_loop_test(tc, test_dispatch, 0, sizeof dispatch / sizeof dispatch[0]);
	tcase_add_test(tc, test_dispatch_others);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(mapopt_suite)
