/* The run's counters, the progress line and the summary. The counters
 * bumped at every file are kept one slot a thread and summed when read:
 * one shared atomic would move its cache line between the workers at
 * every file. */
#include <stdio.h>
#include <time.h>
#include "json.h"
#include "shift.h"
#include "tool.h"

static _Thread_local int slot_mine = -1;
static _Thread_local const struct ish_run *slot_run;

void ish_count(struct ish_run *r, enum ish_counter c)
{
	if (slot_mine < 0 || slot_run != r) {
		slot_mine = (int)(atomic_fetch_add(&r->slot_next, 1) % ISH_COUNTER_SLOTS);
		slot_run = r;
	}
	atomic_fetch_add_explicit(&r->slots[slot_mine].v[c], 1, memory_order_relaxed);
}

unsigned long long ish_counted(struct ish_run *r, enum ish_counter c)
{
	uint64_t n = 0;

	for (int k = 0; k < ISH_COUNTER_SLOTS; k++)
		n += atomic_load_explicit(&r->slots[k].v[c], memory_order_relaxed);
	return (unsigned long long)n;
}

double ish_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Progress on stderr while the walk runs, until progress_stop is set:
 * PROGRESS_DONE ends with a last line, PROGRESS_QUIET (the walk failed:
 * its error is what is said) without. */
enum { PROGRESS_DONE = 1, PROGRESS_QUIET };
static atomic_int progress_stop;

static void *progress_main(void *arg)
{
	struct ish_run *r = arg;
	double t0 = ish_now();

	while (!atomic_load(&progress_stop)) {
		struct timespec d = { 0, 250000000 };
		double el;
		uint64_t f;

		nanosleep(&d, NULL);
		el = ish_now() - t0;
		f = ish_counted(r, C_FILES);
		if (r->progress_total && f && f <= r->progress_total)
			fprintf(stderr, "\r%s: %llu/%llu files, %.0f files/s, %.0f s left ", nk_progname,
				(unsigned long long)f, (unsigned long long)r->progress_total, (double)f / el,
				(double)(r->progress_total - f) / ((double)f / el));
		else
			fprintf(stderr, "\r%s: %llu files, %.0f files/s ", nk_progname, (unsigned long long)f,
				el > 0 ? (double)f / el : 0.0);
	}
	if (atomic_load(&progress_stop) == PROGRESS_DONE)
		fprintf(stderr, "\r%s: %llu files in %.1f s \n", nk_progname, ish_counted(r, C_FILES), ish_now() - t0);
	return NULL;
}

int ish_progress_start(struct ish_run *r, pthread_t *t)
{
	return r->progress && pthread_create(t, NULL, progress_main, r) == 0;
}

void ish_progress_stop(struct ish_run *r, pthread_t t, int failed)
{
	(void)r;
	/* A walk that failed says so, without the progress's last line. */
	atomic_store(&progress_stop, failed ? PROGRESS_QUIET : PROGRESS_DONE);
	pthread_join(t, NULL);
	atomic_store(&progress_stop, 0);
}

static void print_json_summary(struct ish_run *r, double t0)
{
	struct nk_json j;

	nk_json_file(&j, stdout, NK_JSON_COMPACT);
	nk_json_obj(&j, NULL);
	nk_json_u64(&j, "files", ish_counted(r, C_FILES) + r->n_checked);
	nk_json_u64(&j, "changed", ish_counted(r, C_CHANGED));
	nk_json_u64(&j, "acls", ish_counted(r, C_ACLS));
	nk_json_u64(&j, "capabilities", ish_counted(r, C_CAPS));
	nk_json_u64(&j, "hardlinks", ish_counted(r, C_LINKS));
	nk_json_u64(&j, "outside_links", r->n_outside);
	nk_json_u64(&j, "skipped", r->n_skipped);
	nk_json_u64(&j, "unmapped", ish_counted(r, C_UNMAPPED));
	nk_json_u64(&j, "new", ish_counted(r, C_NEW));
	nk_json_u64(&j, "errors", r->n_errors + r->n_change_errors);
	nk_json_u64(&j, "resumed", ish_counted(r, C_DONE_BEFORE));
	nk_json_bool(&j, "dry_run", r->dry);
	nk_json_double(&j, "seconds", ish_now() - t0, 3);
	nk_json_finish(&j, "\n");      /* a write error is close_stdout's */
}

void ish_print_summary(struct ish_run *r, double t0)
{
	if (r->json)
		print_json_summary(r, t0);
	else if (r->dry)
		printf("would change %llu of %llu files (%llu ACLs, %llu capabilities)\n", ish_counted(r, C_CHANGED),
		       ish_counted(r, C_FILES), ish_counted(r, C_ACLS), ish_counted(r, C_CAPS));
}
