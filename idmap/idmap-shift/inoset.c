#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "inoset.h"

static size_t ino_hash(dev_t d, ino_t i)
{
	uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15ULL ^ (uint64_t)d * 0xC2B2AE3D27D4EB4FULL;

	return (size_t)(h ^ (h >> 29));
}

static int used(const struct ish_inoent *x)
{
	return x->ino || x->dev;
}

static struct ish_inoent *ino_slot(struct ish_inoent *t, size_t cap, dev_t d, ino_t i)
{
	size_t k = ino_hash(d, i) & (cap - 1);

	while (used(&t[k])) {
		if (t[k].dev == d && t[k].ino == i)
			return &t[k];
		k = (k + 1) & (cap - 1);
	}
	return &t[k];
}

void ish_inoset_init(struct ish_inoset *s, size_t max, void (*free_val)(void *))
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	s->max = max;
	s->free_val = free_val;
}

void ish_inoset_clear(struct ish_inoset *s)
{
	for (size_t k = 0; k < s->cap; k++)
		if (used(&s->t[k]) && s->free_val)
			s->free_val(s->t[k].val);
	free(s->t);
	s->t = NULL;
	s->n = s->cap = 0;
}

/* Room for one more: 0 or -ENOMEM (lock held). */
static int grow(struct ish_inoset *s)
{
	size_t nc;
	struct ish_inoent *nt;

	if ((s->n + 1) * 2 <= s->cap)
		return 0;
	nc = s->cap ? s->cap * 2 : 64;
	if (!(nt = calloc(nc, sizeof *nt)))
		return -ENOMEM;
	for (size_t k = 0; k < s->cap; k++)
		if (used(&s->t[k]))
			*ino_slot(nt, nc, s->t[k].dev, s->t[k].ino) = s->t[k];
	free(s->t);
	s->t = nt;
	s->cap = nc;
	return 0;
}

int ish_inoset_upsert(struct ish_inoset *s, dev_t d, ino_t i, ish_upsert_fn fn, void *arg)
{
	struct ish_inoent *x;
	int r, is_new = 0;

	pthread_mutex_lock(&s->lock);
	x = s->cap ? ino_slot(s->t, s->cap, d, i) : NULL;
	if (!x || !used(x)) {
		if (s->max && s->n >= s->max) {
			pthread_mutex_unlock(&s->lock);
			return -E2BIG;
		}
		if (grow(s) < 0) {
			pthread_mutex_unlock(&s->lock);
			return -ENOMEM;
		}
		x = ino_slot(s->t, s->cap, d, i);
		*x = (struct ish_inoent){ d, i, NULL };
		/* (0, 0) marks a free slot: an inode 0 on device 0 is kept as
		 * device 0, inode 0 of no file system there is. */
		s->n++;
		is_new = 1;
	}
	r = fn(x, is_new, arg);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int take_val(struct ish_inoent *x, int is_new, void *arg)
{
	if (!is_new)
		return 1;
	x->val = arg;
	return 0;
}

int ish_inoset_add(struct ish_inoset *s, dev_t d, ino_t i, void *val)
{
	return ish_inoset_upsert(s, d, i, take_val, val);
}

static const struct ish_inoent *find(const struct ish_inoset *s, dev_t d, ino_t i)
{
	const struct ish_inoent *x;

	if (!s->n)
		return NULL;
	x = ino_slot(s->t, s->cap, d, i);
	return used(x) ? x : NULL;
}

void *ish_inoset_get(const struct ish_inoset *s, dev_t d, ino_t i)
{
	const struct ish_inoent *x = find(s, d, i);

	return x ? x->val : NULL;
}

int ish_inoset_has(const struct ish_inoset *s, dev_t d, ino_t i)
{
	return find(s, d, i) != NULL;
}

void ish_inoset_each(const struct ish_inoset *s, void (*fn)(const struct ish_inoent *x, void *arg), void *arg)
{
	for (size_t k = 0; k < s->cap; k++)
		if (used(&s->t[k]))
			fn(&s->t[k], arg);
}

/* 64 KiB a chunk. */
#define CHUNK_INOS ((65536 - 2 * sizeof(void *)) / sizeof(struct ish_changed))
struct ish_chunk {
	struct ish_chunk *next;
	size_t n;
	struct ish_changed ino[CHUNK_INOS];
};

/* The chunk this thread appends to, for the list it belongs to: a list
 * freed and made again at the same address gets a new generation. */
static _Thread_local struct {
	const struct ish_inolist *list;
	unsigned gen;
	struct ish_chunk *chunk;
	int has_owner;
	uint32_t uid, gid;
	uint16_t owner;
} mine;
static atomic_uint generation;

void ish_inolist_init(struct ish_inolist *l)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->owner_lock, NULL);
	atomic_fetch_add(&generation, 1);
}

#define OWNER_SLOTS 131072      /* twice ISH_OWNERS_MAX, a power of two */

/* The index of (UID, GID) in L's table, added when new: 0.., or -ENOMEM,
 * -E2BIG. A thread keeps the last pair it used (most files of a folder
 * share one). */
static int owner_index(struct ish_inolist *l, uint32_t uid, uint32_t gid)
{
	size_t j;
	int r;

	if (mine.has_owner && mine.uid == uid && mine.gid == gid)
		return mine.owner;
	pthread_mutex_lock(&l->owner_lock);
	if (!l->owner_slot && (!(l->owner_slot = calloc(OWNER_SLOTS, sizeof *l->owner_slot)) ||
			       !(l->owners = malloc((size_t)ISH_OWNERS_MAX * sizeof *l->owners)))) {
		free(l->owner_slot);
		l->owner_slot = NULL;
		r = -ENOMEM;
		goto out;
	}
	for (j = ((uid * 0x9E3779B1u) ^ (gid * 0x85EBCA77u)) & (OWNER_SLOTS - 1);; j = (j + 1) & (OWNER_SLOTS - 1)) {
		uint32_t k = l->owner_slot[j];

		if (k == 0)
			break;
		if (l->owners[k - 1][0] == uid && l->owners[k - 1][1] == gid) {
			r = (int)(k - 1);
			goto found;
		}
	}
	if (l->nowners == ISH_OWNERS_MAX) {
		r = -E2BIG;
		goto out;
	}
	l->owners[l->nowners][0] = uid;
	l->owners[l->nowners][1] = gid;
	l->owner_slot[j] = (uint32_t)++l->nowners;
	r = (int)(l->nowners - 1);
found:
	mine.has_owner = 1;
	mine.uid = uid;
	mine.gid = gid;
	mine.owner = (uint16_t)r;
out:
	pthread_mutex_unlock(&l->owner_lock);
	return r;
}

int ish_inolist_add(struct ish_inolist *l, uint64_t ino, uint16_t mode, uint32_t uid, uint32_t gid)
{
	unsigned gen = atomic_load(&generation);
	int owner;

	if (mine.list != l || mine.gen != gen)
		mine.has_owner = 0;

	if (mine.list != l || mine.gen != gen || !mine.chunk || mine.chunk->n == CHUNK_INOS) {
		struct ish_chunk *c = malloc(sizeof *c);

		if (!c)
			return -ENOMEM;
		c->n = 0;
		pthread_mutex_lock(&l->lock);
		c->next = l->chunks;
		l->chunks = c;
		pthread_mutex_unlock(&l->lock);
		mine.list = l;
		mine.gen = gen;
		mine.chunk = c;
	}
	if ((owner = owner_index(l, uid, gid)) < 0)
		return owner;
	mine.chunk->ino[mine.chunk->n].ino = ino;
	mine.chunk->ino[mine.chunk->n].mode = mode;
	mine.chunk->ino[mine.chunk->n++].owner = (uint16_t)owner;
	return 0;
}

static int cmp_changed(const void *a, const void *b)
{
	uint64_t x = ((const struct ish_changed *)a)->ino, y = ((const struct ish_changed *)b)->ino;

	return x < y ? -1 : x > y;
}

int ish_inolist_seal(struct ish_inolist *l)
{
	size_t n = 0, k = 0;

	for (struct ish_chunk *c = l->chunks; c; c = c->next)
		n += c->n;
	free(l->sorted);
	free(l->done);
	l->sorted = NULL;
	l->done = NULL;
	l->n = 0;
	if (n == 0)
		return 0;
	if (!(l->sorted = malloc(n * sizeof *l->sorted)))
		return -ENOMEM;
	/* Each chunk is copied, then freed: the peak is one chunk over the
	 * sorted array, not two copies of everything. */
	while (l->chunks) {
		struct ish_chunk *c = l->chunks;

		l->chunks = c->next;
		memcpy(l->sorted + k, c->ino, c->n * sizeof *c->ino);
		k += c->n;
		free(c);
	}
	qsort(l->sorted, n, sizeof *l->sorted, cmp_changed);
	for (size_t i = 0; i < n; i++)
		if (l->n == 0 || l->sorted[l->n - 1].ino != l->sorted[i].ino)
			l->sorted[l->n++] = l->sorted[i];
	if (!(l->done = calloc(l->n, sizeof *l->done)))
		return -ENOMEM;
	atomic_fetch_add(&generation, 1);       /* no thread appends to a chunk freed here */
	return 0;
}

int ish_inolist_claim(struct ish_inolist *l, uint64_t ino, struct ish_before *b)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->sorted[mid].ino < ino)
			lo = mid + 1;
		else if (l->sorted[mid].ino > ino)
			hi = mid;
		else {
			if (b) {
				b->mode = l->sorted[mid].mode;
				b->uid = l->owners[l->sorted[mid].owner][0];
				b->gid = l->owners[l->sorted[mid].owner][1];
			}
			return atomic_exchange(&l->done[mid], 1) == 0;
		}
	}
	return 0;
}

size_t ish_inolist_count(const struct ish_inolist *l)
{
	size_t n = l->n;

	for (struct ish_chunk *c = l->chunks; c; c = c->next)
		n += c->n;
	return n;
}

void ish_inolist_free(struct ish_inolist *l)
{
	while (l->chunks) {
		struct ish_chunk *c = l->chunks;

		l->chunks = c->next;
		free(c);
	}
	free(l->sorted);
	free(l->done);
	free(l->owners);
	free(l->owner_slot);
	l->sorted = NULL;
	l->done = NULL;
	l->owners = NULL;
	l->owner_slot = NULL;
	l->n = l->nowners = 0;
	atomic_fetch_add(&generation, 1);
}
