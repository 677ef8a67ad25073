/* paths.h - where the library finds the system's configuration */
#ifndef NSKIT_PATHS_H
#define NSKIT_PATHS_H

/* The folder of the system's configuration, /etc. Tests point the library
 * at a world of their own with NSKIT_SYSCONFDIR (an absolute path), as
 * libmount's tests do with LIBMOUNT_FSTAB: it replaces /etc for every file
 * the library reads or writes when no --root is given (subuid, subgid,
 * nsswitch.conf). No tool runs with AT_SECURE (nk_tool_init), so a setuid
 * copy can never be steered by it. */
const char *nk_sysconfdir(void);

#endif
