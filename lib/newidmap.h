/* newidmap.h - shadow-utils' newuidmap and newgidmap, the programs that
 * write a map the caller's privilege cannot: where they are, whether they
 * can gain the privilege they need, and whether they take the target as
 * fd:N (lib/mapwrite runs them)
 */
#ifndef NSKIT_NEWIDMAP_H
#define NSKIT_NEWIDMAP_H

#include <limits.h>
#include <sys/types.h>
#include "err.h"
#include "idmap.h"

/* "newuidmap" (T == NK_UID) or "newgidmap". */
const char *nk_helper_name(enum nk_idtype t);

/* Path of newuidmap (t == NK_UID) or newgidmap: $NEWUIDMAP / $NEWGIDMAP,
 * else the first in PATH, else /usr/bin, /usr/sbin, /bin, /sbin. */
int nk_find_helper(enum nk_idtype t, char *out, size_t len, struct nk_err *e);

/* Is newuidmap (T == NK_UID) or newgidmap usable: can it gain the
 * privilege it needs? It must be setuid root or have cap_setuid
 * (cap_setgid) permitted in its file capabilities, and lie on a mount
 * without nosuid. The one answer nskit gives, with one text for each flaw:
 * the doctor's findings and the hint of a failed map write both come from
 * here. no_new_privs, a property of the process and not of the file, is
 * asked separately (nk_no_new_privs). */
enum nk_helper_flaw { NK_HELPER_UNPRIVILEGED = 0, NK_HELPER_NOSUID = 1 };
struct nk_helper_info {
	enum nk_idtype t;
	char path[PATH_MAX];
	uid_t uid;                     /* its owner and mode (st_mode) */
	mode_t mode;
	int filecap;                   /* cap_setuid (cap_setgid) permitted in its file capabilities */
	int nosuid;                    /* its mount has nosuid */
	unsigned flaws;                /* 1 << enum nk_helper_flaw for each found */
	char what[2][NK_ERR_MAX];      /* for each flaw found: what is wrong */
	char fix[2][NK_ERR_MAX];       /* and how to fix it */
};
/* Flaws and texts from the facts (T, PATH, UID, MODE, FILECAP, NOSUID). */
void nk_helper_judge(struct nk_helper_info *h);
/* Read the facts of the helper at PATH and judge them: 0 when usable;
 * -EPERM when not, with E the first flaw's what and fix, and its kind
 * (NK_ERRK_HELPER_UNPRIVILEGED, NK_ERRK_HELPER_NOSUID); -errno when PATH
 * cannot be opened ("cannot open PATH: ..."). */
int nk_helper_usable(enum nk_idtype t, const char *path, struct nk_helper_info *h, struct nk_err *e);

/* Does HELPER take its target as "fd:N", N an fd of /proc/PID (shadow
 * 4.14 and later)? Read, never assumed, and never run: the program file
 * must contain the usage line's "fd:<pidfd>" (4.13 says "<pid>"). 0 for
 * a helper that cannot be read or is no regular file. */
int nk_helper_takes_fd(const char *helper);

#endif
