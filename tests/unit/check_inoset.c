#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "nkcheck.h"
#include "inoset.h"

static int freed;
static void count_free(void *v)
{
	free(v);
	freed++;
}

START_TEST(test_add_get)
{
	struct ish_inoset s;

	freed = 0;
	ish_inoset_init(&s, 0, count_free);
	for (ino_t i = 1; i <= 5000; i++) {
		int *v = malloc(sizeof *v);
		*v = (int)i;
		ck_assert_int_eq(ish_inoset_add(&s, 7, i, v), 0);
	}
	/* Present already: 1, and the value is not taken. */
	int *dup = malloc(sizeof *dup);
	ck_assert_int_eq(ish_inoset_add(&s, 7, 42, dup), 1);
	free(dup);
	ck_assert_int_eq(*(int *)ish_inoset_get(&s, 7, 42), 42);
	ck_assert_int_eq(*(int *)ish_inoset_get(&s, 7, 5000), 5000);
	/* The device is part of the key. */
	ck_assert_ptr_null(ish_inoset_get(&s, 8, 42));
	ck_assert_int_eq(ish_inoset_has(&s, 8, 42), 0);
	ck_assert_int_eq(ish_inoset_has(&s, 7, 1), 1);
	ish_inoset_clear(&s);
	ck_assert_int_eq(freed, 5000);
	ck_assert_int_eq(ish_inoset_has(&s, 7, 1), 0);
	/* Usable again after a clear. */
	ck_assert_int_eq(ish_inoset_add(&s, 7, 1, NULL), 0);
	ck_assert_int_eq(ish_inoset_has(&s, 7, 1), 1);
	ish_inoset_clear(&s);
}
END_TEST

START_TEST(test_max)
{
	struct ish_inoset s;

	ish_inoset_init(&s, 3, NULL);
	for (ino_t i = 1; i <= 3; i++)
		ck_assert_int_eq(ish_inoset_add(&s, 1, i, NULL), 0);
	ck_assert_int_eq(ish_inoset_add(&s, 1, 4, NULL), -E2BIG);
	ck_assert_int_eq(ish_inoset_add(&s, 1, 2, NULL), 1);
	ish_inoset_clear(&s);
}
END_TEST

static int bump(struct ish_inoent *x, int is_new, void *arg)
{
	(void)arg;
	if (is_new)
		x->val = calloc(1, sizeof(int));
	return ++*(int *)x->val;
}

struct par {
	struct ish_inoset *s;
	int id;
};

static void *adder(void *arg)
{
	struct par *p = arg;

	for (ino_t i = 0; i < 2000; i++)
		ish_inoset_upsert(p->s, 1, i, bump, NULL);
	return NULL;
}

static void sum(const struct ish_inoent *x, void *arg)
{
	*(long *)arg += *(int *)x->val;
}

START_TEST(test_upsert_threads)
{
	struct ish_inoset s;
	pthread_t t[4];
	struct par p[4];
	long total = 0;

	ish_inoset_init(&s, 0, free);
	for (int i = 0; i < 4; i++) {
		p[i] = (struct par){ &s, i };
		pthread_create(&t[i], NULL, adder, &p[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/* Every inode seen 4 times, each sighting counted once. */
	ck_assert_int_eq(*(int *)ish_inoset_get(&s, 1, 1999), 4);
	ish_inoset_each(&s, sum, &total);
	ck_assert_int_eq(total, 4 * 2000);
	ish_inoset_clear(&s);
}
END_TEST

struct lpar {
	struct ish_inolist *l;
	uint64_t base;
};

static void *lister(void *arg)
{
	struct lpar *p = arg;

	for (uint64_t i = 0; i < 30000; i++)
		ish_inolist_add(p->l, p->base + i, (uint16_t)((p->base + i) & 07777), (uint32_t)(p->base + i) % 7,
				(uint32_t)(p->base + i) % 5);
	return NULL;
}

START_TEST(test_inolist)
{
	struct ish_inolist l;
	pthread_t t[3];
	struct lpar p[3];

	ish_inolist_init(&l);
	/* Threads 0 and 1 overlap on half their inodes: deduplicated. */
	for (int i = 0; i < 3; i++) {
		p[i] = (struct lpar){ &l, (uint64_t)i * 15000 };
		pthread_create(&t[i], NULL, lister, &p[i]);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(ish_inolist_seal(&l), 0);
	ck_assert_uint_eq(ish_inolist_count(&l), 60000);
	struct ish_before b = { 1, 1, 1 };

	ck_assert_int_eq(ish_inolist_claim(&l, 0, &b), 1);
	ck_assert_uint_eq(b.mode, 0);
	ck_assert_int_eq(ish_inolist_claim(&l, 0, NULL), 0);    /* claimed once */
	ck_assert_int_eq(ish_inolist_claim(&l, 59999, &b), 1);
	/* The mode, owner and group it was added with. */
	ck_assert_uint_eq(b.mode, 59999 & 07777);
	ck_assert_uint_eq(b.uid, 59999 % 7);
	ck_assert_uint_eq(b.gid, 59999 % 5);
	ck_assert_int_eq(ish_inolist_claim(&l, 60000, NULL), 0);        /* not listed */
	ish_inolist_free(&l);
	/* An empty list seals and finds nothing. */
	ish_inolist_init(&l);
	ck_assert_int_eq(ish_inolist_seal(&l), 0);
	ck_assert_int_eq(ish_inolist_claim(&l, 1, NULL), 0);
	ish_inolist_free(&l);
}
END_TEST

static Suite *inoset_suite(void)
{
	Suite *s = suite_create("inoset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_add_get);
	tcase_add_test(tc, test_max);
	tcase_add_test(tc, test_upsert_threads);
	tcase_add_test(tc, test_inolist);
	suite_add_tcase(s, tc);
	return s;
}

NK_CHECK_MAIN(inoset_suite)
