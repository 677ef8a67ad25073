/* creds.h - the credentials of this process: its uid, gid, groups and
 * capabilities, changed together (after entering a user namespace, to
 * become someone there)
 */
#ifndef NSKIT_CREDS_H
#define NSKIT_CREDS_H

#include <sys/types.h>
#include "err.h"

/* Become UID/GID (both mapped) in the namespace we are in. KEEP_CAPS: the
 * capabilities survive the change and the exec (ambient set). DROP_GROUPS:
 * no supplementary groups any more (util-linux unshare --setgid), where
 * setgroups(2) is allowed; where it is denied (/proc/self/setgroups "deny")
 * the kernel keeps them, and so do we. */
int nk_become(uid_t uid, gid_t gid, int keep_caps, int drop_groups, struct nk_err *e);

#endif
