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

static void usage(void)
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

struct target {
	struct nk_mount_target mt;  /* resolved once, opened, checked */
	bool bind;                  /* bind onto itself first */
};

static int do_set(char **args, int n, unsigned long type, bool recursive,
		  bool bind_self)
{
	static char *root[] = { "/" };
	struct libmnt_table *tb = NULL;
	struct target *t;
	struct nk_err e;
	int i, rc = 0;

	if (n == 0) {
		args = root;
		n = 1;
	}
	t = calloc(n, sizeof *t);
	if (!t)
		nk_die(1, "out of memory");
	for (i = 0; i < n; i++)
		t[i].mt = (struct nk_mount_target)NK_MOUNT_TARGET_INIT;
	if (nk_mount_table_read(NULL, &tb, &e) < 0)
		nk_die_err(1, &e);

	/* Check every target before the first change: fail closed. Each is
	 * opened once and changed through its descriptor only, so what is
	 * changed is what was checked, whatever happens to the path since. */
	for (i = 0; i < n; i++) {
		struct libmnt_fs *fs;
		struct nk_prop p;

		if (nk_mount_target_open(tb, args[i], &t[i].mt, &e) < 0) {
			nk_err_print(&e);
			rc = 1;
			goto out;
		}
		if (t[i].mt.mount_point)
			continue;
		if (!bind_self) {
			nk_warnx("'%s' is not a mount point (use --bind-self to bind it onto itself first)",
				 args[i]);
			rc = 1;
			goto out;
		}
		fs = t[i].mt.fs;  /* the mount that holds it, the one it is on */
		if (nk_prop_of_fs(fs, &p, &e) < 0) {
			nk_err_print(&e);
			rc = 1;
			goto out;
		}
		if (p.flags & MS_UNBINDABLE) {
			nk_warnx("cannot bind '%s' onto itself: the mount at '%s' that holds it is unbindable "
				 "(make it bindable first: 'mnt-share --private --no-recursive %s')",
				 args[i], mnt_fs_get_target(fs), mnt_fs_get_target(fs));
			rc = 1;
			goto out;
		}
		t[i].bind = true;
	}

	for (i = 0; i < n; i++) {
		if (t[i].bind && nk_mount_target_bind_self(&t[i].mt, &e) < 0) {
			nk_err_print(&e);
			rc = 1;
			goto out;
		}
		if (nk_mount_target_set_propagation(&t[i].mt, type, recursive, &e) < 0) {
			nk_err_print(&e);
			rc = 1;
			goto out;
		}
	}
out:
	for (i = 0; i < n; i++)
		nk_mount_target_close(&t[i].mt);
	free(t);
	mnt_unref_table(tb);
	return rc;
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

static int do_show(char **args, int n, bool json)
{
	struct libmnt_table *tb = NULL;
	struct libscols_table *out = NULL;
	struct libmnt_iter *it = NULL;
	struct libmnt_fs *fs;
	char **tops = NULL;
	struct nk_err e;
	int i, rc = 1;

	tops = calloc(n ? n : 1, sizeof *tops);
	if (!tops)
		nk_die(1, "out of memory");
	for (i = 0; i < n; i++) {
		if (nk_mount_canonicalize(args[i], &tops[i], &e) < 0) {
			nk_err_print(&e);
			goto done;
		}
	}
	if (nk_mount_table_read(NULL, &tb, &e) < 0) {
		nk_err_print(&e);
		goto done;
	}
	scols_init_debug(0);
	out = scols_new_table();
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!out || !it)
		goto nomem;
	if (json) {
		scols_table_enable_json(out, 1);
		scols_table_set_name(out, "mounts");
	}
	for (i = 0; i < (int)NK_ARRAY_SIZE(cols); i++) {
		struct libscols_column *cl =
			scols_table_new_column(out, cols[i].name, cols[i].whint, cols[i].flags);
		if (!cl)
			goto nomem;
		scols_column_set_json_type(cl, cols[i].json);
	}

	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *target = mnt_fs_get_target(fs);
		struct libscols_line *ln;
		struct nk_prop p;
		char *src;
		bool want = n == 0;

		for (i = 0; i < n && !want; i++)
			want = target && nk_path_is_under(target, tops[i]);
		if (!want)
			continue;
		if (nk_prop_of_fs(fs, &p, &e) < 0) {
			nk_err_print(&e);
			goto done;
		}
		ln = scols_table_new_line(out, NULL);
		src = nk_mount_source(fs);
		if (!ln || !src)
			goto nomem;
		if (scols_line_set_data(ln, COL_TARGET, target) ||
		    scols_line_set_data(ln, COL_PROP, nk_prop_name(p.flags)) ||
		    set_num(ln, COL_PEER, p.peer) || set_num(ln, COL_MASTER, p.master) ||
		    scols_line_set_data(ln, COL_FSTYPE, mnt_fs_get_fstype(fs)) ||
		    scols_line_refer_data(ln, COL_SOURCE, src)) {
			free(src);
			goto nomem;
		}
	}
	scols_print_table(out);
	rc = 0;
	goto done;
nomem:
	nk_warnx("cannot list the mounts: out of memory");
done:
	for (i = 0; i < n; i++)
		free(tops[i]);
	free(tops);
	mnt_free_iter(it);
	scols_unref_table(out);
	mnt_unref_table(tb);
	return rc;
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
	if (nk_mount_table_read(NULL, &tb, &e) < 0)
		nk_die_err(1, &e);
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

int main(int argc, char **argv)
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
	int type_opt = 0, mode_opt = 0, set_opt = 0;
	bool recursive = true, bind_self = false, json = false;
	int c;

	nk_tool_init("mnt-share", argv);
	opterr = 0;  /* getopt would name argv[0] in full; say "mnt-share:" */
	while ((c = getopt_long(argc, argv, "schV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SHARED:
		case OPT_SLAVE:
		case OPT_PRIVATE:
		case OPT_UNBINDABLE:
			if (type_opt && type_opt != c)
				nk_die(1, "%s and %s cannot be used together",
				       opt_name(type_opt), opt_name(c));
			type_opt = c;
			set_opt = set_opt ? set_opt : c;
			break;
		case OPT_NO_RECURSIVE:
			recursive = false;
			set_opt = set_opt ? set_opt : c;
			break;
		case OPT_BIND_SELF:
			bind_self = true;
			set_opt = set_opt ? set_opt : c;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 's':
		case 'c':
			if (mode_opt && mode_opt != c)
				nk_die(1, "%s and %s cannot be used together",
				       opt_name(mode_opt), opt_name(c));
			mode_opt = c;
			break;
		case 'h':
			usage();
			break;
		case 'V':
			nk_print_version();
			break;
		default:
			if (optopt >= 0x100 || optopt == 's' || optopt == 'c')
				nk_usage_errorx("option '%s' doesn't allow an argument",
						argv[optind - 1]);
			if (optopt)
				nk_usage_errorx("invalid option -- '%c'", optopt);
			nk_usage_errorx("unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (mode_opt && set_opt)
		nk_die(1, "%s and %s cannot be used together", opt_name(set_opt),
		       opt_name(mode_opt));
	if (json && mode_opt != 's')
		nk_die(1, "--json can only be used with --show");

	argv += optind;
	argc -= optind;
	if (mode_opt == 's')
		return do_show(argv, argc, json);
	if (mode_opt == 'c')
		return do_check(argv, argc);
	return do_set(argv, argc, opt_type(type_opt), recursive, bind_self);
}
