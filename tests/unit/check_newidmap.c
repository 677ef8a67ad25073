#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include "nkcheck.h"
#include "newidmap.h"

START_TEST(test_find_env)
{
	char buf[PATH_MAX];
	struct nk_err e;

	setenv("NEWUIDMAP", "/bin/true", 1);
	ck_assert_int_eq(nk_find_helper(NK_UID, buf, sizeof buf, &e), 0);
	ck_assert_str_eq(buf, "/bin/true");
	setenv("NEWGIDMAP", "/nonexistent/newgidmap", 1);
	ck_assert_int_eq(nk_find_helper(NK_GID, buf, sizeof buf, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "newgidmap '/nonexistent/newgidmap' (from $NEWGIDMAP) cannot be run: "
			 "No such file or directory");
}
END_TEST

START_TEST(test_find_missing)
{
	char buf[PATH_MAX];
	struct nk_err e;

	unsetenv("NEWUIDMAP");
	setenv("PATH", "relative:/nonexistent", 1);
	/* falls back to the standard folders, where the uidmap package puts it */
	if (access("/usr/bin/newuidmap", X_OK) == 0) {
		ck_assert_int_eq(nk_find_helper(NK_UID, buf, sizeof buf, &e), 0);
		ck_assert_str_eq(buf, "/usr/bin/newuidmap");
	}
	setenv("NEWUIDMAP", "", 1);
	setenv("PATH", "/nonexistent", 1);
	setenv("NEWUIDMAP", "/etc/passwd", 1);   /* exists, not executable */
	ck_assert_int_lt(nk_find_helper(NK_UID, buf, sizeof buf, &e), 0);
	ck_assert_str_eq(e.msg, "newuidmap '/etc/passwd' (from $NEWUIDMAP) cannot be run: Permission denied");
}
END_TEST

/* fd: support is read from the helper's usage line, never assumed. */
static const struct {
	const char *script;       /* NULL: no such file */
	int want;
} takes_fd_cases[] = {
	{ "echo 'usage: newuidmap [<pid>|fd:<pidfd>] <uid> <loweruid> <count> ...' >&2; exit 1", 1 },
	{ "echo 'usage: newuidmap <pid> <uid> <loweruid> <count> ...' >&2; exit 1", 0 },
	{ "echo 'usage: newuidmap [<pid>|fd:<pidfd>] ...'; exit 0", 1 },   /* on stdout */
	{ "exit 1", 0 },
	{ "kill -KILL $$", 0 },
	{ NULL, 0 },
};

START_TEST(test_takes_fd)
{
	char path[256];
	int fd;

	if (!takes_fd_cases[_i].script) {
		ck_assert_int_eq(nk_helper_takes_fd("/nonexistent/newuidmap"), 0);
		return;
	}
	fd = nk_test_mkstemp(path, sizeof path, "nskit-helper");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(dprintf(fd, "#!/bin/sh\n%s\n", takes_fd_cases[_i].script), 0);
	close(fd);
	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert_int_eq(nk_helper_takes_fd(path), takes_fd_cases[_i].want);
	unlink(path);
}
END_TEST

/* Read from the file, never run: a helper whose text offers fd:<pidfd>
 * takes fd:N, and running it would have left the mark. */
START_TEST(test_takes_fd_not_run)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], mark[PATH_MAX + 16];
	FILE *f;

	ck_assert_ptr_nonnull(nk_test_mkdtemp(dir, sizeof dir, "nskit-takes"));
	snprintf(path, sizeof path, "%s/newuidmap", dir);
	snprintf(mark, sizeof mark, "%s/ran", dir);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\ntouch %s\necho 'usage: newuidmap [<pid>|fd:<pidfd>] ...' >&2\n", mark);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert_int_eq(nk_helper_takes_fd(path), 1);
	ck_assert_int_eq(access(mark, F_OK), -1);
	/* The string across the boundary of two reads (64 KiB blocks). */
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 65536 - 4; i++)
		fputc('x', f);
	fputs("fd:<pidfd>", f);
	fclose(f);
	ck_assert_int_eq(nk_helper_takes_fd(path), 1);
	/* Only the string decides: "fd:" alone is not it. */
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fputs("usage: newuidmap <pid> ... fd: <pidfd>", f);
	fclose(f);
	ck_assert_int_eq(nk_helper_takes_fd(path), 0);
	/* No regular file (a FIFO would block a plain open): no, at once. */
	unlink(path);
	ck_assert_int_eq(mkfifo(path, 0755), 0);
	ck_assert_int_eq(nk_helper_takes_fd(path), 0);
	unlink(path);
	ck_assert_int_eq(nk_helper_takes_fd(dir), 0);
}
END_TEST

/* Is a helper usable: the facts of the file, the first flaw as the error
 * (its kind, what and fix), an error of no kind for a file that cannot be
 * opened. */
START_TEST(test_usable)
{
	struct nk_helper_info h;
	char path[256], want[1024];
	struct nk_err e;
	int fd = nk_test_mkstemp(path, sizeof path, "nskit-newuidmap");

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert_int_eq(nk_helper_usable(NK_UID, path, &h, &e), -EPERM);
	ck_assert_int_eq(e.kind, NK_ERRK_HELPER_UNPRIVILEGED);
	ck_assert_uint_eq(h.flaws, 1u << NK_HELPER_UNPRIVILEGED);
	snprintf(want, sizeof want, "%s is neither setuid root nor has the file capability cap_setuid (owner %u, "
		 "mode 0755) (as root: 'chmod u+s %s' (owner root) or 'setcap cap_setuid+ep %s', or reinstall it)",
		 path, (unsigned)geteuid(), path, path);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(nk_helper_usable(NK_GID, "/nonexistent/newgidmap", &h, &e), -ENOENT);
	ck_assert_int_eq(e.kind, NK_ERRK_NONE);
	ck_assert_str_eq(e.msg, "cannot open /nonexistent/newgidmap: No such file or directory");
	if (geteuid() == 0) {
		struct statvfs vfs;

		ck_assert_int_eq(chmod(path, 04755), 0);
		ck_assert_int_eq(statvfs(path, &vfs), 0);
		ck_assert_int_eq(nk_helper_usable(NK_GID, path, &h, &e), (vfs.f_flag & ST_NOSUID) ? -EPERM : 0);
		ck_assert_uint_eq(h.flaws, (vfs.f_flag & ST_NOSUID) ? 1u << NK_HELPER_NOSUID : 0);
	}
	unlink(path);
	/* nosuid alone, from the facts. */
	memset(&h, 0, sizeof h);
	h.t = NK_GID;
	snprintf(h.path, sizeof h.path, "/usr/bin/newgidmap");
	h.mode = S_IFREG | S_ISUID | 0755;
	h.nosuid = 1;
	nk_helper_judge(&h);
	ck_assert_uint_eq(h.flaws, 1u << NK_HELPER_NOSUID);
	ck_assert_str_eq(h.what[NK_HELPER_NOSUID], "/usr/bin/newgidmap is on a nosuid mount: its setuid bit and "
			 "file capabilities are ignored");
	ck_assert_str_eq(h.fix[NK_HELPER_NOSUID], "install newgidmap on a file system mounted without nosuid");
}
END_TEST

static Suite *newidmap_suite(void)
{
	Suite *s = suite_create("newidmap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_find_env);
	tcase_add_loop_test(tc, test_takes_fd, 0, (int)(sizeof takes_fd_cases / sizeof takes_fd_cases[0]));
	tcase_add_test(tc, test_find_missing);
	tcase_add_test(tc, test_usable);
	tcase_add_test(tc, test_takes_fd_not_run);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(newidmap_suite)
