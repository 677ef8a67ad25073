#include <string.h>
#include <pwd.h>
#include <grp.h>
#include "pwdb.h"
#include "cfgfile.h"
#include "num.h"
#include "search.h"
#include "util.h"

struct nk_pw_extra {
	struct nk_pw_extra *next;
	struct nk_pwent ent;
};

void nk_pwdb_free(struct nk_pwdb *db)
{
	for (size_t i = 0; i < db->nusers; i++)
		free(db->users[i].name);
	for (size_t i = 0; i < db->ngroups; i++)
		free(db->groups[i].name);
	while (db->extra) {
		struct nk_pw_extra *x = db->extra;
		db->extra = x->next;
		free(x->ent.name);
		free(x);
	}
	free(db->users);
	free(db->by_name);
	free(db->by_uid);
	free(db->groups);
	memset(db, 0, sizeof *db);
}

static int add_user(struct nk_pwdb *db, size_t *cap, const char *name, uint32_t uid,
		    uint32_t gid)
{
	if (nk_grow(&db->users, db->nusers, cap, sizeof *db->users, 64) < 0)
		return -ENOMEM;
	db->users[db->nusers].name = strdup(name);
	if (!db->users[db->nusers].name)
		return -ENOMEM;
	db->users[db->nusers].uid = uid;
	db->users[db->nusers].gid = gid;
	db->nusers++;
	return 0;
}

static int add_group(struct nk_pwdb *db, size_t *cap, const char *name, uint32_t gid)
{
	if (nk_grow(&db->groups, db->ngroups, cap, sizeof *db->groups, 64) < 0)
		return -ENOMEM;
	db->groups[db->ngroups].name = strdup(name);
	if (!db->groups[db->ngroups].name)
		return -ENOMEM;
	db->groups[db->ngroups].gid = gid;
	db->ngroups++;
	return 0;
}

/* Split a colon line in place into fields, empty ones included; returns
 * the count, or MAX + 1 when there are more than MAX. */
static int split_colons(char *s, char **f, int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return max + 1;
		f[n++] = s;
		s = strchr(s, ':');
		if (!s)
			return n;
		*s++ = '\0';
	}
}

int nk_pwdb_parse_line(char *line, int is_group, struct nk_pwent *out)
{
	char *fld[7];
	int n;

	/* passwd: name:passwd:uid:gid:gecos:dir:shell; group: name:passwd:gid:members.
	 * Exactly that many fields, a non-empty name and decimal ids, as
	 * glibc's files parser (an empty id field makes the line invalid). */
	if (line[0] == '#' || line[0] == '\0' || line[0] == '+' || line[0] == '-')
		return -EINVAL;
	n = split_colons(line, fld, is_group ? 4 : 7);
	if (n != (is_group ? 4 : 7) || fld[0][0] == '\0')
		return -EINVAL;
	out->name = fld[0];
	if (nk_parse_id(fld[2], is_group ? &out->gid : &out->uid) < 0)
		return -EINVAL;
	if (is_group) {
		out->uid = out->gid;
		return 0;
	}
	return nk_parse_id(fld[3], &out->gid) < 0 ? -EINVAL : 0;
}

static int read_file(struct nk_pwdb *db, int dfd, const char *name, const char *path,
		     int is_group, int must_exist, struct nk_err *e)
{
	NK_AUTOFREE char *buf = NULL;
	size_t len = 0, cap = 0;
	char *p, *end;
	int r;

	/* DIR/etc belongs to whoever built the image: no link, no FIFO,
	 * nothing but a regular file of at most NK_CFG_MAX_DB bytes. */
	r = nk_cfg_read_at(dfd, name, path, 0, NK_CFG_MAX_DB, &buf, &len, NULL, e);
	if (r == -ENOENT && !must_exist) {
		nk_err_clear(e);
		return 0;
	}
	if (r < 0)
		return r;
	for (p = buf, end = buf + len; p < end;) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		struct nk_pwent ent;

		if (eol)
			*eol = '\0';
		if (nk_pwdb_parse_line(p, is_group, &ent) == 0 &&
		    (is_group ? add_group(db, &cap, ent.name, ent.gid) < 0
			      : add_user(db, &cap, ent.name, ent.uid, ent.gid) < 0))
			return nk_syserr(e, ENOMEM, "cannot read %s", path);
		p = eol ? eol + 1 : end;
	}
	return 0;
}

static int read_nss(struct nk_pwdb *db, struct nk_err *e)
{
	size_t ucap = 0, gcap = 0;
	struct passwd *pw;
	struct group *gr;

	setpwent();
	while ((pw = getpwent()))
		if (add_user(db, &ucap, pw->pw_name, pw->pw_uid, pw->pw_gid) < 0) {
			endpwent();
			return nk_syserr(e, ENOMEM, "cannot read the passwd database");
		}
	endpwent();
	setgrent();
	while ((gr = getgrent()))
		if (add_group(db, &gcap, gr->gr_name, gr->gr_gid) < 0) {
			endgrent();
			return nk_syserr(e, ENOMEM, "cannot read the group database");
		}
	endgrent();
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct nk_pwent *x = *(struct nk_pwent *const *)a, *y = *(struct nk_pwent *const *)b;
	return strcmp(x->name, y->name);
}

static int cmp_uid(const void *a, const void *b)
{
	const struct nk_pwent *x = *(struct nk_pwent *const *)a, *y = *(struct nk_pwent *const *)b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int cmp_gid(const void *a, const void *b)
{
	const struct nk_grent *x = a, *y = b;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

static int index_users(struct nk_pwdb *db, struct nk_err *e)
{
	db->by_name = malloc((db->nusers + 1) * sizeof *db->by_name);
	db->by_uid = malloc((db->nusers + 1) * sizeof *db->by_uid);
	if (!db->by_name || !db->by_uid)
		return nk_syserr(e, ENOMEM, "cannot read the user database");
	for (size_t i = 0; i < db->nusers; i++)
		db->by_name[i] = db->by_uid[i] = &db->users[i];
	qsort(db->by_name, db->nusers, sizeof *db->by_name, cmp_name);
	qsort(db->by_uid, db->nusers, sizeof *db->by_uid, cmp_uid);
	if (db->ngroups)
		qsort(db->groups, db->ngroups, sizeof *db->groups, cmp_gid);
	return 0;
}

static int read_root(struct nk_pwdb *db, int etcfd, const char *root, struct nk_err *e)
{
	NK_AUTOFREE char *p = NULL, *g = NULL;
	int r;

	if (asprintf(&p, "%s/etc/passwd", root) < 0 || asprintf(&g, "%s/etc/group", root) < 0)
		return nk_syserr(e, ENOMEM, "cannot read the user database");
	r = read_file(db, etcfd, "passwd", p, 0, 1, e);
	if (r == 0)
		r = read_file(db, etcfd, "group", g, 1, 0, e);
	return r;
}

int nk_pwdb_load_at(struct nk_pwdb *db, int etcfd, const char *root, struct nk_err *e)
{
	int r;

	memset(db, 0, sizeof *db);
	if (root) {
		r = read_root(db, etcfd, root, e);
	} else {
		db->nss = 1;
		r = read_nss(db, e);
	}
	if (r == 0)
		r = index_users(db, e);
	if (r < 0)
		nk_pwdb_free(db);
	return r;
}

int nk_pwdb_load(struct nk_pwdb *db, const char *root, struct nk_err *e)
{
	NK_AUTOCLOSE int etcfd = -1;

	if (root && nk_cfg_opendir(root, &etcfd, e) < 0) {
		memset(db, 0, sizeof *db);
		return -e->code;
	}
	return nk_pwdb_load_at(db, etcfd, root, e);
}

static const struct nk_pwent *remember(struct nk_pwdb *db, const struct passwd *pw)
{
	struct nk_pw_extra *x = calloc(1, sizeof *x);

	if (!x)
		return NULL;
	x->ent.name = strdup(pw->pw_name);
	if (!x->ent.name) {
		free(x);
		return NULL;
	}
	x->ent.uid = pw->pw_uid;
	x->ent.gid = pw->pw_gid;
	x->next = db->extra;
	db->extra = x;
	return &x->ent;
}

static int name_below(const void *elem, const void *key)
{
	return strcmp((*(struct nk_pwent *const *)elem)->name, key) < 0;
}

const struct nk_pwent *nk_pwdb_by_name(struct nk_pwdb *db, const char *name)
{
	size_t i = nk_lower_bound(db->by_name, db->nusers, sizeof *db->by_name, name, name_below);
	struct passwd *pw;

	if (i < db->nusers && strcmp(db->by_name[i]->name, name) == 0)
		return db->by_name[i];
	for (struct nk_pw_extra *x = db->extra; x; x = x->next)
		if (strcmp(x->ent.name, name) == 0)
			return &x->ent;
	if (!db->nss || !(pw = getpwnam(name)))
		return NULL;
	return remember(db, pw);
}

static int uid_below(const void *elem, const void *key)
{
	return (*(struct nk_pwent *const *)elem)->uid < *(const uint64_t *)key;
}

static size_t uid_lower_bound(const struct nk_pwdb *db, uint64_t uid)
{
	return nk_lower_bound(db->by_uid, db->nusers, sizeof *db->by_uid, &uid, uid_below);
}

const struct nk_pwent *nk_pwdb_by_uid(struct nk_pwdb *db, uint32_t uid)
{
	size_t i = uid_lower_bound(db, uid);
	struct passwd *pw;

	if (i < db->nusers && db->by_uid[i]->uid == uid)
		return db->by_uid[i];
	for (struct nk_pw_extra *x = db->extra; x; x = x->next)
		if (x->ent.uid == uid)
			return &x->ent;
	if (!db->nss || !(pw = getpwuid(uid)))
		return NULL;
	return remember(db, pw);
}

const struct nk_pwent *nk_pwdb_owner(struct nk_pwdb *db, const char *owner)
{
	const struct nk_pwent *p = nk_pwdb_by_name(db, owner);
	uint32_t uid;

	if (p)
		return p;
	if (nk_parse_id(owner, &uid) == 0)
		return nk_pwdb_by_uid(db, uid);
	return NULL;
}

const struct nk_pwent *nk_pwdb_uid_in(const struct nk_pwdb *db, uint64_t lo, uint64_t hi)
{
	size_t i = uid_lower_bound(db, lo);

	if (i < db->nusers && db->by_uid[i]->uid <= hi)
		return db->by_uid[i];
	return NULL;
}

static int gid_below(const void *elem, const void *key)
{
	return ((const struct nk_grent *)elem)->gid < *(const uint64_t *)key;
}

const struct nk_grent *nk_pwdb_gid_in(const struct nk_pwdb *db, uint64_t lo, uint64_t hi)
{
	size_t l = nk_lower_bound(db->groups, db->ngroups, sizeof *db->groups, &lo, gid_below);

	if (l < db->ngroups && db->groups[l].gid <= hi)
		return &db->groups[l];
	return NULL;
}

/* The last user nk_user_name() or nk_user_uid() found: the reader of
 * /etc/subuid asks for the uid of the user whose name was just looked up. */
static struct {
	char name[256];
	uint32_t uid;
	int valid;
} last_user;

static void remember_user(const char *name, uint32_t uid)
{
	last_user.valid = strlen(name) < sizeof last_user.name;
	if (last_user.valid)
		snprintf(last_user.name, sizeof last_user.name, "%s", name);
	last_user.uid = uid;
}

const char *nk_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw) {
		snprintf(buf, len, "%s", pw->pw_name);
		remember_user(pw->pw_name, (uint32_t)uid);
	} else {
		snprintf(buf, len, "%u", (unsigned)uid);
	}
	return buf;
}

int nk_user_uid(const char *name, uint32_t *uid)
{
	struct passwd *pw;

	if (last_user.valid && strcmp(last_user.name, name) == 0) {
		*uid = last_user.uid;
		return 0;
	}
	pw = getpwnam(name);
	if (!pw)
		return -ENOENT;
	remember_user(pw->pw_name, (uint32_t)pw->pw_uid);
	*uid = (uint32_t)pw->pw_uid;
	return 0;
}
