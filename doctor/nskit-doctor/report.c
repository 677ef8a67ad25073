/* report.c - nskit-doctor's findings as a table or as JSON
 *
 * The text table fits WIDTH columns (100, or a narrower terminal): ID,
 * STATUS, FINDING and FIX side by side when every row fits, else FINDING
 * wrapped at spaces and each fix on a line of its own below it. Colour
 * only on a terminal (and never with NO_COLOR or TERM=dumb). JSON through
 * libsmartcols, as util-linux prints it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <libsmartcols.h>
#include "report.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

int dr_table_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 40 && ws.ws_col < DR_TABLE_WIDTH)
		return ws.ws_col;
	return DR_TABLE_WIDTH;
}

static int use_colour(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term && *term && strcmp(term, "dumb") != 0;
}

static void put_status(enum dr_status st, int colour, int width)
{
	static const char *const sgr[] = { "\033[32m", "\033[33m", "\033[1;31m" };
	const char *name = dr_status_name(st);

	if (colour)
		printf("%s%s\033[0m%*s", sgr[st], name, width - (int)strlen(name), "");
	else
		printf("%-*s", width, name);
}

size_t dr_wrap_cut(const char *text, size_t width)
{
	size_t n = strlen(text), cut = n;

	if (n > width) {
		cut = width;
		while (cut > 0 && text[cut] != ' ')
			cut--;
		if (cut == 0)
			cut = width;
	}
	return cut;
}

void dr_put_wrapped(const char *text, size_t width, int indent)
{
	int first = 1;

	while (*text) {
		size_t cut = dr_wrap_cut(text, width);

		if (!first)
			printf("%*s", indent, "");
		printf("%.*s\n", (int)cut, text);
		text += cut;
		text += strspn(text, " ");
		first = 0;
	}
	if (first)
		putchar('\n');
}

int dr_put_wrappedf(size_t width, int indent, const char *fmt, ...)
{
	NK_AUTOFREE char *text = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0) {
		text = NULL;
		return -ENOMEM;
	}
	dr_put_wrapped(text, width, indent);
	return 0;
}

char *dr_cat_v(const char *text)
{
	char *out = malloc(4 * strlen(text) + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		unsigned c = *p;

		if (c >= 0x80) {
			*o++ = 'M';
			*o++ = '-';
			c &= 0x7f;
		}
		if (c == 0x7f) {
			*o++ = '^';
			*o++ = '?';
		} else if (c < 0x20 && c != '\t') {
			*o++ = '^';
			*o++ = (char)(c + 0x40);
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

static int shown(const struct dr_finding *f, int quiet)
{
	return !quiet || f->status != DR_OK;
}

/* The widths of the columns of the findings shown; 0 when none is. */
struct layout {
	size_t idw, stw, whatw, fixw;
	int side;              /* FINDING and FIX side by side */
};

static size_t measure(const struct dr_findings *fs, int quiet, int width, struct layout *l)
{
	size_t n = 0;

	*l = (struct layout){ 2, 6, 7, 0, 0 };
	for (size_t i = 0; i < fs->n; i++) {
		const struct dr_finding *f = &fs->f[i];

		if (!shown(f, quiet))
			continue;
		n++;
		l->idw = MAX(l->idw, strlen(f->id));
		l->stw = MAX(l->stw, strlen(dr_status_name(f->status)));
		l->whatw = MAX(l->whatw, strlen(f->what));
		l->fixw = MAX(l->fixw, f->fix ? strlen(f->fix) : 0);
	}
	l->side = l->idw + 1 + l->stw + 1 + l->whatw + 1 + MAX(l->fixw, 3) <= (size_t)width;
	return n;
}

static int print_row(const struct dr_finding *f, const struct layout *l, int width, int colour)
{
	int indent = (int)(l->idw + 1 + l->stw + 1);
	size_t room = (size_t)MAX(width - indent, 20);

	printf("%-*s ", (int)l->idw, f->id);
	put_status(f->status, colour, (int)l->stw);
	putchar(' ');
	if (l->side) {
		if (f->fix && *f->fix)
			printf("%-*s %s\n", (int)l->whatw, f->what, f->fix);
		else
			printf("%s\n", f->what);
		return 0;
	}
	dr_put_wrapped(f->what, room, indent);
	if (!f->fix || !*f->fix)
		return 0;
	printf("%*s", indent, "");
	return dr_put_wrappedf(room, indent, "fix: %s", f->fix);
}

static int print_text(const struct dr_findings *fs, int quiet)
{
	int width = dr_table_width(), colour = use_colour();
	struct layout l;

	if (!measure(fs, quiet, width, &l))
		return 0;
	if (l.side)
		printf("%-*s %-*s %-*s FIX\n", (int)l.idw, "ID", (int)l.stw, "STATUS", (int)l.whatw, "FINDING");
	else
		printf("%-*s %-*s FINDING\n", (int)l.idw, "ID", (int)l.stw, "STATUS");
	for (size_t i = 0; i < fs->n; i++)
		if (shown(&fs->f[i], quiet) && print_row(&fs->f[i], &l, width, colour) < 0)
			return -ENOMEM;
	return 0;
}

static int json_table(struct libscols_table *tb, const struct dr_findings *fs, int quiet)
{
	scols_table_set_name(tb, "findings");
	scols_table_enable_json(tb, 1);
	if (!scols_table_new_column(tb, "ID", 0, 0) || !scols_table_new_column(tb, "STATUS", 0, 0) ||
	    !scols_table_new_column(tb, "FINDING", 0, 0) || !scols_table_new_column(tb, "FIX", 0, 0))
		return -ENOMEM;
	for (size_t i = 0; i < fs->n; i++) {
		const struct dr_finding *f = &fs->f[i];
		struct libscols_line *ln;

		if (!shown(f, quiet))
			continue;
		ln = scols_table_new_line(tb, NULL);
		if (!ln || scols_line_set_data(ln, 0, f->id) < 0 ||
		    scols_line_set_data(ln, 1, dr_status_name(f->status)) < 0 ||
		    scols_line_set_data(ln, 2, f->what) < 0 ||
		    scols_line_set_data(ln, 3, f->fix ? f->fix : "") < 0)
			return -ENOMEM;
	}
	return 0;
}

static int print_json(const struct dr_findings *fs, int quiet)
{
	struct libscols_table *tb = scols_new_table();
	int r;

	if (!tb)
		return -ENOMEM;
	r = json_table(tb, fs, quiet);
	if (r == 0)
		scols_print_table(tb);
	scols_unref_table(tb);
	return r;
}

int dr_print_findings(const struct dr_findings *fs, int json, int quiet, struct nk_err *e)
{
	int r = json ? print_json(fs, quiet) : print_text(fs, quiet);

	return r < 0 ? nk_errf(e, -r, "out of memory") : 0;
}
