// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: sampling a call against its baseline, and the result table.
 *
 * A *sample* is a run of back-to-back calls; each variant gets @reps of
 * them, interleaved sample by sample with its baseline (which goes first
 * alternates), so that drift hits both.
 *
 * Time mode (a guest whose clock is the host's): samples of ~250 us, the
 * median per-call time of each variant and, as ratio, the median of the
 * per-pair ratios.  Short samples keep most of them clear of the host
 * preempting the emulated vCPU, and the median discards those that are
 * not; the price is that deferred work (RCU callbacks) is under-counted.
 *
 * Instruction mode (-I: QEMU -icount shift=0, so 1 ns of guest clock is
 * one guest instruction): the host cannot disturb the guest, but the
 * guest disturbs itself: a timer tick, and the softirq work it runs (RCU
 * callbacks freeing what earlier calls released, kfree_rcu batches, slab
 * refills that depend on when those frees came) lands in whichever sample
 * is running.  Two boots of one build run the same instructions (the
 * guest's inputs are fixed: guest/run.sh --accel icount), but where a tick
 * lands moves with anything that ran before (another build, other
 * sections or numbers).  So:
 *
 *  - a sample is a short batch of a fixed number of calls (ICOUNT_BATCH:
 *    ~7-60k instructions; a tick every 4M at HZ=250 hits ~1% of them);
 *  - before each batch the benchmark sleeps ICOUNT_SETTLE_US, long enough
 *    for the deferred work of the batch before to complete (RCU grace
 *    periods, the kfree_rcu drain every 20 ms): every batch starts from
 *    the same state and does the same work; the sleep is idle time, not
 *    counted, and costs little wall time (icount sleep=off skips idle);
 *  - the figure is the FASTEST of @reps (200) batches, per call: a batch
 *    no tick interrupted, the same to the instruction on every run.  How
 *    many batches equal it is noted ("x N"): nearly all.
 *
 * What that leaves out is the deferred work itself (RCU frees of handles,
 * watches, files, dentries).  So each variant also runs one long block
 * of back-to-back calls (ICOUNT_LONG, or 100 samples of a fixed size),
 * ticks, softirqs and deferred work landing inside it included: its mean
 * per call is reported beside the verdict ("means"), to ~0.5 %.
 */
#include "phbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

/* Instruction mode: see the top of this file. */
#define ICOUNT_BATCH	10	/* calls per sample */
#define ICOUNT_SETTLE_US 50000	/* idle before each sample */
#define ICOUNT_LONG	10000	/* calls in the block the mean is taken over */

/* Instruction mode: what timing a sample costs (see measure_overhead()). */
static double clock_cost, loop_cost;

static double run_sample(struct variant *v)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < v->iters; i++)
		v->op();
	return ((double)(now_ns() - t0) - clock_cost) / v->iters - loop_cost;
}

static void __attribute__((noinline)) op_nothing(void)
{
	__asm__ volatile("" ::: "memory");
}

/*
 * Instruction mode: the instructions of an empty sample, to take out of
 * every sample: the clock read, and per call the loop and the indirect
 * call.  The fastest of many samples of 10 and of 1000 calls to nothing.
 */
static void measure_overhead(void)
{
	struct variant v = { .op = op_nothing };
	double fewest[2];

	for (int k = 0; k < 2; k++) {
		v.iters = k ? 1000 : ICOUNT_BATCH;
		fewest[k] = 1e18;
		for (int i = 0; i < 200; i++) {
			double t = run_sample(&v) * v.iters;

			if (t < fewest[k])
				fewest[k] = t;
		}
	}
	loop_cost = (fewest[1] - fewest[0]) / (1000 - ICOUNT_BATCH);
	clock_cost = fewest[0] - ICOUNT_BATCH * loop_cost;
	note("timing overhead taken out of every sample: %.1f instructions a sample, %.2f a call",
	     clock_cost, loop_cost);
}

/*
 * Warm up, then size a sample to ~sample_ns from the median of short
 * probes (a probe the host preempted does not skew it).
 */
static void calibrate(struct variant *v)
{
	double probe[31];
	uint64_t t0 = now_ns();

	if (icount && !smoke) {
		if (!clock_cost)
			measure_overhead();
		/*
		 * A fixed size, short enough that most batches see no tick:
		 * the same batches on every run, whatever probes would say.
		 */
		for (int i = 0; i < (v->fixed ? 2 : 200); i++)
			v->op();
		v->iters = v->fixed ? v->fixed : ICOUNT_BATCH;
		return;
	}

	while (now_ns() - t0 < (smoke ? 100000 : 20000000))
		for (int i = 0; i < 8; i++)
			v->op();
	v->iters = 8;
	for (int i = 0; i < 31; i++)
		probe[i] = run_sample(v);
	v->iters = (long)(sample_ns / median(probe, 31));
	if (v->iters < 4)
		v->iters = 4;
}

/*
 * Median, p10, p90, minimum and mean of @v (sorted in place), noted as
 * @name; the mean is stored in *@mean if @mean.  Returned: in time mode
 * the median (robust to the samples the host preempted), in instruction
 * mode the minimum (the sample no tick or deferred work disturbed: the
 * same on every run; see the top of this file).
 */
double summarize(const char *name, double *v, int n, double *mean)
{
	double sum = 0, med;

	for (int i = 0; i < n; i++)
		sum += v[i];
	med = median(v, n);
	note("%-36s min %9.0f  median %9.0f  p10..p90 %9.0f .. %9.0f  mean %9.1f  (x %d)",
	     name, v[0], med, v[n / 10], v[n - 1 - n / 10], sum / n, n);
	if (mean)
		*mean = sum / n;
	return icount ? v[0] : med;
}

/* Summarize the first @n samples of @v. */
void finish_variant(struct variant *v, int n)
{
	static double tmp[MAXREPS];

	memcpy(tmp, v->ns, sizeof(double) * n);
	v->med = median(tmp, n);
	v->p10 = tmp[n / 10];
	v->p90 = tmp[n - 1 - n / 10];
	v->min = tmp[0];
	v->at_min = 0;
	v->mean = 0;
	for (int i = 0; i < n; i++) {
		if (!icount)
			v->mean += v->ns[i] / n;
		/* the same batch total, to the instruction */
		if ((v->ns[i] - v->min) * v->iters < 0.5)
			v->at_min++;
	}
	if (icount)
		v->mean = v->long_mean;
	v->value = icount ? v->min : v->med;
	note("%-36s min %9.1f (x%d)  median %9.1f  p10..p90 %9.1f .. %9.1f  mean %9.2f  (%ld calls x %d)",
	     v->name, v->min, v->at_min, v->med, v->p10, v->p90, v->mean,
	     v->iters, n);
}

/* Instruction mode: let the deferred work of what ran before complete. */
void settle_deferred(void)
{
	if (icount && !smoke)
		usleep(ICOUNT_SETTLE_US);
}

/*
 * Samples [from, from + n) of @v, calibrating it first if need be;
 * instruction mode: each after a pause, then the long block (see the top).
 */
void sample_block(struct variant *v, int from, int n)
{
	long iters;

	if (!v->iters)
		calibrate(v);
	for (int r = from; r < from + n; r++) {
		settle_deferred();
		v->ns[r] = run_sample(v);
	}
	if (!icount || smoke)
		return;
	iters = v->iters;
	v->iters = v->fixed ? v->fixed * 100 : ICOUNT_LONG;
	settle_deferred();
	v->long_mean = run_sample(v);
	v->iters = iters;
}

/*
 * Time mode: interleave, rep r runs the variants in turn, the first one
 * alternating.  Instruction mode: one block of samples per variant (each
 * sample after a pause: see the top of this file).
 */
void compare(struct variant *a, struct variant *b)
{
	calibrate(a);
	calibrate(b);
	if (icount) {
		sample_block(a, 0, reps);
		sample_block(b, 0, reps);
	} else {
		for (int r = 0; r < reps; r++) {
			if (r % 2) {
				b->ns[r] = run_sample(b);
				a->ns[r] = run_sample(a);
			} else {
				a->ns[r] = run_sample(a);
				b->ns[r] = run_sample(b);
			}
		}
	}
	finish_variant(a, reps);
	finish_variant(b, reps);
}

/* ---- the result table -------------------------------------------------- */

struct row {
	char key[24];
	char name[64];
	enum unit unit;
	double ph, base, ratio;		/* NAN: not measured */
	double ph_mean, base_mean;	/* instruction mode: beside the min */
	enum cmp cmp;
	double target;
	bool absolute;			/* the target bounds @ph, not @ratio */
	char why[64];			/* skipped: why */
};

static struct row rows[40];
static int nrows;

static const char *fmt_val(char *buf, size_t len, enum unit u, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (u == U_BYTES)
		snprintf(buf, len, "%.1f B", v);
	else if (u == U_CALLS || (u == U_NS && icount))	/* counts */
		snprintf(buf, len, "%.0f", v);
	else if (u == U_SCALE)
		snprintf(buf, len, "x%.2f", v);
	else if (v >= 100000)
		snprintf(buf, len, "%.0f us", v / 1000);
	else if (v >= 10000)
		snprintf(buf, len, "%.1f us", v / 1000);
	else
		snprintf(buf, len, "%.2f us", v / 1000);
	return buf;
}

void add_row(const char *key, const char *name, enum unit unit, double ph,
	     double base, double ratio, enum cmp cmp, double target)
{
	struct row *r;

	if (nrows == (int)(sizeof(rows) / sizeof(rows[0])))
		die("too many rows");
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", key);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->unit = unit;
	r->ph = ph;
	r->base = base;
	r->ratio = ratio;
	r->cmp = cmp;
	r->target = target;
	r->ph_mean = NAN;
	r->base_mean = NAN;
}

/* Instruction mode: the means (deferred work included) of the last row. */
void set_row_means(double ph_mean, double base_mean)
{
	if (!icount || !nrows)
		return;
	rows[nrows - 1].ph_mean = ph_mean;
	rows[nrows - 1].base_mean = base_mean;
}

/* A limit on the prochandle figure itself (bytes per handle). */
void add_absolute_row(const char *key, const char *name, double ph,
		      double base, double limit)
{
	add_row(key, name, U_BYTES, ph, base, ph / base, LE, limit);
	rows[nrows - 1].absolute = true;
}

void add_skipped_row(const char *key, const char *name, const char *why)
{
	add_row(key, name, U_NS, NAN, NAN, NAN, NONE, NAN);
	snprintf(rows[nrows - 1].why, sizeof(rows[0].why), "%s", why);
}

/*
 * Time mode: the median of the per-pair ratios (the two samples of a pair
 * ran back to back, so a slow period of the shared machine inflates both).
 * Instruction mode: the ratio of the fastest batches, the means beside.
 */
void add_pair_row(const char *key, const char *name, struct variant *ph,
		  struct variant *base, double limit)
{
	static double q[MAXREPS];
	double ratio;

	for (int i = 0; i < reps; i++)
		q[i] = ph->ns[i] / base->ns[i];
	ratio = median(q, reps);
	note("%s: median of paired ratios %.3f; ratio of medians %.3f, of minima %.4f, of means %.4f",
	     name, ratio, ph->med / base->med, ph->min / base->min,
	     ph->mean / base->mean);
	add_row(key, name, U_NS, ph->value, base->value,
		icount ? ph->min / base->min : ratio,
		isnan(limit) ? NONE : LE, limit);
	set_row_means(ph->mean, base->mean);
}

static const char *verdict(const struct row *r)
{
	double v = r->absolute ? r->ph : r->ratio;
	bool ok = r->cmp == GE ? v >= r->target : v <= r->target;

	if (r->cmp == NONE || isnan(v))
		return r->why[0] ? "skip" : "-";
	if (r->unit == U_SCALE)		/* indicative only */
		return ok ? "(PASS)" : "(FAIL)";
	return ok ? "PASS" : "FAIL";
}

static const char *fmt_target(char *buf, size_t len, const struct row *r)
{
	if (r->cmp == NONE)
		snprintf(buf, len, "-");
	else if (r->absolute)
		snprintf(buf, len, "<= %.0f B", r->target);
	else
		snprintf(buf, len, "%s %.2f", r->cmp == GE ? ">=" : "<=",
			 r->target);
	return buf;
}

/*
 * The human table, then one machine line per row for bench/table.awk:
 * PH-ROW key mode unit prochandle baseline ratio target verdict name
 *        prochandle-mean baseline-mean
 * (tab-separated; "-" where not measured, nan where no mean).
 */
void print_table(void)
{
	static const char * const units[] = { "ns", "B", "calls", "x" };
	const char *mode = icount ? "icount" : "time";
	char a[24], b[24], t[16], q[16];
	struct utsname u;

	uname(&u);
	printf("\nprochandle bench (%s mode%s): kernel %s, %d CPU%s, %d samples per variant\n",
	       mode, icount ? ": figures are guest instructions" : "",
	       u.release, ncpus, ncpus > 1 ? "s" : "", reps);
	printf("%-48s %11s %11s %7s %9s  %s\n", "row", "prochandle",
	       "baseline", "ratio", "target", "result");
	if (icount)
		printf("(per-call and event rows: the fastest batch or event; the means, deferred work included, in the PH-ROW lines)\n");
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		if (isnan(r->ratio))
			snprintf(q, sizeof(q), "-");
		else
			snprintf(q, sizeof(q), "%.3f", r->ratio);
		printf("%-48s %11s %11s %7s %9s  %s%s%s\n", r->name,
		       fmt_val(a, sizeof(a), r->unit, r->ph),
		       fmt_val(b, sizeof(b), r->unit, r->base), q,
		       fmt_target(t, sizeof(t), r), verdict(r),
		       r->why[0] ? ": " : "", r->why);
	}
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		printf("PH-ROW\t%s\t%s\t%s\t%.2f\t%.2f\t%.4f\t%s\t%s\t%s\t%.2f\t%.2f\n",
		       r->key, mode, units[r->unit], r->ph, r->base, r->ratio,
		       fmt_target(t, sizeof(t), r), verdict(r), r->name,
		       r->ph_mean, r->base_mean);
	}
	if (smoke) {	/* each row's calls ran: one TAP result per row */
		printf("TAP version 13\n1..%d\n", nrows);
		for (int i = 0; i < nrows; i++)
			printf("ok %d - %s%s\n", i + 1, rows[i].name,
			       rows[i].why[0] ? " # SKIP" : "");
	}
	fflush(stdout);
}
