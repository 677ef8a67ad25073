/* report.h - nskit-doctor's output: the findings as a table or as JSON,
 * and text wrapped to the table's width (report.c)
 */
#ifndef NSKIT_DOCTOR_REPORT_H
#define NSKIT_DOCTOR_REPORT_H

#include <stddef.h>
#include "checks.h"
#include "err.h"

/* The table's width, when no narrower terminal asks for less. */
#define DR_TABLE_WIDTH 100

/* The width of the output: DR_TABLE_WIDTH, or a narrower terminal. */
int dr_table_width(void);
/* How much of TEXT goes on its first line of at most WIDTH bytes: up to
 * the last space that fits (all of it when it fits; a longer word alone
 * is cut at WIDTH). The next line starts after the spaces that follow. */
size_t dr_wrap_cut(const char *text, size_t width);
/* TEXT in lines of at most WIDTH bytes, broken at spaces (dr_wrap_cut),
 * the first after what is already printed, the others indented by INDENT. */
void dr_put_wrapped(const char *text, size_t width, int indent);
/* The same for the formatted text; -ENOMEM. */
int dr_put_wrappedf(size_t width, int indent, const char *fmt, ...) NK_PRINTF(3, 4);
/* TEXT as cat -v shows it (malloc'd; NULL when out of memory): a control
 * character but TAB as ^X (ESC ^[, DEL ^?), a byte of 0x80 or more as M-
 * and the same for its low 7 bits; so the text of someone else (a
 * program's message, a log line) sends no escape sequence to the terminal. */
char *dr_cat_v(const char *text);
/* The findings as a table, or as JSON (QUIET: only those not ok). */
int dr_print_findings(const struct dr_findings *fs, int json, int quiet, struct nk_err *e);

#endif
