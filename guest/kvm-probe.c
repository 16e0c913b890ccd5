// SPDX-License-Identifier: GPL-2.0
/*
 * Prove that KVM runs a guest: create a VM with one vCPU in real mode, run
 * "mov al, 0x42; out 0x10, al; hlt" and expect KVM_RUN to come back with
 * that port write.  guest/accel.sh runs this under a hard deadline: a KVM
 * that exists but never runs a guest hangs in KVM_RUN.
 *
 *   kvm-probe [DEVICE]        (default /dev/kvm)
 *
 * Each step is announced on stdout before it is taken, so the last line
 * says where a hang happened.  Exit status 0 and "ok" as the last line when
 * the guest ran; 1 and the reason otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_ADDR	0x1000
#define PROBE_PORT	0x10
#define PROBE_BYTE	0x42

static const uint8_t code[] = {
	0xb0, PROBE_BYTE,	/* mov al, PROBE_BYTE */
	0xe6, PROBE_PORT,	/* out PROBE_PORT, al */
	0xf4,			/* hlt */
};

static int step(const char *what)
{
	printf("%s\n", what);
	return fflush(stdout);
}

static int failed(const char *what)
{
	printf("%s failed: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/kvm";
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	uint8_t *mem, *data;

	step("open");
	kvm = open(dev, O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return failed("open");
	step("KVM_GET_API_VERSION");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return failed("KVM_GET_API_VERSION");
	step("KVM_CREATE_VM");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return failed("KVM_CREATE_VM");

	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return failed("mmap guest memory");
	memcpy(mem, code, sizeof(code));
	region.guest_phys_addr = GUEST_ADDR;
	region.memory_size = 0x1000;
	region.userspace_addr = (uintptr_t)mem;
	step("KVM_SET_USER_MEMORY_REGION");
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return failed("KVM_SET_USER_MEMORY_REGION");

	step("KVM_CREATE_VCPU");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return failed("KVM_CREATE_VCPU");
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(*run))
		return failed("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return failed("mmap kvm_run");

	step("KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return failed("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return failed("KVM_SET_SREGS");
	regs.rip = GUEST_ADDR;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return failed("KVM_SET_REGS");

	step("KVM_RUN");
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return failed("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.port != PROBE_PORT ||
	    run->io.size != 1 || run->io.count != 1) {
		printf("KVM_RUN came back with exit reason %u, not the port write\n",
		       run->exit_reason);
		return 1;
	}
	data = (uint8_t *)run + run->io.data_offset;
	if (*data != PROBE_BYTE) {
		printf("KVM_RUN wrote 0x%02x, not 0x%02x\n", *data, PROBE_BYTE);
		return 1;
	}
	step("ok");
	return 0;
}
