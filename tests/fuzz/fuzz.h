/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The prochandle fuzzer: what its files share.  See fuzz.c for the whole
 * picture, ops.c for the calls into the device, kids.c for the processes
 * it spawns and targets.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <linux/prochandle.h>

#define DEV		"/dev/" PH_DEVICE_NAME
#define SYSDIR		"/sys/class/misc/" PH_DEVICE_NAME "/"

#define NSLOTS		6	/* device files per worker process */
#define NIDS		32	/* handle ids remembered per slot */
#define NKIDS		24	/* children alive or unreaped per process */
#define MAXERR		134	/* errno values counted (0 = success) */
#define BUFPAGES	5	/* argument buffer: 4 pages + a guard page */

/* Every operation the fuzzer makes, for the statistics. */
enum op {
	OP_ACQUIRE, OP_RELEASE, OP_SIGNAL, OP_WAIT, OP_INFO,
	OP_SET_EVENTS, OP_DEADLINE, OP_BADCMD,
	OP_READ, OP_POLL, OP_FDINFO, OP_REOPEN, OP_DUP, OP_PASS, OP_FORK,
	OP_SPAWN, OP_KILL, OP_REAP,
	NR_OPS
};

/* Shared by every worker process (MAP_SHARED). */
struct stats {
	atomic_ulong ops;			/* operations made */
	atomic_ulong unexpected;		/* results outside the allowed set */
	atomic_bool stop;
	atomic_ulong count[NR_OPS][MAXERR + 1];	/* [op][errno or 0] */
};

struct rng {
	uint64_t s;
};

/* A device file a worker uses, and what it knows about its table. */
struct slot {
	int fd;
	bool kill;		/* may hold only our children: real signals OK */
	uint64_t ids[NIDS];	/* handles acquired there (some released) */
	unsigned int nids;
};

/* One worker process: its threads share this. */
struct worker {
	int index;
	pthread_mutex_t lock;	/* slots' ids, kids */
	struct slot slot[NSLOTS];
	pid_t kids[NKIDS];	/* children not yet reaped */
	unsigned int nkids;
	int sock_out;		/* SCM_RIGHTS to the next worker */
	int sock_in;		/* and from the previous one */
	bool forked_copy;	/* a short-lived fork(): no kids of its own */
	const char *self;	/* /proc/self/exe, for exec */
};

/* One thread of a worker. */
struct thread {
	struct worker *w;
	struct rng rng;
	unsigned char *buf;	/* BUFPAGES pages, the last PROT_NONE */
	unsigned char *ro;	/* a read-only page */
	timer_t timer;		/* interrupts blocking calls (EINTR) */
	bool has_timer;
};

#define MAXPROCS	16
#define MAXTHREADS	16

extern struct stats *stats;
extern int verbose;
extern uint64_t seed, max_ops;
extern unsigned int nprocs, nthreads;
extern const char *const op_names[NR_OPS];

/* fuzz.c */
void on_alarm(int sig);
int worker_main(struct worker *w, const int *shared, int nshared);
uint64_t rnd(struct rng *r);
uint64_t below(struct rng *r, uint64_t n);
bool chance(struct rng *r, unsigned int percent);
void count(enum op op, long ret, int err, const int *allowed);
void arm_timer(struct thread *t);
void disarm_timer(struct thread *t);

/* ops.c */
void op_ioctl(struct thread *t, enum op op);
void op_read(struct thread *t);
void op_poll(struct thread *t);
void op_fdinfo(struct thread *t);
int pick_slot(struct thread *t, int kill);
uint64_t pick_id(struct thread *t, struct slot *s);
void remember_id(struct worker *w, struct slot *s, uint64_t id);

/* kids.c */
void child_main(int argc, char **argv);
void op_spawn(struct thread *t);
void op_kill(struct thread *t);
void op_reap(struct thread *t);
pid_t pick_kid(struct thread *t);
int kids_end(struct worker *w);
int sys_pidfd_open(pid_t pid);

#endif /* FUZZ_H */
