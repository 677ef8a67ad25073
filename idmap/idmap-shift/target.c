/* What an inode must become (its owners, the ids in its ACLs and its v3
 * capability, and what chown clears: setuid, setgid, the capability), and
 * making it so through the descriptor the walk opened: never through its
 * name again. */
#include <string.h>
#include <sys/stat.h>
#include "shift.h"
#include "tool.h"
#include "util.h"

static const char *const acl_names[2] = { NK_XATTR_ACL_ACCESS, NK_XATTR_ACL_DEFAULT };

void ish_entry_path(char *buf, size_t len, const struct nk_walk_entry *en)
{
	if (strcmp(en->name, ".") == 0)
		snprintf(buf, len, "%s", en->dirpath);
	else
		snprintf(buf, len, "%s/%s", en->dirpath, en->name);
}

/* An id outside --from, seen by a scan (--check, a pre-scan, the undo's).
 * A shift that will be undone only keeps the first: the undo's scan lists
 * them all. */
void ish_offender(struct ish_run *r, const struct nk_walk_entry *en, const char *what, enum nk_idtype t,
		  uint32_t id)
{
	char path[4200];

	ish_entry_path(path, sizeof path, en);
	if (r->phase == PHASE_SHIFT && r->undoable) {
		pthread_mutex_lock(&r->outlock);
		if (!r->first_problem[0])
			snprintf(r->first_problem, sizeof r->first_problem, "'%s': %s %s %u is outside --from", path,
				 what, nk_idtype_name(t), id);
		pthread_mutex_unlock(&r->outlock);
		return;
	}
	if (atomic_fetch_add(&r->n_offenders, 1) >= ISH_MAX_OFFENDERS)
		return;
	pthread_mutex_lock(&r->outlock);
	if (r->check)
		printf("%s: %s %s %u is outside --from\n", path, what, nk_idtype_name(t), id);
	else
		nk_warnx("'%s': %s %s %u is outside --from", path, what, nk_idtype_name(t), id);
	pthread_mutex_unlock(&r->outlock);
}

/* The id ID of type T in the shift: 0 and *OUT, or -ENOENT when it is
 * outside --from (for a scan, an undoable shift and --unmapped fail). An id
 * an interrupted run of this shift made (in the image and not in --from)
 * is left as it is. */
static _Thread_local int kept_done;

int ish_map_id(void *ctx, enum nk_idtype t, uint32_t id, uint32_t *out)
{
	struct ish_run *r = ctx;

	if (nk_shift_id(&r->shift, t, id, out) == 0)
		return 0;
	if (r->resuming && nk_shift_in_image(&r->shift, t, id)) {
		kept_done = 1;
		*out = id;
		return 0;
	}
	if (r->phase != PHASE_SHIFT || r->unmapped == UNMAPPED_FAIL)
		return -ENOENT;
	ish_count(r, C_UNMAPPED);
	*out = r->unmapped == UNMAPPED_KEEP ? id : r->overflow[t];
	return 0;
}

static void target_init(struct ish_target *tg, const struct stat *st)
{
	tg->uid = st->st_uid;
	tg->gid = st->st_gid;
	tg->mode = st->st_mode & 07777;
	tg->chown = tg->chmod = tg->nmut = tg->acl_changed = tg->cap_changed = tg->kept_done = tg->has_acl = 0;
	tg->acl_len[0] = tg->acl_len[1] = tg->cap_len = -1;
}

static int read_xattr(const struct nk_walk_entry *en, const char *attr, unsigned char *buf, size_t size,
		      ssize_t *len, struct nk_err *e)
{
	char path[4200];
	int err;

	*len = nk_ent_getxattr(en, attr, buf, size);
	if (*len >= 0)
		return 0;
	if (errno == ENODATA || errno == EOPNOTSUPP) {
		*len = -1;
		return 0;
	}
	err = errno;
	ish_entry_path(path, sizeof path, en);
	if (err == ERANGE)
		return nk_errf(e, ERANGE, "%s of '%s' is larger than any %s", attr, path,
			       strcmp(attr, NK_XATTR_CAPS) == 0 ? "file capability" : "ACL");
	return nk_syserr(e, err, "cannot read %s of '%s'", attr, path);
}

/* The owner and group of EN in TG: 0 or ISH_UNMAPPED. */
static int target_owners(struct ish_run *r, const struct nk_walk_entry *en, struct ish_target *tg)
{
	if (ish_map_id(r, NK_UID, en->st.st_uid, &tg->uid) < 0) {
		ish_offender(r, en, "owner", NK_UID, en->st.st_uid);
		if (r->phase == PHASE_SHIFT)
			return ISH_UNMAPPED;
		tg->uid = en->st.st_uid;
	}
	if (ish_map_id(r, NK_GID, en->st.st_gid, &tg->gid) < 0) {
		ish_offender(r, en, "group", NK_GID, en->st.st_gid);
		if (r->phase == PHASE_SHIFT)
			return ISH_UNMAPPED;
		tg->gid = en->st.st_gid;
	}
	return 0;
}

/* Which of the xattrs that hold ids EN has: HAS[0], HAS[1] the access and
 * default ACLs, HAS[2] a capability. One listxattr, with a small buffer
 * first (the kernel allocates what it is given, at every call). */
int ish_xattrs_present(const struct nk_walk_entry *en, int has[3], struct nk_err *e)
{
	char list[256], *names = list, path[4200];
	NK_AUTOFREE char *big = NULL;
	ssize_t n;

	has[0] = has[1] = has[2] = 0;
	/* Symlinks carry no ACL and no capability. */
	if (S_ISLNK(en->st.st_mode))
		return 0;
	n = nk_ent_listxattr(en, list, sizeof list);
	if (n < 0 && errno == ERANGE) {
		n = nk_ent_listxattr(en, NULL, 0);
		if (n > 0 && (big = malloc((size_t)n)))
			n = nk_ent_listxattr(en, big, (size_t)n);
		names = big;
	}
	if (n < 0 && errno != EOPNOTSUPP && errno != ENOTSUP) {
		int err = errno;

		ish_entry_path(path, sizeof path, en);
		return nk_syserr(e, err, "cannot list the xattrs of '%s'", path);
	}
	for (ssize_t off = 0; n > 0 && names && off < n; off += (ssize_t)strlen(names + off) + 1) {
		const char *a = names + off;

		if (strcmp(a, NK_XATTR_ACL_ACCESS) == 0)
			has[0] = 1;
		else if (strcmp(a, NK_XATTR_ACL_DEFAULT) == 0)
			has[1] = 1;
		else if (strcmp(a, NK_XATTR_CAPS) == 0 && S_ISREG(en->st.st_mode))
			has[2] = 1;
	}
	return 0;
}

/* ACL K (access, default) of EN, shifted into TG. */
static int target_acl(struct ish_run *r, const struct nk_walk_entry *en, int k, struct ish_target *tg,
		      struct nk_err *e)
{
	char path[4200];
	unsigned changed;
	uint32_t bad;
	enum nk_idtype bt;
	int x;

	if ((x = read_xattr(en, acl_names[k], tg->acl[k], sizeof tg->acl[k], &tg->acl_len[k], e)) < 0)
		return x;
	if (tg->acl_len[k] < 0)
		return 0;
	x = nk_acl_shift(tg->acl[k], tg->acl[k], (size_t)tg->acl_len[k], ish_map_id, r, &changed, &bad, &bt, e);
	if (x == -ENOENT) {
		ish_offender(r, en, k ? "default ACL entry" : "ACL entry", bt, bad);
		return r->phase == PHASE_SHIFT ? ISH_UNMAPPED : 0;
	}
	if (x < 0) {
		ish_entry_path(path, sizeof path, en);
		return nk_err_prefix(e, "'%s'", path);
	}
	if (changed)
		tg->acl_changed = 1;
	else
		tg->acl_len[k] = -1;
	return 0;
}

/* The capability of EN, shifted into TG (a v3 rootid moves like an owner). */
static int target_cap(struct ish_run *r, const struct nk_walk_entry *en, struct ish_target *tg, struct nk_err *e)
{
	char path[4200];
	int rev, x;
	uint32_t bad;

	if ((x = read_xattr(en, NK_XATTR_CAPS, tg->cap, sizeof tg->cap, &tg->cap_len, e)) < 0)
		return x;
	/* Inside a user namespace, v2 is how the kernel shows a v3 whose
	 * rootid is our root (what setcap writes here): shift it as such. */
	if (tg->cap_len == 20 && !r->init_userns && nk_fcaps_v2_to_v3(tg->cap, 20, 0, tg->cap) == 0)
		tg->cap_len = 24;
	if (tg->cap_len < 0)
		return 0;
	x = nk_fcaps_shift(tg->cap, tg->cap, (size_t)tg->cap_len, ish_map_id, r, &rev, &tg->cap_changed, &bad, e);
	if (x == -ENOENT) {
		ish_offender(r, en, "capability rootid", NK_UID, bad);
		if (r->phase == PHASE_SHIFT)
			return ISH_UNMAPPED;
		tg->cap_len = -1;
	} else if (x < 0) {
		ish_entry_path(path, sizeof path, en);
		return nk_err_prefix(e, "'%s'", path);
	}
	return 0;
}

int ish_target_of(struct ish_run *r, const struct nk_walk_entry *en, const int *known, struct ish_target *tg,
		  struct nk_err *e)
{
	int has[3], x;

	target_init(tg, &en->st);
	kept_done = 0;
	if ((x = target_owners(r, en, tg)) != 0)
		return x;
	if (known)
		memcpy(has, known, sizeof has);
	else if ((x = ish_xattrs_present(en, has, e)) != 0)
		return x;
	tg->has_acl = has[0] || has[1];
	for (int k = 0; k < 2; k++)
		if (has[k] && (x = target_acl(r, en, k, tg, e)) != 0)
			return x;
	if (has[2] && (x = target_cap(r, en, tg, e)) != 0)
		return x;
	tg->kept_done = kept_done;
	return 0;
}

void ish_target_finish(const struct nk_walk_entry *en, struct ish_target *tg)
{
	const struct stat *st = &en->st;

	tg->chown = tg->uid != st->st_uid || tg->gid != st->st_gid;
	/* chown clears setuid, setgid (of a non-directory) and the capability. */
	tg->chmod = tg->chown && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode) && (st->st_mode & 06000);
	if (!tg->chown && !tg->cap_changed)
		tg->cap_len = -1;
	tg->nmut = tg->chown + (tg->acl_len[0] >= 0) + (tg->acl_len[1] >= 0) + tg->chmod + (tg->cap_len >= 0);
}

int ish_apply(const struct nk_walk_entry *en, const struct ish_target *tg, struct nk_err *e)
{
	char path[4200];

	if (tg->chown && nk_ent_chown(en, tg->uid, tg->gid) < 0) {
		int err = errno;

		ish_entry_path(path, sizeof path, en);
		if (err == EINVAL)
			return nk_errf(e, EINVAL, "cannot chown '%s' to %u:%u: not mapped in this user namespace",
				       path, tg->uid, tg->gid);
		return nk_syserr(e, err, "cannot chown '%s' to %u:%u", path, tg->uid, tg->gid);
	}
	for (int k = 0; k < 2; k++)
		if (tg->acl_len[k] >= 0 &&
		    nk_ent_setxattr(en, acl_names[k], tg->acl[k], (size_t)tg->acl_len[k]) < 0) {
			int err = errno;

			ish_entry_path(path, sizeof path, en);
			return nk_syserr(e, err, "cannot write %s of '%s'", acl_names[k], path);
		}
	if (tg->chmod && nk_ent_chmod(en, tg->mode) < 0) {
		int err = errno;

		ish_entry_path(path, sizeof path, en);
		return nk_syserr(e, err, "cannot restore mode %04o of '%s'", (unsigned)tg->mode, path);
	}
	if (tg->cap_len >= 0 && nk_ent_setxattr(en, NK_XATTR_CAPS, tg->cap, (size_t)tg->cap_len) < 0) {
		int err = errno;

		ish_entry_path(path, sizeof path, en);
		return nk_syserr(e, err, "cannot restore the file capabilities of '%s'", path);
	}
	return 0;
}

/* The journal record of EN becoming TG, written before the first change
 * when it takes several. */
static int write_record(struct ish_run *r, const struct nk_walk_entry *en, const struct ish_target *tg,
			struct nk_err *e)
{
	NK_AUTOFREE struct ish_record *rec = malloc(sizeof *rec);
	NK_AUTOFREE char *line = malloc(ISH_LINE_MAX);

	if (!rec || !line)
		return nk_errf(e, ENOMEM, "out of memory");
	rec->kind = 'p';
	rec->ino = en->st.st_ino;
	/* The record names the inode by what no other can share: its birth
	 * time and its file handle (with the generation). */
	ish_ident_of(en->fd, 1, &rec->id);
	rec->ouid = en->st.st_uid;
	rec->ogid = en->st.st_gid;
	rec->omode = en->st.st_mode & 07777;
	rec->tuid = tg->uid;
	rec->tgid = tg->gid;
	rec->tmode = tg->mode;
	rec->chown = tg->chown;
	rec->chmod = tg->chmod;
	for (int k = 0; k < 2; k++) {
		rec->acl_len[k] = tg->acl_len[k];
		if (tg->acl_len[k] > 0)
			memcpy(rec->acl[k], tg->acl[k], (size_t)tg->acl_len[k]);
	}
	rec->cap_len = tg->cap_len;
	if (tg->cap_len > 0)
		memcpy(rec->cap, tg->cap, (size_t)tg->cap_len);
	ish_record_format(rec, line, ISH_LINE_MAX);
	if (nk_write_full(r->jfd, line, strlen(line)) < 0)
		return nk_syserr(e, errno, "cannot write the journal");
	return 0;
}

int ish_commit(struct ish_run *r, const struct nk_walk_entry *en, struct ish_target *tg, struct nk_err *e)
{
	int x;

	if (tg->nmut == 0) {
		if (tg->kept_done)
			ish_count(r, C_DONE_BEFORE);
		return 0;
	}
	ish_count(r, C_CHANGED);
	if (tg->acl_changed)
		ish_count(r, C_ACLS);
	if (tg->cap_len >= 0)
		ish_count(r, C_CAPS);
	if (r->dry)
		return 0;
	if (tg->nmut > 1 && r->jfd >= 0 && (x = write_record(r, en, tg, e)) < 0)
		return x;
	/* Listed before the change: a change half done is undone too. */
	if (r->undoable &&
	    (x = ish_inolist_add(&r->changed, en->st.st_ino, (uint16_t)(en->st.st_mode & 07777), en->st.st_uid,
				 en->st.st_gid)) < 0) {
		if (x != -E2BIG)
			return nk_errf(e, ENOMEM, "out of memory");
		/* More owners than the undo may keep: a scan, then the shift. */
		atomic_store(&r->stop, STOP_DEFERRED_FULL);
		return NK_WALK_STOP;
	}
	return ish_apply(en, tg, e);
}

/* The undo of EN, which was B before this run: 0, 1 when someone else
 * changed it while it was shifted (put back all the same, but what was
 * written to it), or a negative errno. */
int ish_revert(struct ish_run *r, const struct nk_walk_entry *en, const struct ish_before *b, struct nk_err *e)
{
	struct ish_target tg;
	struct stat now;
	char path[4200];
	uint32_t su, sg;
	int has[3], x, touched;

	/* What this run changed had no ACL, no setuid or setgid bit and no
	 * capability (those files were held until the walk was over, and so
	 * never changed). It gets back the owner, group and mode it had, in
	 * that order: once it is no longer the user's, nobody but its owner
	 * can change its mode or ACL under the undo. Then an ACL found on
	 * it was added meanwhile (by the user it was shifted to): removed,
	 * never shifted back (its ids would become that user's own on the
	 * host). Setuid, setgid bits and capabilities added meanwhile the
	 * chown clears. */
	touched = nk_shift_id(&r->shift, NK_UID, b->uid, &su) < 0 || nk_shift_id(&r->shift, NK_GID, b->gid, &sg) < 0 ||
		  en->st.st_uid != su || en->st.st_gid != sg;
	target_init(&tg, &en->st);
	tg.uid = b->uid;
	tg.gid = b->gid;
	tg.chown = 1;
	if ((x = ish_apply(en, &tg, e)) < 0)
		return x;
	ish_entry_path(path, sizeof path, en);
	if (nk_fd_stat(en->fd, &now, NULL, NULL, NULL) < 0)
		return nk_syserr(e, errno, "cannot stat '%s'", path);
	{
		struct nk_walk_entry after = *en;

		after.st = now;
		if ((x = ish_xattrs_present(&after, has, e)) < 0)
			return x;
	}
	for (int k = 0; k < 2; k++)
		if (has[k] && nk_ent_removexattr(en, acl_names[k]) < 0 && errno != ENODATA)
			return nk_syserr(e, errno, "cannot remove %s of '%s'", acl_names[k], path);
	if (!S_ISLNK(now.st_mode) && (now.st_mode & 07777) != b->mode && nk_ent_chmod(en, b->mode) < 0)
		return nk_syserr(e, errno, "cannot restore mode %04o of '%s'", (unsigned)b->mode, path);
	/* Changed by someone else meanwhile: its owners, an ACL, the mode,
	 * or its contents (mtime past the run's start: what was written
	 * stays). */
	return touched || has[0] || has[1] || (now.st_mode & 07777) != b->mode ||
	       now.st_mtim.tv_sec > r->trun.tv_sec ||
	       (now.st_mtim.tv_sec == r->trun.tv_sec && now.st_mtim.tv_nsec > r->trun.tv_nsec);
}

/* A "p" record REC of an interrupted run, for EN: 0 when it finished EN
 * (the inode is the one recorded, and half way to the state recorded), 1
 * when EN is to be treated as never seen (another inode, or untouched). */
int ish_finish_record(struct ish_run *r, const struct nk_walk_entry *en, const char *rec, struct nk_err *e)
{
	NK_AUTOFREE struct ish_record *p = malloc(sizeof *p);
	NK_AUTOFREE struct ish_target *tg = malloc(sizeof *tg);
	struct ish_ident id;
	mode_t mode = en->st.st_mode & 07777;

	if (!p || !tg)
		return nk_errf(e, ENOMEM, "out of memory");
	if (ish_record_parse(rec, p) < 0)
		return nk_errf(e, EINVAL, "a journal record is corrupt");
	if (ish_ident_of(en->fd, p->id.handle_len != 0, &id) < 0 || !ish_ident_match(&p->id, &id))
		return 1;       /* another inode that took its number */
	if (en->st.st_uid != p->tuid || en->st.st_gid != p->tgid || (mode != p->tmode && mode != (p->tmode & ~06000u)))
		return 1;       /* untouched, or changed since by someone else */
	ish_count(r, C_DONE_BEFORE);
	if (r->dry)
		return 0;
	target_init(tg, &en->st);
	tg->mode = p->tmode;
	tg->chmod = p->chmod;
	for (int k = 0; k < 2; k++)
		if ((tg->acl_len[k] = p->acl_len[k]) > 0)
			memcpy(tg->acl[k], p->acl[k], (size_t)p->acl_len[k]);
	if ((tg->cap_len = p->cap_len) > 0)
		memcpy(tg->cap, p->cap, (size_t)p->cap_len);
	return ish_apply(en, tg, e);
}
