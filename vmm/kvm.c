// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM and its memory listeners: RAM and ROM flat ranges become
 * memslots (ROM read-only), ioeventfds become KVM_IOEVENTFD.
 *
 * Slots are edited only from listener callbacks, which the memory core
 * calls with the memory lock held, deletions before additions: a range
 * that moves is deleted from its old slot before the new one is added,
 * so KVM never sees two slots overlap.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "flatvm/kvm.h"

bool kvm_available(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(why, len, "/dev/kvm: unsupported API version");
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

int kvm_open(struct kvm *kvm, struct error *err)
{
	int ret, n;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = -1;
	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0)
		return error_setf(err, errno,
				  "cannot open /dev/kvm: %s (is the kvm module loaded and do you have access to /dev/kvm?)",
				  strerror(errno));
	ret = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		ret = error_setf(err, EINVAL,
				 "/dev/kvm speaks API %d, flatvm needs %d",
				 ret, KVM_API_VERSION);
		goto err_sys;
	}
	kvm->run_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size <= 0) {
		ret = error_setf(err, errno, "KVM_GET_VCPU_MMAP_SIZE: %s",
				 strerror(errno));
		goto err_sys;
	}
	n = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	kvm->nr_slots = n > 0 ? (unsigned)n : 32;
	if (kvm->nr_slots > 4096)
		kvm->nr_slots = 4096;	/* plenty for a microVM */
	kvm->slots = calloc(kvm->nr_slots, sizeof(*kvm->slots));
	if (!kvm->slots) {
		ret = error_setf(err, ENOMEM, "out of memory");
		goto err_sys;
	}
	do {
		kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	} while (kvm->vm_fd < 0 && errno == EINTR);
	if (kvm->vm_fd < 0) {
		ret = error_setf(err, errno, "KVM_CREATE_VM: %s",
				 strerror(errno));
		goto err_slots;
	}
	return 0;

err_slots:
	free(kvm->slots);
	kvm->slots = NULL;
err_sys:
	close(kvm->sys_fd);
	kvm->sys_fd = -1;
	return ret;
}

void kvm_close(struct kvm *kvm)
{
	kvm_detach_memory(kvm);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	free(kvm->slots);
	kvm->slots = NULL;
	kvm->vm_fd = kvm->sys_fd = -1;
}

int kvm_create_irqchip(struct kvm *kvm, struct error *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return error_setf(err, errno, "KVM_CREATE_IRQCHIP: %s",
				  strerror(errno));
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit))
		return error_setf(err, errno, "KVM_CREATE_PIT2: %s",
				  strerror(errno));
	kvm->irqchip = true;
	return 0;
}

int kvm_set_irq_line(struct kvm *kvm, unsigned gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq))
		return -errno;
	return 0;
}

/* ---- Memslots ---------------------------------------------------------- */

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static int slot_set(struct kvm *kvm, unsigned slot, const struct kvm_slot *s)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = s->flags,
		.guest_phys_addr = s->gpa,
		.memory_size = s->size,
		.userspace_addr = s->hva,
	};

	kvm->slot_ops++;
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		return -errno;
	return 0;
}

/*
 * The page-aligned part of a section becomes a slot; bytes of RAM that do
 * not fill a page are left to the dispatcher (a guest access to them
 * exits as MMIO and is served from the same memory).
 */
static bool section_to_slot(const struct memory_region_section *sec,
			    struct kvm_slot *s)
{
	uint64_t page = page_size(), start, end, hva;
	struct memory_region *mr = sec->mr;

	if (mr->type != MR_RAM && mr->type != MR_ROM)
		return false;
	hva = (uint64_t)(uintptr_t)mr->ram + sec->offset_within_region;
	start = (sec->offset_within_as + page - 1) & ~(page - 1);
	end = (sec->offset_within_as + sec->size) & ~(page - 1);
	if (end <= start)
		return false;
	/* The host address must move by the same amount, page aligned. */
	hva += start - sec->offset_within_as;
	if (hva & (page - 1))
		return false;
	*s = (struct kvm_slot){
		.gpa = start,
		.size = end - start,
		.hva = hva,
		.flags = sec->readonly ? KVM_MEM_READONLY : 0,
		.used = true,
	};
	return true;
}

static void kvm_region_add(struct memory_listener *l,
			   const struct memory_region_section *sec)
{
	struct kvm *kvm = container_of(l, struct kvm, mem_listener);
	struct kvm_slot s;
	unsigned i;
	int ret;

	if (!section_to_slot(sec, &s))
		return;
	for (i = 0; i < kvm->nr_slots; i++)
		if (!kvm->slots[i].used)
			break;
	if (i == kvm->nr_slots) {
		pr_err("no free KVM memslot for %s at %#llx (%u in use); guest accesses there will be slow",
		       memory_region_name(sec->mr),
		       (unsigned long long)s.gpa, kvm->slots_used);
		return;
	}
	ret = slot_set(kvm, i, &s);
	if (ret) {
		pr_err("KVM_SET_USER_MEMORY_REGION slot %u gpa %#llx size %#llx: %s",
		       i, (unsigned long long)s.gpa,
		       (unsigned long long)s.size, strerror(-ret));
		return;
	}
	kvm->slots[i] = s;
	kvm->slots_used++;
}

static void kvm_region_del(struct memory_listener *l,
			   const struct memory_region_section *sec)
{
	struct kvm *kvm = container_of(l, struct kvm, mem_listener);
	struct kvm_slot s, gone;
	unsigned i;

	if (!section_to_slot(sec, &s))
		return;
	for (i = 0; i < kvm->nr_slots; i++) {
		if (!kvm->slots[i].used || kvm->slots[i].gpa != s.gpa ||
		    kvm->slots[i].size != s.size)
			continue;
		gone = kvm->slots[i];
		gone.size = 0;		/* size 0 deletes the slot */
		if (slot_set(kvm, i, &gone))
			pr_err("deleting KVM memslot %u: %s", i,
			       strerror(errno));
		memset(&kvm->slots[i], 0, sizeof(kvm->slots[i]));
		kvm->slots_used--;
		return;
	}
}

/* ---- ioeventfds -------------------------------------------------------- */

static void ioeventfd_update(struct kvm *kvm,
			     const struct memory_region_section *sec,
			     bool match_data, uint64_t data, int fd, bool pio,
			     bool assign)
{
	struct kvm_ioeventfd e = {
		.addr = sec->offset_within_as,
		.len = (uint32_t)sec->size,
		.datamatch = match_data ? data : 0,
		.fd = fd,
		.flags = (match_data ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(kvm->vm_fd, KVM_IOEVENTFD, &e)) {
		pr_warn("KVM_IOEVENTFD %s %s %#llx: %s; the dispatcher handles it instead",
			assign ? "assign" : "deassign", pio ? "pio" : "mmio",
			(unsigned long long)e.addr, strerror(errno));
		return;
	}
	if (assign)
		kvm->ioeventfds++;
	else
		kvm->ioeventfds--;
}

static void kvm_mem_eventfd_add(struct memory_listener *l,
				const struct memory_region_section *sec,
				bool match_data, uint64_t data, int fd)
{
	ioeventfd_update(container_of(l, struct kvm, mem_listener), sec,
			 match_data, data, fd, false, true);
}

static void kvm_mem_eventfd_del(struct memory_listener *l,
				const struct memory_region_section *sec,
				bool match_data, uint64_t data, int fd)
{
	ioeventfd_update(container_of(l, struct kvm, mem_listener), sec,
			 match_data, data, fd, false, false);
}

static void kvm_io_eventfd_add(struct memory_listener *l,
			       const struct memory_region_section *sec,
			       bool match_data, uint64_t data, int fd)
{
	ioeventfd_update(container_of(l, struct kvm, io_listener), sec,
			 match_data, data, fd, true, true);
}

static void kvm_io_eventfd_del(struct memory_listener *l,
			       const struct memory_region_section *sec,
			       bool match_data, uint64_t data, int fd)
{
	ioeventfd_update(container_of(l, struct kvm, io_listener), sec,
			 match_data, data, fd, true, false);
}

int kvm_attach_memory(struct kvm *kvm, struct address_space *mem,
		      struct address_space *io, struct error *err)
{
	kvm->mem_listener = (struct memory_listener){
		.name = "kvm-memslots",
		.region_add = kvm_region_add,
		.region_del = kvm_region_del,
		.eventfd_add = kvm_mem_eventfd_add,
		.eventfd_del = kvm_mem_eventfd_del,
	};
	kvm->io_listener = (struct memory_listener){
		.name = "kvm-pio",
		.eventfd_add = kvm_io_eventfd_add,
		.eventfd_del = kvm_io_eventfd_del,
	};
	kvm->mem = mem;
	kvm->io = io;
	memory_listener_register(&kvm->mem_listener, mem);
	if (io)
		memory_listener_register(&kvm->io_listener, io);
	return 0;
}

void kvm_detach_memory(struct kvm *kvm)
{
	if (kvm->mem)
		memory_listener_unregister(&kvm->mem_listener);
	if (kvm->io)
		memory_listener_unregister(&kvm->io_listener);
	kvm->mem = kvm->io = NULL;
}

bool kvm_slot_lookup(struct kvm *kvm, uint64_t gpa, struct kvm_slot *out)
{
	bool found = false;
	unsigned i;

	memory_region_transaction_begin();	/* the memory lock */
	for (i = 0; i < kvm->nr_slots; i++) {
		struct kvm_slot *s = &kvm->slots[i];

		if (s->used && gpa >= s->gpa && gpa - s->gpa < s->size) {
			*out = *s;
			found = true;
			break;
		}
	}
	memory_region_transaction_commit();
	return found;
}

unsigned kvm_slot_count(struct kvm *kvm)
{
	unsigned n;

	memory_region_transaction_begin();
	n = kvm->slots_used;
	memory_region_transaction_commit();
	return n;
}
