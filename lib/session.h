/* session.h - persistent namespaces: holder processes and their records
 *
 * A session is a user+mount namespace kept alive by a holder process that
 * does nothing but sleep in it. Its record, one small file named after the
 * session, lives in the caller's own folder: $XDG_RUNTIME_DIR/nskit, or
 * /tmp/nskit-UID when XDG_RUNTIME_DIR is unset (and when another user made
 * that first, /run/user/UID/nskit or ~/.cache/nskit:
 * nk_session_dir_open_user). The folder must belong to
 * the caller and be closed to everyone else (mode 0700), as doas checks a
 * config file before it trusts it.
 *
 * A record names the holder by pid AND start time: a pid alone may have been
 * reused by another process since. Before a session is joined the holder is
 * opened as a pidfd and its start time, user namespace and owner compared
 * with the record; the pidfd then pins that very process for setns().
 *
 * Record format (key=value lines, unknown keys ignored):
 *     nskit-session 1
 *     name=build
 *     pid=4242
 *     start=1234567        (clock ticks since boot, /proc/PID/stat field 22)
 *     uid=1000             (the owner: the caller that made it)
 *     userns=4026532841
 *     mntns=4026532842
 *     created=1700000000   (seconds since the epoch)
 */
#ifndef NSKIT_SESSION_H
#define NSKIT_SESSION_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"

#define NK_SESSION_NAME_MAX 64

struct nk_session {
	char name[NK_SESSION_NAME_MAX + 1];
	pid_t pid;
	uint64_t start;
	uint32_t uid;
	uint64_t userns;
	uint64_t mntns;
	int64_t created;
};

/* 1-64 of [A-Za-z0-9_.-], not starting with '.' or '-', not all digits
 * (a number names a process in --join). */
int nk_session_name_valid(const char *name, struct nk_err *e);

/* The folder's path for UID given XDG_RUNTIME_DIR (NULL or "" when unset). */
int nk_session_dir_path(const char *xdg, uid_t uid, char *out, size_t len, struct nk_err *e);
/* Create (mode 0700) when CREATE and missing, open, and check owner and mode.
 * Returns an O_PATH-free directory fd (close-on-exec); -ENOENT when missing
 * and !CREATE. */
int nk_session_dir_open(const char *path, uid_t uid, int create, struct nk_err *e);

/* The caller's session folder, opened (created when CREATE) and checked:
 * $XDG_RUNTIME_DIR/nskit (XDG, NULL or "" when unset), else
 * /tmp/nskit-UID; when that is someone else's (made first by another
 * user), never used: /run/user/UID/nskit where logind made /run/user/UID
 * (nk_runtime_nskit_path), else ~/.cache/nskit of UID's home. -ENOENT when
 * missing and !CREATE. */
int nk_session_dir_open_user(const char *xdg, uid_t uid, int create, struct nk_err *e);

/* Text of a record (returns its length, or -ENOSPC). */
int nk_session_format(const struct nk_session *s, char *buf, size_t len);
/* Parse a record; NAME is the file it came from (it must match). */
int nk_session_parse(const char *text, const char *name, struct nk_session *s, struct nk_err *e);

/* Read NAME in DIRFD whole (at most MAX bytes, NUL-terminated, *OUT to
 * free): opened with O_NOFOLLOW|O_NONBLOCK and refused unless a regular
 * file, so a symlink or FIFO planted there never makes us follow or hang.
 * 0, -ENOENT, -EINVAL (not a regular file, or a symlink), -EFBIG, -errno. */
int nk_read_regular_at(int dirfd, const char *name, size_t max, char **out, size_t *len);

/* Read the record NAME in DIRFD: -ENOENT ("no session 'NAME'") when there is
 * none; the tool adds how to see the sessions there are. */
int nk_session_load(int dirfd, const char *name, struct nk_session *s, struct nk_err *e);
/* Write the record, atomically and exclusively: -EEXIST when one exists. */
int nk_session_save(int dirfd, const struct nk_session *s, struct nk_err *e);
int nk_session_remove(int dirfd, const char *name, struct nk_err *e);
/* Every record in DIRFD (sorted by name). */
int nk_session_list(int dirfd, struct nk_session **out, size_t *n, struct nk_err *e);

/* Is the holder of S alive and the one recorded (start time, user and mount
 * namespace)? 0 and *PIDFD set (close-on-exec) when it is; -ESTALE when it
 * has ended, is a zombie, has left its namespaces or its pid now belongs to
 * another process; -EPERM when the process or namespace is not UID's. */
int nk_session_open(const struct nk_session *s, uid_t uid, int *pidfd, struct nk_err *e);

/* Start a holder in the namespaces of this process: a grandchild (so that it
 * is never a child of the command that runs next), in its own session, fds
 * closed, sleeping until killed. *PID is its pid. It waits first for
 * nk_session_commit(*COMMIT), to be called once the record NAME in DIRFD is
 * written: if this process ends before (killed mid-way), the holder removes
 * the record if it names it and ends too, so no holder is ever left without
 * a record. */
int nk_session_spawn_holder(int dirfd, const char *name, pid_t *pid, int *commit, struct nk_err *e);
/* Let the holder go on (and close COMMIT). */
int nk_session_commit(int commit, struct nk_err *e);

/* Fill S for the holder PID: start time, namespaces, uid, now. */
int nk_session_describe(struct nk_session *s, const char *name, pid_t pid, uid_t uid,
			struct nk_err *e);

/* Kill the holder behind PIDFD and wait (up to about 5 s) until it is gone. */
int nk_session_kill(int pidfd, struct nk_err *e);

#endif
