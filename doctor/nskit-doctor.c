/* nskit-doctor - find why rootless user namespaces fail for a user
 *
 * Reads what it can (sysctls, /etc/subuid and /etc/subgid through libsubid
 * and as files, the helpers, this process's state) and probes what reading
 * cannot tell: a child creates a user namespace, nests as deep as it can,
 * and has a full map written to a grandchild through newuidmap/newgidmap,
 * as podman would. Nothing is changed. One finding a line; exit 1 when one
 * fails.
 */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <libsmartcols.h>
#include <linux/capability.h>
#include "doctor.h"
#include "helper.h"
#include "idmap.h"
#include "num.h"
#include "subid.h"
#include "tool.h"

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options]\n"
	       "\n"
	       "Check whether rootless user namespaces with a full mapping work, and say how to fix what does not.\n"
	       "\n"
	       "Options:\n"
	       " -u, --user USER      check USER (default: you; probing as USER needs root)\n"
	       " -J, --json           print JSON\n"
	       " -q, --quiet          print only the findings that warn or fail\n"
	       "\n"
	       " -h, --help           display this help\n"
	       " -V, --version        display version\n"
	       "\n"
	       "For more details see nskit-doctor(1).\n", nk_progname);
	exit(0);
}

static void check_helper(struct nk_findings *fs, enum nk_idtype t)
{
	char path[PATH_MAX];
	struct nk_err e;
	struct stat st;
	struct statvfs sv;
	int filecap = 0, nosuid = 0;
	NK_AUTOCLOSE int fd = -1;

	if (nk_find_helper(t, path, sizeof path, &e) < 0) {
		nk_doctor_helper(fs, t, NULL, e.msg, NULL, 0, 0);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		char why[PATH_MAX + 64];

		snprintf(why, sizeof why, "cannot open %s: %s", path, strerror(errno));
		nk_doctor_helper(fs, t, NULL, why, NULL, 0, 0);
		return;
	}
	filecap = nk_file_has_cap(fd, t == NK_UID ? CAP_SETUID : CAP_SETGID);
	if (fstatvfs(fd, &sv) == 0)
		nosuid = (sv.f_flag & ST_NOSUID) != 0;
	nk_doctor_helper(fs, t, path, NULL, &st, filecap, nosuid);
}

static void print_findings(const struct nk_findings *fs, int json, int quiet)
{
	struct libscols_table *tb = scols_new_table();
	size_t shown = 0;

	if (!tb)
		nk_die(1, "out of memory");
	scols_table_set_name(tb, "findings");
	scols_table_enable_json(tb, json);
	scols_table_enable_minout(tb, 1);
	if (!scols_table_new_column(tb, "ID", 0, 0) || !scols_table_new_column(tb, "STATUS", 0, 0) ||
	    !scols_table_new_column(tb, "FINDING", 0, 0) || !scols_table_new_column(tb, "FIX", 0, 0))
		nk_die(1, "out of memory");
	for (size_t i = 0; i < fs->n; i++) {
		const struct nk_finding *f = &fs->f[i];
		struct libscols_line *ln;

		if (quiet && f->status == NK_OK)
			continue;
		ln = scols_table_new_line(tb, NULL);
		if (!ln || scols_line_set_data(ln, 0, f->id) < 0 ||
		    scols_line_set_data(ln, 1, nk_status_name(f->status)) < 0 ||
		    scols_line_set_data(ln, 2, f->what) < 0 ||
		    scols_line_set_data(ln, 3, f->fix ? f->fix : "") < 0)
			nk_die(1, "out of memory");
		shown++;
	}
	if (shown || json)
		scols_print_table(tb);
	scols_unref_table(tb);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *user = NULL;
	int json = 0, quiet = 0, c, caller;
	struct passwd *pw;
	struct nk_dr_user u;
	struct nk_dr_sys sys;
	struct nk_dr_probe probe;
	struct nk_findings fs = { 0, 0, NULL };
	struct nk_ranges ranges[2] = { { 0, NULL }, { 0, NULL } };
	const struct nk_ranges *got[2] = { NULL, NULL };
	struct nk_maps own = { { 0, 0, NULL }, { 0, 0, NULL } };
	struct nk_err e;
	char name[256];
	gid_t groups[256];
	uint32_t gids[256];
	int ngroups = (int)NK_ARRAY_SIZE(groups);
	enum nk_status worst;

	nk_tool_init("nskit-doctor", argv);
	while ((c = getopt_long(argc, argv, "u:JqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 'J':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage();
		case 'V':
			nk_print_version();
		default:
			nk_usage_error();
		}
	}
	if (optind < argc)
		nk_usage_errorx("unexpected argument '%s'", argv[optind]);
	if (user) {
		uint32_t id;

		pw = getpwnam(user);
		if (!pw && nk_parse_id(user, &id) == 0)
			pw = getpwuid(id);
		if (!pw)
			nk_die(1, "no user '%s' (give a name or uid from the passwd database)", user);
	} else {
		pw = getpwuid(getuid());
		if (!pw)
			nk_die(1, "your uid %u has no name in the passwd database (add one: newuidmap and "
			       "libsubid look users up by name)", getuid());
	}
	snprintf(name, sizeof name, "%s", pw->pw_name);
	u.name = name;
	u.uid = pw->pw_uid;
	u.gid = pw->pw_gid;
	caller = u.uid == getuid();

	nk_dr_sys_read(&sys);

	/* Probe as the user: ourselves, or a child that becomes the user when
	 * we are root. */
	memset(&probe, 0, sizeof probe);
	if (caller || geteuid() == 0) {
		if (nk_doctor_probe(&probe, &u, !caller, &e) < 0)
			nk_die_err(1, &e);
	}
	nk_doctor_userns(&fs, &sys, &probe, &u);

	for (int t = NK_UID; t <= NK_GID; t++) {
		const char *path = nk_subid_file((enum nk_idtype)t);
		struct nk_sf sf;
		struct nk_err fe;
		int r = nk_subid_ranges(name, (enum nk_idtype)t, &ranges[t], &e);
		int lr = nk_sf_load(&sf, path, &fe);

		if (r == 0)
			got[t] = &ranges[t];
		if (lr == -ENOMEM)
			nk_die(1, "out of memory");
		nk_doctor_subids(&fs, (enum nk_idtype)t, &u, got[t], r < 0 ? e.msg : NULL, path, &sf,
				 lr < 0 ? &fe : NULL, &nk_dr_system_db);
		nk_sf_free(&sf);
	}

	check_helper(&fs, NK_UID);
	check_helper(&fs, NK_GID);
	nk_doctor_privs(&fs, &sys);
	if (nk_maps_read_proc(0, &own, &e) < 0)
		nk_die_err(1, &e);
	nk_doctor_parent_map(&fs, &own, got, &u);
	nk_maps_free(&own);

	if (caller) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		struct stat st;
		int have = 0, err = 0;

		if (xdg && *xdg) {
			have = lstat(xdg, &st) == 0;
			err = errno;
		}
		nk_doctor_xdg(&fs, xdg, have ? &st : NULL, err, &u);
		nk_doctor_user_env(&fs, getenv("USER"), getenv("LOGNAME"), &u);
	}

	if (getgrouplist(name, u.gid, groups, &ngroups) < 0)
		ngroups = (int)NK_ARRAY_SIZE(groups);
	for (int i = 0; i < ngroups; i++)
		gids[i] = groups[i];
	nk_doctor_mounts(&fs, &sys, gids, (size_t)ngroups, &u);

	print_findings(&fs, json, quiet);
	worst = nk_findings_worst(&fs);
	nk_findings_free(&fs);
	nk_ranges_free(&ranges[0]);
	nk_ranges_free(&ranges[1]);
	return worst == NK_FAIL ? 1 : 0;
}
