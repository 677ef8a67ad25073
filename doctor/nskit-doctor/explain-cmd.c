/* explain-cmd.c - nskit-doctor --explain
 *
 * Each line of the input is looked up in causes.c's table; for each
 * message found (once each), only the checks that can cause it are run,
 * and the verdict is printed: the causes found, those ruled out, those
 * not tested.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nskit-doctor.h"

#define EXPLAIN_MAX (1 << 20)

/* Standard input as one string, at most EXPLAIN_MAX bytes. */
static int read_stdin(char **out, struct nk_err *e)
{
	NK_AUTOFREE char *buf = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		ssize_t r;

		if (nk_grow(&buf, n + 4096, &cap, 1, 65536) < 0)
			return nk_errf(e, ENOMEM, "out of memory");
		r = read(STDIN_FILENO, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return nk_syserr(e, errno, "cannot read standard input");
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > EXPLAIN_MAX)
			return nk_errf(e, EFBIG, "standard input is longer than %d bytes (give the error lines only)",
				       EXPLAIN_MAX);
	}
	buf[n] = '\0';
	*out = nk_steal(&buf);
	return 0;
}

static int print_verdict(const struct dr_ex_verdict *v, enum dr_ex_state st)
{
	size_t room = (size_t)dr_table_width() - 4;

	printf("  ");
	if (!v->f)
		return dr_put_wrappedf(room, 4, "%s: not probed here (see nskit-doctor(1), FINDINGS)", v->id);
	if (st == DR_EX_UNTESTED)
		return dr_put_wrappedf(room, 4, "%s: %s for nskit-doctor itself, which may differ from the program "
				       "that failed (run nskit-doctor the way that program runs)", v->id, v->f->what);
	return dr_put_wrappedf(room, 4, "%s: %s", v->id, v->f->what);
}

/* The verdicts in state ST under LABEL (nothing when there is none). */
static int print_verdicts(const struct dr_ex_verdict *v, size_t n, enum dr_ex_state st, const char *label)
{
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i].state != st)
			continue;
		if (!any)
			printf("%s\n", label);
		any = 1;
		if (print_verdict(&v[i], st) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int print_causes(const struct dr_ex_verdict *v, size_t n)
{
	size_t room = (size_t)dr_table_width() - 2;

	for (size_t i = 0; i < n; i++) {
		if (v[i].state != DR_EX_FOUND)
			continue;
		printf("cause: %s (%s)\n  ", v[i].id, dr_status_name(v[i].f->status));
		dr_put_wrapped(v[i].f->what, room, 2);
		if (!v[i].f->fix)
			continue;
		printf("  ");
		if (dr_put_wrappedf(room, 2, "fix: %s", v[i].f->fix) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int print_explanation(const struct dr_ex_msg *m, const char *line, const struct dr_ex_verdict *v,
			     size_t n, size_t found)
{
	/* The line as cat -v shows it: the input is someone else's text,
	 * whose escape sequences must not reach the terminal. */
	NK_AUTOFREE char *shown = dr_cat_v(line);

	if (!shown)
		return -ENOMEM;
	printf("message: ");
	dr_put_wrapped(shown, (size_t)dr_table_width() - 9, 9);
	printf("known as: %s, printed by %s (%s)\n", m->key, m->tool, m->versions);
	if (print_causes(v, n) < 0)
		return -ENOMEM;
	if (!found)
		printf("cause: not found\n");
	if (print_verdicts(v, n, DR_EX_RULED_OUT, "ruled out:") < 0 ||
	    print_verdicts(v, n, DR_EX_UNTESTED, "not tested:") < 0)
		return -ENOMEM;
	return 0;
}

/* LINE, the message M: 1 when a cause was found, 0 when not, or an error. */
static int explain_one(const char *user, const struct dr_ex_msg *m, const char *line, struct nk_err *e)
{
	struct diag d;
	struct dr_ex_req rq;
	struct dr_ex_verdict v[DR_EX_MAX_CAUSES];
	unsigned groups = 0;
	size_t n, found;
	int have_rq, r;

	memset(&d, 0, sizeof d);
	if (dr_diag_user(&d, user, e) < 0)
		return -e->code;
	for (size_t i = 0; i < DR_EX_MAX_CAUSES && m->causes[i].id; i++)
		groups |= dr_group_of(m->causes[i].id);
	have_rq = dr_ex_requested(line, &rq) == 0;
	if (dr_diagnose(&d, groups, have_rq ? &rq : NULL, e) < 0 || dr_diag_lost(&d, e) < 0) {
		dr_diag_free(&d);
		return -e->code;
	}
	found = dr_ex_judge(m, &d.fs, v, &n);
	r = print_explanation(m, line, v, n, found);
	dr_diag_free(&d);
	if (r < 0)
		return nk_errf(e, -r, "out of memory");
	return found > 0;
}

int dr_explain(const char *user, const char *arg, struct nk_err *e)
{
	NK_AUTOFREE char *text = NULL;
	const struct dr_ex_msg *seen[64];
	size_t nseen = 0;
	int all = 1;
	char *save = NULL, *line;

	if (strcmp(arg, "-") == 0) {
		if (read_stdin(&text, e) < 0)
			return -e->code;
	} else if (!(text = strdup(arg)))
		return nk_errf(e, ENOMEM, "out of memory");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const struct dr_ex_msg *m = dr_ex_match(line);
		size_t i;
		int r;

		if (!m)
			continue;
		for (i = 0; i < nseen && seen[i] != m; i++)
			;
		if (i < nseen || nseen == NK_ARRAY_SIZE(seen))
			continue;
		if (nseen)
			putchar('\n');
		seen[nseen++] = m;
		fflush(stdout);
		r = explain_one(user, m, line, e);
		if (r < 0)
			return r;
		if (r == 0)
			all = 0;
	}
	if (!nseen) {
		printf("no line of the input is a message nskit-doctor knows (see nskit-doctor(1), EXPLAIN)\n");
		return 1;
	}
	return all ? 0 : 1;
}
