/* paths.h - where the library finds the system's configuration, and the
 * private folders of a user that no one else can make */
#ifndef NSKIT_PATHS_H
#define NSKIT_PATHS_H

#include <stddef.h>
#include <sys/types.h>

#define NK_RUNDIR "/run/user"

/* The folder of the system's configuration, /etc. Tests point the library
 * at a world of their own with NSKIT_SYSCONFDIR (an absolute path), as
 * libmount's tests do with LIBMOUNT_FSTAB: it replaces /etc for every file
 * the library reads or writes when no --root is given (subuid, subgid,
 * nsswitch.conf). No tool runs with AT_SECURE (nk_tool_init), so a setuid
 * copy can never be steered by it. */
const char *nk_sysconfdir(void);

/* /run/user/UID/nskit into OUT (1) when /run/user/UID is as logind makes
 * it: its parent root's and closed to others' writes, it UID's and private.
 * No other user can have made it first, nor can tmpfiles clean it while the
 * user is logged in. 0 when it is not. */
int nk_runtime_nskit_path(uid_t uid, char *out, size_t len);
/* ~/.cache/nskit of UID's home (from the password database, not $HOME)
 * into OUT (1), when the home and its .cache (made, mode 0700, when
 * missing) are UID's own folders; 0 when they are not. */
int nk_home_cache_nskit_path(uid_t uid, char *out, size_t len);

#endif
