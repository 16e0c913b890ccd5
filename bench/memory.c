// SPDX-License-Identifier: GPL-2.0
/*
 * phbench: kernel memory per live handle against per pidfd (SPEC section
 * 7: at most 96 bytes).  In a child process (optionally in a non-root
 * memory cgroup, where every accounted object pays for its obj_cgroup
 * pointer), N handles or pidfds on one process; the growth of Slab: in
 * /proc/meminfo, and of the cgroup's memory.current, divided by N.  Per
 * cache deltas are noted, since SLUB merges the handle cache with others.
 */
#include "phbench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef SYS_membarrier
#define SYS_membarrier 324
#endif
#define MEMBARRIER_CMD_GLOBAL 1	/* synchronize_rcu() in the kernel */
#define CGROOT		"/sys/fs/cgroup"
#define CGDIR		CGROOT "/phbench"

#define MAXCACHES 512
struct slab_snap {
	int n;
	char name[MAXCACHES][64];
	long pages[MAXCACHES];		/* num_slabs * pagesperslab */
	long objs[MAXCACHES];		/* active objects */
	long objsize[MAXCACHES];
	long slab_kb;
};

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
	usleep(smoke ? 20000 : 300000);
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	usleep(smoke ? 10000 : 100000);
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
	return read_long(CGDIR "/memory.current");
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

void mem_rows(void)
{
	const int mreps = smoke || icount ? 1 : 3;
	char alias[128] = "";

	cg_setup();
	if (!shm_mem) {
		shm_mem = mmap(NULL, 2 * sizeof(*shm_mem), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shm_mem == MAP_FAILED)
			die("mmap");
	}
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
		const char *key = cg ? "mem-memcg" : "mem-slab";
		const char *name = cg ? "memcg charge per live handle (child memcg)" :
			"Slab per live handle (vs per pidfd)";

		if (!got) {
			add_skipped_row(key, name, "the measuring child failed");
			continue;
		}
		add_absolute_row(key, name, median(ph, got), median(pf, got), 96);
	}
	if (cg_ready)
		rmdir(CGDIR);
}

