// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: prochandle against its pidfd equivalents, in one run.
 *
 * Runs as root inside a guest with prochandle loaded and prints a table
 * with the SPEC section 7 and 14 targets and PASS/FAIL per row, then one
 * machine-readable PH-ROW line per row (bench/table.awk merges the time
 * and instruction runs of `make bench` into one table).  Targets are
 * reported, not asserted: the exit status is 0 unless the run itself broke
 * (no device, a call failing where it must not).  sample.c describes the
 * two modes; bench/README.md what each row measures.
 *
 *   phbench [-I] [-S] [-q] [-r REPS] [-s SAMPLE_US] [-n MEM_N] [-N BIG_N]
 *           [-E EXITS_N] [-F FAIR_N] [-x SECTIONS]
 *
 *   -I  the guest clock counts instructions (QEMU -icount): many short
 *       batches, the fastest one (sample.c), address space not randomized
 *   -S  smoke test for `make check`: every row's calls run a few times on
 *       small numbers, a TAP line per row, no rmmod
 *
 * The process is pinned to CPU 0; the target processes sleep in pause().
 */
#include "phbench.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#ifdef __x86_64__
#include <x86intrin.h>
#endif

#define MAXH_PARAM	"/sys/module/prochandle/parameters/max_handles"

int reps = 401;
uint64_t sample_ns = 250000;
long mem_n = 100000;
long big_n = 1000000;
long exits_n = 10000;
long fair_n = 65536;
bool icount, smoke, quiet;

int phfd = -1;
pid_t child_w, child_c;
uint64_t h_w;
int pidfd_w = -1;
int ncpus;

void die(const char *fmt, ...)
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

void note(const char *fmt, ...)
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

/*
 * Instruction mode: the TSC, which QEMU derives from its icount clock
 * (one tick per guest instruction at shift=0), read in one instruction;
 * clock_gettime() would add a few instructions now and then (the vDSO
 * divides nanoseconds into seconds with a loop).  Otherwise the monotonic
 * clock.
 */
uint64_t now_ns(void)
{
	struct timespec ts;

#ifdef __x86_64__
	if (icount)
		return __rdtsc();
#endif
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The number at the start of @path, or -1. */
long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* The value of @key in /proc/meminfo (kB), or -1. */
long meminfo_kb(const char *key)
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

void pin(int cpu)
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

double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t ph_acquire(int fd, pid_t pid)
{
	struct ph_acquire a = { .pid = pid };

	if (ioctl(fd, PH_IOC_ACQUIRE, &a))
		die("ACQUIRE pid %d", pid);
	return a.handle;
}

void ph_release(int fd, uint64_t h)
{
	if (ioctl(fd, PH_IOC_RELEASE, &h))
		die("RELEASE %" PRIu64, h);
}

int ph_open(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open " DEV);
	return fd;
}

pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid)
		for (;;)
			pause();
	return pid;
}

/*
 * A process that shares our memory (CLONE_VM: no page tables of its own,
 * so ten thousand of them fit in a small guest) and sleeps until killed.
 * It must touch nothing but its own stack: our TLS (errno) is shared.
 */
#define LIGHT_STACK	4096
static char *light_stacks;
static long light_slots, light_next;

static int light_main(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

pid_t spawn_light(void)
{
	char *stack;
	pid_t pid;

	if (!light_stacks) {
		light_slots = (exits_n > fair_n ? exits_n : fair_n) + 64;
		light_stacks = mmap(NULL, light_slots * LIGHT_STACK,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				    -1, 0);
		if (light_stacks == MAP_FAILED)
			die("mmap stacks");
	}
	/* Slots are reused round-robin: never more live at once. */
	stack = light_stacks + (light_next++ % light_slots + 1) * LIGHT_STACK;
	pid = clone(light_main, stack, CLONE_VM | SIGCHLD, NULL);
	if (pid < 0)
		die("clone");
	return pid;
}

/* The scheduling state letter of @pid ('R', 'S', 'Z'...). */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

/* Wait until @pid sleeps (blocked in the call being measured); 30 s. */
void wait_until_sleeping(pid_t pid)
{
	uint64_t t0 = now_ns();

	while (proc_state(pid) != 'S') {
		if (now_ns() - t0 > 30000000000ull)
			die("pid %d never went to sleep", pid);
		sched_yield();
	}
}

void reap(pid_t pid)
{
	if (waitpid(pid, NULL, 0) != pid)
		die("waitpid %d", pid);
}

static char saved_maxh[32];

void set_max_handles(const char *v)
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
	fprintf(stderr, "usage: phbench [-I] [-S] [-q] [-r REPS] [-s SAMPLE_US] [-n MEM_N] [-N BIG_N]\n"
		"               [-E EXITS_N] [-F FAIR_N] [-x SECTIONS]\n"
		"  SECTIONS: any of t (calls) e (exit latency) c (collect exits) f (fairness)\n"
		"  m (memory) b (1M handles) s (scaling) d (deadlines) k (module loaded vs not);\n"
		"  default tecfmbsdk (-S: tecfmbd)\n");
	exit(2);
}

/* Defaults that depend on the mode, before the options override them. */
static void mode_defaults(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-I")) {
			icount = true;
			reps = 200;		/* short batches: see sample.c */
		} else if (!strcmp(argv[i], "-S")) {
			smoke = true;
			reps = 3;
			sample_ns = 20000;
			mem_n = 1000;
			big_n = 2000;
			exits_n = 64;
			fair_n = 256;
		}
	}
}

/* The collect row needs exits_n processes at once: above a 1 GiB guest's
 * default threads-max (about 7800). */
static void raise_threads_max(void)
{
	char buf[32];
	long want = exits_n + fair_n + 4096, have = 0;
	FILE *f = fopen("/proc/sys/kernel/threads-max", "r+");

	if (!f)
		return;
	if (fscanf(f, "%ld", &have) == 1 && have < want) {
		snprintf(buf, sizeof(buf), "%ld", want);
		rewind(f);
		fputs(buf, f);
	}
	fclose(f);
}

void setup(void)
{
	char buf[32];
	long most = big_n > mem_n ? big_n : mem_n;
	struct rlimit rl = { exits_n + 1024, exits_n + 1024 };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit NOFILE %ld", exits_n + 1024);
	phfd = ph_open();
	snprintf(buf, sizeof(buf), "%ld", most + 100000);
	set_max_handles(buf);
	h_w = ph_acquire(phfd, child_w);
}

int main(int argc, char **argv)
{
	const char *sections = NULL;
	int c;

	mode_defaults(argc, argv);
	/*
	 * Instruction mode: the same address-space layout on every run (ASLR
	 * seeds from RDRAND: page-table work in fork and exit moved with it).
	 */
	if (icount && !(personality(0xffffffff) & ADDR_NO_RANDOMIZE) &&
	    personality(ADDR_NO_RANDOMIZE) != -1)
		execv("/proc/self/exe", argv);
	while ((c = getopt(argc, argv, "ISqr:s:n:N:E:F:x:")) != -1) {
		switch (c) {
		case 'I': case 'S': break;
		case 'q': quiet = true; break;
		case 'r': reps = atoi(optarg); break;
		case 's': sample_ns = strtoull(optarg, NULL, 0) * 1000ull; break;
		case 'n': mem_n = atol(optarg); break;
		case 'N': big_n = atol(optarg); break;
		case 'E': exits_n = atol(optarg); break;
		case 'F': fair_n = atol(optarg); break;
		case 'x': sections = optarg; break;
		default: usage();
		}
	}
	if (!sections)
		sections = smoke ? "tecfmbd" : "tecfmbsdk";
	if (reps < 1 || reps > MAXREPS || mem_n < 1 || big_n < 1000 ||
	    sample_ns < 1000 || exits_n < 1 || fair_n < 1)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	raise_threads_max();

	child_w = spawn_sleeper();
	child_c = spawn_sleeper();
	pin(0);
	pidfd_w = syscall(SYS_pidfd_open, child_w, 0);
	if (pidfd_w < 0)
		die("pidfd_open");
	setup();
	note("%s mode; targets: watched pid %d, unwatched pid %d; %d reps of ~%" PRIu64 " us",
	     icount ? "instruction" : smoke ? "smoke" : "time", child_w,
	     child_c, reps, sample_ns / 1000);

	if (strchr(sections, 't'))
		call_rows();
	if (strchr(sections, 'e'))
		exit_rows();
	if (strchr(sections, 'c'))
		collect_rows();
	if (strchr(sections, 'f'))
		fairness_rows();
	if (strchr(sections, 'm'))
		mem_rows();
	if (strchr(sections, 'b'))
		big_row();
	if (strchr(sections, 'd'))
		deadline_rows();
	if (strchr(sections, 's'))
		scale_rows();
	if (strchr(sections, 'k') && !smoke)
		hook_rows();	/* unloads and reloads the module */

	print_table();
	close(phfd);
	kill(child_w, SIGKILL);
	kill(child_c, SIGKILL);
	reap(child_w);
	reap(child_c);
	if (saved_maxh[0])
		set_max_handles(saved_maxh);
	return 0;
}
