/* inoset.h - the inode sets of one idmap-shift run
 *
 * struct ish_inoset: (dev, ino) -> a value of the caller's (a journal
 * record, a hardlink's count of names), open addressing, thread-safe. Used
 * for the few inodes that need one: hardlinks, records of an interrupted
 * run; never one entry per file of the tree.
 *
 * struct ish_inolist: the inodes this run changed, for the undo of a run
 * that meets an id outside --from half way. Appended to by every worker
 * without a shared lock (a chunk list of its own per thread), then sealed
 * into one sorted array: 12 bytes a changed inode (its number, its mode
 * and the index of its owner and group in a table of the pairs met, all
 * as before the change: what the undo puts back).
 */
#ifndef ISH_INOSET_H
#define ISH_INOSET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ish_inoent {
	dev_t dev;
	ino_t ino;
	void *val;
};

struct ish_inoset {
	pthread_mutex_t lock;
	struct ish_inoent *t;
	size_t n, cap;          /* cap: a power of two, or 0 */
	size_t max;             /* 0, or the most it may hold */
	void (*free_val)(void *);
};

void ish_inoset_init(struct ish_inoset *s, size_t max, void (*free_val)(void *));
/* Every entry and its value gone; the set may be used again. */
void ish_inoset_clear(struct ish_inoset *s);
/* Under the set's lock: FN(entry, is_new, ARG) for the entry of (D, I),
 * added (val NULL) when absent. Returns FN's result, -ENOMEM, or -E2BIG
 * when the set is full. */
typedef int (*ish_upsert_fn)(struct ish_inoent *x, int is_new, void *arg);
int ish_inoset_upsert(struct ish_inoset *s, dev_t d, ino_t i, ish_upsert_fn fn, void *arg);
/* Add (D, I) with VAL: 0, 1 when present already (VAL is not taken),
 * -ENOMEM, -E2BIG. */
int ish_inoset_add(struct ish_inoset *s, dev_t d, ino_t i, void *val);
/* The value of (D, I), or NULL when absent (or its value is NULL: see
 * ish_inoset_has). No lock: only for a set nobody changes meanwhile. */
void *ish_inoset_get(const struct ish_inoset *s, dev_t d, ino_t i);
int ish_inoset_has(const struct ish_inoset *s, dev_t d, ino_t i);
/* Every entry, in no order. */
void ish_inoset_each(const struct ish_inoset *s, void (*fn)(const struct ish_inoent *x, void *arg), void *arg);

struct ish_changed {
	uint64_t ino;
	uint16_t mode;
	uint16_t owner;         /* index in the list's table of (uid, gid) */
} __attribute__((packed));

#define ISH_OWNERS_MAX 65535    /* distinct (uid, gid) pairs a list holds */

struct ish_chunk;
struct ish_inolist {
	pthread_mutex_t lock;        /* for the list of chunk lists only */
	struct ish_chunk *chunks;    /* every chunk of every thread */
	struct ish_changed *sorted;  /* after ish_inolist_seal */
	atomic_uchar *done;          /* one flag per sorted entry */
	size_t n;
	pthread_mutex_t owner_lock;
	uint32_t (*owners)[2];       /* index -> (uid, gid) */
	uint32_t *owner_slot;        /* open addressing: index + 1, 0 free */
	size_t nowners;
	unsigned gen;                /* tells a thread's cached owner it is stale */
};

void ish_inolist_init(struct ish_inolist *l);
/* Append INO with its MODE, UID and GID before the change (from any
 * thread): 0, -ENOMEM, or -E2BIG past ISH_OWNERS_MAX owner pairs. */
int ish_inolist_add(struct ish_inolist *l, uint64_t ino, uint16_t mode, uint32_t uid, uint32_t gid);
/* All appended, sorted and deduplicated, for lookups: 0 or -ENOMEM. */
int ish_inolist_seal(struct ish_inolist *l);
/* What the list holds of an inode: its mode, owner and group before. */
struct ish_before {
	uint16_t mode;
	uint32_t uid, gid;
};
/* After the seal: whether INO is in the list and this caller is the first
 * to claim it: 1 listed (and claimed now; *B what it was, when B), 0 not
 * listed or claimed before. */
int ish_inolist_claim(struct ish_inolist *l, uint64_t ino, struct ish_before *b);
size_t ish_inolist_count(const struct ish_inolist *l);
void ish_inolist_free(struct ish_inolist *l);

#endif
