// SPDX-License-Identifier: GPL-2.0-only
/*
 * prochandle: wait for, signal, watch and describe processes through
 * /dev/prochandle handles, so that no signal or wait reaches a process
 * that merely reused a number.  This file: the commands wait, watch, kill
 * and info, and main's command table; shared helpers are in cli.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "record.h"
#include "tree.h"

#ifndef PROCHANDLE_VERSION
#define PROCHANDLE_VERSION "unknown"
#endif

void usage(FILE *f)
{
	fprintf(f,
"Usage: prochandle COMMAND [OPTION]... PID...\n"
"Wait for, signal, watch and describe processes through handles: once a\n"
"process is acquired, every signal and wait of the command goes to it and\n"
"never to another process that later gets its number.\n"
"\n"
"A process is given as PID or PID@START:\n"
"  PID         whoever has that number when prochandle acquires it. If the\n"
"              process you meant has already ended and the number was\n"
"              reused, that is the newcomer: a bare PID gives no protection\n"
"              before the acquire, only after it.\n"
"  PID@START   only the process with that number that started START clock\n"
"              ticks after boot (field 22 of /proc/PID/stat; 'info' prints\n"
"              it as 'identity'). Refused with 'no such process' when the\n"
"              number now names another process, so it stays safe to use\n"
"              from one command to the next.\n"
"\n"
"Commands:\n"
"  wait [-t DUR] [-a] [-q] [-v] [-j] [-T] PID...\n"
"                              wait until the processes end (they need not\n"
"                              be children) and print how each ended:\n"
"                              'PID: exited N' or 'PID: killed by SIGNAME'\n"
"     -t, --timeout DUR        give up after DUR (200ms, 1.5s, 2m, 1h; plain\n"
"                              numbers are seconds)\n"
"     -a, --any                return as soon as the first one ends\n"
"     -q, --quiet              print nothing on success\n"
"     -v, --verbose            also how: CPU time, peak memory, run time,\n"
"                              who sent the fatal signal, OOM killer; and\n"
"                              say on stderr when all PIDs are acquired\n"
"     -j, --json               one JSON object per process (with the above)\n"
"     -T, --tree               also wait for every descendant: those the\n"
"                              processes have now and all they start later,\n"
"                              double-forking daemons included\n"
"  kill [-s SIG | -SIG] [--tree] PID...\n"
"                              send SIG (default TERM) to each process;\n"
"                              SIG is a name (TERM, SIGTERM, RTMIN+1) or a\n"
"                              number; 0 only checks; -l lists the names;\n"
"                              --tree: to every descendant too\n"
"  watch [-t DUR] [-v] [-j] [-T] PID...\n"
"                              print each exit as it happens until all ended;\n"
"                              --tree: every descendant's fork, exec and exit\n"
"  info [--json] PID...        print identity, state, start time, status and\n"
"                              name, and how an exited process ended and\n"
"                              what it used (--json: one JSON object per line)\n"
"  run [-t DUR] [-s SIG] [-k DUR] [-K] [-T] -- COMMAND...\n"
"                              run COMMAND with a deadline kept by the kernel\n"
"                              (a timeout(1); -K: it dies with prochandle;\n"
"                              -T: the whole tree it starts, waited for and\n"
"                              signalled)\n"
"  deadline [-s SIG] [-k DUR] DUR PID...\n"
"                              send SIG at DUR from now unless they ended;\n"
"                              see 'prochandle run --help'\n"
"\n"
"  -h, --help                  show this help\n"
"  -V, --version               show the version\n"
"\n"
"Exit status:\n"
"  wait      the exit code of the last PID given (of the first to end with\n"
"            --any), 128+N when it was killed by signal N, like sh's wait\n"
"  others    0 on success\n"
"  124       --timeout passed before the processes ended\n"
"  125       usage error, module not loaded, or another failure of prochandle\n"
"  126       a PID could not be acquired or signalled: not permitted\n"
"  127       a PID could not be acquired: no such process\n"
"  When a PID fails (126, 127) the others are still handled, and the exit\n"
"  status is that of the last PID that failed.\n"
"\n"
"Errors are one line each: 'prochandle: PID: reason'.\n"
"See prochandle(1).\n");
}

/* ---- wait and watch ---------------------------------------------------- */

struct wait_opts {
	int watch;		/* watch: exit 0 once all ended */
	int any, quiet, verbose, has_timeout;
	int json;		/* --json */
	int v2;			/* events read in format V2 (exit records) */
	int tree;		/* --tree */
	uint64_t deadline;	/* now_ns() when the timeout passes */
};

/* One operand being waited for. */
struct waited {
	struct target t;
	__u64 handle;
	int acquired, done, status;
	__u64 start_time;	/* CLOCK_BOOTTIME ns, from INFO */
};

/* The state of one wait/watch run. */
struct waitset {
	struct waited *w;
	int n;
	int *by_handle;		/* indices of acquired operands, by handle id */
	int acquired, remaining;
	int first;		/* the first operand to end, -1 before */
	int fail;		/* exit code of the last operand that failed */
};

static int parse_wait_opts(int argc, char **argv, struct wait_opts *o)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "any", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "tree", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t timeout = 0;
	int c;

	while ((c = getopt_long(argc, argv, o->watch ? "+t:vjTh" : "+t:aqvjTh",
				opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_duration(optarg, &timeout))
				return usage_error("'%s': not a duration (e.g. 200ms, 1.5s, 2m)",
						   optarg);
			o->has_timeout = 1;
			break;
		case 'a':
			o->any = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'T':
			o->tree = 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return usage_error("bad option");
		}
	}
	if (o->has_timeout)
		o->deadline = now_ns() + timeout;
	if (o->tree && o->any)
		return usage_error("--any and --tree: wait for one tree at a time");
	return 0;
}

static struct waitset *sort_ctx;

static int cmp_handle(const void *a, const void *b)
{
	__u64 x = sort_ctx->w[*(const int *)a].handle;
	__u64 y = sort_ctx->w[*(const int *)b].handle;

	return x < y ? -1 : x > y;
}

static int find_waited(const struct waitset *s, __u64 handle)
{
	int lo = 0, hi = s->acquired - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		__u64 h = s->w[s->by_handle[mid]].handle;

		if (h == handle)
			return s->by_handle[mid];
		if (h < handle)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Acquire every operand; 0, or an exit code when none could be. */
static int acquire_all(int fd, struct waitset *s)
{
	int i, ret;

	for (i = 0; i < s->n; i++) {
		struct waited *w = &s->w[i];

		ret = acquire_target(fd, &w->t, &w->handle);
		if (ret) {
			s->fail = target_error(&w->t, ret);
			if (s->fail == EX_FAILURE)
				return EX_FAILURE;
			continue;
		}
		w->acquired = 1;
		s->by_handle[s->acquired++] = i;
	}
	if (!s->acquired)
		return s->fail;
	sort_ctx = s;
	qsort(s->by_handle, (size_t)s->acquired, sizeof(int), cmp_handle);
	return 0;
}

/* Operand @i ended with @status: record it and print it if due. */
static void ended(struct waitset *s, const struct wait_opts *o, int i,
		  int status, const struct ph_exit *e)
{
	struct waited *w = &s->w[i];

	w->done = 1;
	w->status = status;
	if ((s->first < 0 || !o->any) && !o->quiet)
		print_end(w->t.name, status, e, w->start_time, o->verbose, o->json);
	if (s->first < 0)
		s->first = i;
}

/* Those already exited (zombies) are reported now, in argument order. */
static void report_exited(int fd, struct waitset *s, const struct wait_opts *o)
{
	struct ph_info info;
	int i;

	for (i = 0; i < s->n; i++) {
		if (!s->w[i].acquired)
			continue;
		if (ph_info2(fd, s->w[i].handle, &info, sizeof(info)) == 0) {
			s->w[i].start_time = info.start_time;
			if (info.state != PH_STATE_RUNNING) {
				ended(s, o, i, info.status, &info.exit);
				continue;
			}
		}
		s->remaining++;
	}
}

struct drain_ctx {
	struct waitset *s;
	const struct wait_opts *o;
};

/* An event_fn: an operand's exit ends it; with --any, the first stops. */
static int waited_event(const struct ph_event2 *e, void *arg)
{
	const struct drain_ctx *c = arg;
	int k = find_waited(c->s, e->handle);

	if (k >= 0 && !c->s->w[k].done) {
		c->s->remaining--;
		ended(c->s, c->o, k, e->status, &e->exit);
	}
	return c->o->any && c->s->first >= 0;
}

/* Read every queued event; 0 or an exit code. */
static int drain_events(int fd, struct waitset *s, const struct wait_opts *o)
{
	struct drain_ctx c = { .s = s, .o = o };

	return read_each_event(fd, o->v2, waited_event, &c) < 0 ? EX_FAILURE : 0;
}

/* Poll the table until every operand (or, with --any, one) has ended. */
static int event_loop(int fd, struct waitset *s, const struct wait_opts *o)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	uint64_t now, left;
	int i, r;

	while (s->remaining && !(o->any && s->first >= 0)) {
		if (o->has_timeout) {
			now = now_ns();
			left = now < o->deadline ? o->deadline - now : 0;
			ts.tv_sec = (time_t)(left / 1000000000ULL);
			ts.tv_nsec = (long)(left % 1000000000ULL);
			tsp = &ts;
		}
		r = ppoll(&pfd, 1, tsp, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			msg("poll: %s", strerror(errno));
			return EX_FAILURE;
		}
		if (r == 0) {
			for (i = 0; i < s->n; i++)
				if (s->w[i].acquired && !s->w[i].done)
					msg("%s: still running, timed out", s->w[i].t.name);
			return EX_TIMEOUT;
		}
		r = drain_events(fd, s, o);
		if (r)
			return r;
	}
	return 0;
}

/* What wait --tree prints: how each operand ended. */
struct wait_tree_ctx {
	const struct wait_opts *o;
	const struct target *t;
};

static void wait_tree_event(struct tree *tr, const struct tree_node *n,
			    const struct ph_event2 *e, void *arg)
{
	const struct wait_tree_ctx *c = arg;

	(void)tr;
	if (e->type == PH_EVENT_EXIT && n && n->root && !c->o->quiet)
		print_end(c->t[n->root - 1].name, e->status, &e->exit, 0,
			  c->o->verbose, c->o->json);
	if (e->type == PH_EVENT_FORK && (e->flags & PH_EVENT_F_TRACK_LOST))
		msg("%d: a child (%d) could not be tracked: not waited for",
		    e->pid, e->child_pid);
}

/* wait/watch --tree: the operands and every descendant (tree.c). */
static int wait_tree(const struct wait_opts *o, const struct target *t, int n)
{
	struct tree_opts to = { .verbose = o->verbose, .json = o->json };
	struct wait_tree_ctx c = { .o = o, .t = t };
	int i, ret, fail = 0, last = -1, rc;
	struct tree tr;
	__u64 h;

	if (tree_open(&tr, o->watch ? PH_EVENT_EXEC : 0, 0))
		return EX_FAILURE;
	for (i = 0; i < n; i++) {
		ret = tree_acquire(&tr, &t[i], i + 1, &h);
		if (ret)
			fail = target_error(&t[i], ret);
		else
			last = i;
	}
	rc = fail;
	if (last < 0)
		goto out;
	if (o->verbose)
		msg("waiting for %d process%s and what they start", tr.live,
		    tr.live == 1 ? "" : "es");
	if (o->watch)
		rc = tree_wait(&tr, o->deadline, tree_print_event, &to);
	else
		rc = tree_wait(&tr, o->deadline, wait_tree_event, &c);
	if (rc == EX_TIMEOUT)
		msg("%d process%s of the tree still running, timed out",
		    tr.live, tr.live == 1 ? "" : "es");
	if (rc)
		goto out;
	rc = fail;
	if (!rc && !o->watch)
		for (i = 0; i < tr.nn; i++)
			if (tr.n[i].root == n)
				rc = status_exit_code(tr.n[i].status);
out:
	tree_close(&tr);
	return rc;
}

static int wait_or_watch(int watch, int argc, char **argv)
{
	struct wait_opts o = { .watch = watch };
	struct waitset s = { .first = -1 };
	struct target *t = NULL;
	int fd = -1, rc, i;

	rc = parse_wait_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	s.n = parse_targets(argc - optind, argv + optind, &t);
	if (s.n < 0)
		return EX_FAILURE;
	s.w = calloc((size_t)s.n, sizeof(*s.w));
	s.by_handle = calloc((size_t)s.n, sizeof(int));
	rc = EX_FAILURE;
	if (!s.w || !s.by_handle) {
		msg("out of memory");
		goto out;
	}
	for (i = 0; i < s.n; i++)
		s.w[i].t = t[i];
	if (o.tree) {
		rc = wait_tree(&o, t, s.n);
		goto out;
	}
	fd = open_device(PH_OPEN_NONBLOCK);
	if (fd < 0)
		goto out;
	/* Exit records for -v and --json (none from a module without them). */
	if ((o.verbose || o.json) && !ph_set_events(fd, PH_EVENTS_V2, 0))
		o.v2 = 1;
	rc = acquire_all(fd, &s);
	if (rc)
		goto out;
	report_exited(fd, &s, &o);
	if (o.verbose)
		msg("waiting for %d process%s", s.remaining,
		    s.remaining == 1 ? "" : "es");
	rc = event_loop(fd, &s, &o);
	if (rc)
		goto out;
	if (s.fail)
		rc = s.fail;
	else if (!watch)
		rc = status_exit_code(s.w[o.any ? s.first : s.n - 1].status);
out:
	/* Closing the table releases every handle. */
	if (fd >= 0)
		ph_close(fd);
	free(s.by_handle);
	free(s.w);
	free(t);
	return rc;
}

static int cmd_wait(int argc, char **argv)
{
	return wait_or_watch(0, argc, argv);
}

static int cmd_watch(int argc, char **argv)
{
	return wait_or_watch(1, argc, argv);
}

/* ---- kill --------------------------------------------------------------- */

static void list_signals(void)
{
	char buf[32];
	int sig;

	for (sig = 1; sig <= SIGRTMAX; sig++) {
		signal_name(sig, buf, sizeof(buf));
		if (strncmp(buf, "SIG", 3))
			continue;
		printf("%2d %s\n", sig, buf + 3);
	}
}

/* kill --tree: every process of the trees, those forked meanwhile too. */
static int kill_tree(int sig, const struct target *t, int n)
{
	int i, ret, fail = 0, rounds;
	struct tree tr;
	__u64 h;

	if (tree_open(&tr, 0, 0))
		return EX_FAILURE;
	for (i = 0; i < n; i++) {
		ret = tree_acquire(&tr, &t[i], i + 1, &h);
		if (ret)
			fail = target_error(&t[i], ret);
	}
	/* Until a round finds no process it has not signalled yet. */
	for (rounds = 0; rounds < 1000; rounds++) {
		if (tree_drain(&tr, NULL, NULL) || !tree_signal(&tr, sig))
			break;
	}
	for (i = 0; i < tr.nn; i++)
		if (tr.n[i].root && tr.n[i].err)
			fail = target_error(&t[tr.n[i].root - 1], tr.n[i].err);
	tree_close(&tr);
	return fail;
}

static int cmd_kill(int argc, char **argv)
{
	int sig = SIGTERM, fail = 0, fd, n, i, tree = 0;
	struct target *t;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "-l") || !strcmp(a, "--list")) {
			list_signals();
			return 0;
		}
		if (!strcmp(a, "-T") || !strcmp(a, "--tree")) {
			tree = 1;
			continue;
		}
		if (!strcmp(a, "-s") || !strcmp(a, "--signal") || !strcmp(a, "-n")) {
			if (++i == argc)
				return usage_error("%s needs a signal", a);
			a = argv[i];
		} else if (!strncmp(a, "--signal=", 9)) {
			a += 9;
		} else {
			a++;
		}
		sig = parse_signal(a);
		if (sig < 0)
			return usage_error("'%s': unknown signal", a);
	}
	n = parse_targets(argc - i, argv + i, &t);
	if (n < 0)
		return EX_FAILURE;
	if (tree) {
		fail = kill_tree(sig, t, n);
		free(t);
		return fail;
	}
	fd = open_device(0);
	if (fd < 0) {
		free(t);
		return EX_FAILURE;
	}
	for (i = 0; i < n; i++) {
		__u64 h;
		int ret = acquire_target(fd, &t[i], &h);

		if (!ret) {
			ret = ph_signal(fd, h, sig);
			ph_release(fd, h);
		}
		if (ret) {
			fail = target_error(&t[i], ret);
			if (fail == EX_FAILURE)
				break;
		}
	}
	ph_close(fd);
	free(t);
	return fail;
}

/* ---- info ------------------------------------------------------------- */

static const char *state_name(__u32 state)
{
	switch (state) {
	case PH_STATE_RUNNING:
		return "running";
	case PH_STATE_EXITED:
		return "exited";
	case PH_STATE_DONE:
		return "done";
	}
	return "unknown";
}

/*
 * /proc/PID/comm of the handle's process, empty when unreadable or when
 * the number no longer names it (its start time differs).
 */
static void read_comm(pid_t pid, __u64 ticks, char *buf, size_t len)
{
	char path[64];
	__u64 again;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	else
		buf[0] = '\0';
	fclose(f);
	if (ph_start_ticks(pid, &again) || again != ticks)
		buf[0] = '\0';
}

void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_info(const struct ph_info *info, const char *comm,
		       int json, int first)
{
	unsigned long long ns = info->start_time, ticks = info_start_ticks(info);
	char status[64];

	if (info->state == PH_STATE_RUNNING)
		snprintf(status, sizeof(status), "-");
	else
		describe_status(info->status, status, sizeof(status));
	if (json) {
		printf("{\"pid\":%d,\"identity\":\"%d@%llu\",\"name\":",
		       info->pid, info->pid, ticks);
		if (comm[0])
			json_string(comm);
		else
			printf("null");
		printf(",\"state\":\"%s\",\"status\":", state_name(info->state));
		if (info->state == PH_STATE_RUNNING)
			printf("null,\"wait_status\":null");
		else
			printf("\"%s\",\"wait_status\":%d", status, info->status);
		printf(",\"start_time_ns\":%llu,\"start_ticks\":%llu,\"exit\":",
		       ns, ticks);
		json_exit(info->status, &info->exit, info->start_time);
		printf("}\n");
		return;
	}
	printf("%spid:         %d\n", first ? "" : "\n", info->pid);
	printf("identity:    %d@%llu\n", info->pid, ticks);
	printf("name:        %s\n", comm[0] ? comm : "-");
	printf("state:       %s\n", state_name(info->state));
	printf("status:      %s\n", status);
	printf("start_time:  %llu.%09llu s after boot (%llu ticks)\n",
	       ns / 1000000000ULL, ns % 1000000000ULL, ticks);
	print_info_record(info->status, &info->exit, info->start_time);
}

static int cmd_info(int argc, char **argv)
{
	int fail = 0, json = 0, fd, n, i;
	struct target *t;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
			continue;
		}
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		return usage_error("'%s': unknown option", argv[i]);
	}
	n = parse_targets(argc - i, argv + i, &t);
	if (n < 0)
		return EX_FAILURE;
	fd = open_device(0);
	if (fd < 0) {
		free(t);
		return EX_FAILURE;
	}
	for (i = 0; i < n; i++) {
		struct ph_info info;
		char comm[64];
		__u64 h;
		int ret = acquire_target(fd, &t[i], &h);

		if (!ret) {
			ret = ph_info2(fd, h, &info, sizeof(info));
			ph_release(fd, h);
		}
		if (ret) {
			fail = target_error(&t[i], ret);
			if (fail == EX_FAILURE)
				break;
			continue;
		}
		read_comm(t[i].pid, info_start_ticks(&info), comm, sizeof(comm));
		print_info(&info, comm, json, i == 0);
	}
	ph_close(fd);
	free(t);
	return fail;
}

/* ---- main --------------------------------------------------------------- */

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the command */
} commands[] = {
	{ "wait", cmd_wait },
	{ "watch", cmd_watch },
	{ "kill", cmd_kill },
	{ "info", cmd_info },
	{ "run", cmd_run },
	{ "deadline", cmd_deadline },
};

int main(int argc, char **argv)
{
	const char *cmd;
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EX_FAILURE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("prochandle %s\n", PROCHANDLE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return usage_error("'%s': unknown command", cmd);
}
