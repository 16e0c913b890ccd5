// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exit record (struct ph_exit) for people and for scripts: in words
 * after a process's status ("killed by SIGKILL from pid 17 (uid 0), OOM
 * killer; 2.31 s CPU, 512 MiB peak, ran 10.2 s") and as a JSON object.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "record.h"

/* Append to @buf (of @len, holding @*used bytes) like snprintf. */
static void __attribute__((format(printf, 4, 5)))
add(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}

/* The per-signal si_codes of the fatal signals, as <signal.h> names them. */
static const char *const segv_codes[] = {
	"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR",
	"SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR",
	"SEGV_MTESERR", "SEGV_CPERR",
};
static const char *const bus_codes[] = {
	"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR",
	"BUS_MCEERR_AO",
};
static const char *const ill_codes[] = {
	"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
	"ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK",
	"ILL_BADIADDR",
};
static const char *const fpe_codes[] = {
	"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
	"FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB",
	"FPE_DECOVF", "FPE_DECDIV", "FPE_DECERR", "FPE_INVASC",
	"FPE_INVDEC", "FPE_FLTUNK", "FPE_CONDTRAP",
};
static const char *const trap_codes[] = {
	"TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT",
	"TRAP_UNK", "TRAP_PERF",
};
static const char *const poll_codes[] = {
	"POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP",
};

#define CODES(a) { (a), sizeof(a) / sizeof((a)[0]) }

const char *si_code_name(int sig, int code, char *buf, size_t len)
{
	static const struct { int code; const char *name; } generic[] = {
		{ 0, "SI_USER" }, { 0x80, "SI_KERNEL" }, { -1, "SI_QUEUE" },
		{ -2, "SI_TIMER" }, { -3, "SI_MESGQ" }, { -4, "SI_ASYNCIO" },
		{ -5, "SI_SIGIO" }, { -6, "SI_TKILL" }, { -7, "SI_DETHREAD" },
		{ -8, "SI_ASYNCNL" },
	};
	struct { const char *const *names; size_t n; } set = { NULL, 0 };
	size_t i;

	for (i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
		if (generic[i].code == code)
			return generic[i].name;
	switch (sig) {
	case SIGSEGV:
		set = (typeof(set))CODES(segv_codes);
		break;
	case SIGBUS:
		set = (typeof(set))CODES(bus_codes);
		break;
	case SIGILL:
		set = (typeof(set))CODES(ill_codes);
		break;
	case SIGFPE:
		set = (typeof(set))CODES(fpe_codes);
		break;
	case SIGTRAP:
		set = (typeof(set))CODES(trap_codes);
		break;
	case SIGIO:
		set = (typeof(set))CODES(poll_codes);
		break;
	case SIGSYS:
		if (code == 1)
			return "SYS_SECCOMP";
		break;
	}
	if (code > 0 && (size_t)code <= set.n)
		return set.names[code - 1];
	snprintf(buf, len, "si_code %d", code);
	return buf;
}

/* "2.31 s", "10.2 s", "1234 s": seconds with three significant digits. */
static void add_seconds(char *buf, size_t len, size_t *used, __u64 ns)
{
	double s = (double)ns / 1e9;

	if (s < 10)
		add(buf, len, used, "%.2f s", s);
	else if (s < 100)
		add(buf, len, used, "%.1f s", s);
	else
		add(buf, len, used, "%.0f s", s);
}

/* "812 KiB", "512 MiB", "1.5 GiB". */
static void add_kib(char *buf, size_t len, size_t *used, __u64 kib)
{
	if (kib < 1024)
		add(buf, len, used, "%llu KiB", (unsigned long long)kib);
	else if (kib < 10 * 1024)
		add(buf, len, used, "%.1f MiB", (double)kib / 1024);
	else if (kib < 1024 * 1024)
		add(buf, len, used, "%llu MiB", (unsigned long long)(kib / 1024));
	else
		add(buf, len, used, "%.1f GiB", (double)kib / (1024 * 1024));
}

/* Sent by a process: the si_codes for which killer_pid/_uid mean something. */
static int from_process(int code)
{
	return code == SI_USER || code == SI_QUEUE || code == SI_TKILL;
}

void describe_exit(int status, const struct ph_exit *e, __u64 start_time,
		   char *buf, size_t len)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	size_t used = 0;
	char name[32];

	buf[0] = '\0';
	if (!(e->exit_flags & PH_EXIT_F_VALID))
		return;
	if (e->exit_flags & PH_EXIT_F_KILLER) {
		if (!from_process(e->kill_code))
			add(buf, len, &used, " (%s)",
			    si_code_name(sig, e->kill_code, name, sizeof(name)));
		else if (e->killer_pid)
			add(buf, len, &used, " from pid %d (uid %u)",
			    e->killer_pid, e->killer_uid);
		else
			add(buf, len, &used,
			    " from a process outside this pid namespace (uid %u)",
			    e->killer_uid);
	}
	if (e->exit_flags & PH_EXIT_F_OOM)
		add(buf, len, &used, ", OOM killer");
	add(buf, len, &used, "; ");
	add_seconds(buf, len, &used, e->utime_ns + e->stime_ns);
	add(buf, len, &used, " CPU, ");
	add_kib(buf, len, &used, e->maxrss_kb);
	add(buf, len, &used, " peak");
	if (start_time && e->exit_time >= start_time) {
		add(buf, len, &used, ", ran ");
		add_seconds(buf, len, &used, e->exit_time - start_time);
	}
}

void json_exit(int status, const struct ph_exit *e, __u64 start_time)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	char name[32];

	if (!(e->exit_flags & PH_EXIT_F_VALID)) {
		fputs("null", stdout);
		return;
	}
	printf("{\"exit_time_ns\":%llu,\"run_ns\":",
		(unsigned long long)e->exit_time);
	if (start_time && e->exit_time >= start_time)
		printf("%llu", (unsigned long long)(e->exit_time - start_time));
	else
		fputs("null", stdout);
	printf(",\"utime_ns\":%llu,\"stime_ns\":%llu,\"maxrss_kb\":%llu",
		(unsigned long long)e->utime_ns, (unsigned long long)e->stime_ns,
		(unsigned long long)e->maxrss_kb);
	printf(",\"oom\":%s,\"core_dumped\":%s,\"killer\":",
		e->exit_flags & PH_EXIT_F_OOM ? "true" : "false",
		e->exit_flags & PH_EXIT_F_CORE ? "true" : "false");
	if (!(e->exit_flags & PH_EXIT_F_KILLER)) {
		fputs("null}", stdout);
		return;
	}
	printf("{\"si_code\":%d,\"si_code_name\":\"%s\",\"pid\":",
		e->kill_code, si_code_name(sig, e->kill_code, name, sizeof(name)));
	if (from_process(e->kill_code))
		printf("%d,\"uid\":%u}}", e->killer_pid, e->killer_uid);
	else
		fputs("null,\"uid\":null}}", stdout);
}

void print_end(const char *name, int status, const struct ph_exit *e,
	       __u64 start_time, int verbose, int json)
{
	char st[64], rec[256];

	describe_status(status, st, sizeof(st));
	if (json) {
		printf("{\"process\":");
		json_string(name);
		printf(",\"status\":\"%s\",\"wait_status\":%d,\"exit\":",
		       st, status);
		json_exit(status, e, start_time);
		printf("}\n");
	} else {
		rec[0] = '\0';
		if (verbose)
			describe_exit(status, e, start_time, rec, sizeof(rec));
		printf("%s: %s%s\n", name, st, rec);
	}
	fflush(stdout);
}

void print_info_record(int status, const struct ph_exit *e, __u64 start_time)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	char name[32];

	if (!(e->exit_flags & PH_EXIT_F_VALID))
		return;
	printf("exit_time:   %llu.%09llu s after boot",
	       (unsigned long long)(e->exit_time / 1000000000ULL),
	       (unsigned long long)(e->exit_time % 1000000000ULL));
	if (start_time && e->exit_time >= start_time)
		printf(" (ran %.3f s)", (double)(e->exit_time - start_time) / 1e9);
	printf("\ncpu:         %.3f s user, %.3f s system\n",
	       (double)e->utime_ns / 1e9, (double)e->stime_ns / 1e9);
	printf("peak_rss:    %llu KiB\n", (unsigned long long)e->maxrss_kb);
	if (e->exit_flags & PH_EXIT_F_KILLER) {
		printf("killer:      %s", si_code_name(sig, e->kill_code, name,
						       sizeof(name)));
		if (from_process(e->kill_code))
			printf(", pid %d, uid %u", e->killer_pid, e->killer_uid);
		printf("\n");
	} else if (sig) {
		printf("killer:      unknown\n");
	}
	if (e->exit_flags & PH_EXIT_F_OOM)
		printf("oom:         chosen by the OOM killer\n");
}
