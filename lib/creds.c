#include <errno.h>
#include <grp.h>
#include <unistd.h>
#include <sys/prctl.h>
#include "caps.h"
#include "creds.h"

int nk_become(uid_t uid, gid_t gid, int keep_caps, int drop_groups, struct nk_err *e)
{
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return nk_syserr(e, errno, "cannot keep capabilities");
	/* The caller's supplementary groups would otherwise go with the new
	 * ids (shown as the overflow gid, still granting their access). EPERM:
	 * setgroups is denied in this namespace (CVE-2018-7169: dropping a
	 * group could bypass a "deny this group" permission), so they stay. */
	if (drop_groups && setgroups(0, NULL) < 0 && errno != EPERM)
		return nk_syserr(e, errno, "cannot drop the supplementary groups");
	if (setresgid(gid, gid, gid) < 0) {
		if (errno == EINVAL)
			return nk_errf(e, EINVAL, "cannot become gid %u: it is not mapped in the namespace",
				       (unsigned)gid);
		return nk_syserr(e, errno, "cannot become gid %u", (unsigned)gid);
	}
	if (setresuid(uid, uid, uid) < 0) {
		if (errno == EINVAL)
			return nk_errf(e, EINVAL, "cannot become uid %u: it is not mapped in the namespace",
				       (unsigned)uid);
		return nk_syserr(e, errno, "cannot become uid %u", (unsigned)uid);
	}
	if (keep_caps)
		return nk_caps_to_ambient(e);
	return 0;
}
