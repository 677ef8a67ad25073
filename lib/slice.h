/* slice.h - isolated namespaces: a unique slice of the caller's subordinate
 * ids per namespace (what podman's --userns=auto does for containers)
 *
 * A slice is COUNT uids starting at UID and COUNT gids starting at GID, each
 * inside one of the caller's subordinate ranges. Inside the namespace ids
 * 0..COUNT-1 map onto it; the caller's own id is not mapped, so root inside
 * one isolated namespace is nobody in another one, nor the caller.
 *
 * Slices in use are recorded in one folder per uid, whatever the
 * environment (nk_slice_dir_open: /run/user/UID/nskit when logind made
 * /run/user/UID, else /tmp/nskit-UID, else, when another user made that
 * first, ~/.cache/nskit), in the file ".slices" (a leading dot: never a
 * session name), rewritten atomically (temporary file + rename) while an
 * flock(2) on ".slices.lock" is held.
 *
 * The records are not the authority: which folder is used can change (a
 * login, a private /tmp), and records can be removed. Before a slice is
 * given, the kernel is asked (nk_userns_taken): ids that any isolated user
 * namespace maps are taken, recorded or not.
 *
 * A record names its owner by pid, start time, pid namespace and pid there
 * (and the session when there is one), and, once the namespace exists, the
 * inode of its user namespace. A slice is free only when no process is
 * left in that namespace (nor in a namespace made inside it, mapped or
 * not): while the owner lives it is held; once the owner is gone /proc is
 * asked. A process has ended only once all its threads have
 * (nk_proc_gone). Records whose owner is gone (or its pid now names
 * another process) and whose namespace is empty are reclaimed.
 *
 * File format (one slice a line, key=value words, unknown keys ignored):
 *     nskit-slices 1
 *     uid=100000 gid=100000 count=65536 pid=4242 start=1234567 userns=4026532841 pidns=4026531836 nspid=4242 session=build
 * (and seen=INODE: the pid namespace of a /proc that found the owner alive
 * in PIDNS, below it; see nk_slice_alive).
 */
#ifndef NSKIT_SLICE_H
#define NSKIT_SLICE_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"
#include "idmap.h"
#include "session.h"
#include "subid.h"
#include "userns.h"

#define NK_SLICE_DEFAULT 65536u
#define NK_SLICE_FILE ".slices"
#define NK_SLICE_LOCK ".slices.lock"
#define NK_SLICE_FILE_MAX (4u << 20)     /* bytes: some 40000 records */

struct nk_slice {
	uint32_t uid, gid, count;       /* first host uid and gid, size */
	pid_t pid;                      /* the owner: holder or command */
	uint64_t start;                 /* its start time (/proc/PID/stat field 22) */
	uint64_t userns;                /* inode of its user namespace, 0 until it has one */
	uint64_t pidns;                 /* inode of its pid namespace (0: an older record) */
	uint32_t nspid;                 /* its pid there (NSpid's last), which PID may not be */
	uint64_t seen;                  /* a pid namespace whose /proc found it alive in PIDNS, below */
	char session[NK_SESSION_NAME_MAX + 1];   /* "" when none */
	int unrecorded;                 /* not a record: ids a namespace holds (never stored) */
};

struct nk_slices {
	size_t n;
	struct nk_slice *v;
};

void nk_slices_free(struct nk_slices *s);
int nk_slices_add(struct nk_slices *s, const struct nk_slice *one);
/* First host id of the slice for uids or gids. */
uint32_t nk_slice_first(const struct nk_slice *s, enum nk_idtype t);

/* Record text: parse (appends to *out) and format (returns the length or
 * -ENOSPC). */
int nk_slices_parse(const char *text, struct nk_slices *out, struct nk_err *e);
int nk_slices_format(const struct nk_slices *s, char *buf, size_t len);

/* Is the owner of S alive (or not known to be gone): the process PID with
 * its start time, not gone (nk_proc_gone: a zombie with a thread left is
 * not), and, when recorded, in pid namespace PIDNS as pid NSPID there? A
 * record made in another pid namespace names a pid that means another
 * process here: its owner is looked for by namespace, own pid and start
 * time. Without a match it is gone only when its pid namespace is one this
 * /proc shows (it has a process here, or a reclaim from this /proc found
 * the owner in it before: SEEN, or this /proc is the initial namespace's);
 * one this /proc cannot show (an ancestor's: records made on the host, read
 * in a container with a /proc of its own) is kept. (Tests pass their own.) */
typedef int (*nk_slice_alive_fn)(const struct nk_slice *s);
int nk_slice_alive(const struct nk_slice *s);
/* Drop every record whose owner is not alive (ALIVE, NULL: nk_slice_alive)
 * and whose user namespace, when recorded, has no process left; returns how
 * many. */
size_t nk_slices_reclaim(struct nk_slices *s, nk_slice_alive_fn alive);

/* First fit: the lowest START, in order of range start, such that
 * [START, START+SIZE) lies inside one range of R and overlaps no slice of
 * USED (their uid or gid side, by T). -ENOSPC when there is none. */
int nk_slice_pick(const struct nk_ranges *r, const struct nk_slices *used, enum nk_idtype t,
		  uint32_t size, uint32_t *start);

/* Ids of R in total and in use by USED. */
void nk_slice_usage(const struct nk_ranges *r, const struct nk_slices *used, enum nk_idtype t,
		    uint64_t *total, uint64_t *inuse);

/* The exhaustion message, for T when no slice of SIZE fits:
 * "no free slice of 65536 ids: 0 of 131072 subordinate uids free, 131072 in use
 * (session 'a': 65536, pid 4242: 65536)", of kind NK_ERRK_NO_SUBIDS for USER
 * with e->want the range size to ask for (262144): the tool adds the fix
 * ("run 'subid-alloc --count 262144 alice' as root"). Returns -ENOSPC. */
int nk_slice_exhausted(struct nk_err *e, enum nk_idtype t, uint32_t size, const struct nk_ranges *r,
		       const struct nk_slices *used, const char *user);

/* The folder of the records for UID, and it opened (created, mode 0700,
 * when CREATE) and checked as nk_session_dir_open does: /run/user/UID/nskit
 * where /run/user/UID is what logind makes (root's parent, UID's private
 * folder), else /tmp/nskit-UID; when that is someone else's (made first by
 * another user), ~/.cache/nskit of UID's home from the password database. */
int nk_slice_dir_path(uid_t uid, char *out, size_t len, struct nk_err *e);
int nk_slice_dir_open(uid_t uid, int create, struct nk_err *e);

/* The records in DIRFD (no file: none), as they are; no lock needed (the
 * file is replaced by rename). Anything but a regular file of at most
 * NK_SLICE_FILE_MAX bytes there is an error (never followed nor waited on). */
int nk_slices_load(int dirfd, struct nk_slices *out, struct nk_err *e);
/* Only the live ones. */
int nk_slices_load_live(int dirfd, struct nk_slices *out, struct nk_err *e);
int nk_slices_store(int dirfd, const struct nk_slices *s, struct nk_err *e);
/* flock(LOCK_EX) on the lock file; returns its fd (close to unlock). */
int nk_slices_lock(int dirfd, struct nk_err *e);

/* The kernel's view nk_slice_reserve asks (NULL: nk_userns_taken, the
 * default; unit tests set their own, for a world of their own). */
typedef int (*nk_slice_taken_fn)(uid_t uid, gid_t gid, struct nk_idspans out[2], struct nk_err *e);
void nk_slice_set_taken(nk_slice_taken_fn fn);

/* Reserve a slice of SIZE for USER (ranges UR, GR) owned by pid/start
 * (and SESSION, NULL for none): lock, reclaim, pick the uid and gid sides,
 * record, unlock. */
int nk_slice_reserve(int dirfd, const char *user, const struct nk_ranges *ur, const struct nk_ranges *gr,
		     uint32_t size, pid_t pid, uint64_t start, const char *session,
		     struct nk_slice *out, struct nk_err *e);
/* --isolate: USER's subordinate ranges (none: an error with the fix), a
 * slice of SIZE reserved for pid/start (and SESSION), and "0 START SIZE" added
 * to the uid and gid maps of M. OUT (may be NULL) gets the slice. */
int nk_slice_maps(int dirfd, const char *user, uint32_t size, pid_t pid, uint64_t start,
		  const char *session, struct nk_maps *m, struct nk_slice *out, struct nk_err *e);
/* Give the slice of pid/start to a new owner (the session holder, or the
 * process whose maps were written), and record the inode USERNS of the
 * namespace it is mapped in (0: unchanged). -ENOENT when it has no record. */
int nk_slice_move(int dirfd, pid_t pid, uint64_t start, pid_t npid, uint64_t nstart,
		  const char *session, uint64_t userns, struct nk_err *e);
/* Forget the slice of pid/start (none: not an error), and reclaim the
 * others (run it where the namespaces can be inspected: not inside a new
 * one). */
int nk_slice_release(int dirfd, pid_t pid, uint64_t start, struct nk_err *e);

/* --stop of the holder pid/start: under the lock, its slice is forgotten
 * when no process is left in its namespace; else kept, and *LEFT is one
 * process still there (-1: /proc could not tell, kept too). */
int nk_slice_stop(int dirfd, pid_t pid, uint64_t start, pid_t *left, struct nk_err *e);

/* The slice of S whose T side covers [first, first+count), or NULL. */
const struct nk_slice *nk_slice_lookup(const struct nk_slices *s, enum nk_idtype t, uint32_t first,
				       uint32_t count);
/* "session 'a'" or "pid 4242". */
void nk_slice_owner(const struct nk_slice *s, char *buf, size_t len);

#endif
