/* pwdb.h - the users and groups the subid tools need, read once
 *
 * With a root folder, DIR/etc/passwd and DIR/etc/group are parsed directly,
 * read as lib/cfgfile.h reads a file of a folder someone else may own
 * (image builds and tests: the NSS modules of the running system know
 * nothing about DIR). Without one, the system's passwd and group databases
 * are enumerated through NSS once; a name or uid that enumeration did not
 * return (SSSD without enumerate) is looked up on demand.
 * Lookups are binary searches, so bulk operations stay O(n log n).
 */
#ifndef NSKIT_PWDB_H
#define NSKIT_PWDB_H

#include <stdint.h>
#include <sys/types.h>
#include "err.h"

struct nk_pwent {
	char *name;
	uint32_t uid;
	uint32_t gid;
};

struct nk_grent {
	char *name;
	uint32_t gid;
};

struct nk_pwdb {
	int nss;                    /* read through NSS (no root folder) */
	struct nk_pwent *users;     /* passwd order */
	size_t nusers;
	struct nk_pwent **by_name;  /* sorted by name */
	struct nk_pwent **by_uid;   /* sorted by uid */
	struct nk_grent *groups;    /* sorted by gid */
	size_t ngroups;
	struct nk_pw_extra *extra;  /* on-demand NSS lookups */
};

/* Parse one passwd (IS_GROUP 0) or group line in place, field by field:
 * exactly 7 (4) fields, a name, decimal uid and gid (gid). OUT->name points
 * into LINE; for a group OUT->uid = OUT->gid. -EINVAL for a line to skip. */
int nk_pwdb_parse_line(char *line, int is_group, struct nk_pwent *out);

/* ROOT NULL: the system's databases. Otherwise ROOT/etc/passwd, ROOT/etc/group
 * (a missing group file is empty; a missing passwd file is an error), read
 * from ETCFD, ROOT/etc opened once by nk_cfg_opendir() (ROOT names the files
 * in messages). */
int nk_pwdb_load_at(struct nk_pwdb *db, int etcfd, const char *root, struct nk_err *e);
/* The same, opening ROOT/etc itself. */
int nk_pwdb_load(struct nk_pwdb *db, const char *root, struct nk_err *e);
void nk_pwdb_free(struct nk_pwdb *db);
const struct nk_pwent *nk_pwdb_by_name(struct nk_pwdb *db, const char *name);
const struct nk_pwent *nk_pwdb_by_uid(struct nk_pwdb *db, uint32_t uid);
/* Name a user by NAME or decimal uid, as subuid owners are written. */
const struct nk_pwent *nk_pwdb_owner(struct nk_pwdb *db, const char *owner);
/* The first user (by uid) with LO <= uid <= HI, or NULL. */
const struct nk_pwent *nk_pwdb_uid_in(const struct nk_pwdb *db, uint64_t lo, uint64_t hi);
const struct nk_grent *nk_pwdb_gid_in(const struct nk_pwdb *db, uint64_t lo, uint64_t hi);

/* The login name of uid, or the number when it has none (through NSS). */
const char *nk_user_name(uid_t uid, char *buf, size_t len);
/* The uid of the login NAME through NSS: 0, or -ENOENT. The last user found
 * by this or nk_user_name() is remembered: one lookup for the usual one user. */
int nk_user_uid(const char *name, uint32_t *uid);

#endif
