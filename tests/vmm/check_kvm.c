// SPDX-License-Identifier: GPL-2.0-only
/*
 * The KVM backend against a real VM: the memslot listener (add, remove,
 * overlay, resize, read-only ROM) and vCPU exits dispatched through the
 * memory core, with a few bytes of real-mode guest code.
 * Skips (77) with the reason when /dev/kvm is not usable.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness.h"
#include "flatvm/kvm.h"

static struct memory_region sysmem, iospace, ram, rom, mmio, pio;
static struct address_space mem_as, io_as;
static struct kvm kvm;
static uint8_t port_log[16];
static unsigned port_n;

static uint64_t mmio_read(void *opaque, uint64_t addr, unsigned size)
{
	return 0x77 + addr;
}

static void mmio_write(void *opaque, uint64_t addr, uint64_t val,
		       unsigned size)
{
}

static const struct memory_region_ops mmio_ops = {
	.read = mmio_read, .write = mmio_write,
};

static uint64_t pio_read(void *opaque, uint64_t addr, unsigned size)
{
	return 0x5a;
}

static void pio_write(void *opaque, uint64_t addr, uint64_t val,
		      unsigned size)
{
	if (port_n < sizeof(port_log))
		port_log[port_n++] = (uint8_t)val;
}

static const struct memory_region_ops pio_ops = {
	.read = pio_read, .write = pio_write,
};

static void vm_setup(void)
{
	struct error err = { 0 };

	ck_assert_int_eq(memory_region_init(&sysmem, NULL, "system",
					   UINT64_MAX, &err), 0);
	ck_assert_int_eq(memory_region_init(&iospace, NULL, "io", 0x10000,
					   &err), 0);
	ck_assert_int_eq(address_space_init(&mem_as, &sysmem, "memory", &err), 0);
	ck_assert_int_eq(address_space_init(&io_as, &iospace, "io", &err), 0);
	ck_assert_msg(!kvm_open(&kvm, &err), "%s", err.msg);
	ck_assert_int_eq(kvm_attach_memory(&kvm, &mem_as, &io_as, &err), 0);
	ck_assert_int_eq(memory_region_init_ram_resizeable(&ram, NULL, "ram",
							   0x10000, 0x100000,
							   &err), 0);
	ck_assert_int_eq(memory_region_init_rom(&rom, NULL, "rom", 0x1000,
						&err), 0);
	ck_assert_int_eq(memory_region_init_io(&mmio, NULL, &mmio_ops, NULL,
					       "mmio", 0x1000, &err), 0);
	ck_assert_int_eq(memory_region_init_io(&pio, NULL, &pio_ops, NULL,
					       "port", 0x10, &err), 0);
	port_n = 0;
}

static void vm_teardown(void)
{
	kvm_close(&kvm);
	address_space_destroy(&mem_as);
	address_space_destroy(&io_as);
	memory_region_del_subregion(&sysmem, &ram, NULL);
	memory_region_del_subregion(&sysmem, &rom, NULL);
	memory_region_del_subregion(&sysmem, &mmio, NULL);
	memory_region_del_subregion(&iospace, &pio, NULL);
	object_unref(&ram.obj);
	object_unref(&rom.obj);
	object_unref(&mmio.obj);
	object_unref(&pio.obj);
	object_unref(&sysmem.obj);
	object_unref(&iospace.obj);
	rcu_flush();
}

START_TEST(memslots_follow_the_flat_view)
{
	struct error err = { 0 };
	struct kvm_slot s;

	vm_setup();
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0, &ram, &err), 0);
	ck_assert_uint_eq(kvm_slot_count(&kvm), 1);
	ck_assert(kvm_slot_lookup(&kvm, 0x8000, &s));
	ck_assert_uint_eq(s.size, 0x10000);
	ck_assert_uint_eq(s.flags, 0);

	/* An MMIO overlay splits the RAM slot in two. */
	ck_assert_int_eq(memory_region_add_subregion_prio(&sysmem, 0x8000,
							  &mmio, 1, &err), 0);
	ck_assert_uint_eq(kvm_slot_count(&kvm), 2);
	ck_assert(!kvm_slot_lookup(&kvm, 0x8000, &s));
	ck_assert(kvm_slot_lookup(&kvm, 0x9000, &s));
	ck_assert_uint_eq(s.gpa, 0x9000);
	ck_assert_uint_eq(s.hva, (uintptr_t)memory_region_get_ram_ptr(&ram) +
			  0x9000);

	/* Removing it merges them back. */
	ck_assert_int_eq(memory_region_del_subregion(&sysmem, &mmio, &err), 0);
	ck_assert_uint_eq(kvm_slot_count(&kvm), 1);

	/* ROM is a read-only slot. */
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0x100000, &rom,
						     &err), 0);
	ck_assert(kvm_slot_lookup(&kvm, 0x100000, &s));
	ck_assert_uint_eq(s.flags, KVM_MEM_READONLY);

	/* Resize grows the slot; removal drops it. */
	ck_assert_int_eq(memory_region_ram_resize(&ram, 0x20000, &err), 0);
	ck_assert(kvm_slot_lookup(&kvm, 0x1f000, &s));
	ck_assert_uint_eq(s.size, 0x20000);
	ck_assert_int_eq(memory_region_del_subregion(&sysmem, &ram, &err), 0);
	ck_assert(!kvm_slot_lookup(&kvm, 0, &s));
	ck_assert_uint_eq(kvm_slot_count(&kvm), 1);
	vm_teardown();
}
END_TEST

/*
 * Real mode, CS = 0, code at 0x1000:
 *   mov al, [0x2000]     ; RAM: no exit
 *   out 0x10, al
 *   mov al, [0x8004]     ; MMIO: exit, handler returns 0x7b
 *   out 0x10, al
 *   mov byte [0xc000], 0x55  ; ROM write: exits, dropped
 *   mov al, [0xc000]
 *   out 0x10, al
 *   in al, 0x10          ; PIO read: 0x5a
 *   out 0x10, al
 *   hlt
 */
static const uint8_t guest_code[] = {
	0xa0, 0x00, 0x20,
	0xe6, 0x10,
	0xa0, 0x04, 0x80,
	0xe6, 0x10,
	0xc6, 0x06, 0x00, 0xc0, 0x55,
	0xa0, 0x00, 0xc0,
	0xe6, 0x10,
	0xe4, 0x10,
	0xe6, 0x10,
	0xf4,
};

START_TEST(real_mode_guest_exits_dispatch)
{
	struct error err = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct vcpu vcpu;
	uint8_t *host;

	vm_setup();
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0, &ram, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion_prio(&sysmem, 0x8000,
							  &mmio, 1, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion_prio(&sysmem, 0xc000,
							  &rom, 1, &err), 0);
	ck_assert_int_eq(memory_region_add_subregion(&iospace, 0x10, &pio,
						     &err), 0);
	host = memory_region_get_ram_ptr(&ram);
	memcpy(host + 0x1000, guest_code, sizeof(guest_code));
	host[0x2000] = 0x31;
	((uint8_t *)memory_region_get_ram_ptr(&rom))[0] = 0xc3;

	ck_assert_msg(!vcpu_create(&kvm, &vcpu, 0, &err), "%s", err.msg);
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_SET_SREGS, &sregs), 0);
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_SET_REGS, &regs), 0);

	ck_assert_int_eq(vcpu_run_loop(&vcpu), VCPU_STOP_HLT);
	ck_assert_uint_eq(port_n, 4);
	ck_assert_uint_eq(port_log[0], 0x31);
	ck_assert_uint_eq(port_log[1], 0x7b);
	ck_assert_uint_eq(port_log[2], 0xc3);
	ck_assert_uint_eq(port_log[3], 0x5a);
	ck_assert_uint_ge(vcpu.exits_mmio, 2);
	vcpu_destroy(&vcpu);
	vm_teardown();
}
END_TEST

/* Another thread pauses, resumes and stops a spinning vCPU. */
START_TEST(stop_and_pause_from_another_thread)
{
	static const uint8_t spin[] = { 0xeb, 0xfe };	/* jmp . */
	struct error err = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct vcpu vcpu;

	vm_setup();
	ck_assert_int_eq(memory_region_add_subregion(&sysmem, 0, &ram, &err), 0);
	memcpy((uint8_t *)memory_region_get_ram_ptr(&ram) + 0x1000, spin,
	       sizeof(spin));
	ck_assert_msg(!vcpu_create(&kvm, &vcpu, 0, &err), "%s", err.msg);
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_SET_SREGS, &sregs), 0);
	ck_assert_int_eq(ioctl(vcpu.fd, KVM_SET_REGS, &regs), 0);
	rcu_thread_offline();
	ck_assert_int_eq(vcpu_start(&vcpu, &err), 0);
	usleep(20000);
	vcpu_pause(&vcpu);
	usleep(20000);
	vcpu_resume(&vcpu);
	usleep(20000);
	vcpu_stop(&vcpu);
	ck_assert_int_eq(vcpu_join(&vcpu), VCPU_STOP_REQUESTED);
	rcu_thread_online();
	vcpu_destroy(&vcpu);
	vm_teardown();
}
END_TEST

static Suite *kvm_suite(void)
{
	Suite *s = suite_create("kvm");
	TCase *tc = rcu_tcase("kvm", 30);

	tcase_add_test(tc, memslots_follow_the_flat_view);
	tcase_add_test(tc, real_mode_guest_exits_dispatch);
	tcase_add_test(tc, stop_and_pause_from_another_thread);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN_REQUIRES(kvm_available, kvm_suite)
