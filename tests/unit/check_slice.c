/* check_slice - isolated slices: picking, reuse, exhaustion, records */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "nkcheck.h"
#include "proc.h"
#include "slice.h"
#include "tool.h"

#define MAXR 4
#define MAXS 6

/* A slice at uid=gid=FIRST of COUNT ids, owned by a session or a pid. */
struct sl { uint32_t first, count; pid_t pid; const char *session; };
#define S(first, count) { (first), (count), 0, NULL }

static void fill(const struct nk_range *rv, struct nk_ranges *r, struct nk_range *buf,
		 const struct sl *sv, struct nk_slices *s, struct nk_slice *sbuf)
{
	r->n = 0;
	r->r = buf;
	for (size_t i = 0; i < MAXR && rv[i].count; i++)
		buf[r->n++] = rv[i];
	s->n = 0;
	s->v = sbuf;
	for (size_t i = 0; i < MAXS && sv[i].count; i++) {
		memset(&sbuf[s->n], 0, sizeof sbuf[0]);
		sbuf[s->n].uid = sbuf[s->n].gid = sv[i].first;
		sbuf[s->n].count = sv[i].count;
		sbuf[s->n].pid = sv[i].pid ? sv[i].pid : 4242;
		sbuf[s->n].start = 7;
		if (sv[i].session)
			snprintf(sbuf[s->n].session, sizeof sbuf[0].session, "%s", sv[i].session);
		s->n++;
	}
}

static const struct {
	const char *what;
	struct nk_range r[MAXR];
	struct sl used[MAXS];
	uint32_t size;
	int64_t want;           /* -1: none */
} picks[] = {
	{ "empty range: its start", { { 100000, 65536 } }, { { 0 } }, 65536, 100000 },
	{ "after a used slice", { { 100000, 65536 } }, { S(100000, 4096) }, 4096, 104096 },
	{ "a hole left by a released slice", { { 100000, 65536 } },
	  { S(100000, 4096), S(108192, 4096) }, 4096, 104096 },
	{ "a hole too small is skipped", { { 100000, 65536 } },
	  { S(100000, 4096), S(106000, 4096) }, 4096, 110096 },
	{ "full range", { { 100000, 65536 } }, { S(100000, 65536) }, 1, -1 },
	{ "larger than the range", { { 100000, 65536 } }, { { 0 } }, 65537, -1 },
	{ "first full: the second range", { { 100000, 65536 }, { 1000000, 65536 } },
	  { S(100000, 65536) }, 65536, 1000000 },
	{ "ranges in order of start, not of the file", { { 1000000, 65536 }, { 100000, 65536 } },
	  { { 0 } }, 1000, 100000 },
	{ "never across two adjacent ranges", { { 100000, 1000 }, { 101000, 1000 } },
	  { { 0 } }, 1500, -1 },
	{ "the smaller range when it fits", { { 100000, 65536 }, { 200000, 1000 } },
	  { S(100000, 65536) }, 1000, 200000 },
	{ "a slice that overlaps the range start", { { 100000, 10000 } }, { S(99000, 2000) }, 100, 101000 },
	{ "the top of the id space", { { 4294901759u, 65536 } }, { { 0 } }, 65536, 4294901759u },
	{ "no ranges", { { 0 } }, { { 0 } }, 1, -1 },
	{ "size 0", { { 100000, 65536 } }, { { 0 } }, 0, -1 },
};

START_TEST(test_pick)
{
	struct nk_range rb[MAXR];
	struct nk_slice sb[MAXS];
	struct nk_ranges r;
	struct nk_slices s;
	uint32_t got = 0;
	int ret;

	fill(picks[_i].r, &r, rb, picks[_i].used, &s, sb);
	for (int t = NK_UID; t <= NK_GID; t++) {
		ret = nk_slice_pick(&r, &s, (enum nk_idtype)t, picks[_i].size, &got);
		if (picks[_i].want < 0) {
			ck_assert_msg(ret == -ENOSPC, "%s: got %d (start %u)", picks[_i].what, ret, got);
		} else {
			ck_assert_msg(ret == 0, "%s: %d", picks[_i].what, ret);
			ck_assert_msg(got == (uint32_t)picks[_i].want, "%s: got %u, want %lld", picks[_i].what, got,
				      (long long)picks[_i].want);
		}
	}
}
END_TEST

static const struct {
	struct nk_range r[MAXR];
	struct sl used[MAXS];
	uint32_t size;
	const char *fix;         /* unused: the tool adds the fix (cli nk_err_text) */
	const char *msg;
	uint64_t want;
} exhausted[] = {
	{ { { 100000, 65536 }, { 1000000, 65536 } }, { { 100000, 65536, 0, "a" }, { 1000000, 65536, 4242, NULL } },
	  65536, NULL,
	  "no free slice of 65536 ids: 0 of 131072 subordinate uids free, 131072 in use (session 'a': 65536, "
	  "pid 4242: 65536)", 262144 },
	{ { { 100000, 65536 } }, { { 0 } }, 100000, NULL,
	  "no free slice of 100000 ids: 65536 of 65536 subordinate uids free, 0 in use", 262144 },
	{ { { 100000, 10000 } }, { { 100000, 4000, 17, NULL }, { 106000, 4000, 18, NULL } }, 3000, NULL,
	  "no free slice of 3000 ids: 2000 of 10000 subordinate uids free, 8000 in use (pid 17: 4000, "
	  "pid 18: 4000)", 65536 },
	{ { { 100000, 65536 } }, { { 100000, 65536, 0, "build" } }, 65536, NULL,
	  "no free slice of 65536 ids: 0 of 65536 subordinate uids free, 65536 in use (session 'build': 65536)",
	  131072 },
};

START_TEST(test_exhausted)
{
	struct nk_range rb[MAXR];
	struct nk_slice sb[MAXS];
	struct nk_ranges r;
	struct nk_slices s;
	struct nk_err e;
	uint32_t got;

	fill(exhausted[_i].r, &r, rb, exhausted[_i].used, &s, sb);
	ck_assert_int_eq(nk_slice_pick(&r, &s, NK_UID, exhausted[_i].size, &got), -ENOSPC);
	ck_assert_int_eq(nk_slice_exhausted(&e, NK_UID, exhausted[_i].size, &r, &s, "alice"), -ENOSPC);
	ck_assert_str_eq(e.msg, exhausted[_i].msg);
	/* lib names no tool: the kind, the user and the size to ask for travel
	 * up, and the tool's report adds the fix. */
	ck_assert_int_eq(e.kind, NK_ERRK_NO_SUBIDS);
	ck_assert_str_eq(e.subject, "alice");
	ck_assert_uint_eq(e.want, exhausted[_i].want);
	{
		char text[NK_ERR_MAX + 600], want[NK_ERR_MAX + 600];

		e.alt = ", or use a smaller --isolate=SIZE";
		snprintf(want, sizeof want, "%s (run 'subid-alloc --count %llu alice' as root, or use a smaller "
			 "--isolate=SIZE)", exhausted[_i].msg, (unsigned long long)exhausted[_i].want);
		ck_assert_str_eq(nk_err_text(&e, text, sizeof text), want);
	}
}
END_TEST

START_TEST(test_exhausted_many)
{
	/* Too many owners to name: the line ends with "..." and stays short. */
	struct nk_range rb[1] = { { 100000, 65536 } };
	struct nk_ranges r = { 1, rb };
	struct nk_slice sb[65];
	struct nk_slices s = { 64, sb };
	struct nk_err e;

	memset(sb, 0, sizeof sb);
	for (int i = 0; i < 64; i++) {
		sb[i].uid = sb[i].gid = 100000 + (uint32_t)i * 1024;
		sb[i].count = 1024;
		sb[i].pid = 1000000 + i;
		sb[i].start = 1;
	}
	nk_slice_exhausted(&e, NK_UID, 1024, &r, &s, "alice");
	ck_assert_ptr_nonnull(strstr(e.msg, "pid 1000000: 1024, pid 1000001: 1024"));
	ck_assert_ptr_nonnull(strstr(e.msg, ", ...)"));
	ck_assert_uint_eq(e.want, 131072);
	ck_assert_uint_lt(strlen(e.msg), NK_ERR_MAX - 1);
}
END_TEST

/* Reuse: a slice whose owner has ended is free for the next pick. */
static pid_t dead_pid;
static int fake_alive(const struct nk_slice *s)
{
	return s->pid != dead_pid;
}

START_TEST(test_reuse)
{
	struct nk_range rb[1] = { { 100000, 65536 } };
	struct nk_ranges r = { 1, rb };
	struct nk_slices s = { 0, NULL };
	struct nk_slice one;
	uint32_t got;

	memset(&one, 0, sizeof one);
	for (int i = 0; i < 16; i++) {
		ck_assert_int_eq(nk_slice_pick(&r, &s, NK_UID, 4096, &got), 0);
		ck_assert_uint_eq(got, 100000 + (uint32_t)i * 4096);
		one.uid = one.gid = got;
		one.count = 4096;
		one.pid = 100 + i;
		one.start = 1;
		ck_assert_int_eq(nk_slices_add(&s, &one), 0);
	}
	ck_assert_int_eq(nk_slice_pick(&r, &s, NK_UID, 4096, &got), -ENOSPC);
	dead_pid = 105;
	ck_assert_uint_eq(nk_slices_reclaim(&s, fake_alive), 1);
	ck_assert_uint_eq(s.n, 15);
	ck_assert_int_eq(nk_slice_pick(&r, &s, NK_GID, 4096, &got), 0);
	ck_assert_uint_eq(got, 100000 + 5 * 4096);
	ck_assert_int_eq(nk_slice_pick(&r, &s, NK_UID, 4097, &got), -ENOSPC);
	nk_slices_free(&s);
}
END_TEST

/* The owner: pid, start time and, when recorded, pid namespace and its pid
 * there. */
static struct nk_slice owner(pid_t pid, uint64_t start, uint64_t pidns, uint32_t nspid)
{
	struct nk_slice s;

	memset(&s, 0, sizeof s);
	s.pid = pid;
	s.start = start;
	s.pidns = pidns;
	s.nspid = nspid;
	return s;
}

START_TEST(test_alive)
{
	uint64_t start, pidns;
	struct nk_slice o;
	struct nk_err e;
	pid_t child;

	ck_assert_int_eq(nk_proc_starttime(0, &start, &e), 0);
	ck_assert_int_eq(nk_proc_ns_ino(0, "pid", &pidns, &e), 0);
	o = owner(getpid(), start, 0, 0);
	ck_assert_int_eq(nk_slice_alive(&o), 1);
	o = owner(getpid(), start + 1, 0, 0);
	ck_assert_int_eq(nk_slice_alive(&o), 0);                      /* a reused pid */
	o = owner(getpid(), start, pidns, (uint32_t)getpid());
	ck_assert_int_eq(nk_slice_alive(&o), 1);
	/* The same pid and start time, recorded in another pid namespace:
	 * another process (a record made there names its own pid). */
	o = owner(getpid(), start, pidns + 1000000, (uint32_t)getpid());
	o.seen = pidns;         /* that namespace is one this /proc shows (found there before) */
	ck_assert_int_eq(nk_slice_alive(&o), 0);
	o = owner(getpid(), start, pidns, (uint32_t)getpid() + 1);
	ck_assert_int_eq(nk_slice_alive(&o), 0);
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	o = owner(child, start, 0, 0);
	ck_assert_int_eq(nk_slice_alive(&o), 0);                      /* gone */
}
END_TEST

static const char good[] = "nskit-slices 1\n"
			   "uid=100000 gid=200000 count=65536 pid=42 start=777 userns=4026532841 pidns=4026531836 nspid=3 "
			   "session=build\n"
			   "uid=165536 gid=265536 count=10 pid=43 start=778\n";

START_TEST(test_parse_roundtrip)
{
	struct nk_slices s = { 0, NULL };
	struct nk_err e;
	char buf[1024];

	ck_assert_int_eq(nk_slices_parse(good, &s, &e), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.v[0].uid, 100000);
	ck_assert_uint_eq(s.v[0].gid, 200000);
	ck_assert_uint_eq(s.v[0].count, 65536);
	ck_assert_int_eq(s.v[0].pid, 42);
	ck_assert_uint_eq(s.v[0].start, 777);
	ck_assert_str_eq(s.v[0].session, "build");
	ck_assert_uint_eq(s.v[0].userns, 4026532841u);
	ck_assert_uint_eq(s.v[0].pidns, 4026531836u);
	ck_assert_uint_eq(s.v[0].nspid, 3);
	ck_assert_uint_eq(s.v[1].userns, 0);
	ck_assert_uint_eq(s.v[1].pidns, 0);
	ck_assert_str_eq(s.v[1].session, "");
	ck_assert_int_eq(nk_slices_format(&s, buf, sizeof buf), (int)strlen(good));
	ck_assert_str_eq(buf, good);
	ck_assert_int_eq(nk_slices_format(&s, buf, 20), -ENOSPC);
	ck_assert_ptr_eq(nk_slice_lookup(&s, NK_UID, 100000, 65536), &s.v[0]);
	ck_assert_ptr_eq(nk_slice_lookup(&s, NK_GID, 265540, 2), &s.v[1]);
	ck_assert_ptr_null(nk_slice_lookup(&s, NK_UID, 165530, 10));
	ck_assert_ptr_null(nk_slice_lookup(&s, NK_GID, 100000, 1));
	nk_slice_owner(&s.v[0], buf, sizeof buf);
	ck_assert_str_eq(buf, "session 'build'");
	nk_slice_owner(&s.v[1], buf, sizeof buf);
	ck_assert_str_eq(buf, "pid 43");
	nk_slices_free(&s);
	/* Unknown keys and comments are ignored. */
	ck_assert_int_eq(nk_slices_parse("nskit-slices 1\n# x\n\nuid=1 gid=2 count=3 pid=4 start=5 new=x\n",
					 &s, &e), 0);
	ck_assert_uint_eq(s.n, 1);
	nk_slices_free(&s);
	ck_assert_int_eq(nk_slices_parse("nskit-slices 1\n", &s, &e), 0);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

static const struct { const char *text; const char *msg; } bad[] = {
	{ "", "slice records: empty file" },
	{ "nskit-slices 2\n", "slice records: not a slice file (first line 'nskit-slices 2')" },
	{ "nskit-slices 1\nuid=1 gid=2 count=3 pid=4\n",
	  "slice records: line 2: incomplete (needs uid, gid, count, pid, start)" },
	{ "nskit-slices 1\nuid=1 gid=2 count=0 pid=4 start=5\n", "slice records: line 2: invalid count '0'" },
	{ "nskit-slices 1\nuid=x gid=2 count=1 pid=4 start=5\n", "slice records: line 2: invalid uid 'x'" },
	{ "nskit-slices 1\nuid=1 gid=2 count=1 pid=0 start=5\n", "slice records: line 2: invalid pid '0'" },
	{ "nskit-slices 1\nuid=1 gid=2 count=1 pid=4 start=-5\n", "slice records: line 2: invalid start '-5'" },
	{ "nskit-slices 1\nuid=1 gid=2 count=1 pid=4 start=5 session=../x\n",
	  "slice records: line 2: invalid session '../x'" },
	{ "nskit-slices 1\nuid=1 junk\n", "slice records: line 2: no '=' in 'junk'" },
	{ "nskit-slices 1\nuid=4294967294 gid=2 count=2 pid=4 start=5\n",
	  "slice records: line 2: the slice goes past id 4294967294" },
};

START_TEST(test_parse_bad)
{
	struct nk_slices s = { 0, NULL };
	struct nk_err e;

	ck_assert_int_lt(nk_slices_parse(bad[_i].text, &s, &e), 0);
	ck_assert_str_eq(e.msg, bad[_i].msg);
	nk_slices_free(&s);
}
END_TEST

/* The kernel's view for the reservations here: what TAKEN holds (uid side
 * and gid side alike), nothing else of the machine's. */
static struct nk_idspan taken_v[2];
static size_t taken_n;

static int fake_taken(uid_t uid, gid_t gid, struct nk_idspans out[2], struct nk_err *e)
{
	(void)uid;
	(void)gid;
	(void)e;
	for (int t = 0; t < 2; t++) {
		out[t].n = taken_n;
		out[t].v = taken_n ? malloc(taken_n * sizeof *out[t].v) : NULL;
		if (taken_n)
			memcpy(out[t].v, taken_v, taken_n * sizeof *out[t].v);
	}
	return 0;
}

/* The file: reserve, move, release in a private folder; the records of
 * processes that have ended are dropped on the next write. */
START_TEST(test_store_widest)
{
	/* Records at their widest (every number at its largest, a session name
	 * of NK_SESSION_NAME_MAX) are stored and read back whole. */
	struct nk_slice v[3];
	struct nk_slices s = { 3, v }, back = { 0, NULL };
	struct nk_err e;
	char dir[64];
	int dfd;

	memset(v, 0, sizeof v);
	for (int i = 0; i < 3; i++) {
		v[i].uid = v[i].gid = 4294967295U - 100U * (uint32_t)(3 - i);
		v[i].count = 100;
		v[i].pid = 2147483647 - i;
		v[i].start = UINT64_MAX - (uint64_t)i;
		v[i].userns = UINT64_MAX - (uint64_t)i;
		v[i].pidns = UINT64_MAX - (uint64_t)i;
		v[i].nspid = 2147483647U;
		v[i].seen = UINT64_MAX - (uint64_t)i;
		memset(v[i].session, 'a' + i, NK_SESSION_NAME_MAX);
		v[i].session[NK_SESSION_NAME_MAX] = '\0';
	}
	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "check_slice"));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	ck_assert_msg(nk_slices_store(dfd, &s, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(nk_slices_load(dfd, &back, &e), 0);
	ck_assert_uint_eq(back.n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(back.v[i].uid, v[i].uid);
		ck_assert_uint_eq(back.v[i].nspid, v[i].nspid);
		ck_assert_uint_eq(back.v[i].seen, v[i].seen);
		ck_assert_str_eq(back.v[i].session, v[i].session);
	}
	nk_slices_free(&back);
	unlinkat(dfd, NK_SLICE_FILE, 0);
	close(dfd);
}
END_TEST

START_TEST(test_file)
{
	char dir[64];
	struct nk_range ub[1] = { { 100000, 65536 } }, gb[1] = { { 200000, 65536 } };
	struct nk_ranges ur = { 1, ub }, gr = { 1, gb };
	struct nk_slices s = { 0, NULL };
	struct nk_slice a, b;
	struct nk_err e;
	uint64_t me;
	struct stat st;
	int dfd, lk;

	taken_n = 0;
	nk_slice_set_taken(fake_taken);
	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "check_slice"));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(nk_slices_load(dfd, &s, &e), 0);             /* no file: none */
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(nk_proc_starttime(0, &me, &e), 0);
	ck_assert_int_eq(nk_slice_reserve(dfd, "alice", &ur, &gr, 4096, getpid(), me, NULL, &a, &e), 0);
	ck_assert_uint_eq(a.uid, 100000);
	ck_assert_uint_eq(a.gid, 200000);
	/* A record of a process that is gone (start time 1) does not block. */
	ck_assert_int_eq(nk_slice_reserve(dfd, "alice", &ur, &gr, 4096, getpid(), 1, "old", &b, &e), 0);
	ck_assert_uint_eq(b.uid, 104096);
	ck_assert_int_eq(nk_slice_reserve(dfd, "alice", &ur, &gr, 4096, getpid(), me, "x", &b, &e), 0);
	ck_assert_uint_eq(b.uid, 104096);
	ck_assert_int_eq(nk_slices_load_live(dfd, &s, &e), 0);
	ck_assert_uint_eq(s.n, 2);
	nk_slices_free(&s);
	ck_assert_int_eq(nk_slice_reserve(dfd, "alice", &ur, &gr, 65536, getpid(), me, NULL, &b, &e), -ENOSPC);
	{
		char want[512];

		snprintf(want, sizeof want, "no free slice of 65536 ids: 57344 of 65536 subordinate uids free, "
			 "8192 in use (pid %d: 4096, session 'x': 4096)", (int)getpid());
		ck_assert_str_eq(e.msg, want);
		ck_assert_uint_eq(e.want, 131072);
	}
	ck_assert_int_eq(nk_slice_move(dfd, 999999999, 1, getpid(), me, "y", 0, &e), -ENOENT);
	ck_assert_int_eq(nk_slice_release(dfd, getpid(), me, &e), 0);
	ck_assert_int_eq(nk_slices_load(dfd, &s, &e), 0);
	ck_assert_uint_eq(s.n, 1);                                    /* one of the two with pid+start */
	nk_slices_free(&s);
	ck_assert_int_eq(fstatat(dfd, NK_SLICE_FILE, &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	lk = nk_slices_lock(dfd, &e);
	ck_assert_int_ge(lk, 0);
	ck_assert_int_ne(fcntl(lk, F_GETFD) & FD_CLOEXEC, 0);
	close(lk);
	/* Ids the kernel shows a namespace holding are taken, with a record or
	 * without: the records say 100000-104095 is free again, a namespace
	 * with no record maps 100000-100099 (and 200000-200099). */
	ck_assert_int_eq(nk_slice_release(dfd, getpid(), 1, &e), 0);
	ck_assert_int_eq(nk_slices_load(dfd, &s, &e), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.v[0].uid, 104096);
	nk_slices_free(&s);
	taken_v[0] = (struct nk_idspan){ 100000, 100, 4242 };
	taken_v[1] = (struct nk_idspan){ 104096, 4096, 4243 };       /* the recorded slice's own namespace */
	taken_n = 2;
	ck_assert_int_eq(nk_slice_reserve(dfd, "alice", &ur, &gr, 4096, getpid(), me, NULL, &a, &e), 0);
	ck_assert_uint_eq(a.uid, 108192);
	ck_assert_uint_eq(a.gid, 200000);                            /* those ids are no gids of alice */
	ck_assert_int_eq(nk_slice_reserve(dfd, "alice", &ur, &gr, 65536, getpid(), me, NULL, &b, &e), -ENOSPC);
	{
		char want[512];

		/* Named once: the namespace of a recorded slice is its record. */
		snprintf(want, sizeof want, "no free slice of 65536 ids: 57244 of 65536 subordinate uids free, "
			 "8292 in use (session 'x': 4096, pid %d: 4096, pid 4242, no record: 100)", (int)getpid());
		ck_assert_str_eq(e.msg, want);
		ck_assert_uint_eq(e.want, 131072);
	}
	taken_n = 0;
	nk_slice_set_taken(NULL);
	unlinkat(dfd, NK_SLICE_FILE, 0);
	unlinkat(dfd, NK_SLICE_LOCK, 0);
	close(dfd);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static int all_gone(const struct nk_slice *s)
{
	(void)s;
	return 0;
}

/* Its owner gone, a slice is kept while a process is left in its user
 * namespace mapping it (this one: in ours, mapping its first uid), and only
 * then: not for another inode, nor for ids that namespace does not map. */
START_TEST(test_reclaim_userns)
{
	struct nk_slices s = { 0, NULL };
	struct nk_slice one;
	struct nk_err e;
	struct nk_map m;
	uint64_t ino;
	uint32_t first;

	nk_map_init(&m);
	ck_assert_int_eq(nk_map_read_proc(0, NK_UID, &m, &e), 0);
	ck_assert_uint_gt(m.n, 0);
	first = m.ext[0].outer;
	nk_map_free(&m);
	ck_assert_int_eq(nk_proc_ns_ino(0, "user", &ino, &e), 0);
	memset(&one, 0, sizeof one);
	one.uid = one.gid = first;
	one.count = 1;
	one.pid = 999999999;
	one.start = 1;
	one.userns = ino;
	ck_assert_int_eq(nk_slices_add(&s, &one), 0);               /* held: we are in it */
	one.userns = ino + 1000000;
	ck_assert_int_eq(nk_slices_add(&s, &one), 0);               /* no such namespace */
	one.userns = 0;
	ck_assert_int_eq(nk_slices_add(&s, &one), 0);               /* no namespace recorded */
	ck_assert_uint_eq(nk_slices_reclaim(&s, all_gone), 2);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.v[0].userns, ino);
	nk_slices_free(&s);
}
END_TEST

/* The records file must be a regular file: a FIFO is an error, at once. */
START_TEST(test_file_fifo)
{
	char tmpl[64], path[128];
	char *d = nk_test_mkdtemp(tmpl, sizeof tmpl, "check_slice");
	struct nk_slices s = { 0, NULL };
	struct nk_err e;
	int dfd;

	ck_assert_ptr_nonnull(d);
	dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	snprintf(path, sizeof path, "%s/" NK_SLICE_FILE, d);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(nk_slices_load(dfd, &s, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "/.slices' are not a regular file (remove it)"));
	unlink(path);
	snprintf(path, sizeof path, "%s/" NK_SLICE_LOCK, d);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(nk_slices_lock(dfd, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "/.slices.lock' is not a regular file (remove it)"));
	unlink(path);
	close(dfd);
	rmdir(d);
}
END_TEST

static Suite *slice_suite(void)
{
	Suite *s = suite_create("slice");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_pick, 0, NK_ARRAY_SIZE(picks));
	tcase_add_loop_test(tc, test_exhausted, 0, NK_ARRAY_SIZE(exhausted));
	tcase_add_test(tc, test_exhausted_many);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_alive);
	tcase_add_test(tc, test_parse_roundtrip);
	tcase_add_loop_test(tc, test_parse_bad, 0, NK_ARRAY_SIZE(bad));
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_store_widest);
	tcase_add_test(tc, test_reclaim_userns);
	tcase_add_test(tc, test_file_fifo);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(slice_suite)
