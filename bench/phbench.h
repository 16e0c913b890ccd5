/* SPDX-License-Identifier: GPL-2.0 */
/*
 * phbench: what the benchmark's files share.  phbench.c explains the
 * method and bench/README.md the rows.
 */
#ifndef PHBENCH_H
#define PHBENCH_H

#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include <linux/prochandle.h>

#include "ph_syscall.h"	/* lib/ (see there) */

#define DEV		"/dev/" PH_DEVICE_NAME
/* Same device, same direction and size as INFO, a number nobody handles. */
#define PH_IOC_NULL	_IOWR(PH_IOC_MAGIC, 0x3f, struct ph_info)

/* ---- settings and shared state (phbench.c) ----------------------------- */

extern int reps;			/* samples per variant */
extern uint64_t sample_ns;		/* length of one sample */
extern long mem_n;			/* handles/pidfds for the memory rows */
extern long big_n;			/* live handles for the 1M row */
extern long exits_n;			/* exits collected by the collect row */
extern long fair_n;			/* handles on the process of the fairness row */
extern bool icount;			/* the guest clock counts instructions */
extern bool smoke;			/* check every row's calls, measure nothing */
extern bool quiet;

extern int phfd;			/* the main table */
extern pid_t child_w;			/* target kept watched (a handle held) */
extern pid_t child_c;			/* target never held between calls */
extern uint64_t h_w;			/* a handle on child_w in phfd */
extern int pidfd_w;			/* a pidfd on child_w */
extern int ncpus;

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ns(void);
long read_long(const char *path);
long meminfo_kb(const char *key);
void pin(int cpu);
double median(double *v, int n);
void set_max_handles(const char *v);
void setup(void);			/* phfd, max_handles, h_w */

/* ---- calls used by several rows ---------------------------------------- */

uint64_t ph_acquire(int fd, pid_t pid);
void ph_release(int fd, uint64_t h);
int ph_open(void);
pid_t spawn_sleeper(void);
pid_t spawn_light(void);
void wait_until_sleeping(pid_t pid);
void reap(pid_t pid);

/* ---- measuring (sample.c) ---------------------------------------------- */

#define MAXREPS 2001

struct variant {
	const char *name;
	void (*op)(void);
	long iters;			/* per sample, from calibration */
	long fixed;			/* instruction mode: calls per sample, if set */
	double ns[MAXREPS];		/* per-call time of each sample */
	double med, p10, p90, mean, min;
	double long_mean;		/* instruction mode: see sample.c */
	int at_min;			/* samples equal to min */
	double value;			/* time mode: med; instruction mode: min */
};

void settle_deferred(void);
void compare(struct variant *a, struct variant *b);
void sample_block(struct variant *v, int from, int n);
void finish_variant(struct variant *v, int n);
double summarize(const char *name, double *v, int n, double *mean);

/* The result table: one row per measured figure. */
enum unit { U_NS, U_BYTES, U_CALLS, U_SCALE };
enum cmp { LE, GE, NONE };

void add_row(const char *key, const char *name, enum unit unit, double ph,
	     double base, double ratio, enum cmp cmp, double target);
void add_absolute_row(const char *key, const char *name, double ph,
		      double base, double limit);
void add_skipped_row(const char *key, const char *name, const char *why);
void set_row_means(double ph_mean, double base_mean);
void add_pair_row(const char *key, const char *name, struct variant *ph,
		  struct variant *base, double limit);
void print_table(void);

/* ---- the sections ------------------------------------------------------ */

void call_rows(void);		/* calls.c: t */
void exit_rows(void);		/* exits.c: e */
void collect_rows(void);	/* exits.c: c */
void fairness_rows(void);	/* exits.c: f */
void mem_rows(void);		/* memory.c: m */
void big_row(void);		/* scale.c: b */
void scale_rows(void);		/* scale.c: s */
void deadline_rows(void);	/* deadline.c: d */
void hook_rows(void);		/* hooks.c: k */

#endif /* PHBENCH_H */
