// SPDX-License-Identifier: GPL-2.0
/*
 * A fake KVM for testing guest/accel.sh on machines without one: preloaded
 * into guest/kvm-probe (PH_KVM_PROBE_PRELOAD), it answers the probe's
 * ioctls and mmaps on the device named by $PH_FAKE_KVM_DEV (any regular
 * file) and on every descriptor derived from it.  $PH_FAKE_KVM says how
 * KVM_RUN behaves:
 *
 *   ok       decodes "mov al, imm8; out imm8, al" from guest memory and
 *            reports the port write, as a working KVM does
 *   hang     never returns (a KVM that exists but does not run guests)
 *   spin     never returns, burning CPU as QEMU did on such a machine
 *   other    returns with KVM_EXIT_HLT instead of the port write
 *
 * Everything else passes through to libc.  Used by guest/test-accel.sh.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint8_t *guest_mem;
static struct kvm_run *vcpu_run;

static int is_fake(int fd)
{
	const char *dev = getenv("PH_FAKE_KVM_DEV");
	char link[64], path[4096];
	ssize_t n;

	if (!dev || fd < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strcmp(path, dev) == 0;
}

static int fake_run(void)
{
	const char *mode = getenv("PH_FAKE_KVM");
	uint8_t *data;

	if (!mode || !strcmp(mode, "hang")) {
		for (;;)
			pause();
	}
	if (!strcmp(mode, "spin")) {
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	if (!vcpu_run) {
		errno = EINVAL;
		return -1;
	}
	if (strcmp(mode, "ok") || !guest_mem ||
	    guest_mem[0] != 0xb0 || guest_mem[2] != 0xe6) {
		vcpu_run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	vcpu_run->exit_reason = KVM_EXIT_IO;
	vcpu_run->io.direction = KVM_EXIT_IO_OUT;
	vcpu_run->io.port = guest_mem[3];
	vcpu_run->io.size = 1;
	vcpu_run->io.count = 1;
	vcpu_run->io.data_offset = 1024;
	data = (uint8_t *)vcpu_run + vcpu_run->io.data_offset;
	*data = guest_mem[1];
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, ...);
	struct kvm_userspace_memory_region *region;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!is_fake(fd)) {
		if (!real)
			real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
		return real(fd, req, arg);
	}
	switch (req) {
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CREATE_VM:
	case KVM_CREATE_VCPU:
		return dup(fd);
	case KVM_GET_VCPU_MMAP_SIZE:
		return 4096;
	case KVM_SET_USER_MEMORY_REGION:
		region = arg;
		/* The probe's own buffer, handed over as a __u64. */
		guest_mem = (uint8_t *)(uintptr_t)region->userspace_addr; // NOLINT(performance-no-int-to-ptr)
		return 0;
	case KVM_GET_SREGS:
		memset(arg, 0, sizeof(struct kvm_sregs));
		return 0;
	case KVM_SET_SREGS:
	case KVM_SET_REGS:
		return 0;
	case KVM_RUN:
		return fake_run();
	}
	errno = ENOTTY;
	return -1;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static void *(*real)(void *, size_t, int, int, int, off_t);

	if (!real)
		real = (void *(*)(void *, size_t, int, int, int, off_t))
			dlsym(RTLD_NEXT, "mmap");
	if (!is_fake(fd))
		return real(addr, len, prot, flags, fd, off);
	vcpu_run = real(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return vcpu_run;
}
