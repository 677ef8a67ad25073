/* shift.h - the state of one idmap-shift run, shared by its files
 *
 *   idmap-shift.c   options, maps, the trees in turn
 *   run.c           one tree: journal, the walks, the undo, the report
 *   visit.c         what each walk does with an entry
 *   target.c        what an inode must become, and making it so
 *   journal.c       the state directory and the journal format
 *   inoset.c        the inode sets
 *   progress.c      counters, progress line, summary
 *   mount.c         --mount: an idmapped mount instead of chown
 */
#ifndef ISH_SHIFT_H
#define ISH_SHIFT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "idshift.h"
#include "inoset.h"
#include "journal.h"
#include "walk.h"

enum ish_unmapped { UNMAPPED_FAIL, UNMAPPED_KEEP, UNMAPPED_OVERFLOW };

/* What a walk does: read and report (--check, --dry-run's and the
 * fallback's pre-scan), shift, or shift back what this run changed and
 * report what stopped it (the undo). */
enum ish_phase { PHASE_SCAN, PHASE_SHIFT, PHASE_UNDO };

/* Why a shift walk stopped half way (undoable runs). */
enum ish_stop { STOP_NONE, STOP_UNMAPPED, STOP_ERRORS, STOP_DEFERRED_FULL };

enum ish_counter { C_FILES, C_CHANGED, C_ACLS, C_CAPS, C_LINKS, C_DONE_BEFORE, C_UNMAPPED, C_NEW,
		   C_NCOUNTERS };
#define ISH_COUNTER_SLOTS 64

#define ISH_MAX_OFFENDERS 10
#define ISH_DEFER_MAX 4096      /* privileged files held until the walk is over */

/* A setuid, setgid or capability file of an undoable run, held open until
 * the walk has found every id inside --from. */
struct ish_deferred {
	int fd, fd_path;
	char *path;
};

struct ish_run {
	/* The command. */
	struct nk_shift shift;          /* stored id -> new id */
	struct nk_shift back;           /* new id -> stored id: the undo */
	enum ish_unmapped unmapped;
	uint32_t overflow[2];
	int dry, check, json, outside_links, init_userns, progress;
	int byname_ok;                  /* a local file system: see visit.c's sealed() */
	uid_t euid;
	int hazard;                     /* a second run would shift some ids again */
	unsigned jobs;
	uint64_t fp;                    /* fingerprint of the shift */
	char state_dir[4096];
	int statefd;

	/* The tree being done. */
	const char *path;
	enum ish_phase phase;
	int resuming;                   /* an interrupted run of this shift is being finished */
	int undoable;                   /* stop at the first id outside --from and undo */
	int changing;                   /* not --dry-run, not --check */
	struct timespec tjournal;       /* the journal's start: ctime past it = changed since */
	struct timespec trun;           /* this run's start */
	int jfd;
	char jname[64];
	struct ish_inoset pending;      /* the records of the interrupted run */
	struct ish_inoset links;        /* hardlinks: names seen (or, scanning, inodes seen) */
	struct ish_inolist changed;     /* what this run changed (undoable runs) */
	pthread_mutex_t deflock;
	struct ish_deferred *deferred;
	size_t ndeferred, defcap;
	atomic_int stop;                /* enum ish_stop */
	pthread_mutex_t outlock;
	char first_problem[4400];       /* what stopped the walk, said if the undo does not see it again */

	/* Counters: the per-file ones a slot per thread (see progress.c). */
	struct ish_counter_slot {
		atomic_uint_fast64_t v[C_NCOUNTERS];
	} __attribute__((aligned(64))) slots[ISH_COUNTER_SLOTS];
	atomic_uint slot_next;
	atomic_uint_fast64_t n_offenders, n_errors, n_change_errors, n_checked, n_skipped, n_outside, n_undo_failed, n_touched;
	uint64_t progress_total;
};

/* progress.c */
void ish_count(struct ish_run *r, enum ish_counter c);
unsigned long long ish_counted(struct ish_run *r, enum ish_counter c);
int ish_progress_start(struct ish_run *r, pthread_t *t);
void ish_progress_stop(struct ish_run *r, pthread_t t, int failed);
void ish_print_summary(struct ish_run *r, double t0);
double ish_now(void);

/* What an inode must become. Only the scalars are set up front: the
 * buffers are written when an xattr is read. */
struct ish_target {
	uint32_t uid, gid;
	mode_t mode;
	int chown, chmod, nmut;
	int acl_changed, cap_changed;
	int kept_done;                  /* ids left as an interrupted run made them */
	int has_acl;                    /* an access or default ACL (changed or not) */
	unsigned char acl[2][ISH_ACL_MAX], cap[ISH_CAP_MAX];
	ssize_t acl_len[2], cap_len;    /* -1: none to write */
};

/* target.c. What the target_* functions return for an id outside --from. */
#define ISH_UNMAPPED 1
void ish_entry_path(char *buf, size_t len, const struct nk_walk_entry *en);
int ish_map_id(void *ctx, enum nk_idtype t, uint32_t id, uint32_t *out);
/* KNOWN: what ish_xattrs_present found, or NULL to look. */
int ish_target_of(struct ish_run *r, const struct nk_walk_entry *en, const int *known, struct ish_target *tg,
		  struct nk_err *e);
int ish_xattrs_present(const struct nk_walk_entry *en, int has[3], struct nk_err *e);
void ish_target_finish(const struct nk_walk_entry *en, struct ish_target *tg);
int ish_apply(const struct nk_walk_entry *en, const struct ish_target *tg, struct nk_err *e);
int ish_commit(struct ish_run *r, const struct nk_walk_entry *en, struct ish_target *tg, struct nk_err *e);
int ish_revert(struct ish_run *r, const struct nk_walk_entry *en, const struct ish_before *b, struct nk_err *e);
int ish_finish_record(struct ish_run *r, const struct nk_walk_entry *en, const char *rec, struct nk_err *e);
void ish_offender(struct ish_run *r, const struct nk_walk_entry *en, const char *what, enum nk_idtype t,
		  uint32_t id);

/* visit.c */
int ish_visit(void *ctx, const struct nk_walk_entry *en, struct nk_err *e);
void ish_walk_error(void *ctx, const char *path, const struct nk_err *e);
int ish_apply_deferred(struct ish_run *r);
void ish_report_links(struct ish_run *r);
void ish_deferred_drop(struct ish_run *r);
void ish_links_free_val(void *v);

/* run.c */
int ish_run_tree(struct ish_run *r, int fd, const char *path, struct nk_err *e);
int ish_run_prepare(struct ish_run *r, const struct nk_maps *from, const struct nk_maps *to, struct nk_err *e);

/* mount.c */
int ish_mount(struct ish_run *r, int fd, const char *src, const char *dest, struct nk_err *e);

#endif
