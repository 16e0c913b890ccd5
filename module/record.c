// SPDX-License-Identifier: GPL-2.0
/*
 * The exit record: how a process ended and what it used (SPEC §10).
 *
 * One struct ph_record per watched process, made with its exit watch and
 * referenced by the watch and by every handle on the process, so that it
 * outlives the task: a DONE handle keeps the record, never the task.  It
 * also holds what every handle needs for its whole life: the process's
 * struct pid (for its numbers) and start time.
 *
 * Two things write it:
 *
 *  - The signal_generate tracepoint, found at load time, runs in the
 *    sender's context for every signal generated in the system, under the
 *    target's siglock with interrupts off.  For a watched process it notes
 *    the sender of each fatal-by-default signal the kernel queued (the
 *    sender's thread-group pid, real uid and the si_code): the last
 *    PH_KILLER_SLOTS distinct signals, most recent first.  A signal that
 *    was dropped or is not fatal returns after two tests on the arguments;
 *    for any other it is one load of a global counter (nothing is
 *    recording) or one RCU hash lookup (this process is not watched).
 *
 *  - ph_record_capture(), called by the exit watch once it sees the whole
 *    thread group exited: in the exit path (under tasklist_lock and the
 *    pidfd wait queue's lock, interrupts off) or, for a process that was
 *    already a zombie when first watched, in process context.  It copies
 *    the CPU times and peak RSS exactly as wait_task_zombie() and
 *    getrusage(RUSAGE_BOTH) compute them for the parent, the exit time,
 *    whether the OOM killer chose the process (signal->oom_mm, set by
 *    mark_oom_victim() beside the mark_victim tracepoint), and picks the
 *    slot of the signal that killed it.  Bounded work: the thread list of
 *    a dead group holds only its leader; no allocation, no sleeping.
 *
 * Invariants:
 *  - ph_record.lock (a leaf lock, taken with interrupts off) serialises
 *    the slots and @captured.  Once @captured is set nothing in the record
 *    changes any more: the capture's fields are written before it (release),
 *    readers test it first (acquire) and then read without the lock.
 *  - A slot holds a reference on its sender's struct pid; the reference is
 *    dropped when the slot is reused or the record is freed (put_pid() is
 *    safe with interrupts off).  Pids and uids are translated into the
 *    reader's namespaces only when read.
 *  - ph_nr_recording counts records not yet captured (nor freed): with no
 *    process being watched, a fatal signal costs the tracepoint one load.
 *  - The memory, and the references on the struct pids it names, are
 *    freed after an RCU grace period: the tracepoint finds records through
 *    the watch hash under RCU, and calls that peek at a handle (handle.c)
 *    read its record's pids under RCU without a reference.
 */
#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/math64.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/time_namespace.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/uidgid.h>
#include <trace/events/signal.h>

#include <linux/prochandle.h>
#include "compat.h"
#include "record.h"

static struct kmem_cache *ph_record_cache;
static atomic_t ph_nr_recording = ATOMIC_INIT(0);
static struct tracepoint *ph_tp_signal;

/**
 * ph_record_new() - Make the record of a process about to be watched.
 * @pid: the process (its thread-group leader's pid)
 * @gfp: allocation flags
 *
 * Return: the record with one reference, or NULL.
 */
struct ph_record *ph_record_new(struct pid *pid, gfp_t gfp)
{
	struct ph_record *r = kmem_cache_zalloc(ph_record_cache, gfp);
	struct task_struct *task;

	if (!r)
		return NULL;
	refcount_set(&r->ref, 1);
	spin_lock_init(&r->lock);
	r->pid = get_pid(pid);
	/* The same for every thread that ever holds @pid (de_thread copies it). */
	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	if (task)
		r->start_time = task->start_boottime;
	rcu_read_unlock();
	atomic_inc(&ph_nr_recording);
	return r;
}

struct ph_record *ph_record_get(struct ph_record *r)
{
	refcount_inc(&r->ref);
	return r;
}

/* The pids too: an RCU reader (a peeked handle, handle.c) may read them. */
static void ph_record_free_rcu(struct rcu_head *rcu)
{
	struct ph_record *r = container_of(rcu, struct ph_record, rcu);
	int i;

	for (i = 0; i < PH_KILLER_SLOTS; i++)
		put_pid(r->slot[i].pid);
	put_pid(r->pid);
	kmem_cache_free(ph_record_cache, r);
}

void ph_record_put(struct ph_record *r)
{
	unsigned long flags;
	bool captured;

	if (!refcount_dec_and_test(&r->ref))
		return;
	/* A tracepoint may still hold @r (RCU): close it to new slots. */
	spin_lock_irqsave(&r->lock, flags);
	captured = r->captured;
	r->captured = true;
	spin_unlock_irqrestore(&r->lock, flags);
	if (!captured)
		atomic_dec(&ph_nr_recording);
	call_rcu(&r->rcu, ph_record_free_rcu);
}

/* Terminates the process unless caught: the signals a killer can send. */
static bool ph_sig_fatal_default(int sig)
{
	return sig > 0 && sig <= _NSIG && !sig_kernel_ignore(sig) &&
	       !sig_kernel_stop(sig);
}

/* Note one generation of @sig to @r's process.  Under the target's siglock. */
static void ph_record_note(struct ph_record *r, int sig,
			   const struct kernel_siginfo *info)
{
	struct ph_killer k = { .code = SI_KERNEL };
	int i;

	if (info == SEND_SIG_NOINFO)
		k.code = SI_USER;
	else if (info != SEND_SIG_PRIV)
		k.code = info->si_code;
	/* Sent by a process: it is current, as for the siginfo's si_pid. */
	if (k.code == SI_USER || k.code == SI_QUEUE || k.code == SI_TKILL) {
		k.pid = get_pid(task_tgid(current));
		k.uid = current_uid();
	}

	spin_lock(&r->lock);
	if (!r->captured) {
		for (i = 0; i < PH_KILLER_SLOTS - 1; i++)
			if (r->sig[i] == sig)
				break;
		swap(r->slot[i], k);	/* @k gets the reference to drop */
		for (; i > 0; i--) {
			swap(r->slot[i], r->slot[i - 1]);
			r->sig[i] = r->sig[i - 1];
		}
		r->sig[0] = sig;
	}
	spin_unlock(&r->lock);
	put_pid(k.pid);
}

/* The signal_generate tracepoint: see the top of this file. */
static void ph_record_signal(void *data, int sig, struct kernel_siginfo *info,
			     struct task_struct *task, int group, int result)
{
	struct ph_record *r;

	/*
	 * Cheapest test first, on the arguments alone: most signals in a
	 * system are dropped (ignored, already pending) or not fatal, and
	 * these return before touching memory (bench: kill(2) loaded).
	 * What the kernel dropped, the process never saw.
	 */
	if (result != TRACE_SIGNAL_DELIVERED && result != TRACE_SIGNAL_LOSE_INFO)
		return;
	if (!ph_sig_fatal_default(sig))
		return;
	if (likely(!atomic_read(&ph_nr_recording)))
		return;
	rcu_read_lock();
	r = ph_watch_record(task_tgid(task));
	if (r)
		ph_record_note(r, sig, info);
	rcu_read_unlock();
}

/*
 * cputime_adjust() without its side effect: scale the tick-sampled split
 * of @rtime and keep it monotonic against what was reported before (@pu,
 * @ps), as the parent's wait4() will compute it from the same values.
 */
static void ph_cputime_adjust(u64 rtime, u64 utime, u64 stime, u64 pu, u64 ps,
			      u64 *ut, u64 *st)
{
	if (ps + pu >= rtime) {
		*ut = pu;
		*st = ps;
		return;
	}
	/* All user time if no system tick was seen, and vice versa. */
	if (stime && !utime)
		stime = rtime;
	else if (stime)
		stime = mul_u64_u64_div_u64(stime, rtime, stime + utime);
	stime = max(stime, ps);
	utime = rtime - stime;
	if (utime < pu) {
		utime = pu;
		stime = rtime - utime;
	}
	*ut = utime;
	*st = stime;
}

/*
 * What wait4() reports to the parent of the dead thread group @leader:
 * getrusage(RUSAGE_BOTH) of the zombie, that is the group's adjusted CPU
 * times plus those of the children it reaped, and the larger peak RSS.
 */
static void ph_record_usage(struct ph_record *r, struct task_struct *leader)
{
	struct signal_struct *sig = leader->signal;
	u64 utime, stime, rtime, cutime, cstime, pu, ps;
	struct task_struct *t;
	unsigned long flags, rss;
	unsigned int seq;

	rcu_read_lock();
	do {
		seq = read_seqbegin(&sig->stats_lock);
		utime = sig->utime;
		stime = sig->stime;
		rtime = sig->sum_sched_runtime;
		cutime = sig->cutime;
		cstime = sig->cstime;
		rss = max(sig->maxrss, sig->cmaxrss);
		/* Only the leader is left; its times are still its own. */
		for_each_thread(leader, t) {
			utime += READ_ONCE(t->utime);
			stime += READ_ONCE(t->stime);
			rtime += READ_ONCE(t->se.sum_exec_runtime);
		}
	} while (read_seqretry(&sig->stats_lock, seq));
	rcu_read_unlock();

	raw_spin_lock_irqsave(&sig->prev_cputime.lock, flags);
	pu = sig->prev_cputime.utime;
	ps = sig->prev_cputime.stime;
	raw_spin_unlock_irqrestore(&sig->prev_cputime.lock, flags);
	ph_cputime_adjust(rtime, utime, stime, pu, ps, &utime, &stime);

	r->utime = utime + cutime;
	r->stime = stime + cstime;
	r->maxrss_kb = (u64)rss * (PAGE_SIZE / 1024);
}

/**
 * ph_record_capture() - Capture the exit record of a dead thread group.
 * @r: its record
 * @leader: its thread-group leader, a zombie whose group has exited (or
 *	reaped but still referenced under RCU by the caller)
 * @status: the group's wait status
 *
 * Runs in the exit path (see the top of this file) or in process context;
 * the first call wins, later ones do nothing.
 */
void ph_record_capture(struct ph_record *r, struct task_struct *leader,
		       int status)
{
	u64 now = ktime_get_boottime_ns();
	int termsig = status & 0x7f;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&r->lock, flags);
	if (r->captured)
		goto out;
	r->exit_time = now;
	ph_record_usage(r, leader);
	r->flags = PH_EXIT_F_VALID;
	if (READ_ONCE(leader->signal->oom_mm))
		r->flags |= PH_EXIT_F_OOM;
	/* Killed by a signal: not exited (0) nor stopped (0x7f). */
	if (termsig && termsig != 0x7f) {
		if (status & 0x80)
			r->flags |= PH_EXIT_F_CORE;
		for (i = 0; i < PH_KILLER_SLOTS; i++) {
			if (r->sig[i] == termsig) {
				r->killer = i;
				r->flags |= PH_EXIT_F_KILLER;
				break;
			}
		}
	}
	/* Release: the fields above before the flag (ph_record_fill()). */
	smp_store_release(&r->captured, true);
	atomic_dec(&ph_nr_recording);
out:
	spin_unlock_irqrestore(&r->lock, flags);
}

/**
 * ph_record_fill() - Report an exit record to the current task.
 * @r: the record
 * @e: filled in, translated into current's pid, user and time
 *	namespaces; all zero if the exit has not been captured
 */
void ph_record_fill(const struct ph_record *r, struct ph_exit *e)
{
	const struct ph_killer *k;

	memset(e, 0, sizeof(*e));
	/* Acquire: pairs with ph_record_capture(); also orders @flags. */
	if (!smp_load_acquire(&r->captured) || !(r->flags & PH_EXIT_F_VALID))
		return;
	e->exit_time = timens_add_boottime_ns(r->exit_time);
	e->utime_ns = r->utime;
	e->stime_ns = r->stime;
	e->maxrss_kb = r->maxrss_kb;
	e->exit_flags = r->flags;
	if (!(r->flags & PH_EXIT_F_KILLER))
		return;
	k = &r->slot[r->killer];
	e->kill_code = k->code;
	if (k->pid) {
		e->killer_pid = pid_nr_ns(k->pid, task_active_pid_ns(current));
		e->killer_uid = from_kuid_munged(current_user_ns(), k->uid);
	}
}

static void ph_record_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "signal_generate"))
		ph_tp_signal = tp;
}

/**
 * ph_record_init() - Set up records and attach to signal_generate.
 *
 * Without the tracepoint (a kernel built without it), records carry no
 * killer: PH_EXIT_F_KILLER is never set.
 *
 * Return: 0 or -ENOMEM.
 */
int __init ph_record_init(void)
{
	int err;

	/* The probe's prototype is the tracepoint's on this kernel. */
	check_trace_callback_type_signal_generate(ph_record_signal);

	ph_record_cache = KMEM_CACHE(ph_record, SLAB_ACCOUNT);
	if (!ph_record_cache)
		return -ENOMEM;
	for_each_kernel_tracepoint(ph_record_find_tp, NULL);
	if (ph_tp_signal) {
		err = tracepoint_probe_register(ph_tp_signal, ph_record_signal,
						NULL);
		if (err) {
			pr_warn("signal_generate: cannot attach (%d): no killer in exit records\n",
				err);
			ph_tp_signal = NULL;
		}
	} else {
		pr_notice("no signal_generate tracepoint: no killer in exit records\n");
	}
	return 0;
}

/* Every file is closed and every record is freed or being freed. */
void ph_record_teardown(void)
{
	if (ph_tp_signal) {
		tracepoint_probe_unregister(ph_tp_signal, ph_record_signal, NULL);
		tracepoint_synchronize_unregister();
	}
	rcu_barrier();		/* ph_record_free_rcu() */
	kmem_cache_destroy(ph_record_cache);
}
