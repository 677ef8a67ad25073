/* err.h - the error object that travels up from library functions
 *
 * Library functions never print and never exit. They return a negative
 * errno-style value and fill a struct nk_err; callers add context with
 * nk_err_prefix() as the error travels up ("cannot apply map to pid 42: ...")
 * and only a tool's main() prints it, once, as "tool: message".
 */
#ifndef NSKIT_ERR_H
#define NSKIT_ERR_H

#include "util.h"

#define NK_ERR_MAX 1024

struct nk_err {
	int code;               /* positive errno value, or EINVAL for bad input */
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
void nk_err_clear(struct nk_err *e);

#endif
