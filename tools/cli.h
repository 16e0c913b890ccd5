/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the prochandle commands share: messages and exit codes, parsing of
 * durations, signals and process operands (PID or PID@START), acquiring
 * an operand, describing a wait status, and reading events.  One command
 * per .c file (wait.c holds wait and watch, run.c run and deadline;
 * prochandle.c holds the usage text and main's command table).
 */
#ifndef PROCHANDLE_CLI_H
#define PROCHANDLE_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <prochandle.h>

/* Exit codes of prochandle itself; keep in sync with usage() and man/. */
#define EX_TIMEOUT	124	/* --timeout passed first */
#define EX_FAILURE	125	/* usage error, module missing, other failure */
#define EX_NOPERM	126	/* an operand: not permitted */
#define EX_NOPROC	127	/* an operand: no such process (or not a process) */

extern const char *prog;

void usage(FILE *f);
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int parse_duration(const char *s, uint64_t *ns);
int parse_number(const char *s, long min, long max, long *out);
int parse_signal(const char *s);
const char *signal_name(int sig, char *buf, size_t len);
void describe_status(int status, char *buf, size_t len);
int status_exit_code(int status);
uint64_t now_ns(void);
uint64_t boottime_ns(void);

/*
 * A process operand.  "PID" names whoever has the number when it is
 * acquired; "PID@START" names only the process with that number that
 * started START clock ticks after boot (field 22 of /proc/PID/stat), and
 * is refused with ESRCH when the number now names another process.
 */
struct target {
	pid_t pid;
	int pinned;		/* PID@START given */
	__u64 ticks;		/* START, when pinned */
	char name[48];		/* as printed in messages: "PID" or "PID@START" */
};

int parse_target(const char *s, struct target *t);
/* Parses argv[0..argc-1]; returns the count (>= 1) or -1 after a message. */
int parse_targets(int argc, char **argv, struct target **out);
int acquire_target(int fd, const struct target *t, __u64 *handle);
/* Reports @err about @t on stderr; returns the exit code it stands for. */
int target_error(const struct target *t, int err);

/* The start time of INFO in clock ticks, as /proc/PID/stat field 22. */
__u64 info_start_ticks(const struct ph_info *info);

/* @s as a JSON string on stdout (quotes and control characters escaped). */
void json_string(const char *s);

/* ph_open() with a one-line message on failure. */
int open_device(unsigned int flags);

/*
 * Called with each record read_each_event() reads; non-zero asks it to
 * stop after the records of the batch it read (those are read already).
 */
typedef int (*event_fn)(const struct ph_event2 *e, void *arg);
/*
 * Read the queued events of @fd (opened O_NONBLOCK) until none is left,
 * calling @fn on each: V2 records, or with @v2 0 V1 records widened to V2
 * (no exit record).  Returns 0 (none left, or @fn asked to stop), or a
 * negative errno after "reading events: ..." on stderr.
 */
int read_each_event(int fd, int v2, event_fn fn, void *arg);

/* The commands; argv[0] is the command's name. */
int cmd_wait(int argc, char **argv);	/* wait.c */
int cmd_watch(int argc, char **argv);	/* wait.c */
int cmd_kill(int argc, char **argv);	/* kill.c */
int cmd_info(int argc, char **argv);	/* info.c */
/* run.c: prochandle run and prochandle deadline (SPEC 11). */
int cmd_run(int argc, char **argv);
int cmd_deadline(int argc, char **argv);

#endif /* PROCHANDLE_CLI_H */
