/* tool.h - what every nskit executable does first and last
 *
 * nk_tool_init() must be the first call of every main(): it refuses to run
 * when the kernel marks the process AT_SECURE (setuid/setgid bit or file
 * capabilities: nskit is setuid-free by design and every privileged step goes
 * through shadow-utils' newuidmap/newgidmap), makes sure fds 0-2 are open so
 * that no file we open later becomes someone's stdout, and registers a
 * check that stdout was written completely (util-linux's close_stdout).
 */
#ifndef NSKIT_TOOL_H
#define NSKIT_TOOL_H

#include "err.h"

extern const char *nk_progname;

/* NAME is the tool's name; ARGV main's (argv[0] is pointed at NAME, the
 * strings are never written). */
void nk_tool_init(const char *name, char **argv);
/* Give back the caller's SIGCHLD disposition (before exec'ing a command
 * that should run as the caller started us). */
void nk_tool_restore_signals(void);
/* "tool: message\n" on stderr. */
void nk_warnx(const char *fmt, ...) NK_PRINTF(1, 2);
/* "tool: message: strerror(errno)\n" on stderr. */
void nk_warn(const char *fmt, ...) NK_PRINTF(1, 2);
/* How USER gets subordinate ranges: "run 'subid-alloc USER' as root", or
 * with a central source who to ask. */
const char *nk_subid_fix(const char *user);
/* The message of E as the tool reports it: with the fix its kind calls
 * for (NK_ERRK_NO_SUBIDS: " (FIX[ALT])"), in BUF, which is returned. */
const char *nk_err_text(const struct nk_err *e, char *buf, size_t len);
/* Print the error object as "tool: msg" (nk_err_text). */
void nk_err_print(const struct nk_err *e);
/* Print "tool: msg" and exit(status). */
void nk_die(int status, const char *fmt, ...) NK_PRINTF(2, 3) __attribute__((noreturn));
void nk_die_err(int status, const struct nk_err *e) __attribute__((noreturn));
/* "Try 'tool --help' for more information." and exit 1. */
void nk_usage_error(void) __attribute__((noreturn));
void nk_usage_errorx(const char *fmt, ...) NK_PRINTF(1, 2) __attribute__((noreturn));
/* "tool from nskit X.Y.Z" and exit 0. */
void nk_print_version(void) __attribute__((noreturn));
/* The end of every tool's option switch, for an option C it did not
 * handle: 'h' calls USAGE (which prints the help and exits 0), 'V' prints
 * the version, anything else is the usage error. */
void nk_std_option_or_err(int c, void (*usage)(void)) __attribute__((noreturn));
/* Return non-zero when the process runs AT_SECURE. */
int nk_is_secure(void);

#endif
