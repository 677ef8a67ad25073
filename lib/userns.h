/* userns.h - create and join user namespaces (becoming someone inside is lib/creds)
 *
 * Creating: the maps must be written from outside the new namespace
 * (newuidmap, newgidmap, or the caller's privilege there), so the children
 * that write them are started first and wait on a pipe; the process
 * unshares, writes setgroups, releases them and waits (DESIGN.md's
 * process model). The children are clone(CLONE_VM), so starting them
 * copies no page tables. When both maps are just the caller's own ids and
 * no privilege is involved, no child is made at all: the process writes
 * its own maps (what `unshare -r` does).
 *
 * Joining is one pidfd setns(2) (Linux 5.8) into the user namespace and,
 * when it differs from ours, the mount namespace of a process: both or
 * neither, with no window where only one is entered.
 */
#ifndef NSKIT_USERNS_H
#define NSKIT_USERNS_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"
#include "mapwrite.h"
#include "idmap.h"
#include "proc.h"

/* Does creating with these maps need the helper process (newuidmap,
 * newgidmap or privilege in the parent namespace), or can the process
 * write its own maps? */
int nk_userns_needs_helper(const struct nk_plan *p);

/* unshare(FLAGS) (CLONE_NEWUSER plus optionally CLONE_NEWNS, CLONE_NEWPID)
 * for this process and write its maps as planned. M NULL: no maps are
 * written (the caller leaves that to someone else). */
int nk_userns_create(int flags, const struct nk_maps *m, const struct nk_plan *p,
		     struct nk_err *e);

/* A new user namespace whose maps are M, written from here (directly:
 * this process must be privileged over every id of M, or M just its own
 * ids; -EPERM otherwise): its descriptor (O_RDONLY|O_CLOEXEC), for
 * mount_setattr(2) MOUNT_ATTR_IDMAP or setns(2). A child makes it and
 * waits in it, held by a pipe, until the descriptor is open; it is gone
 * when this returns. */
int nk_userns_open_mapped(const struct nk_maps *m, struct nk_err *e);

/* Owner uid of the user namespace of PID (ioctl NS_GET_OWNER_UID). */
int nk_userns_owner(pid_t pid, uid_t *owner, struct nk_err *e);

/* Enter the user namespace of the process behind PIDFD (pid PID, for
 * messages and /proc), and its mount namespace when that is not ours.
 * The working directory is kept by path when it exists there, else "/". */
int nk_userns_join(int pidfd, pid_t pid, struct nk_err *e);

/* A user namespace asked about: its inode, and host uids it maps. */
struct nk_userns_want {
	uint64_t ino;
	uint32_t uid, count;
};

/* Which of the namespaces W (N of them) still have a process in them, or in
 * a namespace made inside them, whose uid map (as we see it: host ids)
 * overlaps [uid, uid+count), or, where that map is not written (a namespace
 * made inside and left unmapped), whose ids (Uid: of /proc/PID/status) lie
 * there: FOUND[i] is one such pid, 0 for none. The map
 * check makes an inode number reused by an unrelated namespace count only
 * if that one maps the same ids (then they are taken anyway). Processes that
 * have ended do not count (nk_proc_gone: a zombie, unless a thread of it
 * still runs). Only what this /proc shows
 * is seen: processes we may not inspect (other users') are not ours anyway.
 * -errno, with E filled, when /proc cannot be read. */
int nk_userns_scan(const struct nk_userns_want *w, size_t n, pid_t *found, struct nk_err *e);

/* Host ids a user namespace holds: [start, start+count), pid one process there. */
struct nk_idspan {
	uint32_t start, count;
	pid_t pid;
};
struct nk_idspans {
	size_t n;
	struct nk_idspan *v;
};
void nk_idspans_free(struct nk_idspans *s);

/* The kernel's view of which ids are in use, whatever any record says:
 * OUT[NK_UID] and OUT[NK_GID] get the outer ids of the uid and gid maps of
 * every process (not gone) in a user namespace other than ours that maps
 * neither UID in its uid map nor GID in its gid map (so: not the caller's
 * own namespaces, where the caller is someone, nor the host's, which maps
 * everyone: an isolated one), and for a process whose map is not written,
 * the ids it runs with. -errno, with E filled ("cannot see which ids the
 * user namespaces hold (/proc)"), when /proc cannot be read. */
int nk_userns_taken(uid_t uid, gid_t gid, struct nk_idspans out[2], struct nk_err *e);

/* Set the propagation of every mount (MS_PRIVATE, MS_SLAVE, MS_SHARED). */
int nk_set_propagation_all(unsigned long type, struct nk_err *e);

/* Mount a fresh /proc (for a new pid namespace). */
int nk_mount_proc(struct nk_err *e);

/* {"pid":P,"userns":INODE}\n, as written to --info-fd, into BUF (LEN
 * bytes): its length, or -ENOSPC, with E filled, when it does not fit. */
int nk_userns_info_json(pid_t pid, uint64_t userns, char *buf, size_t len, struct nk_err *e);

#endif
