#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "nkcheck.h"
#include "journal.h"

static char line[ISH_LINE_MAX];

START_TEST(test_record_roundtrip)
{
	static struct ish_record r, back;

	memset(&r, 0, sizeof r);
	r.kind = 'p';
	r.ino = 123456789012ULL;
	r.id.has_btime = 1;
	r.id.btime = (struct timespec){ 1796670971, 244540149 };
	r.id.handle_type = 1;
	r.id.handle_len = 8;
	memcpy(r.id.handle, "\x29\x2a\xa7\x00\xd2\x01\x53\xa2", 8);
	r.ouid = 0, r.ogid = 42, r.omode = 04755;
	r.tuid = 100000, r.tgid = 100042, r.tmode = 04755;
	r.chown = 1, r.chmod = 1;
	r.acl_len[0] = 4;
	memcpy(r.acl[0], "\x02\x00\x00\x00", 4);
	r.acl_len[1] = -1;
	r.cap_len = 20;
	memset(r.cap, 0xab, 20);
	ish_record_format(&r, line, sizeof line);
	ck_assert_ptr_nonnull(strstr(line, " end\n"));
	line[strlen(line) - 1] = '\0';
	ck_assert_int_eq(ish_record_parse(line, &back), 0);
	ck_assert_int_eq(back.kind, 'p');
	ck_assert_uint_eq(back.ino, r.ino);
	ck_assert_int_eq(ish_ident_match(&back.id, &r.id), 1);
	ck_assert_uint_eq(back.tuid, 100000);
	ck_assert_uint_eq(back.ogid, 42);
	ck_assert_uint_eq(back.tmode, 04755);
	ck_assert_int_eq(back.acl_len[0], 4);
	ck_assert_int_eq(back.acl_len[1], -1);
	ck_assert_int_eq(back.cap_len, 20);
	ck_assert_mem_eq(back.cap, r.cap, 20);

	r.kind = 'f';
	ish_record_format(&r, line, sizeof line);
	ck_assert_str_eq(line, "f 123456789012 1796670971.244540149\n");
	line[strlen(line) - 1] = '\0';
	ck_assert_int_eq(ish_record_parse(line, &back), 0);
	ck_assert_int_eq(back.kind, 'f');
}
END_TEST

/* Lines a kill, a disk or a hand could leave: every one refused. */
static const char *bad_lines[] = {
	"",
	"x 1 -",
	"f",
	"f 12x -",
	"f -1 -",
	"f 99999999999999999999999 -",
	"p 1 - - 0 0 755 1 1 755 1 1 - - -",                   /* no "end": cut short */
	"p 1 - - 0 0 755 1 1 755 1 1 - - - end extra",
	"p 1 - - 0 0 799 1 1 755 1 1 - - - end",               /* not octal */
	"p 1 - - 0 0 755 1 1 755 1 1 0g - - end",              /* not hex */
	"p 1 - - 0 0 755 1 1 755 1 1 0 - - end",               /* half a byte */
	"p 1 - - 4294967296 0 755 1 1 755 1 1 - - - end",      /* uid too big */
	"p 1 - - 0 0 755 1 1 755 2 1 - - - end",
	"p 1 12.x - 0 0 755 1 1 755 1 1 - - - end",
	"p 1 1.1000000000 - 0 0 755 1 1 755 1 1 - - - end",    /* nsec out of range */
	"p 1 - 1: 0 0 755 1 1 755 1 1 - - - end",
	"p 1 - x:00 0 0 755 1 1 755 1 1 - - - end",
};

START_TEST(test_record_bad)
{
	static struct ish_record r;

	ck_assert_msg(ish_record_parse(bad_lines[_i], &r) < 0, "accepted: '%s'", bad_lines[_i]);
}
END_TEST

START_TEST(test_ident_match)
{
	struct ish_ident a = { 0 }, b = { 0 };

	/* Nothing to compare: never the same. */
	ck_assert_int_eq(ish_ident_match(&a, &b), 0);
	a.has_btime = b.has_btime = 1;
	a.btime = b.btime = (struct timespec){ 5, 6 };
	ck_assert_int_eq(ish_ident_match(&a, &b), 1);
	b.btime.tv_nsec = 7;
	ck_assert_int_eq(ish_ident_match(&a, &b), 0);
	b.btime.tv_nsec = 6;
	a.handle_len = b.handle_len = 2;
	a.handle_type = b.handle_type = 1;
	memcpy(a.handle, "ab", 2);
	memcpy(b.handle, "ac", 2);
	ck_assert_int_eq(ish_ident_match(&a, &b), 0);   /* another generation */
}
END_TEST

static char dir[256];

static FILE *journal_of(const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof p, "%s/j", dir);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	return fopen(p, "r");
}

START_TEST(test_head)
{
	struct ish_head h = { 0 }, back;
	struct nk_err e;
	char buf[1024];
	FILE *f;

	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "check_journal"));
	h.fp = 0x6c1ac403cbfae7e2ULL;
	h.tree.dev = 65024;
	h.tree.ino = 10955278;
	h.tree.fsid = 0x8e11afc6315005ecULL;
	h.tree.id.has_btime = 1;
	h.tree.id.btime = (struct timespec){ 1796670971, 216540149 };
	h.start = (struct timespec){ 1796670971, 284265132 };
	ish_head_format(&h, buf, sizeof buf);
	f = journal_of(buf);
	ck_assert_int_eq(ish_journal_read_head(f, "j", &back, &e), 0);
	fclose(f);
	ck_assert_uint_eq(back.fp, h.fp);
	ck_assert_int_eq(ish_tree_match(&back.tree, &h.tree), 1);
	ck_assert_int_eq(back.start.tv_nsec, 284265132);
	/* The same numbers, another birth time: another tree. */
	back.tree.id.btime.tv_sec++;
	ck_assert_int_eq(ish_tree_match(&back.tree, &h.tree), 0);

	f = journal_of("nskit-idmap-shift journal 1\nmaps 0\n");
	ck_assert_int_lt(ish_journal_read_head(f, "j", &back, &e), 0);
	fclose(f);
	f = journal_of("hello\n");
	ck_assert_int_lt(ish_journal_read_head(f, "j", &back, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "'j'"));
	fclose(f);
	f = journal_of("");
	ck_assert_int_lt(ish_journal_read_head(f, "j", &back, &e), 0);
	fclose(f);
}
END_TEST

START_TEST(test_state_dir)
{
	struct nk_err e;
	char p[512], q[600];
	int fd = -1;

	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "check_journal"));
	snprintf(p, sizeof p, "%s/a/b/state", dir);
	ck_assert_int_eq(ish_state_dir_open(p, 1, &fd, &e), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	chmod(p, 0777);
	ck_assert_int_lt(ish_state_dir_open(p, 1, &fd, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "may be written by others (mode 0777)"));
	chmod(p, 0700);
	ck_assert_int_eq(ish_state_dir_open(p, 0, &fd, &e), 0);
	/* A journal that is a symlink, or writable by others: refused. */
	FILE *f = NULL;
	ck_assert_int_eq(symlinkat("/etc/passwd", fd, "x.journal"), 0);
	ck_assert_int_eq(ish_journal_open(fd, p, "x.journal", &f, &e), -EPERM);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symlink"));
	unlinkat(fd, "x.journal", 0);
	close(openat(fd, "x.journal", O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
	fchmodat(fd, "x.journal", 0666, 0);
	ck_assert_int_eq(ish_journal_open(fd, p, "x.journal", &f, &e), -EPERM);
	ck_assert_ptr_nonnull(strstr(e.msg, "may be written by others"));
	ck_assert_int_eq(ish_journal_open(fd, p, "none.journal", &f, &e), 0);
	ck_assert_ptr_null(f);
	close(fd);
	snprintf(q, sizeof q, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(q), 0);
}
END_TEST

START_TEST(test_state_default)
{
	char buf[256];

	setenv("XDG_STATE_HOME", "/home/alice/.local/state", 1);
	setenv("HOME", "/home/alice", 1);
	ish_state_dir_default(1, buf, sizeof buf);
	ck_assert_str_eq(buf, "/var/lib/nskit/idmap-shift");        /* never the environment's */
	ish_state_dir_default(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "/home/alice/.local/state/nskit/idmap-shift");
	unsetenv("XDG_STATE_HOME");
	ish_state_dir_default(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "/home/alice/.local/state/nskit/idmap-shift");
	setenv("XDG_STATE_HOME", "relative", 1);
	ish_state_dir_default(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "/home/alice/.local/state/nskit/idmap-shift");
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_record_roundtrip);
	tcase_add_loop_test(tc, test_record_bad, 0, (int)(sizeof bad_lines / sizeof *bad_lines));
	tcase_add_test(tc, test_ident_match);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_state_dir);
	tcase_add_test(tc, test_state_default);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(journal_suite)
