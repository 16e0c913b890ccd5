// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: deadlines at scale (SPEC section 11; reported, no target):
 * arming with 100 000 armed against none, the memory of an armed
 * deadline, and the timer interrupts 100 000 deadlines cost, armed far
 * away and firing close together.
 */
#include "phbench.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int arm_ns(int fd, uint64_t h, uint64_t timeout_ns)
{
	struct ph_deadline d = {
		.handle = h, .timeout_ns = timeout_ns, .sig = SIGWINCH,
	};

	return ioctl(fd, PH_IOC_DEADLINE, &d);
}

static int arm(int fd, uint64_t h)
{
	return arm_ns(fd, h, 3600ull * 1000000000ull);
}

/* Local timer interrupts so far, all CPUs (/proc/interrupts LOC). */
static long timer_irqs(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024], *p, *end;
	long sum = -1;

	while (f && fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "LOC:", 4))
			continue;
		sum = 0;
		for (p += 4;; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			sum += v;
		}
		break;
	}
	if (f)
		fclose(f);
	return sum;
}

/* Timer interrupts while we sleep until @until (CLOCK_MONOTONIC ns). */
static long irqs_until(uint64_t until)
{
	long i0 = timer_irqs();
	uint64_t t;

	while ((t = now_ns()) < until)
		usleep((until - t) / 1000 + 1);
	return timer_irqs() - i0;
}

#define KILLS		"/sys/class/misc/prochandle/kills"
#define DL_SPREAD_NS	5000ull		/* between consecutive deadlines */

/*
 * @n deadlines (signal SIGWINCH, which the target ignores) due one every
 * DL_SPREAD_NS from @settle_ns after arming starts (100 000: over 0.5 s):
 * the timer interrupts from the end of arming until all are due and 0.2 s
 * more, against as long idle with none armed (@idle_per_ns).  A timer
 * per deadline would cost @n interrupts; the module's one hrtimer with
 * 1 ms slack costs about one per millisecond of the spread.
 */
static void deadline_firing_row(long n, uint64_t settle_ns, double idle_per_ns)
{
	int fd = ph_open();
	uint64_t *ids = calloc(n, sizeof(*ids)), t0, t1, end;
	long kills0, kills1, irqs, late = 0;
	double idle;
	char name[64];

	if (!ids)
		die("calloc");
	for (long i = 0; i < n; i++)
		ids[i] = ph_acquire(fd, child_c);
	kills0 = read_long(KILLS);
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		uint64_t due = t0 + settle_ns + i * DL_SPREAD_NS, now = now_ns();

		if (due <= now)		/* arming was slow: due at once */
			late++;
		if (arm_ns(fd, ids[i], due > now ? due - now : 1))
			die("DEADLINE %ld", i);
	}
	t1 = now_ns();
	if (late)
		note("DEADLINE firing: %ld deadlines armed after they were due", late);
	end = t0 + settle_ns + n * DL_SPREAD_NS + 200000000ull;
	irqs = irqs_until(end);
	kills1 = read_long(KILLS);
	idle = idle_per_ns * (end - t1);
	note("DEADLINE firing: %ld deadlines due over %.0f ms fired %ld signals; %ld timer interrupts in the %.0f ms from the end of arming, %.0f in as long idle",
	     n, n * DL_SPREAD_NS / 1e6, kills1 - kills0, irqs, (end - t1) / 1e6,
	     idle);
	if (kills1 - kills0 != n)
		note("DEADLINE firing: expected %ld signals, counted %ld", n,
		     kills1 - kills0);
	snprintf(name, sizeof(name), "%ldk deadlines firing: timer irqs vs idle",
		 n / 1000);
	add_row("deadline-irqs", name, U_CALLS, irqs, idle, NAN, NONE, 0);
	close(fd);
	free(ids);
}

/* Mean time to arm handles [from, from + n) of @ids. */
static double arm_range(int fd, const uint64_t *ids, long from, long n)
{
	uint64_t t0 = now_ns();

	for (long i = from; i < from + n; i++)
		if (arm(fd, ids[i]))
			die("DEADLINE %ld", i);
	return (double)(now_ns() - t0) / n;
}

void deadline_rows(void)
{
	const char *name = "DEADLINE arm, 100k armed vs none";
	long n = smoke ? 2000 : 100000, k = 1000;
	uint64_t *ids = calloc(n, sizeof(*ids));
	double first, last;
	long kb0, kb1, irqs, idle;
	uint64_t window = smoke ? 100000000ull : 1000000000ull;
	int fd = ph_open();

	if (!ids)
		die("calloc");
	usleep(200000);		/* what ran before settles */
	idle = irqs_until(now_ns() + window);
	ids[0] = ph_acquire(fd, child_w);
	if (arm(fd, ids[0])) {
		if (errno != ENOTTY)
			die("DEADLINE");
		add_skipped_row("deadline", name, "no PH_IOC_DEADLINE");
		add_skipped_row("deadline-mem", "memory per armed deadline",
				"no PH_IOC_DEADLINE");
		close(fd);
		free(ids);
		return;
	}
	for (long i = 1; i < n; i++)
		ids[i] = ph_acquire(fd, child_w);
	kb0 = meminfo_kb("Slab");
	first = arm_range(fd, ids, 1, k - 1);
	arm_range(fd, ids, k, n - 2 * k);
	last = arm_range(fd, ids, n - k, k);
	kb1 = meminfo_kb("Slab");
	note("DEADLINE: arming the first 1k %.0f ns each, the last 1k of %ld %.0f ns each; Slab %+ld kB",
	     first, n, last, kb1 - kb0);
	/* SPEC section 11 sets no number: reported, not judged. */
	add_row("deadline", name, U_NS, last, first, last / first, NONE, 0);
	add_row("deadline-mem", "memory per armed deadline (Slab)", U_BYTES,
		(kb1 - kb0) * 1024.0 / n, NAN, NAN, NONE, 0);
	/* 1 h away: no timer interrupt until then, however many are armed */
	usleep(200000);
	irqs = irqs_until(now_ns() + window);
	close(fd);
	free(ids);
	note("DEADLINE: %ld timer interrupts in %.1f s with %ld deadlines armed (1 h away), %ld with none",
	     irqs, window / 1e9, n, idle);
	add_row("deadline-armed-irqs", "timer irqs in 1 s, 100k armed vs none",
		U_CALLS, irqs, idle, NAN, NONE, 0);
	/* due after three times what arming them took here, at least 1 s */
	deadline_firing_row(n, 3 * n * last > 1e9 ? (uint64_t)(3 * n * last) : 1000000000ull,
			    (double)idle / window);
}
