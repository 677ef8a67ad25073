/* err.h - the error object that travels up from library functions
 *
 * Library functions never print and never exit. They return a negative
 * errno-style value and fill a struct nk_err; callers add context with
 * nk_err_prefix() as the error travels up ("cannot apply map to pid 42: ...")
 * and only a tool's main() prints it, once, as "tool: message".
 */
#ifndef NSKIT_ERR_H
#define NSKIT_ERR_H

#include <stdint.h>
#include "util.h"

#define NK_ERR_MAX 1024

/* The cause as data. Callers decide on code and kind, never on the text
 * of msg (which is for people, and may gain context and hints on its way
 * up). A module that needs a new kind adds it here. */
enum nk_errkind {
	NK_ERRK_NONE = 0,        /* nothing beyond what code says */
	NK_ERRK_NO_LIBSUBID,     /* libsubid.so is not installed (code ENOENT) */
	NK_ERRK_HELPER_DENIED,   /* newuidmap/newgidmap refused a range the caller was not given */
	NK_ERRK_NOT_OWNER,       /* the target process belongs to another user */
	NK_ERRK_MAP_REFUSED,     /* the kernel refused a write to uid_map/gid_map (EPERM), ours or a helper's */
	NK_ERRK_MAP_WRITTEN,     /* the map was written before: a map can be written only once */
	NK_ERRK_NO_NEW_PRIVS,    /* no_new_privs is set: newuidmap/newgidmap gain no privilege */
	NK_ERRK_HELPER_UNPRIVILEGED, /* newuidmap/newgidmap is neither setuid root nor has the file capability */
	NK_ERRK_HELPER_NOSUID,   /* newuidmap/newgidmap is on a nosuid mount */
	NK_ERRK_NO_SUBIDS,       /* SUBJECT has no subordinate range here: the tool adds the fix */
};

struct nk_err {
	int code;               /* positive errno value, or EINVAL for bad input */
	enum nk_errkind kind;   /* NK_ERRK_NONE unless the producer says more */
	char subject[256];      /* what the kind is about (NK_ERRK_NO_SUBIDS: the user) */
	uint64_t want;          /* NK_ERRK_NO_SUBIDS: the range size to ask for (0: the default) */
	const char *alt;        /* set by a tool: its other way out, added after the fix
	                         * (", or drop --isolate"); a static string */
	char msg[NK_ERR_MAX];
};

/* Set the message; returns -code (code given positive). */
int nk_errf(struct nk_err *e, int code, const char *fmt, ...) NK_PRINTF(3, 4);
/* Same, with ": strerror(code)" appended. */
int nk_syserr(struct nk_err *e, int code, const char *fmt, ...) NK_PRINTF(3, 4);
/* Put "context: " in front of the current message; returns -e->code. */
int nk_err_prefix(struct nk_err *e, const char *fmt, ...) NK_PRINTF(2, 3);
/* Append " (hint)" to the current message; returns -e->code. */
int nk_err_hint(struct nk_err *e, const char *fmt, ...) NK_PRINTF(2, 3);
/* Set the kind of the current error; returns -e->code. */
int nk_err_kind(struct nk_err *e, enum nk_errkind kind);
/* The current error is that USER has no subordinate range: kind
 * NK_ERRK_NO_SUBIDS, subject USER. lib names no tool in a message; the
 * tool adds the fix when it reports (cli/tool.h nk_err_text). */
int nk_err_no_subids(struct nk_err *e, const char *user);
void nk_err_clear(struct nk_err *e);

#endif
