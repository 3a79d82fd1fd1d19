// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm-bench: the floor, the least a VMM can do to run the probe guest.
 *
 * A VM made here with /dev/kvm: kvm_open() (KVM_CREATE_VM), one memslot
 * over a RAM region of this process, the guest loaded by
 * boot_load_kernel() and put in its entry state by x86_setup_vcpu() (the
 * same code flatvm uses, so the guest starts identically), one
 * KVM_IOEVENTFD on the test device's NOTIFY register, as the test device
 * registers it, and nothing else: no devices, no address-space dispatch,
 * no RCU, no threads.  With @irqchip it also gets flatvm's kernel-side
 * configuration (KVM_SET_TSS_ADDR, in-kernel irqchip and PIT).
 *
 * bench_floor_run() is KVM_RUN and a switch on the exit reason: port and
 * MMIO reads get a constant (all ones, as unassigned addresses read, so
 * the guest finds neither a test device nor a busy UART), writes are
 * dropped.  It ends at the probe's last port write, PROBE_EXIT_PORT (one
 * compare on the port-write path: with an in-kernel irqchip the HLT after
 * it never leaves KVM), or at a HLT exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "flatvm/layout.h"
#include "flatvm/rcu.h"
#include "flatvm/testdev-regs.h"

#include "bench.h"
#include "probe.h"

#define FLOOR_FILL	0xff

void bench_floor_destroy(struct bench_floor *f)
{
	if (!f)
		return;
	if (f->vcpu_ready)
		vcpu_destroy(&f->vcpu);
	if (f->kvm_open)
		kvm_close(&f->kvm);
	if (f->notify_fd >= 0)
		close(f->notify_fd);
	if (f->as_ready)
		address_space_destroy(&f->as);
	memory_region_unref(f->ram);
	memory_region_unref(f->sysmem);
	free(f);
}

struct bench_floor *bench_floor_create(const char *kernel, const char *cmdline,
				       uint64_t mem_size, bool irqchip,
				       struct error *err)
{
	struct kvm_userspace_memory_region slot;
	struct kvm_ioeventfd ioev;
	struct boot_config bc;
	struct bench_floor *f;
	int khz;

	f = calloc(1, sizeof(*f));
	if (!f) {
		error_setf(err, ENOMEM, "out of memory");
		return NULL;
	}
	f->notify_fd = -1;
	f->sysmem = memory_region_new(NULL, "floor-system", UINT64_MAX, err);
	if (!f->sysmem)
		goto err;
	f->ram = memory_region_new_ram(NULL, "floor-ram", mem_size, err);
	if (!f->ram ||
	    memory_region_add_subregion(f->sysmem, 0, f->ram, err) ||
	    address_space_init(&f->as, f->sysmem, "floor-memory", err))
		goto err;
	f->as_ready = true;

	if (kvm_open(&f->kvm, err))
		goto err;
	f->kvm_open = true;
	slot = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)memory_region_get_ram_ptr(f->ram),
	};
	if (ioctl(f->kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &slot)) {
		error_setf(err, errno, "KVM_SET_USER_MEMORY_REGION: %s",
			   strerror(errno));
		goto err;
	}
	/* As the test device asks for it: any value, 4 bytes, MMIO. */
	f->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->notify_fd < 0) {
		error_setf(err, errno, "eventfd: %s", strerror(errno));
		goto err;
	}
	ioev = (struct kvm_ioeventfd){
		.addr = LAYOUT_TESTDEV_MMIO + TESTDEV_NOTIFY,
		.len = 4,
		.fd = f->notify_fd,
	};
	if (ioctl(f->kvm.vm_fd, KVM_IOEVENTFD, &ioev)) {
		error_setf(err, errno, "KVM_IOEVENTFD: %s", strerror(errno));
		goto err;
	}
	/* As machine_kvm_init() does it. */
	if (irqchip) {
		ioctl(f->kvm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
		if (kvm_create_irqchip(&f->kvm, err))
			goto err;
	}

	bc = (struct boot_config){
		.kernel = kernel,
		.cmdline = cmdline,
		.mem = &f->as,
		.ram_size = mem_size,
		.ncpus = 1,
	};
	if (boot_load_kernel(&bc, &f->boot, err))
		goto err;
	if (vcpu_create(&f->kvm, &f->vcpu, 0, err))
		goto err;
	f->vcpu_ready = true;
	if (x86_setup_vcpu(&f->vcpu, &f->boot, &f->as, err))
		goto err;
	khz = ioctl(f->vcpu.fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0) {
		error_setf(err, errno, "KVM_GET_TSC_KHZ: %s", strerror(errno));
		goto err;
	}
	f->tsc_khz = (uint32_t)khz;
	return f;

err:
	bench_floor_destroy(f);
	return NULL;
}

int bench_floor_run(struct bench_floor *f, struct error *err)
{
	struct kvm_run *run = f->vcpu.run;
	int fd = f->vcpu.fd;

	for (;;) {
		if (ioctl(fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return error_setf(err, errno, "KVM_RUN: %s",
					  strerror(errno));
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_IN)
				memset((uint8_t *)run + run->io.data_offset,
				       FLOOR_FILL,
				       (size_t)run->io.size * run->io.count);
			else if (run->io.port == PROBE_EXIT_PORT)
				return 0;
			break;
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, FLOOR_FILL,
				       sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT:
			return 0;
		case KVM_EXIT_INTERNAL_ERROR:
			return error_setf(err, EIO,
					  "KVM internal error, suberror %u",
					  run->internal.suberror);
		default:
			return error_setf(err, EIO,
					  "unexpected KVM exit reason %u",
					  run->exit_reason);
		}
	}
}

/* The host's TSC rate, which the guests run at: KVM_GET_TSC_KHZ. */
int bench_tsc_khz(uint32_t *khz, struct error *err)
{
	int kvm, vm = -1, vcpu = -1, ret;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return error_setf(err, errno, "/dev/kvm: %s", strerror(errno));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm >= 0)
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ret = vcpu >= 0 ? ioctl(vcpu, KVM_GET_TSC_KHZ, 0) : -1;
	if (ret <= 0)
		ret = error_setf(err, errno ? errno : EINVAL,
				 "cannot read the TSC rate (KVM_GET_TSC_KHZ): %s",
				 strerror(errno ? errno : EINVAL));
	else
		*khz = (uint32_t)ret;
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return ret < 0 ? ret : 0;
}

int bench_floor_run_timed(struct bench_floor *f, uint64_t *ns,
			  struct error *err)
{
	uint64_t t0;
	int ret;

	rcu_thread_offline();
	t0 = bench_now_ns();
	ret = bench_floor_run(f, err);
	*ns = bench_now_ns() - t0;
	rcu_thread_online();
	return ret;
}
