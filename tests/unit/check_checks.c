#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include "nkcheck.h"
#include "checks.h"

/* Allocation failure on demand: this definition of vasprintf(3) takes the
 * place of libc's for libnskit.a linked into this program, and fails the
 * way an exhausted heap does while fail_vasprintf is set. */
static int fail_vasprintf;

int vasprintf(char **out, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (fail_vasprintf) {
		errno = ENOMEM;
		return -1;
	}
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || !(*out = malloc((size_t)n + 1)))
		return -1;
	return vsnprintf(*out, (size_t)n + 1, fmt, ap);
}

/* With _FORTIFY_SOURCE (the .deb is built hardened), libnskit calls
 * __vasprintf_chk instead: the same failure on demand. */
int __vasprintf_chk(char **out, int flag, const char *fmt, va_list ap);
int __vasprintf_chk(char **out, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return vasprintf(out, fmt, ap);
}

/* --- subuid file parsing ---------------------------------------------------- */

static const struct {
	const char *text;
	size_t n, nbad;
	unsigned first_bad;
} parse_cases[] = {
	{ "", 0, 0, 0 },
	{ "alice:100000:65536\n", 1, 0, 0 },
	{ "alice:100000:65536", 1, 0, 0 },                 /* no final newline */
	{ "# comment\n\n  \nalice:1:2\n", 1, 0, 0 },
	{ "alice:100000\n", 0, 1, 1 },
	{ "alice:x:1\nbob:1:1\n", 1, 1, 1 },
	{ "a:1:1\n:1:1\n", 1, 1, 2 },                       /* empty owner */
	{ "a:1:0\n", 0, 1, 1 },                             /* count 0 */
	{ "a:4294967295:1\n", 0, 1, 1 },                    /* past the last id */
	{ "a:4294967294:1\n", 1, 0, 0 },
	{ "a:4294967290:10\n", 0, 1, 1 },
	{ "a:-1:10\nb:1:10 \n", 0, 2, 1 },
};

/* TEXT as nk_sf_load would have read it from PATH. */
static void sf_text(struct nk_sf *sf, const char *path, const char *text)
{
	struct nk_err e;

	memset(sf, 0, sizeof *sf);
	ck_assert_int_eq(nk_sf_parse(sf, path, text, strlen(text), &e), 0);
	sf->exists = 1;
}

START_TEST(test_parse)
{
	struct nk_sf sf;
	struct dr_sfsum sum;

	sf_text(&sf, "/etc/subuid", parse_cases[_i].text);
	sum = dr_sf_sum(&sf);
	ck_assert_msg(sum.ranges == parse_cases[_i].n, "'%s': n %zu", parse_cases[_i].text, sum.ranges);
	ck_assert_uint_eq(sum.bad, parse_cases[_i].nbad);
	ck_assert_uint_eq(sum.first_bad, parse_cases[_i].first_bad);
	nk_sf_free(&sf);
}
END_TEST

START_TEST(test_load_missing)
{
	struct nk_sf sf;
	struct nk_err e;

	ck_assert_int_eq(nk_sf_load(&sf, "/nonexistent/subuid", &e), 0);
	ck_assert_int_eq(sf.exists, 0);
	nk_sf_free(&sf);
}
END_TEST

/* --- subordinate id findings with a fake user database ------------------------ */

static int fake_owner_exists(const char *owner, void *ctx)
{
	(void)ctx;
	return strcmp(owner, "alice") == 0 || strcmp(owner, "bob") == 0 || strcmp(owner, "1002") == 0;
}

/* Real uids: alice 1001, bob 1002, nobody 65534. */
static int fake_real_id_in(enum nk_idtype t, uint64_t lo, uint64_t hi, uint32_t skip,
			   char *buf, size_t len, void *ctx)
{
	static const struct { uint32_t id; const char *name; } ids[] = {
		{ 1001, "alice" }, { 1002, "bob" }, { 65534, "nobody" },
	};

	(void)t;
	(void)ctx;
	for (size_t i = 0; i < NK_ARRAY_SIZE(ids); i++)
		if (ids[i].id >= lo && ids[i].id <= hi && ids[i].id != skip) {
			snprintf(buf, len, "%s", ids[i].name);
			return 1;
		}
	return 0;
}

static const struct dr_db fake_db = { fake_owner_exists, fake_real_id_in, NULL };

static const struct {
	const char *file;      /* /etc/subuid text */
	const char *ranges;    /* alice's ranges "start:count,..." ("-" = libsubid failed) */
	const char *id;
	const char *status;    /* NULL: finding absent */
	const char *text;      /* substring of what */
} sub_cases[] = {
	{ "alice:100000:65536\n", "100000:65536", "subuid-range", "ok", "1 subordinate uid range, 65536 ids" },
	{ "alice:100000:65536\n", "100000:65536", "subuid-size", "ok", NULL },
	{ "alice:100000:65536\n", "100000:65536", "subuid-stale", "ok", NULL },
	{ "alice:100000:65536\n", "100000:65536", "subuid-overlap", "ok", NULL },
	{ "", "", "subuid-range", "fail", "no subordinate uid range for 'alice' (uid 1001)" },
	{ "", "", "subuid-size", NULL, NULL },
	{ "", "-", "subuid-range", "fail", "libsubid broke" },
	{ "alice:100000:65536\nbob:165000:65536\n", "100000:65536", "subuid-overlap", "warn", "overlaps 'bob' (line 2" },
	{ "alice:100000:65536\nbob:165536:65536\n", "100000:65536", "subuid-overlap", "ok", NULL },
	{ "alice:1000:65536\n", "1000:65536", "subuid-self", "warn", "contains 'alice''s own uid 1001" },
	{ "alice:1000:65536\n", "1000:65536", "subuid-realid", "warn", "the real uid of 'bob'" },
	{ "alice:1003:65536\n", "1003:65536", "subuid-realid", "warn", "'nobody'" },
	{ "alice:100000:65536\n", "100000:65536", "subuid-realid", "ok", NULL },
	{ "alice:100000:1000\n", "100000:1000", "subuid-size", "fail", "only 1000 subordinate uids" },
	{ "alice:100000:65533\n", "100000:65533", "subuid-size", "fail", NULL },
	{ "alice:100000:65534\n", "100000:65534", "subuid-size", "ok", NULL },
	{ "alice:100000:30000\nalice:200000:40000\n", "100000:30000,200000:40000", "subuid-size", "ok", "70000" },
	{ "alice:100000:65536\ngreg:300000:65536\n", "100000:65536", "subuid-stale", "warn", "line 2 of /etc/subuid belongs to 'greg'" },
	{ "1001:100000:65536\n1002:300000:65536\n", "100000:65536", "subuid-stale", "ok", NULL },
	{ "1001:100000:65536\nbob:100000:10\n", "100000:65536", "subuid-overlap", "warn", "'bob'" },
	{ "alice:100000:65536\njunk\n", "100000:65536", "subuid-file", "warn", "1 malformed line (first: line 2)" },
	{ "alice:100000:65536\n", "100000:65536", "subuid-file", "ok", "(1 range)" },
	{ "alice:100000:65536\n", "100000:65536", "subuid-extents", "ok", "2 extents" },
};

static void parse_ranges(const char *spec, struct nk_ranges *r)
{
	char *dup = strdup(spec), *save = NULL;

	r->n = 0;
	r->r = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned long s, c;

		ck_assert_int_eq(sscanf(t, "%lu:%lu", &s, &c), 2);
		nk_ranges_add(r, (uint32_t)s, (uint32_t)c);
	}
	free(dup);
}

START_TEST(test_subids)
{
	struct dr_user u = { "alice", 1001, 1001 };
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct nk_sf sf;
	struct nk_ranges r;
	const struct dr_finding *f;
	int failed = strcmp(sub_cases[_i].ranges, "-") == 0;

	sf_text(&sf, "/etc/subuid", sub_cases[_i].file);
	if (!failed)
		parse_ranges(sub_cases[_i].ranges, &r);
	dr_check_subids(&fs, NK_UID, &u, failed ? NULL : &r, failed ? "libsubid broke" : NULL, "/etc/subuid",
			 &sf, NULL, &fake_db);
	f = dr_findings_get(&fs, sub_cases[_i].id);
	if (!sub_cases[_i].status) {
		ck_assert_msg(f == NULL, "case %d: %s present", _i, sub_cases[_i].id);
	} else {
		ck_assert_msg(f != NULL, "case %d: %s missing", _i, sub_cases[_i].id);
		ck_assert_str_eq(dr_status_name(f->status), sub_cases[_i].status);
		if (sub_cases[_i].text)
			ck_assert_msg(strstr(f->what, sub_cases[_i].text), "case %d: '%s' lacks '%s'", _i,
				      f->what, sub_cases[_i].text);
		ck_assert_msg((f->status == DR_OK) == (f->fix == NULL), "case %d: a fix exactly when not ok", _i);
	}
	if (!failed)
		nk_ranges_free(&r);
	nk_sf_free(&sf);
	dr_findings_free(&fs);
}
END_TEST

START_TEST(test_extents_limit)
{
	struct dr_user u = { "frank", 2000, 2000 };
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct nk_sf sf;
	struct nk_ranges r = { 0, NULL };
	const struct dr_finding *f;

	sf_text(&sf, "/etc/subgid", "");
	for (uint32_t i = 0; i < 339; i++)
		nk_ranges_add(&r, 1000000 + i * 1000, 200);
	dr_check_subids(&fs, NK_GID, &u, &r, NULL, "/etc/subgid", &sf, NULL, &fake_db);
	f = dr_findings_get(&fs, "subgid-extents");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->status, DR_OK);             /* 339 + own id = 340 */
	dr_findings_free(&fs);
	nk_ranges_add(&r, 5000000, 200);
	dr_check_subids(&fs, NK_GID, &u, &r, NULL, "/etc/subgid", &sf, NULL, &fake_db);
	f = dr_findings_get(&fs, "subgid-extents");
	ck_assert_int_eq(f->status, DR_FAIL);
	ck_assert_ptr_nonnull(strstr(f->what, "341 extents"));
	ck_assert_ptr_nonnull(dr_findings_get(&fs, "subgid-file"));
	ck_assert_ptr_null(dr_findings_get(&fs, "subuid-file"));
	dr_findings_free(&fs);
	nk_ranges_free(&r);
	nk_sf_free(&sf);
}
END_TEST

START_TEST(test_file_errors)
{
	struct dr_user u = { "alice", 1001, 1001 };
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct nk_sf sf;
	struct nk_err readerr;
	struct nk_ranges r = { 0, NULL };

	memset(&sf, 0, sizeof sf);
	nk_syserr(&readerr, EACCES, "cannot read %s", "/etc/subuid");   /* as nk_sf_load says it */
	dr_check_subids(&fs, NK_UID, &u, &r, NULL, "/etc/subuid", &sf, &readerr, &fake_db);
	ck_assert_int_eq(dr_findings_get(&fs, "subuid-file")->status, DR_FAIL);
	ck_assert_ptr_nonnull(strstr(dr_findings_get(&fs, "subuid-file")->what, "Permission denied"));
	dr_findings_free(&fs);
	sf.exists = 0;                  /* what nk_sf_load makes of a missing file */
	dr_check_subids(&fs, NK_UID, &u, &r, NULL, "/etc/subuid", &sf, NULL, &fake_db);
	ck_assert_int_eq(dr_findings_get(&fs, "subuid-file")->status, DR_FAIL);
	dr_findings_free(&fs);
	/* Ranges from a central source (SSSD): no file is fine. */
	nk_ranges_add(&r, 100000, 65536);
	dr_check_subids(&fs, NK_UID, &u, &r, NULL, "/etc/subuid", &sf, NULL, &fake_db);
	ck_assert_int_eq(dr_findings_get(&fs, "subuid-file")->status, DR_OK);
	dr_findings_free(&fs);
	nk_ranges_free(&r);
}
END_TEST

/* --- kernel, helpers, session -------------------------------------------- */

static struct dr_sys healthy_sys(void)
{
	struct dr_sys s;

	memset(&s, 0, sizeof s);
	s.max_userns = 15000;
	s.userns_clone = -1;
	s.apparmor = -1;
	s.ping_lo = 0;
	s.ping_hi = 2147483647;
	s.overflowuid = s.overflowgid = 65534;
	s.root_shared = 1;
	s.bound_setuid = s.bound_setgid = 1;
	return s;
}

static struct dr_probe healthy_probe(void)
{
	struct dr_probe p;

	memset(&p, 0, sizeof p);
	p.ran = 1;
	p.levels = 30;
	p.map_tried = p.map_ok = 1;
	snprintf(p.map_msg, sizeof p.map_msg, "2 uid and 2 gid extents");
	return p;
}

static const char *status_of(const struct dr_findings *fs, const char *id)
{
	const struct dr_finding *f = dr_findings_get(fs, id);

	return f ? dr_status_name(f->status) : "absent";
}

enum knob { K_NONE, K_MAX0, K_CLONE0, K_CLONE1, K_APPARMOR, K_SECCOMP_EPERM, K_SECCOMP_OK,
	    K_ENOSPC, K_LEVELS1, K_LEVELS0, K_MAPFAIL, K_NOTRAN, K_EPERM_CONTAINER };

static const struct {
	enum knob k;
	const char *id, *status, *text;
} userns_cases[] = {
	{ K_NONE, "userns-max", "ok", "15000" },
	{ K_NONE, "userns-create", "ok", NULL },
	{ K_NONE, "userns-nesting", "ok", "30" },
	{ K_NONE, "userns-map", "ok", "2 uid and 2 gid" },
	{ K_MAX0, "userns-max", "fail", "is 0" },
	{ K_CLONE0, "userns-clone", "fail", "is 0" },
	{ K_CLONE0, "userns-create", "fail", "unprivileged_userns_clone forbids it" },
	{ K_CLONE1, "userns-clone", "ok", "is 1" },
	{ K_APPARMOR, "userns-apparmor", "warn", "is 1" },
	{ K_SECCOMP_EPERM, "userns-seccomp", "fail", NULL },
	{ K_SECCOMP_EPERM, "userns-create", "fail", "seccomp" },
	{ K_SECCOMP_OK, "userns-seccomp", "warn", NULL },
	{ K_ENOSPC, "userns-create", "fail", "No space left on device" },
	{ K_ENOSPC, "userns-nesting", "absent", NULL },
	{ K_LEVELS1, "userns-nesting", "warn", "only 1 more level " },
	{ K_LEVELS0, "userns-nesting", "fail", NULL },
	{ K_MAPFAIL, "userns-map", "fail", "newuidmap: write failed" },
	{ K_NOTRAN, "userns-create", "warn", "not probed" },
	{ K_NOTRAN, "userns-map", "absent", NULL },
	{ K_EPERM_CONTAINER, "userns-create", "fail", "the container this runs in refuses it" },
};

START_TEST(test_userns)
{
	struct dr_user u = { "alice", 1001, 1001 };
	struct dr_sys s = healthy_sys();
	struct dr_probe p = healthy_probe();
	struct dr_findings fs = { 0, 0, NULL, 0 };
	const struct dr_finding *f;

	switch (userns_cases[_i].k) {
	case K_MAX0: s.max_userns = 0; break;
	case K_CLONE0: s.userns_clone = 0; p.create_errno = EPERM; break;
	case K_CLONE1: s.userns_clone = 1; break;
	case K_APPARMOR: s.apparmor = 1; break;
	case K_SECCOMP_EPERM: s.seccomp = 2; p.create_errno = EPERM; break;
	case K_SECCOMP_OK: s.seccomp = 2; break;
	case K_ENOSPC: p.create_errno = ENOSPC; break;
	case K_LEVELS1: p.levels = 1; p.nest_errno = ENOSPC; break;
	case K_LEVELS0: p.levels = 0; p.nest_errno = ENOSPC; break;
	case K_MAPFAIL: p.map_ok = 0; snprintf(p.map_msg, sizeof p.map_msg, "newuidmap: write failed"); break;
	case K_NOTRAN: memset(&p, 0, sizeof p); break;
	case K_EPERM_CONTAINER: s.container = 1; p.create_errno = EPERM; break;
	default: break;
	}
	dr_check_userns(&fs, &s, &p, &u);
	ck_assert_str_eq(status_of(&fs, userns_cases[_i].id), userns_cases[_i].status);
	f = dr_findings_get(&fs, userns_cases[_i].id);
	if (f && userns_cases[_i].text)
		ck_assert_msg(strstr(f->what, userns_cases[_i].text), "case %d: '%s'", _i, f->what);
	dr_findings_free(&fs);
}
END_TEST

/* The facts of a helper, judged as nk_helper_usable judges them. */
static const struct nk_helper_info *helper_info(enum nk_idtype t, const char *path, uid_t uid, mode_t mode,
						int filecap, int nosuid)
{
	static struct nk_helper_info h;

	memset(&h, 0, sizeof h);
	h.t = t;
	snprintf(h.path, sizeof h.path, "%s", path);
	h.uid = uid;
	h.mode = mode;
	h.filecap = filecap;
	h.nosuid = nosuid;
	nk_helper_judge(&h);
	return &h;
}

START_TEST(test_helper)
{
	struct dr_findings fs = { 0, 0, NULL, 0 };

	dr_check_helper(&fs, NK_UID, NULL, helper_info(NK_UID, "/usr/bin/newuidmap", 0, S_IFREG | S_ISUID | 0755, 0, 0));
	ck_assert_str_eq(status_of(&fs, "newuidmap"), "ok");
	ck_assert_str_eq(status_of(&fs, "newuidmap-nosuid"), "ok");
	dr_findings_free(&fs);

	dr_check_helper(&fs, NK_GID, NULL, helper_info(NK_GID, "/usr/bin/newgidmap", 0, S_IFREG | 0755, 0, 1));
	ck_assert_str_eq(status_of(&fs, "newgidmap"), "fail");
	ck_assert_str_eq(status_of(&fs, "newgidmap-nosuid"), "fail");
	ck_assert_ptr_nonnull(strstr(dr_findings_get(&fs, "newgidmap")->fix, "setcap cap_setgid+ep"));
	dr_findings_free(&fs);

	dr_check_helper(&fs, NK_GID, NULL, helper_info(NK_GID, "/usr/bin/newgidmap", 0, S_IFREG | 0755, 1, 0));
	ck_assert_str_eq(status_of(&fs, "newgidmap"), "ok");
	dr_findings_free(&fs);

	/* setuid, but not root's */
	dr_check_helper(&fs, NK_UID, NULL, helper_info(NK_UID, "/x/newuidmap", 1000, S_IFREG | S_ISUID | 0755, 0, 0));
	ck_assert_str_eq(status_of(&fs, "newuidmap"), "fail");
	dr_findings_free(&fs);

	dr_check_helper(&fs, NK_UID, "newuidmap not found", NULL);
	ck_assert_str_eq(status_of(&fs, "newuidmap"), "fail");
	ck_assert_str_eq(dr_findings_get(&fs, "newuidmap")->what, "newuidmap not found");
	ck_assert_str_eq(status_of(&fs, "newuidmap-nosuid"), "absent");
	dr_findings_free(&fs);
}
END_TEST

START_TEST(test_privs)
{
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct dr_sys s = healthy_sys();

	dr_check_privs(&fs, &s);
	ck_assert_str_eq(status_of(&fs, "no-new-privs"), "ok");
	ck_assert_str_eq(status_of(&fs, "cap-bounding"), "ok");
	dr_findings_free(&fs);
	s.no_new_privs = 1;
	s.bound_setgid = 0;
	dr_check_privs(&fs, &s);
	ck_assert_str_eq(status_of(&fs, "no-new-privs"), "fail");
	ck_assert_str_eq(status_of(&fs, "cap-bounding"), "fail");
	ck_assert_ptr_nonnull(strstr(dr_findings_get(&fs, "cap-bounding")->what, "lacks cap_setgid:"));
	ck_assert_int_eq(dr_findings_worst(&fs), DR_FAIL);
	dr_findings_free(&fs);
}
END_TEST

START_TEST(test_parent_map)
{
	struct dr_user u = { "alice", 1001, 1001 };
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct nk_maps own = { 0 };
	struct nk_ranges r = { 0, NULL };
	const struct nk_ranges *sub[2] = { &r, &r };
	struct nk_err e;

	nk_ranges_add(&r, 100000, 65536);
	ck_assert_int_eq(nk_map_parse_kernel("0 0 4294967295", &own.map[NK_UID], &e), 0);
	ck_assert_int_eq(nk_map_parse_kernel("0 0 4294967295", &own.map[NK_GID], &e), 0);
	dr_check_parent_map(&fs, &own, sub, &u);
	ck_assert_str_eq(dr_findings_get(&fs, "parent-map")->what, "not in a nested user namespace");
	dr_findings_free(&fs);
	nk_maps_free(&own);

	ck_assert_int_eq(nk_map_parse_kernel("0 0 65536", &own.map[NK_UID], &e), 0);
	ck_assert_int_eq(nk_map_parse_kernel("0 0 4294967295", &own.map[NK_GID], &e), 0);
	dr_check_parent_map(&fs, &own, sub, &u);
	ck_assert_str_eq(status_of(&fs, "parent-map"), "fail");
	ck_assert_ptr_nonnull(strstr(dr_findings_get(&fs, "parent-map")->what, "uid range 100000-165535"));
	dr_findings_free(&fs);
	nk_maps_free(&own);

	/* Two adjacent extents do not make one: the kernel wants a single one. */
	ck_assert_int_eq(nk_map_parse_kernel("0 0 120000\n120000 120000 100000", &own.map[NK_UID], &e), 0);
	ck_assert_int_eq(nk_map_parse_kernel("0 0 200000", &own.map[NK_GID], &e), 0);
	dr_check_parent_map(&fs, &own, sub, &u);
	ck_assert_str_eq(status_of(&fs, "parent-map"), "fail");
	dr_findings_free(&fs);
	nk_maps_free(&own);

	ck_assert_int_eq(nk_map_parse_kernel("0 0 200000", &own.map[NK_UID], &e), 0);
	ck_assert_int_eq(nk_map_parse_kernel("0 0 200000", &own.map[NK_GID], &e), 0);
	dr_check_parent_map(&fs, &own, sub, &u);
	ck_assert_str_eq(status_of(&fs, "parent-map"), "ok");
	dr_findings_free(&fs);
	nk_maps_free(&own);
	nk_ranges_free(&r);
}
END_TEST

START_TEST(test_session)
{
	struct dr_user u = { "alice", 1001, 1001 };
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_mode = S_IFDIR | 0700;
	st.st_uid = 1001;
	dr_check_xdg(&fs, "/run/user/1001", &st, 0, &u);
	dr_check_user_env(&fs, "alice", "alice", &u);
	ck_assert_int_eq(dr_findings_worst(&fs), DR_OK);
	dr_findings_free(&fs);

	dr_check_xdg(&fs, NULL, NULL, 0, &u);
	ck_assert_str_eq(status_of(&fs, "xdg-runtime-dir"), "warn");
	dr_findings_free(&fs);
	st.st_uid = 0;
	dr_check_xdg(&fs, "/run/user/0", &st, 0, &u);
	ck_assert_str_eq(status_of(&fs, "xdg-runtime-dir"), "fail");
	dr_findings_free(&fs);
	st.st_uid = 1001;
	st.st_mode = S_IFDIR | 0755;
	dr_check_xdg(&fs, "/run/user/1001", &st, 0, &u);
	ck_assert_ptr_nonnull(strstr(dr_findings_get(&fs, "xdg-runtime-dir")->what, "mode 0755"));
	dr_findings_free(&fs);
	st.st_mode = S_IFREG | 0700;
	dr_check_xdg(&fs, "/run/user/1001", &st, 0, &u);
	ck_assert_str_eq(status_of(&fs, "xdg-runtime-dir"), "fail");
	dr_findings_free(&fs);
	dr_check_xdg(&fs, "/nonexistent", NULL, ENOENT, &u);
	ck_assert_str_eq(status_of(&fs, "xdg-runtime-dir"), "fail");
	dr_findings_free(&fs);

	dr_check_user_env(&fs, "root", "alice", &u);
	ck_assert_str_eq(status_of(&fs, "user-env"), "warn");
	dr_findings_free(&fs);
	dr_check_user_env(&fs, "alice", "bob", &u);
	ck_assert_ptr_nonnull(strstr(dr_findings_get(&fs, "user-env")->what, "LOGNAME is 'bob'"));
	dr_findings_free(&fs);
	dr_check_user_env(&fs, NULL, NULL, &u);
	ck_assert_str_eq(status_of(&fs, "user-env"), "warn");
	dr_findings_free(&fs);
}
END_TEST

START_TEST(test_mounts)
{
	struct dr_user u = { "alice", 1001, 1001 };
	struct dr_findings fs = { 0, 0, NULL, 0 };
	struct dr_sys s = healthy_sys();
	uint32_t gids[] = { 1001, 27 };

	dr_check_mounts(&fs, &s, gids, 2, &u);
	ck_assert_int_eq(dr_findings_worst(&fs), DR_OK);
	dr_findings_free(&fs);
	s.root_shared = 0;
	s.ping_lo = 1;
	s.ping_hi = 0;
	s.overflowuid = 65535;
	dr_check_mounts(&fs, &s, gids, 2, &u);
	ck_assert_str_eq(status_of(&fs, "root-shared"), "warn");
	ck_assert_str_eq(status_of(&fs, "ping-group-range"), "warn");
	ck_assert_str_eq(status_of(&fs, "overflow-ids"), "warn");
	ck_assert_int_eq(dr_findings_worst(&fs), DR_WARN);
	dr_findings_free(&fs);
	s.ping_lo = 27;
	s.ping_hi = 27;
	dr_check_mounts(&fs, &s, gids, 2, &u);
	ck_assert_str_eq(status_of(&fs, "ping-group-range"), "ok");   /* a supplementary group */
	dr_findings_free(&fs);
}
END_TEST

/* A finding that cannot be recorded is a failure (issue 13 item 14): the
 * checks are void, so the loss must show where the exit status comes from. */
START_TEST(test_lost_finding)
{
	struct dr_sys s = healthy_sys();
	struct dr_findings fs = { 0, 0, NULL, 0 };

	dr_check_privs(&fs, &s);
	ck_assert_int_eq(dr_findings_worst(&fs), DR_OK);
	fail_vasprintf = 1;
	ck_assert_int_eq(dr_finding_add(&fs, "x", DR_FAIL, "fix", "%s", "dropped"), -ENOMEM);
	dr_check_privs(&fs, &s);
	fail_vasprintf = 0;
	ck_assert_uint_eq(fs.n, 2);
	ck_assert_uint_eq(fs.lost, 3);
	ck_assert_int_eq(dr_findings_worst(&fs), DR_FAIL);
	dr_findings_free(&fs);
	ck_assert_uint_eq(fs.lost, 0);
}
END_TEST

static Suite *doctor_suite(void)
{
	Suite *s = suite_create("checks");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, (int)NK_ARRAY_SIZE(parse_cases));
	tcase_add_test(tc, test_load_missing);
	tcase_add_loop_test(tc, test_subids, 0, (int)NK_ARRAY_SIZE(sub_cases));
	tcase_add_test(tc, test_extents_limit);
	tcase_add_test(tc, test_file_errors);
	tcase_add_loop_test(tc, test_userns, 0, (int)NK_ARRAY_SIZE(userns_cases));
	tcase_add_test(tc, test_helper);
	tcase_add_test(tc, test_privs);
	tcase_add_test(tc, test_parent_map);
	tcase_add_test(tc, test_session);
	tcase_add_test(tc, test_mounts);
	tcase_add_test(tc, test_lost_finding);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(doctor_suite)
