/* nsinfo.h - a process's user namespace, level by level up to ours
 *
 * The kernel keeps every extent's outside ids as ids of the initial
 * namespace and shows /proc/PID/uid_map translated to the namespace of the
 * reader (or to the parent when the reader is inside PID's namespace). So
 * read from here, the map of any nested namespace is already "to our ids";
 * the parent-relative map of each level is recovered by translating those
 * ids back through the parent level's map. The levels themselves are found
 * with ioctl(NS_GET_PARENT) on /proc/PID/ns/user (Linux 4.9), which stops
 * with EPERM at the namespace of the caller.
 */
#ifndef NSKIT_NSINFO_H
#define NSKIT_NSINFO_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"
#include "idmap.h"

/* The id the kernel shows for an id that is not mapped in the reader's
 * namespace (4294967295, "(uid_t)-1"). */
#define NK_ID_INVALID 4294967295U

struct nk_nslevel {
	uint64_t ino;          /* inode of the user namespace (its ns id) */
	uint32_t owner;        /* NS_GET_OWNER_UID, in our view; NK_ID_INVALID unknown */
	pid_t pid;             /* one process in it; 0 when none was found */
	int have_maps;         /* the maps below were read */
	struct nk_maps parent; /* outside ids as the parent level sees them */
	struct nk_maps host;   /* outside ids as we (the caller) see them */
};

/* lv[0] is PID's namespace, lv[n-1] the one whose parent is ours. When PID
 * is in our own namespace, n is 1 and lv[0] is ours, its maps relative to
 * its parent (depth 0). */
struct nk_nschain {
	size_t n;
	int self;              /* PID shares the caller's user namespace */
	struct nk_nslevel *lv;
};

int nk_nschain_read(pid_t pid, struct nk_nschain *c, struct nk_err *e);
void nk_nschain_free(struct nk_nschain *c);

/* Every pid whose /proc/PID/ns/user has inode INO, ascending. Processes we
 * may not inspect are left out. */
int nk_ns_pids(uint64_t ino, pid_t **pids, size_t *n, struct nk_err *e);

/* Express CHILD (outside ids in our view) in the ids of its parent level,
 * whose map to our view is PARENT: every extent's outside ids translated
 * back through PARENT, split where PARENT's extents split. An outside id
 * PARENT does not map gives -ENOENT. */
int nk_map_rebase(const struct nk_map *child, const struct nk_map *parent,
		  struct nk_map *out);

/* Who owns the outside ids [first, first+count) of an id type, in words:
 * "caller NAME" (the caller's own id), "user NAME" / "group NAME" (a real
 * id), "subuid NAME" / "subgid NAME" (inside NAME's subordinate range, as the
 * source of subordinate ids says: nk_subid_owner()), "host" (the whole id space of the initial namespace),
 * "unmapped" (not mapped in our namespace: 4294967295), or "-". */
void nk_range_owner(enum nk_idtype t, uint32_t first, uint32_t count,
		    char *buf, size_t len);

/* /proc/sys/kernel/overflowuid or overflowgid (65534 when unreadable). */
uint32_t nk_overflow_id(enum nk_idtype t);

/* The name of uid/gid ID in the passwd/group file PATH (a container's
 * /proc/PID/root/etc/passwd), copied to BUF; -ENOENT when absent. */
int nk_name_in_file(const char *path, uint32_t id, char *buf, size_t len);

#endif
