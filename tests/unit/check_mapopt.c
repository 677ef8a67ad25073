/* check_mapopt - lib/mapopt: the map options the tools share (the
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

static Suite *mapopt_suite(void)
{
	Suite *s = suite_create("mapopt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_conflict_messages);
	tcase_add_test(tc, test_options);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(mapopt_suite)
