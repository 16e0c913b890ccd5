// SPDX-License-Identifier: GPL-2.0-only
/*
 * prochandle info: a process's state, start time and, once it exited, its
 * exit record, as text or JSON.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "record.h"

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

int cmd_info(int argc, char **argv)
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
