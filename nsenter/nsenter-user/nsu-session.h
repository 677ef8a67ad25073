/* nsu-session.h - nsenter-user's session actions: --keep, --join, --list, --stop
 *
 * The policy and texts around lib/session.h's records and holders: where
 * the caller's sessions live, what a stale or foreign record means for each
 * action, the hints that name nsenter-user's own options, and the --list
 * table. Each function returns 0 or a negative errno with E filled; only
 * main reports. Warnings that do not stop the action (a record removed but
 * its process left alone, a slice still taken) are printed here.
 */
#ifndef NSKIT_NSU_SESSION_H
#define NSKIT_NSU_SESSION_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"
#include "session.h"

/* --list [--json]: the caller's sessions as a table. */
int nsu_list(int json, struct nk_err *e);

/* --stop NAME: end the holder (if it is still the one recorded and ours),
 * free its slice once its namespace is empty, remove the record. */
int nsu_stop(const char *name, struct nk_err *e);

/* --join NAME|PID: enter the user and mount namespace of session NAME or of
 * process PID (one in a user namespace of the caller's). SESSION gets the
 * session's name ("" for a PID). */
int nsu_join(const char *arg, char session[NK_SESSION_NAME_MAX + 1], struct nk_err *e);

/* --keep NAME, before the namespace is made: open (create) the session
 * folder, refuse a live session of that name, remove a stale record.
 * Returns the folder's fd. */
int nsu_keep_prepare(const char *name, uid_t uid, struct nk_err *e);

/* --keep NAME, once this process is in its new namespaces: start the
 * holder, write its record in DIRFD and, with --isolate (SLICE_DIR >= 0),
 * hand the slice of this process (pid, MY_START) to it; all or nothing. */
int nsu_keep_start(int dirfd, const char *name, uid_t uid, int slice_dir, uint64_t my_start,
		   struct nk_err *e);

#endif
