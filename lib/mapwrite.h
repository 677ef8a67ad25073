/* mapwrite.h - writing a process's maps: directly where the kernel allows it,
 * otherwise through shadow-utils' newuidmap and newgidmap, both at once
 *
 * The kernel lets a process write a child namespace's map itself when it has
 * CAP_SETUID (CAP_SETGID) over the parent namespace, or when the map is just
 * its own id; for a gid map that also needs "deny" in /proc/PID/setgroups
 * first (CVE-2014-8989: otherwise an unprivileged user could drop
 * supplementary groups used as negative permissions). Everything else goes
 * through the setuid helpers, which check /etc/subuid and /etc/subgid.
 */
#ifndef NSKIT_MAPWRITE_H
#define NSKIT_MAPWRITE_H

#include <limits.h>
#include <sys/types.h>
#include "err.h"
#include "idmap.h"

enum nk_write { NK_WRITE_DIRECT = 0, NK_WRITE_HELPER = 1 };
enum nk_setgroups { NK_SETGROUPS_DEFAULT = 0, NK_SETGROUPS_ALLOW, NK_SETGROUPS_DENY };

struct nk_plan {
	enum nk_write how[2];          /* indexed by enum nk_idtype */
	char helper[2][PATH_MAX];      /* newuidmap / newgidmap when used */
	enum nk_setgroups setgroups;   /* DENY: write "deny" before gid_map */
	int privileged[2];             /* CAP_SETUID / CAP_SETGID in our namespace */
	int by_fd[2];                  /* the helper gets "fd:N" (set by nk_write_maps) */
};

/* Decide how each map is written, for this process as the writer. */
int nk_plan_write(const struct nk_maps *m, enum nk_setgroups sg, struct nk_plan *p,
		  struct nk_err *e);

/* Before anything is written: is every outside range one the caller may
 * map? Unprivileged: its own id (count 1) or inside USER's subordinate
 * ranges. In a nested namespace also: inside one extent of our own map
 * (the kernel maps each extent through a single parent extent). */
int nk_maps_check_allowed(const struct nk_maps *m, const struct nk_plan *p,
			  const char *user, uid_t uid, gid_t gid, struct nk_err *e);

/* Write setgroups (when planned), then uid_map and gid_map of PID, running
 * newuidmap and newgidmap at the same time where the plan says so.
 * PIDFD (a pidfd of PID, opened before the caller's checks; or -1): every
 * file written is opened and then the process found still alive, and the
 * helpers start only while it is, so the pid never names another process
 * (one started under a reused pid) than the one that was checked. A helper
 * that takes fd:N (nk_helper_takes_fd) is given /proc/PID opened while the
 * process was found alive, so it can write no other process. One that
 * takes only a pid opens /proc/PID itself: when the process is found ended
 * after it ran, the maps may have gone to a process that took the pid, and
 * that is an error (-ESRCH) that says so. */
int nk_write_maps(pid_t pid, int pidfd, const struct nk_maps *m, const struct nk_plan *p,
		  struct nk_err *e);

/* Write one map of PID from this process, in one write(2). */
int nk_write_map_direct(pid_t pid, int pidfd, enum nk_idtype t, const struct nk_map *m,
			const struct nk_plan *p, struct nk_err *e);

/* The children that write maps from this namespace, for a caller that
 * needs them started before the target is ready (nk_userns_create starts
 * them, then unshares: the target is itself). Prepare: one child for each
 * map the plan gives to newuidmap/newgidmap, and with LEAVING also for each
 * direct write that needs our privilege in this namespace; they wait.
 * Go: they write (nk_write_maps holds them too, for a target that is
 * ready: released together they overlap better than started one by one,
 * measured). Finish: collect their output, reap them, explain the first
 * failure (unless FIRST_ERR, the caller's own, is already set, which is
 * returned); frees WS. Cancel: they exit without writing; frees WS. */
struct nk_writers;
int nk_writers_prepare(pid_t target, const struct nk_maps *m, const struct nk_plan *p, int leaving,
		       struct nk_writers **ws, struct nk_err *e);
int nk_writers_go(struct nk_writers *ws, struct nk_err *e);
int nk_writers_finish(struct nk_writers *ws, pid_t target, const struct nk_plan *p, int first_err,
		      struct nk_err *e);
void nk_writers_cancel(struct nk_writers *ws);
/* Go, then (while the children run) the direct writes of the plan that
 * are this process's own (not the privileged ones the children of a
 * LEAVING prepare write), then Finish. PIDFD as for nk_write_maps. */
int nk_writers_run(struct nk_writers *ws, pid_t pid, int pidfd, const struct nk_maps *m,
		   const struct nk_plan *p, struct nk_err *e);

/* Write "deny" or "allow" to /proc/PID/setgroups. */
int nk_write_setgroups(pid_t pid, int pidfd, enum nk_setgroups sg, struct nk_err *e);

#endif
