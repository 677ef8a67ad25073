/* nkcheck.h - shared bits of the Check unit suites */
#ifndef NSKIT_NKCHECK_H
#define NSKIT_NKCHECK_H

#include <check.h>
#include <stdlib.h>

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

#endif
