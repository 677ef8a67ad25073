#include <stdlib.h>
#include <string.h>
#include "nkcheck.h"
#include "causes.h"

/* Every id a cause may name: the doctor's findings and subid-requested. */
static const char *const known_ids[] = {
	"userns-max", "userns-clone", "userns-apparmor", "userns-seccomp", "userns-create", "userns-nesting",
	"userns-map", "subuid-file", "subuid-range", "subuid-stale", "subuid-self", "subuid-overlap",
	"subuid-realid", "subuid-size", "subuid-extents", "subgid-file", "subgid-range", "subgid-stale",
	"subgid-self", "subgid-overlap", "subgid-realid", "subgid-size", "subgid-extents", "newuidmap",
	"newuidmap-nosuid", "newgidmap", "newgidmap-nosuid", "no-new-privs", "cap-bounding", "parent-map",
	"xdg-runtime-dir", "user-env", "root-shared", "ping-group-range", "overflow-ids", "subid-requested",
	"setgroups-order",
};

/* One test per entry: its own sample is recognised as it (and not as an
 * earlier entry), it has causes, and every cause is a known id. */
START_TEST(test_entry)
{
	const struct dr_ex_msg *m = &dr_ex_msgs[_i];
	size_t n = 0;

	ck_assert_msg(dr_ex_match(m->sample) == m, "%s: its sample is matched as %s", m->key,
		      dr_ex_match(m->sample) ? dr_ex_match(m->sample)->key : "nothing");
	ck_assert(m->tool && *m->tool && m->versions && *m->versions && m->text && *m->text);
	for (; n < DR_EX_MAX_CAUSES && m->causes[n].id; n++) {
		size_t k;

		for (k = 0; k < NK_ARRAY_SIZE(known_ids) && strcmp(known_ids[k], m->causes[n].id) != 0; k++)
			;
		ck_assert_msg(k < NK_ARRAY_SIZE(known_ids), "%s: unknown cause %s", m->key, m->causes[n].id);
	}
	ck_assert_msg(n > 0, "%s has no cause", m->key);
	for (size_t j = 0; j < dr_ex_nmsgs; j++)
		ck_assert_msg(j == (size_t)_i || strcmp(dr_ex_msgs[j].key, m->key) != 0, "%s twice", m->key);
}
END_TEST

/* Lines as the tools print them, in context (log prefixes, other text). */
static const struct {
	const char *line, *key;
} lines[] = {
	{ "newuidmap: write to uid_map failed: Operation not permitted", "newuidmap-eperm" },
	{ "Error: cannot set up namespace using \"/usr/bin/newuidmap\": should have setuid or have filecaps "
	  "setuid: exit status 1", "podman-newuidmap-failed" },
	{ "Error: cannot set up namespace using \"/usr/bin/newgidmap\": exit status 1", "podman-newgidmap-failed" },
	/* logrus: the escaped quotes of a value are the message's own. */
	{ "time=\"2026-12-08T00:21:57Z\" level=warning msg=\"Found no UID ranges set aside for user \\\"bob\\\" in "
	  "/etc/subuid.\"", "storage-found-no-uid-ranges" },
	{ "WARN[0000] Found no GID ranges set aside for user \"bob\" in /etc/subgid.", "storage-found-no-gid-ranges" },
	{ "level=warning msg=\"Found no UID ranges set aside for user bob in /etc/subuid.\"", NULL },
	{ "time=\"2026-12-01T20:58:08Z\" level=warning msg=\"Error running newuidmap: exit status 1: newuidmap: "
	  "write to uid_map failed: Operation not permitted\\n\"", "newuidmap-eperm" },
	{ "time=\"2026-12-01T20:58:08Z\" level=warning msg=\"running newgidmap: exit status 1: newgidmap: write "
	  "to gid_map failed: Operation not permitted\\n\"", "newgidmap-eperm" },
	{ "nsenter-user: cannot write the maps of the new namespace: newuidmap failed: newuidmap: write to "
	  "uid_map failed: Operation not permitted (no_new_privs is set)", "newuidmap-eperm" },
	{ "[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap 77 [0 1000 1] failed: newuidmap: "
	  "write to uid_map failed: Operation not permitted\n: exit status 1", "rootlesskit-uidmap-eperm" },
	{ "newuidmap: uid range [1-11) -> [1-11) not allowed", "newuidmap-range" },
	{ "unshare: unshare failed: Operation not permitted", "unshare-failed" },
	{ "unshare: write failed /proc/self/setgroups: Operation not permitted", "unshare-write-setgroups" },
	{ "unshare: write failed /proc/self/gid_map: Operation not permitted", "unshare-write-map" },
	{ "bwrap: No permissions to create a new namespace, likely because the kernel does not allow "
	  "non-privileged user namespaces.", "bwrap-no-permissions" },
	{ "Error: potentially insufficient UIDs or GIDs available in the user namespace (requested 0:42 for "
	  "/etc/shadow): Check /etc/subuid and /etc/subgid if configured locally and run \"podman system "
	  "migrate\": lchown /etc/shadow: invalid argument", "storage-insufficient-ids" },
	{ "WARN[0000] \"/\" is not a shared mount, this could cause issues or missing mounts with rootless "
	  "containers", "podman-root-not-shared" },
	{ "all is well", NULL },
	{ "", NULL },
};

START_TEST(test_lines)
{
	const struct dr_ex_msg *m = dr_ex_match(lines[_i].line);

	if (!lines[_i].key)
		ck_assert_msg(!m, "'%s' matched %s", lines[_i].line, m ? m->key : "");
	else {
		ck_assert_msg(m, "'%s' not matched", lines[_i].line);
		ck_assert_str_eq(m->key, lines[_i].key);
	}
}
END_TEST

static const struct {
	const char *line;
	int rc, inner, huid, hgid;
	uint64_t ulo, uhi, glo, ghi;
} reqs[] = {
	{ "(requested 0:42 for /etc/shadow)", 0, 1, 1, 1, 0, 0, 42, 42 },
	{ "x (requested 100000:5 for /a): y", 0, 1, 1, 1, 100000, 100000, 5, 5 },
	{ "newuidmap: uid range [1-70001) -> [100000-170000) not allowed", 0, 0, 1, 0, 100000, 169999, 0, 0 },
	{ "newgidmap: gid range [0-1) -> [5-6) not allowed", 0, 0, 0, 1, 0, 0, 5, 5 },
	{ "(requested 4294967295:0 for /a)", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "(requested -1:0 for /a)", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "(requested 1 for /a)", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "newuidmap: uid range [5-5) -> [7-7) not allowed", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "newuidmap: uid range [1-2) -> [99999999999999999999999-2) not allowed", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
	{ "no ids here", -EINVAL, 0, 0, 0, 0, 0, 0, 0 },
};

START_TEST(test_requested)
{
	struct dr_ex_req r;

	ck_assert_int_eq(dr_ex_requested(reqs[_i].line, &r), reqs[_i].rc);
	if (reqs[_i].rc)
		return;
	ck_assert_int_eq(r.inner, reqs[_i].inner);
	ck_assert_int_eq(r.have[NK_UID], reqs[_i].huid);
	ck_assert_int_eq(r.have[NK_GID], reqs[_i].hgid);
	if (r.have[NK_UID]) {
		ck_assert_uint_eq(r.lo[NK_UID], reqs[_i].ulo);
		ck_assert_uint_eq(r.hi[NK_UID], reqs[_i].uhi);
	}
	if (r.have[NK_GID]) {
		ck_assert_uint_eq(r.lo[NK_GID], reqs[_i].glo);
		ck_assert_uint_eq(r.hi[NK_GID], reqs[_i].ghi);
	}
}
END_TEST

/* The verdict: a failing finding is found, an ok one ruled out unless it
 * is a property of the failing process, a missing one untested. */
START_TEST(test_judge)
{
	const struct dr_ex_msg *m = dr_ex_match("newuidmap: write to uid_map failed: Operation not permitted");
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct dr_ex_verdict v[DR_EX_MAX_CAUSES];
	size_t n;

	ck_assert_ptr_nonnull(m);
	dr_finding_add(&fs, "userns-apparmor", DR_OK, NULL, "not present");
	dr_finding_add(&fs, "newuidmap", DR_FAIL, "chmod u+s", "not setuid");
	dr_finding_add(&fs, "no-new-privs", DR_OK, NULL, "not set");
	ck_assert_uint_eq(dr_ex_judge(m, &fs, v, &n), 1);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(v[0].id, "userns-apparmor");
	ck_assert_int_eq(v[0].state, DR_EX_RULED_OUT);
	ck_assert_str_eq(v[1].id, "newuidmap");
	ck_assert_int_eq(v[1].state, DR_EX_FOUND);
	ck_assert_ptr_eq(v[1].f, dr_findings_get(&fs, "newuidmap"));
	ck_assert_int_eq(v[2].state, DR_EX_UNTESTED);      /* newuidmap-nosuid: no finding */
	ck_assert_ptr_null(v[2].f);
	ck_assert_str_eq(v[3].id, "no-new-privs");
	ck_assert_int_eq(v[3].state, DR_EX_UNTESTED);      /* ok here, may be set there */
	dr_findings_free(&fs);
}
END_TEST

/* logrus' quoted values, unquoted and unescaped; other lines untouched. */
static const struct {
	const char *line, *want;
} unwraps[] = {
	{ "time=\"2026-12-01T20:58:07Z\" level=warning msg=\"\\\"/\\\" is not a shared mount\"",
	  "time=2026-12-01T20:58:07Z level=warning msg=\"/\" is not a shared mount" },
	{ "level=error msg=\"a\\\\b\\nc\\td\" error=\"x \\\"y\\\"\"", "level=error msg=a\\b\nc\td error=x \"y\"" },
	{ "time=\"t\" msg=\"unterminated", "time=t msg=unterminated" },
	{ "time=\"t\" msg=\"ends in \\", "time=t msg=ends in \\" },
	{ "Error: cannot set up namespace using \"/usr/bin/newuidmap\": exit status 1", NULL },
	{ "[rootlesskit:parent] error: x=\"y\"", NULL },
};

START_TEST(test_unwrap)
{
	char *got = (char *)"x";
	int rc = dr_ex_unwrap(unwraps[_i].line, &got);

	if (!unwraps[_i].want) {
		ck_assert_int_eq(rc, 0);
		ck_assert_ptr_null(got);
		return;
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_str_eq(got, unwraps[_i].want);
	free(got);
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("causes");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_entry, 0, (int)dr_ex_nmsgs);
	tcase_add_loop_test(tc, test_lines, 0, (int)NK_ARRAY_SIZE(lines));
	tcase_add_loop_test(tc, test_requested, 0, (int)NK_ARRAY_SIZE(reqs));
	tcase_add_loop_test(tc, test_unwrap, 0, (int)NK_ARRAY_SIZE(unwraps));
	tcase_add_test(tc, test_judge);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(explain_suite)
