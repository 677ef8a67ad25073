#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "nkcheck.h"
#include "subidfile.h"

/* --- parser ---------------------------------------------------------------- */

static const struct {
	const char *line;
	enum nk_sf_kind kind;
	int has_range;
	uint64_t start, count;
} lines[] = {
	{ "alice:100000:65536", NK_SF_RANGE, 1, 100000, 65536 },
	{ "1001:0:1", NK_SF_RANGE, 1, 0, 1 },
	{ "big:4294967000:65536", NK_SF_RANGE, 1, 4294967000ULL, 65536 },
	{ "# alice:1:2", NK_SF_COMMENT, 0, 0, 0 },
	{ "", NK_SF_BLANK, 0, 0, 0 },
	{ "  \t", NK_SF_BLANK, 0, 0, 0 },
	{ "alice", NK_SF_BAD, 0, 0, 0 },
	{ "alice:1", NK_SF_BAD, 0, 0, 0 },
	{ "alice:x:1", NK_SF_BAD, 0, 0, 0 },
	{ "alice:1:-1", NK_SF_BAD, 0, 0, 0 },
	{ "alice:0x10:1", NK_SF_BAD, 0, 0, 0 },
	{ "alice:1: 2", NK_SF_BAD, 0, 0, 0 },
	{ "alice:1:0", NK_SF_BAD, 0, 1, 0 },
	{ ":200000:65536", NK_SF_BAD, 1, 200000, 65536 },        /* blocks its range */
	{ "a b:200000:65536", NK_SF_BAD, 1, 200000, 65536 },
	{ "alice:300000:65536:x", NK_SF_BAD, 1, 300000, 65536 }, /* shadow reads 3 fields */
	{ "alice::", NK_SF_BAD, 0, 0, 0 },
	{ "alice:99999999999999999999999:1", NK_SF_BAD, 0, 0, 0 },
};

START_TEST(test_parse_line)
{
	struct nk_sf_line l;

	ck_assert_int_eq(nk_sf_parse_line(lines[_i].line, &l), 0);
	ck_assert_msg(l.kind == lines[_i].kind, "'%s': kind %d", lines[_i].line, l.kind);
	ck_assert_msg(l.has_range == lines[_i].has_range, "'%s': has_range %d", lines[_i].line,
		      l.has_range);
	if (l.has_range) {
		ck_assert_uint_eq(l.start, lines[_i].start);
		ck_assert_uint_eq(l.count, lines[_i].count);
	}
	if (l.kind == NK_SF_BAD)
		ck_assert_ptr_nonnull(l.why);
	ck_assert_str_eq(l.text, lines[_i].line);
	free(l.text);
	free(l.owner);
}
END_TEST

static void parse(struct nk_sf *f, const char *buf)
{
	struct nk_err e;

	memset(f, 0, sizeof *f);
	ck_assert_int_eq(nk_sf_parse(f, "/etc/subuid", buf, strlen(buf), &e), 0);
}

static char *render(const struct nk_sf *f)
{
	size_t len;
	char *s = nk_sf_render(f, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), len);
	return s;
}

START_TEST(test_roundtrip_and_edit)
{
	static const char *in = "# keep me\nbob:200000:65536\njunk here\n\nalice:100000:65536\n";
	struct nk_sf f;
	char *s;

	parse(&f, in);
	ck_assert_uint_eq(f.n, 5);
	ck_assert_uint_eq(f.lines[4].lineno, 5);
	s = render(&f);
	ck_assert_str_eq(s, in);
	free(s);
	ck_assert_uint_eq(nk_sf_remove_user(&f, "bob", 1002), 1);
	ck_assert_uint_eq(nk_sf_remove_user(&f, "1001", 1001), 0 + 0);
	ck_assert_int_eq(nk_sf_add(&f, "carol", 300000, 65536), 0);
	s = render(&f);
	ck_assert_str_eq(s, "# keep me\njunk here\n\nalice:100000:65536\ncarol:300000:65536\n");
	free(s);
	nk_sf_free(&f);
}
END_TEST

START_TEST(test_owner_by_uid_and_final_newline)
{
	struct nk_sf f;
	char *s;

	parse(&f, "1001:100000:65536\nbob:1:2");
	ck_assert_int_eq(f.final_newline, 0);
	ck_assert(nk_sf_line_is(&f.lines[0], "alice", 1001));
	ck_assert(!nk_sf_line_is(&f.lines[0], "alice", 1002));
	s = render(&f);
	ck_assert_str_eq(s, "1001:100000:65536\nbob:1:2");   /* untouched: kept as is */
	free(s);
	ck_assert_int_eq(nk_sf_add(&f, "carol", 5, 6), 0);
	s = render(&f);
	ck_assert_str_eq(s, "1001:100000:65536\nbob:1:2\ncarol:5:6\n");
	free(s);
	nk_sf_free(&f);
}
END_TEST

/* --- allocator ------------------------------------------------------------ */

static const struct {
	const char *file;
	uint64_t min, max, count, align;
	int ret;
	uint64_t start;
} fits[] = {
	{ "", 100000, 600100000, 65536, 0, 0, 100000 },
	{ "a:100000:65536\n", 100000, 600100000, 65536, 0, 0, 165536 },
	/* a hole too small, then one that fits exactly */
	{ "a:100000:1000\nb:102000:65536\nc:233072:65536\n", 100000, 600100000, 65536, 0, 0, 167536 },
	{ "a:100000:1000\nb:167536:10\n", 100000, 600100000, 65536, 0, 0, 101000 },
	/* ranges below min are ignored; overlapping and unordered ranges */
	{ "z:300000:10\na:0:150000\nb:120000:100000\n", 100000, 600100000, 65536, 0, 0, 220000 },
	/* alignment */
	{ "a:100000:1000\n", 100000, 600100000, 65536, 65536, 0, 131072 },
	{ "", 100000, 600100000, 65536, 100000, 0, 100000 },
	/* exhaustion: exact fit at the top, then nothing */
	{ "a:100000:100\n", 100000, 165635, 65536, 0, 0, 100100 },
	{ "a:100000:101\n", 100000, 165635, 65536, 0, -ENOSPC, 0 },
	{ "", 100000, 100000, 2, 0, -ENOSPC, 0 },
	/* bad lines whose numbers parse block their range; junk blocks nothing */
	{ ":100000:65536\njunk\nx:165536:65536:y\n", 100000, 600100000, 65536, 0, 0, 231072 },
	{ "a:100000:0\n", 100000, 600100000, 10, 0, 0, 100000 },
	/* near the top of the id space */
	{ "a:4294901759:65536\n", 4294901759ULL, 4294967294ULL, 1, 0, -ENOSPC, 0 },
};

START_TEST(test_first_fit)
{
	struct nk_sf f;
	struct nk_space s;
	uint64_t st = 0;
	int r;

	parse(&f, fits[_i].file);
	ck_assert_int_eq(nk_space_build(&s, &f, NULL, 0), 0);
	r = nk_space_first_fit(&s, fits[_i].min, fits[_i].max, fits[_i].count, fits[_i].align, &st);
	ck_assert_msg(r == fits[_i].ret, "case %d: got %d", _i, r);
	if (r == 0)
		ck_assert_uint_eq(st, fits[_i].start);
	nk_space_free(&s);
	nk_sf_free(&f);
}
END_TEST

START_TEST(test_real_ids_block)
{
	struct nk_space s;
	uint32_t ids[] = { 1000, 150000, 1001 };
	uint64_t st;

	ck_assert_int_eq(nk_space_build(&s, NULL, ids, 3), 0);
	ck_assert_int_eq(nk_space_first_fit(&s, 100000, 600100000, 65536, 0, &st), 0);
	ck_assert_uint_eq(st, 150001);
	ck_assert(!nk_space_is_free(&s, 1001, 1));
	ck_assert(nk_space_is_free(&s, 1002, 147998));
	ck_assert(!nk_space_is_free(&s, 1002, 148999));
	nk_space_free(&s);
}
END_TEST

START_TEST(test_alloc_sequence_and_prefer)
{
	struct nk_space s;
	struct nk_alloc_policy p = { .min = 100000, .max = 600100000, .count = 65536 };
	uint64_t st;

	ck_assert_int_eq(nk_space_build(&s, NULL, NULL, 0), 0);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(nk_alloc(&s, &p, 1000 + i, UINT64_MAX, &st), 0);
		ck_assert_uint_eq(st, 100000 + (uint64_t)i * 65536);
	}
	ck_assert_uint_eq(s.n, 1);       /* merged into one interval */
	/* the preferred start is taken when free, ignored when not */
	ck_assert_int_eq(nk_alloc(&s, &p, 1, 700000000ULL - 600000000ULL + 600000000ULL, &st), 0);
	ck_assert_uint_eq(st, 100000 + 1000ULL * 65536);
	ck_assert_int_eq(nk_alloc(&s, &p, 1, 100000, &st), 0);
	ck_assert_uint_eq(st, 100000 + 1001ULL * 65536);
	nk_space_free(&s);
	ck_assert_int_eq(nk_space_build(&s, NULL, NULL, 0), 0);
	ck_assert_int_eq(nk_alloc(&s, &p, 1, 500000, &st), 0);
	ck_assert_uint_eq(st, 500000);
	/* the hole below stays usable, found by first fit */
	ck_assert_int_eq(nk_alloc(&s, &p, 1, UINT64_MAX, &st), 0);
	ck_assert_uint_eq(st, 100000);
	nk_space_free(&s);
}
END_TEST

START_TEST(test_deterministic)
{
	struct nk_sf f;
	struct nk_space s;
	struct nk_alloc_policy p = { .min = 100000, .max = 600100000, .count = 65536,
				     .deterministic = 1, .uid_min = 1000 };
	uint64_t st;

	parse(&f, "x:300000:10\n");
	ck_assert_int_eq(nk_space_build(&s, &f, NULL, 0), 0);
	ck_assert_int_eq(nk_alloc(&s, &p, 1000, 777, &st), 0);
	ck_assert_uint_eq(st, 100000);
	ck_assert_int_eq(nk_alloc(&s, &p, 1002, UINT64_MAX, &st), 0);
	ck_assert_uint_eq(st, 100000 + 2 * 65536);
	ck_assert_int_eq(nk_alloc(&s, &p, 1003, UINT64_MAX, &st), -EBUSY);   /* x at 300000 */
	ck_assert_int_eq(nk_alloc(&s, &p, 999, UINT64_MAX, &st), -ERANGE);
	ck_assert_int_eq(nk_alloc(&s, &p, 60000, UINT64_MAX, &st), -ERANGE); /* past max */
	ck_assert_int_eq(nk_alloc(&s, &p, 1000, UINT64_MAX, &st), -EBUSY);   /* taken now */
	nk_space_free(&s);
	nk_sf_free(&f);
}
END_TEST

/* --- writer --------------------------------------------------------------- */

static int fail_at;      /* which call fails: 1 write, 2 fsync, 3 link, 4 rename */
static ssize_t bad_write(int fd, const void *b, size_t n)
{
	if (fail_at == 1) { errno = ENOSPC; return -1; }
	if (fail_at == 5) return write(fd, b, n > 3 ? 3 : n) < 0 ? -1 : (n > 3 ? (errno = EIO, -1) : (ssize_t)n);
	return write(fd, b, n);
}
static int bad_fsync(int fd) { if (fail_at == 2) { errno = EIO; return -1; } return fsync(fd); }
static int bad_link(const char *a, const char *b) { if (fail_at == 3) { errno = EPERM; return -1; } return link(a, b); }
static int bad_rename(const char *a, const char *b) { if (fail_at == 4) { errno = EXDEV; return -1; } return rename(a, b); }

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/nk-subidfile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return NULL;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	return buf;
}

static void put(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	chmod(path, mode);
}

static const char *orig = "# c\nalice:100000:65536\n";

START_TEST(test_write_failures)
{
	char path[128], plus[140];
	struct nk_sf f;
	struct nk_err e;
	struct stat st;

	snprintf(path, sizeof path, "%s/subuid", tmpdir);
	snprintf(plus, sizeof plus, "%s+", path);
	put(path, orig, 0640);
	ck_assert_int_eq(nk_sf_load(&f, path, &e), 0);
	ck_assert_int_eq(nk_sf_add(&f, "bob", 165536, 65536), 0);
	fail_at = _i + 1;
	nk_sf_io = (struct nk_sf_io){ bad_write, bad_fsync, bad_rename, bad_link };
	ck_assert_int_lt(nk_sf_write(&f, &e), 0);
	ck_assert_str_eq(slurp(path), orig);          /* as it was */
	ck_assert_int_eq(stat(plus, &st), -1);        /* no debris */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_uint_eq(st.st_nlink, fail_at == 4 ? 2 : 1);
	fail_at = 0;
	ck_assert_int_eq(nk_sf_write(&f, &e), 0);     /* and a retry works */
	ck_assert_str_eq(slurp(path), "# c\nalice:100000:65536\nbob:165536:65536\n");
	nk_sf_free(&f);
}
END_TEST

START_TEST(test_write_keeps_mode_and_backup)
{
	char path[128], bak[140];
	struct nk_sf f;
	struct nk_err e;
	struct stat st;

	snprintf(path, sizeof path, "%s/subgid", tmpdir);
	snprintf(bak, sizeof bak, "%s-", path);
	put(path, orig, 0604);
	ck_assert_int_eq(nk_sf_load(&f, path, &e), 0);
	ck_assert_int_eq(nk_sf_write(&f, &e), 0);     /* unchanged: not written */
	ck_assert_int_eq(stat(bak, &st), -1);
	nk_sf_remove_user(&f, "alice", 1001);
	ck_assert_int_eq(nk_sf_write(&f, &e), 0);
	ck_assert_str_eq(slurp(path), "# c\n");
	ck_assert_str_eq(slurp(bak), orig);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0604);
	nk_sf_free(&f);
}
END_TEST

START_TEST(test_lock_protocol)
{
	char path[128], lock[140];
	struct nk_sf a = { 0 }, b = { 0 };
	struct nk_err e;
	pid_t dead;

	snprintf(path, sizeof path, "%s/subuid", tmpdir);
	snprintf(lock, sizeof lock, "%s.lock", path);
	ck_assert_int_eq(nk_sf_lock(&a, path, 1, &e), 0);
	ck_assert_int_eq(nk_sf_lock(&b, path, 2, &e), -EBUSY);   /* we hold it */
	nk_sf_unlock(&a);
	ck_assert_int_eq(access(lock, F_OK), -1);
	/* a lock left by a dead process is stale and taken over */
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	{
		char pid[16];
		snprintf(pid, sizeof pid, "%d", (int)dead);
		put(lock, pid, 0600);
	}
	ck_assert_int_eq(nk_sf_lock(&b, path, 1, &e), 0);
	nk_sf_unlock(&b);
	put(lock, "garbage", 0600);
	ck_assert_int_eq(nk_sf_lock(&b, path, 1, &e), -ENOLCK);
	free(a.path);
	free(b.path);
}
END_TEST

static Suite *subidfile_suite(void)
{
	Suite *s = suite_create("subidfile");
	TCase *tp = tcase_create("parse"), *ta = tcase_create("alloc"), *tw = tcase_create("write");

	tcase_add_loop_test(tp, test_parse_line, 0, sizeof lines / sizeof lines[0]);
	tcase_add_test(tp, test_roundtrip_and_edit);
	tcase_add_test(tp, test_owner_by_uid_and_final_newline);
	tcase_add_loop_test(ta, test_first_fit, 0, sizeof fits / sizeof fits[0]);
	tcase_add_test(ta, test_real_ids_block);
	tcase_add_test(ta, test_alloc_sequence_and_prefer);
	tcase_add_test(ta, test_deterministic);
	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_add_loop_test(tw, test_write_failures, 0, 5);
	tcase_add_test(tw, test_write_keeps_mode_and_backup);
	tcase_add_test(tw, test_lock_protocol);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, ta);
	suite_add_tcase(s, tw);
	return s;
}

NK_CHECK_MAIN(subidfile_suite)
