#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "nkcheck.h"
#include "subidalloc.h"

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

/* shadow's reading of a line (strtoul base 0, first three fields). */
static const struct {
	const char *line;
	int ok;
	uint64_t start, count;
} shadow_lines[] = {
	{ "alice:100000:65536", 1, 100000, 65536 },
	{ "alice:0200000:65536", 1, 65536, 65536 },             /* octal */
	{ "carol:0x927c0:65536", 1, 600000, 65536 },            /* hex */
	{ "carol:0X10:0x10", 1, 16, 16 },
	{ "d: 100000:+65536", 1, 100000, 65536 },               /* blank, plus */
	{ "d:\t100000:65536", 1, 100000, 65536 },
	{ "d:100000:-1", 1, 100000, UINT64_MAX },                /* wraps: grants nothing */
	{ "d:0100000:65536", 1, 32768, 65536 },                 /* we read 100000 */
	{ "x:0:0", 1, 0, 0 },
	{ "a b:1:2", 1, 1, 2 },
	{ "alice:300000:65536:x", 1, 300000, 65536 },
	{ "#alice:100000:65536", 1, 100000, 65536 },             /* our comment, shadow's owner */
	{ "+alice:100000:65536", 0, 0, 0 },                      /* NIS: ignored */
	{ "-alice:100000:65536", 0, 0, 0 },
	{ ":100000:65536", 0, 0, 0 },
	{ "alice::65536", 0, 0, 0 },
	{ "alice:1:", 0, 0, 0 },
	{ "alice:08:1", 0, 0, 0 },                               /* not octal */
	{ "alice:0x:1", 0, 0, 0 },
	{ "alice:1 :1", 0, 0, 0 },                               /* trailing blank */
	{ "alice:99999999999999999999999:1", 0, 0, 0 },
	{ "alice:100000", 0, 0, 0 },
	{ "", 0, 0, 0 },
};

START_TEST(test_shadow_line)
{
	struct nk_sf_line l;

	ck_assert_int_eq(nk_sf_parse_line(shadow_lines[_i].line, &l), 0);
	ck_assert_msg(l.sh_ok == shadow_lines[_i].ok, "'%s': sh_ok %d", shadow_lines[_i].line, l.sh_ok);
	if (l.sh_ok) {
		ck_assert_uint_eq(l.sh_start, shadow_lines[_i].start);
		ck_assert_uint_eq(l.sh_count, shadow_lines[_i].count);
	}
	free(l.text);
	free(l.owner);
}
END_TEST

static const struct {
	const char *num;
	int ret;
	uint64_t v;
	const char *how;
} shadow_nums[] = {
	{ "100000", 0, 100000, "" },
	{ "0", 0, 0, "" },
	{ "0200000", 0, 65536, "octal" },
	{ "0x927c0", 0, 600000, "hexadecimal" },
	{ " 5", 0, 5, "leading blank" },
	{ "+5", 0, 5, "plus sign" },
	{ " -0x1", 0, UINT64_MAX, "leading blank, minus sign, hexadecimal" },
	{ "", -EINVAL, 0, "" },
	{ "5 ", -EINVAL, 0, "" },
	{ "x", -EINVAL, 0, "" },
	{ "09", -EINVAL, 0, "" },
	{ "18446744073709551616", -EINVAL, 0, "" },
};

START_TEST(test_shadow_num)
{
	char how[64];
	uint64_t v = 0;

	ck_assert_int_eq(nk_sf_shadow_num(shadow_nums[_i].num, strlen(shadow_nums[_i].num), &v,
					  how, sizeof how), shadow_nums[_i].ret);
	if (shadow_nums[_i].ret == 0) {
		ck_assert_uint_eq(v, shadow_nums[_i].v);
		ck_assert_str_eq(how, shadow_nums[_i].how);
	}
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
	/* what shadow reads is taken too: octal 65536-131071, hex 600000-665535 */
	{ "alice:0200000:65536\n", 100000, 600100000, 65536, 0, 0, 131072 },
	{ "carol:0x927c0:65536\n", 550000, 600100000, 65536, 0, 0, 665536 },
	{ "d: +100000:65536\n", 100000, 600100000, 65536, 0, 0, 165536 },
	{ "d:0100000:65536\n", 100000, 600100000, 65536, 0, 0, 165536 },   /* both readings */
	{ "d:0100000:65536\n", 30000, 600100000, 100, 0, 0, 30000 },
	{ "d:0100000:65536\n", 32768, 600100000, 100, 0, 0, 98304 },
	{ "d:0100000:65536\n", 32768, 600100000, 2000, 0, 0, 165536 },
	{ "#a:100000:65536\n", 100000, 600100000, 65536, 0, 0, 165536 },
	{ "+a:100000:65536\n", 100000, 600100000, 65536, 0, 0, 165536 },   /* NIS for shadow, ours */
	{ "x:0:0\n", 100000, 600100000, 65536, 0, -ENOSPC, 0 },            /* shadow: every id */
	{ "x:100000:-1\n", 100000, 600100000, 65536, 0, 0, 100000 },        /* wraps: none */
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

/* (uid_t)-1 is never part of a range, whatever SUB_UID_MAX says. */
START_TEST(test_top_id_cap)
{
	struct nk_space s;
	struct nk_alloc_policy p = { .min = 4294901760ULL, .max = 4294967295ULL, .count = 65536 };
	uint64_t st;

	ck_assert_int_eq(nk_space_build(&s, NULL, NULL, 0), 0);
	ck_assert_int_eq(nk_alloc(&s, &p, 1000, UINT64_MAX, &st), -ENOSPC);
	ck_assert_int_eq(nk_alloc(&s, &p, 1000, 4294901760ULL, &st), -ENOSPC);
	p.deterministic = 1;
	p.uid_min = 1000;
	ck_assert_int_eq(nk_alloc(&s, &p, 1000, UINT64_MAX, &st), -ERANGE);
	p.deterministic = 0;
	p.min = 4294901759ULL;
	ck_assert_int_eq(nk_alloc(&s, &p, 1000, UINT64_MAX, &st), 0);
	ck_assert_uint_eq(st, 4294901759ULL);
	ck_assert_uint_eq(st + p.count - 1, 4294967294ULL);
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

static int fail_at;      /* which call fails: 1 write, 2 fsync, 3 link, 4 rename, 6 the 2nd rename */
static int renames;
static ssize_t bad_write(int fd, const void *b, size_t n)
{
	if (fail_at == 1) { errno = ENOSPC; return -1; }
	if (fail_at == 5) return write(fd, b, n > 3 ? 3 : n) < 0 ? -1 : (n > 3 ? (errno = EIO, -1) : (ssize_t)n);
	return write(fd, b, n);
}
static int bad_fsync(int fd) { if (fail_at == 2) { errno = EIO; return -1; } return fsync(fd); }
static int bad_link(int d, const char *a, int d2, const char *b, int fl)
{
	if (fail_at == 3) { errno = EPERM; return -1; }
	return linkat(d, a, d2, b, fl);
}
static int bad_rename(int d, const char *a, int d2, const char *b)
{
	renames++;
	if (fail_at == 4 || (fail_at == 6 && renames == 2)) { errno = EXDEV; return -1; }
	return renameat(d, a, d2, b);
}

static char tmpdir[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(nk_test_mkdtemp(tmpdir, sizeof tmpdir, "nk-subidfile"));
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

static void init_at(struct nk_sf *f, const char *name)
{
	char path[160];
	struct nk_err e;
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(dfd, 0);
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_int_eq(nk_sf_init_at(f, dfd, name, path, &e), 0);
	close(dfd);
}

START_TEST(test_lock_protocol)
{
	char path[128], lock[140];
	struct nk_sf a, b;
	struct nk_err e;
	pid_t dead;

	snprintf(path, sizeof path, "%s/subuid", tmpdir);
	snprintf(lock, sizeof lock, "%s.lock", path);
	init_at(&a, "subuid");
	init_at(&b, "subuid");
	ck_assert_int_eq(nk_sf_lock(&a, 1, &e), 0);
	ck_assert_int_eq(nk_sf_lock(&b, 2, &e), -EBUSY);   /* we hold it */
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
	ck_assert_int_eq(nk_sf_lock(&b, 1, &e), 0);
	nk_sf_unlock(&b);
	put(lock, "garbage", 0600);
	ck_assert_int_eq(nk_sf_lock(&b, 1, &e), -ENOLCK);
	nk_sf_free(&a);
	nk_sf_free(&b);
}
END_TEST

/* Both files or neither: the second rename fails, the first file is put
 * back from its backup. */
START_TEST(test_write2_rollback)
{
	char pu[128], pg[128], plus[400];
	struct nk_sf u, g;
	struct nk_err e;
	struct stat st;

	snprintf(pu, sizeof pu, "%s/subuid", tmpdir);
	snprintf(pg, sizeof pg, "%s/subgid", tmpdir);
	put(pu, orig, 0644);
	put(pg, orig, 0644);
	ck_assert_int_eq(nk_sf_load(&u, pu, &e), 0);
	ck_assert_int_eq(nk_sf_load(&g, pg, &e), 0);
	ck_assert_int_eq(nk_sf_add(&u, "bob", 165536, 65536), 0);
	ck_assert_int_eq(nk_sf_add(&g, "bob", 165536, 65536), 0);
	fail_at = 6;
	renames = 0;
	nk_sf_io = (struct nk_sf_io){ bad_write, bad_fsync, bad_rename, bad_link };
	ck_assert_int_eq(nk_sf_write2(&u, &g, &e), -EXDEV);
	snprintf(plus, sizeof plus, "cannot rename %s+ to %s: %s", pg, pg, strerror(EXDEV));
	ck_assert_str_eq(e.msg, plus);
	ck_assert_str_eq(slurp(pu), orig);       /* restored */
	ck_assert_str_eq(slurp(pg), orig);       /* never replaced */
	snprintf(plus, sizeof plus, "%s+", pu);
	ck_assert_int_eq(stat(plus, &st), -1);
	snprintf(plus, sizeof plus, "%s+", pg);
	ck_assert_int_eq(stat(plus, &st), -1);
	fail_at = 0;
	ck_assert_int_eq(nk_sf_write2(&u, &g, &e), 0);
	ck_assert_str_eq(slurp(pu), "# c\nalice:100000:65536\nbob:165536:65536\n");
	ck_assert_str_eq(slurp(pg), "# c\nalice:100000:65536\nbob:165536:65536\n");
	nk_sf_free(&u);
	nk_sf_free(&g);
}
END_TEST

/* Links planted in the folder are never followed: FILE.PID, FILE+ and
 * .pwd.lock pointing at a victim leave it alone; FILE itself a link, or
 * ROOT/etc a link, is refused. */
START_TEST(test_no_symlinks)
{
	char victim[128], p[160], root[160];
	struct nk_sf f;
	struct nk_err e;
	int etcfd, pwfd;

	snprintf(victim, sizeof victim, "%s/victim", tmpdir);
	put(victim, "precious\n", 0600);
	snprintf(p, sizeof p, "%s/subuid.%d", tmpdir, (int)getpid());
	ck_assert_int_eq(symlink(victim, p), 0);
	snprintf(p, sizeof p, "%s/subuid+", tmpdir);
	ck_assert_int_eq(symlink(victim, p), 0);
	snprintf(p, sizeof p, "%s/subuid-", tmpdir);
	ck_assert_int_eq(symlink(victim, p), 0);
	init_at(&f, "subuid");
	ck_assert_int_eq(nk_sf_lock(&f, 1, &e), 0);
	ck_assert_int_eq(nk_sf_read(&f, &e), 0);
	ck_assert_int_eq(nk_sf_add(&f, "bob", 165536, 65536), 0);
	ck_assert_int_eq(nk_sf_write(&f, &e), 0);
	nk_sf_free(&f);
	ck_assert_str_eq(slurp(victim), "precious\n");
	snprintf(p, sizeof p, "%s/subuid", tmpdir);
	ck_assert_str_eq(slurp(p), "bob:165536:65536\n");
	/* FILE a link: refused */
	snprintf(p, sizeof p, "%s/subgid", tmpdir);
	ck_assert_int_eq(symlink(victim, p), 0);
	init_at(&f, "subgid");
	ck_assert_int_eq(nk_sf_read(&f, &e), -ELOOP);
	nk_sf_free(&f);
	/* ROOT/etc/.pwd.lock a link: refused, nothing created */
	snprintf(root, sizeof root, "%s/root", tmpdir);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	snprintf(p, sizeof p, "%s/root/etc", tmpdir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/root/etc/.pwd.lock", tmpdir);
	ck_assert_int_eq(symlink("../../nologin", p), 0);
	ck_assert_int_eq(nk_sf_opendir(root, &etcfd, &e), 0);
	ck_assert_int_eq(nk_pwlock(root, etcfd, &pwfd, &e), -ELOOP);
	snprintf(p, sizeof p, "%s/nologin", tmpdir);
	ck_assert_int_eq(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s/root/etc/.pwd.lock", tmpdir);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(nk_pwlock(root, etcfd, &pwfd, &e), 0);    /* created new */
	nk_pwunlock(pwfd);
	close(etcfd);
	/* ROOT/etc a link: refused */
	snprintf(root, sizeof root, "%s/root2", tmpdir);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	snprintf(p, sizeof p, "%s/root2/etc", tmpdir);
	ck_assert_int_eq(symlink("../root/etc", p), 0);
	ck_assert_int_eq(nk_sf_opendir(root, &etcfd, &e), -ELOOP);
}
END_TEST

static Suite *subidfile_suite(void)
{
	Suite *s = suite_create("subidfile");
	TCase *tp = tcase_create("parse"), *ta = tcase_create("alloc"), *tw = tcase_create("write");

	tcase_add_loop_test(tp, test_parse_line, 0, sizeof lines / sizeof lines[0]);
	tcase_add_loop_test(tp, test_shadow_line, 0, sizeof shadow_lines / sizeof shadow_lines[0]);
	tcase_add_loop_test(tp, test_shadow_num, 0, sizeof shadow_nums / sizeof shadow_nums[0]);
	tcase_add_test(tp, test_roundtrip_and_edit);
	tcase_add_test(tp, test_owner_by_uid_and_final_newline);
	tcase_add_loop_test(ta, test_first_fit, 0, sizeof fits / sizeof fits[0]);
	tcase_add_test(ta, test_real_ids_block);
	tcase_add_test(ta, test_alloc_sequence_and_prefer);
	tcase_add_test(ta, test_deterministic);
	tcase_add_test(ta, test_top_id_cap);
	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_add_loop_test(tw, test_write_failures, 0, 5);
	tcase_add_test(tw, test_write_keeps_mode_and_backup);
	tcase_add_test(tw, test_lock_protocol);
	tcase_add_test(tw, test_write2_rollback);
	tcase_add_test(tw, test_no_symlinks);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, ta);
	suite_add_tcase(s, tw);
	return s;
}

NK_CHECK_MAIN(subidfile_suite)
