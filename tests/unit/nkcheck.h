/* nkcheck.h - shared bits of the Check unit suites */
#ifndef NSKIT_NKCHECK_H
#define NSKIT_NKCHECK_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>

/* Every check_<module>.c defines its suite and ends with NK_CHECK_MAIN(fn). */
#define NK_CHECK_MAIN(suite_fn)                                  \
	int main(void)                                           \
	{                                                        \
		SRunner *sr = srunner_create(suite_fn());        \
		int nfailed;                                     \
		srunner_run_all(sr, CK_NORMAL);                  \
		nfailed = srunner_ntests_failed(sr);             \
		srunner_free(sr);                                \
		return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE; \
	}

/* A fresh temporary folder (nk_test_mkdtemp) or file (nk_test_mkstemp,
 * returns its fd) named /tmp/NAME.<six random characters>, its path in BUF.
 * One place builds the template that mkdtemp(3) and mkstemp(3) want. */
static inline int nk_test_template(char *buf, size_t len, const char *name)
{
	static const char six[] = { 'X', 'X', 'X', 'X', 'X', 'X', '\0' };
	int n = snprintf(buf, len, "/tmp/%s.%s", name, six);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

static inline char *nk_test_mkdtemp(char *buf, size_t len, const char *name)
{
	return nk_test_template(buf, len, name) == 0 ? mkdtemp(buf) : NULL;
}

static inline int nk_test_mkstemp(char *buf, size_t len, const char *name)
{
	return nk_test_template(buf, len, name) == 0 ? mkstemp(buf) : -1;
}

/* Wait for child PID, which must exit (not be killed); its exit status. */
static inline int nk_test_exit_status(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

#endif
