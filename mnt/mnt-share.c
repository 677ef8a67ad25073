/* mnt-share - set and show mount propagation
 *
 * The step rootless container docs tell admins to do by hand
 * (`mount --make-rshared /`, podman's '"/" is not a shared mount'), and the
 * step a rootless script needs inside its own mount namespace. Mounts are
 * read through libmount (lib/mount.c) and changed with mount_setattr(2),
 * open_tree(2) and move_mount(2) on a descriptor of each checked target;
 * nothing runs mount(8).
 */
#include <getopt.h>
#include <string.h>
#include <sys/mount.h>
#include <libsmartcols.h>
#include "mount.h"
#include "tool.h"

enum { MODE_SET, MODE_SHOW, MODE_CHECK };

enum {
	OPT_SHARED = 0x100,
	OPT_SLAVE,
	OPT_PRIVATE,
	OPT_UNBINDABLE,
	OPT_NO_RECURSIVE,
	OPT_BIND_SELF,
	OPT_JSON,
};

static void __attribute__((noreturn)) usage(void)
{
	fputs("Usage:\n"
	      " mnt-share [options] [TARGET...]\n"
	      " mnt-share --show [--json] [TARGET...]\n"
	      " mnt-share --check [TARGET...]\n"
	      "\n"
	      "Set the propagation of mounts (default: make / and every mount below it shared).\n"
	      "\n"
	      "Options:\n"
	      "     --shared          make TARGET shared (the default)\n"
	      "     --slave           make TARGET a slave: it receives mounts, sends none\n"
	      "     --private         make TARGET private: no propagation\n"
	      "     --unbindable      make TARGET private and unbindable\n"
	      "     --no-recursive    only TARGET itself, not the mounts below it\n"
	      "     --bind-self       bind TARGET onto itself first when it is not a mount point\n"
	      " -s, --show            list the mounts at or below each TARGET (default: all)\n"
	      "     --json            with --show: print JSON\n"
	      " -c, --check           exit 0 when each TARGET (default /) is on a shared mount\n"
	      "\n"
	      " -h, --help            display this help\n"
	      " -V, --version         display version\n"
	      "\n"
	      "For more details see mnt-share(1).\n", stdout);
	exit(0);
}

static const char *opt_name(int opt)
{
	switch (opt) {
	case OPT_SHARED: return "--shared";
	case OPT_SLAVE: return "--slave";
	case OPT_PRIVATE: return "--private";
	case OPT_UNBINDABLE: return "--unbindable";
	case OPT_NO_RECURSIVE: return "--no-recursive";
	case OPT_BIND_SELF: return "--bind-self";
	case OPT_JSON: return "--json";
	case 's': return "--show";
	case 'c': return "--check";
	}
	return "?";
}

static unsigned long opt_type(int opt)
{
	switch (opt) {
	case OPT_SLAVE: return MS_SLAVE;
	case OPT_PRIVATE: return MS_PRIVATE;
	case OPT_UNBINDABLE: return MS_UNBINDABLE;
	}
	return MS_SHARED;
}

/* --- set ------------------------------------------------------------------ */

struct opts {
	int mode;                   /* 0 (set), 's' (--show) or 'c' (--check) */
	unsigned long type;         /* set: MS_SHARED, MS_SLAVE... */
	bool recursive, bind_self, json;
	char **args;                /* the TARGETs */
	int n;
};

struct target {
	struct nk_mount_target mt;  /* resolved once, opened, checked */
	bool bind;                  /* bind onto itself first */
};

/* Open TARGET from TB and check it can be changed: a mount point, or with
 * BIND_SELF on a mount that may be bound. */
static int check_target(struct libmnt_table *tb, const char *arg, bool bind_self, struct target *t,
			struct nk_err *e)
{
	struct libmnt_fs *fs;
	struct nk_prop p;

	if (nk_mount_target_open(tb, arg, &t->mt, e) < 0)
		return -e->code;
	if (t->mt.mount_point)
		return 0;
	if (!bind_self)
		return nk_errf(e, EINVAL, "'%s' is not a mount point (use --bind-self to bind it onto itself first)",
			       arg);
	fs = t->mt.fs;  /* the mount that holds it, the one it is on */
	if (nk_prop_of_fs(fs, &p, e) < 0)
		return -e->code;
	if (p.flags & MS_UNBINDABLE)
		return nk_errf(e, EINVAL, "cannot bind '%s' onto itself: the mount at '%s' that holds it is "
			       "unbindable (make it bindable first: 'mnt-share --private --no-recursive %s')",
			       arg, mnt_fs_get_target(fs), mnt_fs_get_target(fs));
	t->bind = true;
	return 0;
}

static int do_set(const struct opts *o, struct nk_err *e)
{
	static char *root[] = { "/" };
	char **args = o->n ? o->args : root;
	int n = o->n ? o->n : 1, i, r = 0;
	struct libmnt_table *tb = NULL;
	NK_AUTOFREE struct target *t = calloc((size_t)n, sizeof *t);

	if (!t)
		return nk_errf(e, ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		t[i].mt = (struct nk_mount_target)NK_MOUNT_TARGET_INIT;
	if (nk_mount_table_read(NULL, &tb, e) < 0)
		return -e->code;
	/* Check every target before the first change: fail closed. Each is
	 * opened once and changed through its descriptor only, so what is
	 * changed is what was checked, whatever happens to the path since. */
	for (i = 0; i < n && r == 0; i++)
		r = check_target(tb, args[i], o->bind_self, &t[i], e);
	for (i = 0; i < n && r == 0; i++) {
		if (t[i].bind)
			r = nk_mount_target_bind_self(&t[i].mt, e);
		if (r == 0)
			r = nk_mount_target_set_propagation(&t[i].mt, o->type, o->recursive, e);
	}
	for (i = 0; i < n; i++)
		nk_mount_target_close(&t[i].mt);
	mnt_unref_table(tb);
	return r < 0 ? -e->code : 0;
}

/* --- show ----------------------------------------------------------------- */

enum { COL_TARGET, COL_PROP, COL_PEER, COL_MASTER, COL_FSTYPE, COL_SOURCE };

static const struct {
	const char *name;
	double whint;
	int flags;
	int json;
} cols[] = {
	[COL_TARGET] = { "TARGET", 0.3, 0, SCOLS_JSON_STRING },
	[COL_PROP] = { "PROPAGATION", 0.1, 0, SCOLS_JSON_STRING },
	[COL_PEER] = { "PEER", 0.05, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[COL_MASTER] = { "MASTER", 0.05, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[COL_FSTYPE] = { "FSTYPE", 0.1, SCOLS_FL_TRUNC, SCOLS_JSON_STRING },
	[COL_SOURCE] = { "SOURCE", 0.25, SCOLS_FL_TRUNC, SCOLS_JSON_STRING },
};

static int set_num(struct libscols_line *ln, int col, unsigned int v)
{
	char buf[16];

	if (v == 0)
		return 0;  /* empty: null in JSON */
	snprintf(buf, sizeof buf, "%u", v);
	return scols_line_set_data(ln, col, buf);
}

static int nomem(struct nk_err *e)
{
	return nk_errf(e, ENOMEM, "cannot list the mounts: out of memory");
}

/* The table --show prints: its columns, JSON or not. */
static struct libscols_table *show_table_new(bool json)
{
	struct libscols_table *out;

	scols_init_debug(0);
	out = scols_new_table();
	if (!out)
		return NULL;
	if (json) {
		scols_table_enable_json(out, 1);
		scols_table_set_name(out, "mounts");
	}
	for (size_t i = 0; i < NK_ARRAY_SIZE(cols); i++) {
		struct libscols_column *cl = scols_table_new_column(out, cols[i].name, cols[i].whint,
								    cols[i].flags);

		if (!cl) {
			scols_unref_table(out);
			return NULL;
		}
		scols_column_set_json_type(cl, cols[i].json);
	}
	return out;
}

/* One line for the mount FS. */
static int show_mount(struct libscols_table *out, struct libmnt_fs *fs, struct nk_err *e)
{
	struct libscols_line *ln;
	struct nk_prop p;
	char *src;

	if (nk_prop_of_fs(fs, &p, e) < 0)
		return -e->code;
	ln = scols_table_new_line(out, NULL);
	src = nk_mount_source(fs);
	if (!ln || !src || scols_line_refer_data(ln, COL_SOURCE, src)) {
		free(src);
		return nomem(e);
	}
	if (scols_line_set_data(ln, COL_TARGET, mnt_fs_get_target(fs)) ||
	    scols_line_set_data(ln, COL_PROP, nk_prop_name(p.flags)) ||
	    set_num(ln, COL_PEER, p.peer) || set_num(ln, COL_MASTER, p.master) ||
	    scols_line_set_data(ln, COL_FSTYPE, mnt_fs_get_fstype(fs)))
		return nomem(e);
	return 0;
}

/* Is TARGET at or below one of the N canonical TOPS (every mount: N 0)? */
static bool wanted(const char *target, char *const *tops, int n)
{
	for (int i = 0; i < n; i++)
		if (target && nk_path_is_under(target, tops[i]))
			return true;
	return n == 0;
}

static int show_mounts(struct libmnt_table *tb, char *const *tops, int n, bool json, struct nk_err *e)
{
	struct libscols_table *out = show_table_new(json);
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	int r = out && it ? 0 : nomem(e);

	while (r == 0 && mnt_table_next_fs(tb, it, &fs) == 0)
		if (wanted(mnt_fs_get_target(fs), tops, n))
			r = show_mount(out, fs, e);
	if (r == 0)
		scols_print_table(out);
	mnt_free_iter(it);
	scols_unref_table(out);
	return r;
}

static int do_show(const struct opts *o, struct nk_err *e)
{
	struct libmnt_table *tb = NULL;
	NK_AUTOFREE char **tops = calloc(o->n ? (size_t)o->n : 1, sizeof *tops);
	int i, r = 0;

	if (!tops)
		return nk_errf(e, ENOMEM, "out of memory");
	for (i = 0; i < o->n && r == 0; i++)
		r = nk_mount_canonicalize(o->args[i], &tops[i], e);
	if (r == 0)
		r = nk_mount_table_read(NULL, &tb, e);
	if (r == 0)
		r = show_mounts(tb, tops, o->n, o->json, e);
	for (i = 0; i < o->n; i++)
		free(tops[i]);
	mnt_unref_table(tb);
	return r < 0 ? -e->code : 0;
}

/* --- check ---------------------------------------------------------------- */

static int do_check(char **args, int n)
{
	static char *root[] = { "/" };
	struct libmnt_table *tb = NULL;
	struct nk_err e;
	int i, rc = 0;

	if (n == 0) {
		args = root;
		n = 1;
	}
	if (nk_mount_table_read(NULL, &tb, &e) < 0) {
		nk_err_print(&e);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct libmnt_fs *fs;
		NK_AUTOFREE char *path = NULL;
		const char *mp;
		struct nk_prop p;
		char why[128];

		if (nk_mount_canonicalize(args[i], &path, &e) < 0) {
			nk_err_print(&e);
			rc = 1;
			continue;
		}
		fs = nk_mount_find_containing(tb, path);
		if (!fs) {
			nk_warnx("'%s' is not on any mount of this mount namespace", args[i]);
			rc = 1;
			continue;
		}
		if (nk_prop_of_fs(fs, &p, &e) < 0) {
			nk_err_print(&e);
			rc = 1;
			continue;
		}
		mp = mnt_fs_get_target(fs);
		if (p.flags & MS_SHARED) {
			if (strcmp(mp, path) == 0)
				printf("'%s' is a shared mount (peer group %u)\n", args[i], p.peer);
			else
				printf("'%s' is on a shared mount: '%s' (peer group %u)\n",
				       args[i], mp, p.peer);
			continue;
		}
		rc = 1;
		if (p.flags & MS_SLAVE)
			snprintf(why, sizeof why, "a slave of peer group %u, which receives mounts "
				 "but sends none", p.master);
		else if (p.flags & MS_UNBINDABLE)
			snprintf(why, sizeof why, "private and unbindable");
		else
			snprintf(why, sizeof why, "private");
		if (strcmp(mp, path) == 0)
			nk_warnx("'%s' is not a shared mount: it is %s (make it shared: 'mnt-share %s')",
				 args[i], why, mp);
		else
			nk_warnx("'%s' is not on a shared mount: its mount '%s' is %s "
				 "(make it shared: 'mnt-share %s')", args[i], mp, why, mp);
	}
	mnt_unref_table(tb);
	return rc;
}

/* "A and B cannot be used together": one of each group at most. */
static void __attribute__((noreturn)) conflict(int a, int b)
{
	nk_die(1, "%s and %s cannot be used together", opt_name(a), opt_name(b));
}

static void parse_options(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "shared", no_argument, NULL, OPT_SHARED },
		{ "slave", no_argument, NULL, OPT_SLAVE },
		{ "private", no_argument, NULL, OPT_PRIVATE },
		{ "unbindable", no_argument, NULL, OPT_UNBINDABLE },
		{ "no-recursive", no_argument, NULL, OPT_NO_RECURSIVE },
		{ "bind-self", no_argument, NULL, OPT_BIND_SELF },
		{ "show", no_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int type_opt = 0, set_opt = 0, c;

	*o = (struct opts){ .recursive = true };
	opterr = 0;  /* getopt would name argv[0] in full; say "mnt-share:" */
	while ((c = getopt_long(argc, argv, "schV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SHARED:
		case OPT_SLAVE:
		case OPT_PRIVATE:
		case OPT_UNBINDABLE:
			if (type_opt && type_opt != c)
				conflict(type_opt, c);
			type_opt = c;
			break;
		case OPT_NO_RECURSIVE:
			o->recursive = false;
			break;
		case OPT_BIND_SELF:
			o->bind_self = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 's':
		case 'c':
			if (o->mode && o->mode != c)
				conflict(o->mode, c);
			o->mode = c;
			break;
		case 'h':
		case 'V':
			nk_std_option_or_err(c, usage);
		default:
			if (optopt >= 0x100 || optopt == 's' || optopt == 'c')
				nk_usage_errorx("option '%s' doesn't allow an argument",
						argv[optind - 1]);
			if (optopt)
				nk_usage_errorx("invalid option -- '%c'", optopt);
			nk_usage_errorx("unrecognized option '%s'", argv[optind - 1]);
		}
		/* The first option that sets, for the message below. */
		if (!set_opt && (c == OPT_NO_RECURSIVE || c == OPT_BIND_SELF || type_opt == c))
			set_opt = c;
	}
	if (o->mode && set_opt)
		conflict(set_opt, o->mode);
	if (o->json && o->mode != 's')
		nk_die(1, "--json can only be used with --show");
	o->type = opt_type(type_opt);
	o->args = argv + optind;
	o->n = argc - optind;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct nk_err e;
	int r;

	nk_tool_init("mnt-share", argv);
	parse_options(argc, argv, &o);
	if (o.mode == 'c')
		return do_check(o.args, o.n);   /* a report for each target */
	r = o.mode == 's' ? do_show(&o, &e) : do_set(&o, &e);
	if (r < 0)
		nk_die_err(1, &e);
	return 0;
}
