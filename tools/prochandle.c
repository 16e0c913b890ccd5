// SPDX-License-Identifier: GPL-2.0-only
/*
 * prochandle: wait for, signal, watch and describe processes through
 * /dev/prochandle handles, so that no signal or wait reaches a process
 * that merely reused a number.  This file: the usage text and main's
 * command table; one command per .c file, shared helpers in cli.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <string.h>

#include "cli.h"

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
