// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: prochandle against its pidfd equivalents, in one run.
 *
 * Runs as root inside a guest with prochandle loaded and prints a table
 * with the SPEC section 7 targets and PASS/FAIL per row.  Targets are
 * reported, not asserted: the exit status is 0 unless the run itself broke
 * (no device, an ioctl failing where it must not).  bench/README.md says
 * what each row measures.
 *
 * Method: CLOCK_MONOTONIC around a sample of back-to-back calls (~250 us
 * of them, sized after a 20 ms warm-up), 401 samples per variant with
 * prochandle and its baseline interleaved sample by sample (alternating
 * which goes first) so that drift and host preemption hit both; the table
 * shows median per-call times and the median of the per-pair ratios.  Short
 * samples keep most of them clear of the host preempting the emulated
 * vCPU, which would otherwise dominate a loaded 2-core machine.  The
 * process is pinned to CPU 0; the target processes sleep in pause().
 *
 *   phbench [-r REPS] [-s SAMPLE_US] [-n MEM_N] [-N BIG_N] [-x SECTIONS] [-q]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <linux/prochandle.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_membarrier
#define SYS_membarrier 324
#endif
#define MEMBARRIER_CMD_GLOBAL 1	/* synchronize_rcu() in the kernel */

#define DEV		"/dev/" PH_DEVICE_NAME
#define MAXH_PARAM	"/sys/module/prochandle/parameters/max_handles"
#define CGROOT		"/sys/fs/cgroup"
#define CGDIR		CGROOT "/phbench"
/* Same device, same direction and size as INFO, a number nobody handles. */
#define PH_IOC_NULL	_IOWR(PH_IOC_MAGIC, 0x3f, struct ph_info)

static int reps = 401;
static uint64_t sample_ns = 250000;	/* 250 us per sample */
static long mem_n = 100000;		/* handles/pidfds for the memory rows */
static long big_n = 1000000;		/* live handles for the scaling row */
static bool quiet;

static int phfd = -1;			/* the main table */
static pid_t child_w;			/* target kept watched (handles held) */
static pid_t child_c;			/* target never held between ops */
static uint64_t h_w;			/* a handle on child_w in phfd */
static int pidfd_w;
static int pipefd[2];
static int ncpus;

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	fprintf(stdout, "phbench: ERROR: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, " (%s)\n", strerror(e));
	va_end(ap);
	fflush(stdout);
	exit(2);
}

static void note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fprintf(stdout, "# ");
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % ncpus, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the operations ---------------------------------------------------- */

static uint64_t ph_acquire(int fd, pid_t pid)
{
	struct ph_acquire a = { .pid = pid };

	if (ioctl(fd, PH_IOC_ACQUIRE, &a))
		die("ACQUIRE pid %d", pid);
	return a.handle;
}

static void ph_release(int fd, uint64_t h)
{
	if (ioctl(fd, PH_IOC_RELEASE, &h))
		die("RELEASE %" PRIu64, h);
}

static void op_acq_rel_w(void)
{
	ph_release(phfd, ph_acquire(phfd, child_w));
}

static void op_acq_rel_c(void)
{
	ph_release(phfd, ph_acquire(phfd, child_c));
}

static void pidfd_open_close(pid_t pid)
{
	int fd = syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		die("pidfd_open %d", pid);
	close(fd);
}

static void op_pidfd_open_close_w(void)
{
	pidfd_open_close(child_w);
}

static void op_pidfd_open_close_c(void)
{
	pidfd_open_close(child_c);
}

static void op_ph_signal(void)
{
	struct ph_signal s = { .handle = h_w, .sig = 0 };

	if (ioctl(phfd, PH_IOC_SIGNAL, &s))
		die("SIGNAL 0");
}

static void op_pidfd_signal(void)
{
	if (syscall(SYS_pidfd_send_signal, pidfd_w, 0, NULL, 0))
		die("pidfd_send_signal 0");
}

static void op_ph_info(void)
{
	struct ph_info i = { .handle = h_w };

	if (ioctl(phfd, PH_IOC_INFO, &i))
		die("INFO");
}

static void op_null_enotty(void)
{
	struct ph_info i = { .handle = h_w };

	if (ioctl(phfd, PH_IOC_NULL, &i) != -1 || errno != ENOTTY)
		die("null ioctl did not fail with ENOTTY");
}

static int ptyfd = -1;

static void op_tcgets(void)
{
	struct termios tio;

	if (ioctl(ptyfd, TCGETS, &tio))
		die("TCGETS");
}

static void op_null_fionread(void)
{
	int n;

	if (ioctl(pipefd[0], FIONREAD, &n))
		die("FIONREAD");
}

/* ---- timing ------------------------------------------------------------ */

#define MAXREPS 2001

struct variant {
	const char *name;
	void (*op)(void);
	long iters;			/* per sample, from calibration */
	double ns[MAXREPS];		/* per-op time of each sample */
	double med, p10, p90, mean;
};

static double run_sample(struct variant *v)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < v->iters; i++)
		v->op();
	return (double)(now_ns() - t0) / v->iters;
}

/*
 * Warm up for ~20 ms, then size a sample to ~sample_ns from the median of
 * short probes (a probe the host preempted does not skew it).
 */
static void calibrate(struct variant *v)
{
	double probe[31];
	uint64_t t0 = now_ns();

	while (now_ns() - t0 < 20000000)
		for (int i = 0; i < 8; i++)
			v->op();
	v->iters = 8;
	for (int i = 0; i < 31; i++)
		probe[i] = run_sample(v);
	v->iters = (long)(sample_ns / median(probe, 31));
	if (v->iters < 4)
		v->iters = 4;
}

static void finish(struct variant *v)
{
	static double tmp[MAXREPS];
	double sum = 0;

	for (int i = 0; i < reps; i++)
		sum += v->ns[i];
	v->mean = sum / reps;
	memcpy(tmp, v->ns, sizeof(double) * reps);
	v->med = median(tmp, reps);
	v->p10 = tmp[reps / 10];
	v->p90 = tmp[reps - 1 - reps / 10];
	note("%-36s median %7.0f ns  p10..p90 %7.0f .. %7.0f  mean %7.0f  (%ld ops x %d)",
	     v->name, v->med, v->p10, v->p90, v->mean, v->iters, reps);
}

/* Interleave: rep r runs the variants in turn, first one alternating. */
static void compare(struct variant *a, struct variant *b)
{
	calibrate(a);
	calibrate(b);
	for (int r = 0; r < reps; r++) {
		if (r % 2) {
			b->ns[r] = run_sample(b);
			a->ns[r] = run_sample(a);
		} else {
			a->ns[r] = run_sample(a);
			b->ns[r] = run_sample(b);
		}
	}
	finish(a);
	finish(b);
}

/* ---- the result table -------------------------------------------------- */

struct row {
	char name[64];
	char ph[24], base[24];
	double ratio;			/* NAN: not measured */
	char target[16];
	const char *result;
};

static struct row rows[16];
static int nrows;

static const char *fmt_ns(char *buf, double ns)
{
	if (ns >= 100000)
		snprintf(buf, 24, "%.0f us", ns / 1000);
	else if (ns >= 10000)
		snprintf(buf, 24, "%.1f us", ns / 1000);
	else
		snprintf(buf, 24, "%.2f us", ns / 1000);
	return buf;
}

/* @pass: 1 PASS, 0 FAIL, -1 not measured */
static void add_row(const char *name, const char *ph, const char *base,
		    double ratio, const char *target, int pass)
{
	struct row *r = &rows[nrows++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->ph, sizeof(r->ph), "%s", ph);
	snprintf(r->base, sizeof(r->base), "%s", base);
	snprintf(r->target, sizeof(r->target), "%s", target);
	r->ratio = ratio;
	r->result = pass < 0 ? "n/a" : pass ? "PASS" : "FAIL";
}

/*
 * The ratio is the median of the per-rep ratios: the two samples of a rep
 * ran back to back, so a slow period of the (shared, emulated) machine
 * inflates both.
 */
static double paired_ratio(const double *a, const double *b, int n)
{
	static double q[MAXREPS];

	for (int i = 0; i < n; i++)
		q[i] = a[i] / b[i];
	return median(q, n);
}

static void add_time_row(const char *name, struct variant *ph,
			 struct variant *base, double limit)
{
	char a[24], b[24], t[16];
	double q = paired_ratio(ph->ns, base->ns, reps);

	snprintf(t, sizeof(t), "<= %.2f", limit);
	note("%s: median of paired ratios %.2f; ratio of medians %.2f, of means %.2f",
	     name, q, ph->med / base->med, ph->mean / base->mean);
	add_row(name, fmt_ns(a, ph->med), fmt_ns(b, base->med), q, t,
		q <= limit);
}

static void print_table(void)
{
	struct utsname u;
	char model[256] = "?", line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');

			strcpy(model, p ? p + 2 : line);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	uname(&u);
	printf("\nprochandle bench: kernel %s, %d CPUs (%s), median of %d samples\n",
	       u.release, ncpus, model, reps);
	printf("%-44s %11s %11s %7s %8s  %s\n", "row", "prochandle",
	       "baseline", "ratio", "target", "result");
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char ratio[16];

		if (isnan(r->ratio))
			snprintf(ratio, sizeof(ratio), "-");
		else
			snprintf(ratio, sizeof(ratio), "%.2f", r->ratio);
		printf("%-44s %11s %11s %7s %8s  %s\n", r->name, r->ph,
		       r->base, ratio, r->target, r->result);
	}
	fflush(stdout);
}

/* ---- the latency rows -------------------------------------------------- */

/* Each row: prochandle's call, its baseline, the target ratio. */
static const struct pair {
	const char *row;
	const char *a_name, *b_name;
	void (*a)(void), (*b)(void);
	double limit;
} pairs[] = {
	{ "acquire+release vs pidfd_open+close, 1st",
	  "acquire+release (first handle)", "pidfd_open+close (same target)",
	  op_acq_rel_c, op_pidfd_open_close_c, 0.8 },
	{ "acquire+release vs pidfd_open+close, 2nd+",
	  "acquire+release (proc watched)", "pidfd_open+close",
	  op_acq_rel_w, op_pidfd_open_close_w, 0.8 },
	{ "SIGNAL 0 vs pidfd_send_signal 0", "SIGNAL 0", "pidfd_send_signal 0",
	  op_ph_signal, op_pidfd_signal, 1.1 },
	{ "INFO vs null ioctl (ENOTTY, same device)", "INFO",
	  "null ioctl: ENOTTY, same device", op_ph_info, op_null_enotty, 1.2 },
	{ "INFO vs null ioctl (FIONREAD, pipe)", "INFO",
	  "null ioctl: FIONREAD on a pipe", op_ph_info, op_null_fionread, 1.2 },
	{ "INFO vs TCGETS on a pty (copies 60 B out)", "INFO",
	  "TCGETS on a pty", op_ph_info, op_tcgets, 1.2 },
};

static struct variant va, vb;

static void timing_rows(void)
{
	ptyfd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct pair *p = &pairs[i];

		if (p->b == op_tcgets && ptyfd < 0) {
			note("no pty: skipping the TCGETS reference");
			continue;
		}
		va.name = p->a_name;
		va.op = p->a;
		vb.name = p->b_name;
		vb.op = p->b;
		compare(&va, &vb);
		add_time_row(p->row, &va, &vb, p->limit);
	}
	if (ptyfd >= 0)
		close(ptyfd);
}

/* ---- memory ------------------------------------------------------------ */

#define MAXCACHES 512
struct slab_snap {
	int n;
	char name[MAXCACHES][64];
	long pages[MAXCACHES];		/* num_slabs * pagesperslab */
	long objs[MAXCACHES];		/* active objects */
	long objsize[MAXCACHES];
	long slab_kb;
};

static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v = -1;
	size_t k = strlen(key);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':') {
			v = atol(line + k + 1);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static void snap(struct slab_snap *s)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];

	s->n = 0;
	while (f && fgets(line, sizeof(line), f) && s->n < MAXCACHES) {
		char name[64];
		long act, num, osz, per, pps, aslabs, nslabs;

		if (sscanf(line, "%63s %ld %ld %ld %ld %ld : tunables %*d %*d %*d : slabdata %ld %ld",
			   name, &act, &num, &osz, &per, &pps, &aslabs, &nslabs) != 8)
			continue;
		memcpy(s->name[s->n], name, sizeof(name));
		s->pages[s->n] = nslabs * pps;
		s->objs[s->n] = act;
		s->objsize[s->n] = osz;
		s->n++;
	}
	if (f)
		fclose(f);
	s->slab_kb = meminfo_kb("Slab");
}

/* Let RCU-deferred frees of earlier phases finish. */
static void settle(void)
{
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	usleep(300000);
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	usleep(100000);
}

struct mem_result {
	double slab_per;		/* Slab delta / N, bytes */
	double memcg_per;		/* memory.current delta / N, or NAN */
	char detail[1024];		/* caches that grew */
	int ok;
};

static struct mem_result *shm_mem;	/* MAP_SHARED, one per measurement */

static void diff_caches(const struct slab_snap *a, const struct slab_snap *b,
			long n, char *out, size_t len)
{
	size_t o = 0;

	out[0] = 0;
	for (int i = 0; i < b->n; i++) {
		long before = 0, objs = 0;

		for (int j = 0; j < a->n; j++)
			if (!strcmp(a->name[j], b->name[i])) {
				before = a->pages[j];
				objs = a->objs[j];
				break;
			}
		double per = (double)(b->pages[i] - before) * 4096 / n;

		if (per >= 1.0 && o < len)
			o += snprintf(out + o, len - o, " %s(%ld)=%.1f[%+ld]",
				      b->name[i], b->objsize[i], per,
				      b->objs[i] - objs);
	}
}

static bool cg_ready;

static long cg_current(void)
{
	FILE *f = fopen(CGDIR "/memory.current", "r");
	long v = -1;

	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* cgroup v2 with the memory controller for the children below it. */
static void cg_setup(void)
{
	int fd;

	mkdir(CGROOT, 0755);
	if (access(CGROOT "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CGROOT, "cgroup2", 0, NULL))
		return;
	fd = open(CGROOT "/cgroup.subtree_control", O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, "+memory", 7) != 7) {
		close(fd);
		return;
	}
	close(fd);
	if (mkdir(CGDIR, 0755) && errno != EEXIST)
		return;
	cg_ready = true;
}

static bool cg_enter(void)
{
	char buf[32];
	int fd = open(CGDIR "/cgroup.procs", O_WRONLY), len;
	bool ok;

	if (fd < 0)
		return false;
	len = snprintf(buf, sizeof(buf), "%d", getpid());
	ok = write(fd, buf, len) == len;
	close(fd);
	return ok;
}

/*
 * In a child process (optionally in a non-root memory cgroup, where every
 * accounted object pays for its obj_cgroup pointer): create @n handles or
 * pidfds on child_w and divide the memory deltas by @n.
 */
static void mem_child(bool pidfds, long n, bool cg, struct mem_result *res)
{
	static struct slab_snap before, after;
	int fd = -1;

	if (cg && !cg_enter())
		_exit(3);
	if (pidfds) {
		struct rlimit rl = { n + 256, n + 256 };

		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(4);
	} else {
		fd = open(DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(5);
	}
	settle();
	snap(&before);
	long cg0 = cg ? cg_current() : -1;

	for (long i = 0; i < n; i++) {
		if (pidfds) {
			if (syscall(SYS_pidfd_open, child_w, 0) < 0)
				_exit(6);
		} else {
			struct ph_acquire a = { .pid = child_w };

			if (ioctl(fd, PH_IOC_ACQUIRE, &a))
				_exit(7);
		}
	}
	settle();
	long cg1 = cg ? cg_current() : -1;

	snap(&after);
	res->memcg_per = cg0 >= 0 && cg1 >= 0 ? (double)(cg1 - cg0) / n : NAN;
	res->slab_per = (double)(after.slab_kb - before.slab_kb) * 1024 / n;
	diff_caches(&before, &after, n, res->detail, sizeof(res->detail));
	res->ok = 1;
	_exit(0);
}

static bool mem_measure(bool pidfds, long n, bool cg, struct mem_result *res)
{
	pid_t pid;
	int st;

	memset(res, 0, sizeof(*res));
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		mem_child(pidfds, n, cg, res);
	waitpid(pid, &st, 0);
	if (!res->ok)
		note("memory child (%s, %s) failed: status 0x%x",
		     pidfds ? "pidfd" : "handle", cg ? "cgroup" : "root", st);
	return res->ok;
}

static void mem_rows(void)
{
	const int mreps = 3;
	char alias[128] = "";

	if (readlink("/sys/kernel/slab/ph_handle", alias, sizeof(alias) - 1) > 0)
		note("the ph_handle kmem cache is merged: /sys/kernel/slab/ph_handle -> %s (its objects show under that cache's name)",
		     alias);
	const char *where[2] = { "root memcg", "child memcg" };

	for (int cg = 0; cg < 2; cg++) {
		double ph[3], pf[3];
		int got = 0;

		if (cg && !cg_ready) {
			note("no cgroup v2 memory controller: skipping the child-memcg row");
			break;
		}
		for (int r = 0; r < mreps; r++) {
			struct mem_result *a = &shm_mem[0], *b = &shm_mem[1];
			bool ok;

			/* interleave, alternating the order */
			if (r % 2)
				ok = mem_measure(true, mem_n, cg, b) &&
				     mem_measure(false, mem_n, cg, a);
			else
				ok = mem_measure(false, mem_n, cg, a) &&
				     mem_measure(true, mem_n, cg, b);
			if (!ok)
				continue;
			/* root: Slab growth; child: what its memcg was charged */
			ph[got] = cg ? a->memcg_per : a->slab_per;
			pf[got] = cg ? b->memcg_per : b->slab_per;
			got++;
			note("mem %s handle: Slab %.1f B, memcg charge %.1f B; slab pages per cache name(objsize)=B/handle[+objects]:%s",
			     where[cg], a->slab_per, a->memcg_per, a->detail);
			note("mem %s pidfd:  Slab %.1f B, memcg charge %.1f B; slab pages per cache name(objsize)=B/pidfd[+objects]:%s",
			     where[cg], b->slab_per, b->memcg_per, b->detail);
		}
		char name[64], a[24], b[24];

		snprintf(name, sizeof(name), cg ? "memcg charge per live handle (child memcg)" :
			 "Slab per live handle (vs per pidfd)");
		if (!got) {
			add_row(name, "-", "-", NAN, "<= 96 B", -1);
			continue;
		}
		double mph = median(ph, got), mpf = median(pf, got);

		snprintf(a, sizeof(a), "%.1f B", mph);
		snprintf(b, sizeof(b), "%.1f B", mpf);
		add_row(name, a, b, mph / mpf, "<= 96 B", mph <= 96);
	}
}

/* ---- acquire latency with 1M vs 1k live handles ------------------------- */

static void fill(int fd, long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		ph_acquire(fd, child_w);
	note("filled a table with %ld handles in %.1f s", n,
	     (now_ns() - t0) / 1e9);
}

static double acquire_batch(int fd, uint64_t *ids, int k)
{
	uint64_t t0 = now_ns(), t;

	for (int i = 0; i < k; i++)
		ids[i] = ph_acquire(fd, child_w);
	t = now_ns() - t0;
	for (int i = 0; i < k; i++)
		ph_release(fd, ids[i]);
	return (double)t / k;
}

static void big_row(void)
{
	enum { K = 16 };
	static double small[MAXREPS], big[MAXREPS];
	const int BREPS = reps;
	uint64_t ids[K];
	int fa, fb;
	char a[24], b[24], name[64];

	fa = open(DEV, O_RDWR | O_CLOEXEC);
	fb = open(DEV, O_RDWR | O_CLOEXEC);
	if (fa < 0 || fb < 0)
		die("open " DEV);
	fill(fa, 1000);
	fill(fb, big_n);
	for (int i = 0; i < 64; i++) {	/* warm up */
		acquire_batch(fa, ids, K);
		acquire_batch(fb, ids, K);
	}
	for (int r = 0; r < BREPS; r++) {
		if (r % 2) {
			big[r] = acquire_batch(fb, ids, K);
			small[r] = acquire_batch(fa, ids, K);
		} else {
			small[r] = acquire_batch(fa, ids, K);
			big[r] = acquire_batch(fb, ids, K);
		}
	}
	double q = paired_ratio(big, small, BREPS);
	double ms = median(small, BREPS), mb = median(big, BREPS);

	note("acquire with 1k live: median %.0f ns; with %ld live: %.0f ns (batches of %d, %d each); paired ratio %.2f",
	     ms, big_n, mb, K, BREPS, q);
	snprintf(name, sizeof(name), "acquire, %ldk live vs 1k live", big_n / 1000);
	add_row(name, fmt_ns(a, mb), fmt_ns(b, ms), q, "<= 1.50", q <= 1.5);
	uint64_t t0 = now_ns();

	close(fb);
	close(fa);
	note("closed the %ld-handle table in %.2f s", big_n, (now_ns() - t0) / 1e9);
}

/* ---- scaling: distinct handles from different CPUs ---------------------- */

struct worker {
	volatile uint64_t ops;
	int cpu;
	int kind;			/* 0 INFO, 1 null ioctl */
	uint64_t handle;
	char pad[64];
};

struct scale_shared {
	volatile int go, stop;
	struct worker w[2];
};

static struct scale_shared *sc;

static void worker_loop(struct worker *w)
{
	struct ph_info i;
	uint64_t n = 0;

	pin(w->cpu);
	while (!sc->go)
		;
	while (!sc->stop) {
		for (int k = 0; k < 64; k++) {
			memset(&i, 0, sizeof(i));
			i.handle = w->handle;
			if (w->kind == 0) {
				if (ioctl(phfd, PH_IOC_INFO, &i))
					die("INFO (worker)");
			} else if (ioctl(phfd, PH_IOC_NULL, &i) != -1) {
				die("null ioctl (worker)");
			}
		}
		n += 64;
	}
	w->ops = n;
}

static void *thread_main(void *arg)
{
	worker_loop(arg);
	return NULL;
}

/* Ops per second of @nw workers (threads or processes) over 50 ms. */
static double scale_run(int nw, bool procs, int kind, const uint64_t *handles)
{
	pthread_t th[2];
	pid_t pids[2];
	uint64_t t0, t;
	double total = 0;

	memset(sc, 0, sizeof(*sc));
	for (int i = 0; i < nw; i++) {
		sc->w[i].cpu = i;
		sc->w[i].kind = kind;
		sc->w[i].handle = handles[i];
		if (procs) {
			pids[i] = fork();
			if (pids[i] < 0)
				die("fork");
			if (!pids[i]) {
				worker_loop(&sc->w[i]);
				_exit(0);
			}
		} else if (pthread_create(&th[i], NULL, thread_main, &sc->w[i])) {
			die("pthread_create");
		}
	}
	usleep(20000);
	__atomic_store_n(&sc->go, 1, __ATOMIC_SEQ_CST);
	t0 = now_ns();
	usleep(50000);
	__atomic_store_n(&sc->stop, 1, __ATOMIC_SEQ_CST);
	t = now_ns() - t0;
	for (int i = 0; i < nw; i++) {
		if (procs)
			waitpid(pids[i], NULL, 0);
		else
			pthread_join(th[i], NULL);
		total += sc->w[i].ops;
	}
	return total * 1e9 / t;
}

static void scale_rows(void)
{
	const int sreps = reps < 7 ? reps : 7;
	uint64_t handles[2];
	const char *how[2] = { "threads", "processes" };

	/* distinct handles, not neighbours in memory */
	handles[0] = ph_acquire(phfd, child_w);
	for (int i = 0; i < 64; i++)
		ph_acquire(phfd, child_w);
	handles[1] = ph_acquire(phfd, child_w);
	if (ncpus < 2) {
		note("one CPU: skipping the scaling rows");
		return;
	}
	for (int procs = 0; procs < 2; procs++) {
		double s[2][2][8];		/* kind, workers-1, rep */
		double sc_info, sc_null;
		char name[64], a[24], b[24];

		for (int r = 0; r < sreps; r++)
			for (int kind = 0; kind < 2; kind++)
				for (int nw = 1; nw <= 2; nw++) {
					int k = r % 2 ? 1 - kind : kind;
					int w = r % 2 ? 3 - nw : nw;

					s[k][w - 1][r] = scale_run(w, procs, k, handles);
				}
		double i1 = median(s[0][0], sreps), i2 = median(s[0][1], sreps);
		double n1 = median(s[1][0], sreps), n2 = median(s[1][1], sreps);

		sc_info = i2 / i1;
		sc_null = n2 / n1;
		note("scaling, 2 %s sharing one file: INFO %.0f -> %.0f ops/s (x%.2f); null ioctl %.0f -> %.0f ops/s (x%.2f)",
		     how[procs], i1, i2, sc_info, n1, n2, sc_null);
		snprintf(name, sizeof(name), "INFO scaling 1->2 %s (vs null ioctl)*",
			 how[procs]);
		snprintf(a, sizeof(a), "x%.2f", sc_info);
		snprintf(b, sizeof(b), "x%.2f", sc_null);
		add_row(name, a, b, sc_info / sc_null, ">= 0.90",
			sc_info / sc_null >= 0.9);
		/* indicative only: in parentheses */
		rows[nrows - 1].result = sc_info / sc_null >= 0.9 ? "(PASS)" : "(FAIL)";
	}
}

/* ---- setup ------------------------------------------------------------- */

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid)
		for (;;)
			pause();
	return pid;
}

static char saved_maxh[32];

static void set_max_handles(const char *v)
{
	int fd = open(MAXH_PARAM, O_RDWR);

	if (fd < 0)
		die("open " MAXH_PARAM);
	if (!saved_maxh[0] && read(fd, saved_maxh, sizeof(saved_maxh) - 1) <= 0)
		die("read " MAXH_PARAM);
	saved_maxh[strcspn(saved_maxh, "\n")] = 0;
	if (pwrite(fd, v, strlen(v), 0) != (ssize_t)strlen(v))
		die("write %s to " MAXH_PARAM, v);
	close(fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: phbench [-r REPS] [-s SAMPLE_US] [-n MEM_N] [-N BIG_N] [-x SECTIONS] [-q]\n"
		"  SECTIONS: any of t (timing) m (memory) b (1M handles) s (scaling); default tmbs\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *sections = "tmbs";
	char buf[32];
	int c;

	while ((c = getopt(argc, argv, "r:s:n:N:x:q")) != -1) {
		switch (c) {
		case 'r': reps = atoi(optarg); break;
		case 's': sample_ns = strtoull(optarg, NULL, 0) * 1000ull; break;
		case 'x': sections = optarg; break;
		case 'n': mem_n = atol(optarg); break;
		case 'N': big_n = atol(optarg); break;
		case 'q': quiet = true; break;
		default: usage();
		}
	}
	if (reps < 1 || reps > MAXREPS || mem_n < 1 || big_n < 1000 ||
	    sample_ns < 1000)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	shm_mem = mmap(NULL, 4096 * 2, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sc = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (shm_mem == MAP_FAILED || sc == MAP_FAILED)
		die("mmap");

	child_w = spawn_sleeper();
	child_c = spawn_sleeper();
	pin(0);
	phfd = open(DEV, O_RDWR | O_CLOEXEC);
	if (phfd < 0)
		die("open " DEV);
	snprintf(buf, sizeof(buf), "%ld", (big_n > mem_n ? big_n : mem_n) + 100000);
	set_max_handles(buf);
	h_w = ph_acquire(phfd, child_w);
	pidfd_w = syscall(SYS_pidfd_open, child_w, 0);
	if (pidfd_w < 0)
		die("pidfd_open");
	if (pipe(pipefd))
		die("pipe");
	note("targets: watched pid %d, unwatched pid %d; %d reps of ~%" PRIu64 " us",
	     child_w, child_c, reps, sample_ns / 1000);

	if (strchr(sections, 't'))
		timing_rows();
	if (strchr(sections, 'm')) {
		cg_setup();
		mem_rows();
	}
	if (strchr(sections, 'b'))
		big_row();
	if (strchr(sections, 's'))
		scale_rows();

	print_table();
	printf("* scaling rows: prochandle = INFO throughput 2 workers / 1 worker on distinct\n"
	       "  handles of one file, baseline = the same for the null ioctl, ratio = their\n"
	       "  quotient; indicative only under emulation (TCG vCPUs share the host cores).\n");

	close(phfd);
	kill(child_w, SIGKILL);
	kill(child_c, SIGKILL);
	waitpid(child_w, NULL, 0);
	waitpid(child_c, NULL, 0);
	if (saved_maxh[0])
		set_max_handles(saved_maxh);
	if (cg_ready)
		rmdir(CGDIR);
	return 0;
}
