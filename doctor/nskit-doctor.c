/* nskit-doctor - find why rootless user namespaces fail for a user
 *
 * Reads what it can (sysctls, /etc/subuid and /etc/subgid through libsubid
 * and as files, the helpers, this process's state) and probes what reading
 * cannot tell: a child creates a user namespace, nests as deep as it can,
 * and has a full map written to a grandchild through newuidmap/newgidmap,
 * as podman would. Nothing is changed. One finding a line; exit 1 when one
 * fails, 2 on bad usage.
 *
 * This file parses the options and reports; the tool's own files are in
 * nskit-doctor/: diagnose.c (gathering), checks.c (the checks), report.c
 * (the table), explain-cmd.c and causes.c (--explain: the line is looked
 * up in causes.c's table; only the checks that can cause it are run, and
 * the verdict is printed), fix.c (--fix, root: each failing or warning
 * finding with a safe remedy gets it, through nskit's own tools and the
 * system's files; then everything is checked again).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nskit-doctor.h"
#include "tool.h"

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options]\n"
	       " %s --fix[=WHAT] [--dry-run] [--user USER]...\n"
	       " %s --explain TEXT|-\n"
	       "\n"
	       "Check whether rootless user namespaces with a full mapping work, and say how to fix what does not.\n"
	       "\n"
	       "Options:\n"
	       " -u, --user USER      check USER (default: you; probing as USER needs root)\n"
	       " -J, --json           print JSON\n"
	       " -q, --quiet          print only the findings that warn or fail\n"
	       "     --fix[=WHAT]     apply the safe fixes (root); WHAT adds 'apparmor' or\n"
	       "                        'sysctl-userns' (comma-separated), which weaken security\n"
	       " -n, --dry-run        with --fix: print the changes, make none\n"
	       " -e, --explain TEXT   find the cause of an error message (- reads standard input)\n"
	       "\n"
	       " -h, --help           display this help\n"
	       " -V, --version        display version\n"
	       "\n"
	       "For more details see nskit-doctor(1).\n", nk_progname, nk_progname, nk_progname);
	exit(0);
}

/* Bad usage exits 2: 1 means rootless user namespaces do not work (or, for
 * --explain, no cause was found), and a script must tell them apart. */
#define EXIT_USAGE 2

static void __attribute__((noreturn)) usage_error(const char *fmt, ...)
{
	if (fmt) {
		va_list ap;

		fprintf(stderr, "%s: ", nk_progname);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "Try '%s --help' for more information.\n", nk_progname);
	exit(EXIT_USAGE);
}

struct options {
	const char *users[DR_MAX_USERS];
	size_t nusers;
	const char *explain;   /* --explain TEXT */
	int json, quiet, fix;
	struct dr_fixer x;
};

/* --fix=WHAT: the fixes that weaken security, comma-separated. */
static void parse_fix(struct options *o, const char *arg)
{
	NK_AUTOFREE char *list = strdup(arg);
	char *save = NULL;

	if (!list)
		nk_die(1, "out of memory");
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "apparmor") == 0)
			o->x.apparmor = 1;
		else if (strcmp(w, "sysctl-userns") == 0)
			o->x.sysctl_userns = 1;
		else
			usage_error("unknown --fix '%s' (apparmor, sysctl-userns)", w);
	}
}

/* The options that go together, and those that do not. */
static void check_options(const struct options *o)
{
	if (o->x.dry && !o->fix)
		usage_error("--dry-run goes with --fix");
	if (o->fix && o->explain)
		usage_error("--fix and --explain do not go together");
	if ((o->fix || o->explain) && (o->json || o->quiet))
		usage_error("--json and --quiet go with the plain check only");
	if (o->nusers > 1 && !o->fix)
		usage_error("several --user options go with --fix only");
	if (o->explain && !*o->explain)
		usage_error("--explain needs the message (or - for standard input)");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_FIX = 256 };
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "fix", optional_argument, NULL, OPT_FIX },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "explain", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof *o);
	while ((c = getopt_long(argc, argv, "u:Jqne:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (o->nusers == DR_MAX_USERS)
				usage_error("more than %d --user options", DR_MAX_USERS);
			o->users[o->nusers++] = optarg;
			break;
		case 'J':
			o->json = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_FIX:
			o->fix = 1;
			if (optarg)
				parse_fix(o, optarg);
			break;
		case 'n':
			o->x.dry = 1;
			break;
		case 'e':
			o->explain = optarg;
			break;
		case 'h':
		case 'V':
			nk_std_option_or_err(c, usage);
		default:
			usage_error(NULL);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	check_options(o);
}

/* The plain check: 0 when nothing fails, 1 when something does. */
static int check(const struct options *o, struct nk_err *e)
{
	struct diag d;
	int r;

	memset(&d, 0, sizeof d);
	if (dr_diag_user(&d, o->nusers ? o->users[0] : NULL, e) < 0)
		return -e->code;
	r = dr_diagnose(&d, G_ALL, NULL, e);
	if (r == 0)
		r = dr_print_findings(&d.fs, o->json, o->quiet, e);
	if (r == 0)
		r = dr_diag_lost(&d, e);
	if (r == 0)
		r = dr_findings_worst(&d.fs) == DR_FAIL ? 1 : 0;
	dr_diag_free(&d);
	return r;
}

int main(int argc, char **argv)
{
	struct options o;
	struct nk_err e;
	int r;

	nk_tool_init("nskit-doctor", argv);
	parse_options(argc, argv, &o);
	if (o.fix)
		r = dr_fix(&o.x, o.users, o.nusers, &e);
	else if (o.explain)
		r = dr_explain(o.nusers ? o.users[0] : NULL, o.explain, &e);
	else
		r = check(&o, &e);
	if (r < 0) {
		nk_err_print(&e);
		return 1;
	}
	return r;
}
