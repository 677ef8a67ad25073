/* proc.h - what nskit reads of a process from /proc, and pidfds */
#ifndef NSKIT_PROC_H
#define NSKIT_PROC_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"
#include "idmap.h"

/* Real and effective uid/gid from /proc/PID/status (pid 0: self). */
int nk_proc_ids(pid_t pid, uid_t *ruid, uid_t *euid, gid_t *rgid, gid_t *egid,
		struct nk_err *e);
/* Inode of /proc/PID/ns/<name> ("user", "mnt", "pid"). */
int nk_proc_ns_ino(pid_t pid, const char *name, uint64_t *ino, struct nk_err *e);
/* Start time (clock ticks since boot, field 22 of /proc/PID/stat): with the
 * pid it names one process for good, even after the pid is reused. */
int nk_proc_starttime(pid_t pid, uint64_t *start, struct nk_err *e);
/* Same, and the state letter (field 3: 'R', 'S', 'Z' for a zombie...). */
int nk_proc_stat(pid_t pid, char *state, uint64_t *start, struct nk_err *e);
/* What /proc/PID/status says of a process (pid 0: self). */
struct nk_proc_status {
	char state;                     /* 'R', 'S', 'Z' (zombie), 'X' (dead)... */
	unsigned threads;               /* Threads: (a zombie leader counts itself) */
	uint32_t ids[2][4];             /* [NK_UID], [NK_GID]: real, effective, saved, filesystem, as we see them */
	uint32_t nspid;                 /* its pid in its own pid namespace (last NSpid) */
	unsigned nspid_levels;          /* pid namespaces from this /proc's down to its own */
};
int nk_proc_status(pid_t pid, struct nk_proc_status *st, struct nk_err *e);
/* Has the process ended? A zombie has, but only once all its threads have:
 * a main thread that called pthread_exit() while others run shows 'Z' with
 * Threads > 1, and those threads are still in its namespaces. */
int nk_proc_status_gone(const struct nk_proc_status *st);
/* nk_proc_status, then nk_proc_status_gone (unreadable: gone). */
int nk_proc_gone(pid_t pid);
/* The comm name and command line (NUL separated args joined by spaces). */
int nk_proc_cmdline(pid_t pid, char *buf, size_t len);
/* Does /proc/PID exist? */
int nk_proc_exists(pid_t pid);
/* pidfd_open(2) with O_CLOEXEC semantics (pidfds are always close-on-exec). */
int nk_pidfd_open(pid_t pid, unsigned flags);
int nk_pidfd_send_signal(int pidfd, int sig);
/* PR_GET_NO_NEW_PRIVS of this process. */
int nk_no_new_privs(void);
/* One number from a /proc/sys file (0 to LONG_MAX): 0, or -errno
 * (-EIO for an empty file, -EINVAL for one that holds no such number). */
int nk_read_sysctl(const char *path, long *out);

#endif
