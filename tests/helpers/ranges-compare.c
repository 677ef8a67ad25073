/* ranges-compare USER - print USER's subordinate uid and gid ranges as
 * nskit reads them (nk_subid_ranges) and as libsubid reads them, one line
 * each, for the differential test of the files source. */
#include <shadow/subid.h>
#include <stdio.h>
#include <stdlib.h>
#include "subid.h"

int main(int argc, char **argv)
{
	struct nk_err e;

	if (argc != 2)
		return 2;
	for (int t = NK_UID; t <= NK_GID; t++) {
		struct nk_ranges r;
		struct subid_range *lr = NULL;
		int n;

		if (nk_subid_ranges(argv[1], (enum nk_idtype)t, &r, &e) < 0) {
			printf("nskit %s: error: %s\n", nk_idtype_name((enum nk_idtype)t), e.msg);
		} else {
			printf("nskit %s:", nk_idtype_name((enum nk_idtype)t));
			for (size_t i = 0; i < r.n; i++)
				printf(" %u:%u", r.r[i].start, r.r[i].count);
			printf("\n");
			nk_ranges_free(&r);
		}
		n = t == NK_UID ? subid_get_uid_ranges(argv[1], &lr) : subid_get_gid_ranges(argv[1], &lr);
		printf("libsubid %s:", nk_idtype_name((enum nk_idtype)t));
		for (int i = 0; i < n; i++)
			printf(" %lu:%lu", lr[i].start, lr[i].count);
		printf("\n");
		free(lr);
	}
	return 0;
}
