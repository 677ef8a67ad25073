/* mnt-race - what mnt-share does to one TARGET, with the race of the
 * security review played out deterministically in the middle:
 *
 *   mnt-race WHEN TYPE BIND TARGET LINK
 *
 * WHEN     checked: after TARGET was resolved, opened and checked against
 *                   the mount table, before the change (nk_mount_target_open
 *                   returned)
 *          resolved: after realpath(), before the open (the lib's test hook)
 * TYPE     shared, slave, private or unbindable
 * BIND     bind: bind TARGET onto itself first when it is not a mount point
 *          (--bind-self); nobind: it must be one
 * LINK     what the swapped TARGET points to: another mount, or /
 *
 * The swap is what a user who owns TARGET's folder could do: TARGET (the
 * resolved path) is renamed to TARGET.orig (lazily unmounted first when it
 * is a mount point: rename(2) refuses a mount point) and a symbolic link to
 * LINK put in its place. Exit 0 when the change was made, 1 with
 * "mnt-race: message" when it was refused; the test then looks at LINK's
 * mounts (untouched either way) and at TARGET.orig.
 * Run as root, in a mount namespace of the test's own (tests/sandbox).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include "mount.h"

static const char *link_to;

static void swap(const char *path)
{
	char old[PATH_MAX + 8];

	snprintf(old, sizeof old, "%s.orig", path);
	if (rename(path, old) < 0 &&
	    (errno != EBUSY || umount2(path, MNT_DETACH) < 0 || rename(path, old) < 0)) {
		perror("mnt-race: cannot move TARGET away");
		exit(2);
	}
	if (symlink(link_to, path) < 0) {
		perror("mnt-race: symlink");
		exit(2);
	}
}

static unsigned long type_of(const char *s)
{
	static const unsigned long types[] = { MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE };

	for (size_t i = 0; i < NK_ARRAY_SIZE(types); i++)
		if (strcmp(s, nk_prop_type_name(types[i])) == 0)
			return types[i];
	fprintf(stderr, "mnt-race: bad type '%s'\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	struct nk_mount_target t = NK_MOUNT_TARGET_INIT;
	struct libmnt_table *tb = NULL;
	unsigned long type;
	struct nk_err e;
	bool checked, bind;
	int rc = 1;

	if (argc != 6 || (strcmp(argv[1], "checked") && strcmp(argv[1], "resolved")) ||
	    (strcmp(argv[3], "bind") && strcmp(argv[3], "nobind"))) {
		fprintf(stderr, "usage: mnt-race checked|resolved TYPE bind|nobind TARGET LINK\n");
		return 2;
	}
	checked = strcmp(argv[1], "checked") == 0;
	type = type_of(argv[2]);
	bind = strcmp(argv[3], "bind") == 0;
	link_to = argv[5];

	if (nk_mount_table_read(NULL, &tb, &e) < 0)
		goto fail;
	if (!checked)
		nk_mount_target_test_hook = swap;
	if (nk_mount_target_open(tb, argv[4], &t, &e) < 0)
		goto fail;
	if (!t.mount_point && !bind) {
		fprintf(stderr, "mnt-race: '%s' is not a mount point\n", argv[4]);
		goto out;
	}
	if (checked)
		swap(t.path);
	if (!t.mount_point && nk_mount_target_bind_self(&t, &e) < 0)
		goto fail;
	if (nk_mount_target_set_propagation(&t, type, true, &e) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "mnt-race: %s\n", e.msg);
out:
	nk_mount_target_close(&t);
	mnt_unref_table(tb);
	return rc;
}
