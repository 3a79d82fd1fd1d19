// SPDX-License-Identifier: GPL-2.0-only
/*
 * The x86 microVM, assembled.
 *
 * Memory: one RAM region ("ram") seen through two aliases, below the
 * 32-bit MMIO hole and above 4 GiB, as QEMU's pc machine does; ACPI
 * tables in the BIOS area of low RAM.  KVM is a listener of both address
 * spaces.  Devices are children of /machine and are mapped by the
 * machine; they see only irq lines and address spaces.
 *
 * Threads: the main thread runs machine_run()'s event loop (console
 * input, signals, stop requests); one thread per vCPU; device I/O
 * threads; the RCU reclaim thread (core/rcu.c).  Stopping is a request (an eventfd
 * the main loop waits on); only the main thread stops and joins vCPUs.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/sysinfo.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "flatvm/acpi.h"
#include "flatvm/boot.h"
#include "flatvm/devices.h"
#include "flatvm/machine.h"
#include "flatvm/rcu.h"
#include "flatvm/virtio.h"
#include "builtin_guest.h"
#include "machine-internal.h"


static const struct object_class machine_class = {
	.name = "machine",
	.size = sizeof(struct machine),
};

struct address_space *machine_memory(struct machine *m)
{
	return &m->mem;
}

int machine_parse_size(const char *s, uint64_t *out, struct error *err)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return error_setf(err, EINVAL,
				  "invalid size '%s': expected a number with an optional K, M or G suffix, e.g. 256M",
				  s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return error_setf(err, EINVAL,
				  "invalid size '%s': expected a number with an optional K, M or G suffix, e.g. 256M",
				  s);
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		end++;
		break;
	case 'm': case 'M':
		shift = 20;
		end++;
		break;
	case 'g': case 'G':
		shift = 30;
		end++;
		break;
	case 't': case 'T':
		shift = 40;
		end++;
		break;
	}
	if (*end == 'i' || *end == 'B' || *end == 'b')	/* "256MiB", "1GB" */
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		return error_setf(err, EINVAL,
				  "invalid size '%s': unexpected '%s'; expected a number with an optional K, M or G suffix",
				  s, end);
	if (shift && v > (UINT64_MAX >> shift))
		return error_setf(err, ERANGE, "size '%s' is too large", s);
	*out = (uint64_t)v << shift;
	return 0;
}

void machine_request_stop(struct machine *m, enum machine_stop why,
			  int status)
{
	uint64_t one = 1;

	pthread_mutex_lock(&m->stop_lock);
	if (m->stop == MACHINE_RUNNING) {
		m->stop = why;
		m->status = status;
	}
	pthread_mutex_unlock(&m->stop_lock);
	if (write(m->stop_fd, &one, sizeof(one)) < 0)
		pr_warn_once("machine: cannot signal a stop request: %s",
			     strerror(errno));
}

bool machine_stopping(struct machine *m)
{
	bool stopping;

	pthread_mutex_lock(&m->stop_lock);
	stopping = m->stop != MACHINE_RUNNING;
	pthread_mutex_unlock(&m->stop_lock);
	return stopping;
}

static void machine_stop_error(struct machine *m, const char *msg)
{
	pthread_mutex_lock(&m->stop_lock);
	if (m->stop == MACHINE_RUNNING)
		snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", msg);
	pthread_mutex_unlock(&m->stop_lock);
	machine_request_stop(m, MACHINE_ERROR, 1);
}

/* ---- Interrupt lines --------------------------------------------------- */

static void kvm_irq_set(struct irq_line *line, bool level)
{
	struct machine *m = line->opaque;

	if (kvm_set_irq_line(&m->kvm, line->gsi, level))
		pr_warn_once("KVM_IRQ_LINE gsi %u failed", line->gsi);
}

/* ---- vCPU hooks -------------------------------------------------------- */

static struct machine *vcpu_machine(struct vcpu *vcpu)
{
	return vcpu->opaque;
}

static void vcpu_stopped(struct vcpu *vcpu, enum vcpu_stop_reason why)
{
	struct machine *m = vcpu_machine(vcpu);

	switch (why) {
	case VCPU_STOP_REQUESTED:
		break;
	case VCPU_STOP_SHUTDOWN:
	case VCPU_STOP_POWEROFF:
		/* Triple fault or a reset request: a microVM ends (status 0). */
		machine_request_stop(m, MACHINE_POWEROFF, 0);
		break;
	case VCPU_STOP_HLT:
		/* No irqchip to wake it: nothing will ever run again. */
		machine_request_stop(m, MACHINE_POWEROFF, 0);
		break;
	case VCPU_STOP_ERROR:
	default:
		machine_stop_error(m, vcpu->error[0] ? vcpu->error :
				   "vCPU stopped with an error");
		break;
	}
}

static const struct vcpu_ops machine_vcpu_ops = {
	.stopped = vcpu_stopped,
};

/* ---- Construction ------------------------------------------------------ */

static int machine_memory_init(struct machine *m, struct error *err)
{
	uint64_t size = m->cfg.mem_size;
	uint64_t low = size < LAYOUT_MMIO_HOLE_START ? size :
		       LAYOUT_MMIO_HOLE_START;
	int ret;

	ret = memory_region_init(&m->sysmem, &m->obj, "system", UINT64_MAX,
				 err);
	if (ret)
		return ret;
	ret = memory_region_init(&m->iospace, &m->obj, "io", 0x10000, err);
	if (ret)
		return ret;
	ret = memory_region_init_ram(&m->ram, &m->obj, "ram", size, err);
	if (ret) {
		error_prepend(err, "guest RAM (--mem): ");
		return ret;
	}
	memory_region_transaction_begin();
	ret = memory_region_init_alias(&m->ram_below_4g, &m->obj,
				       "ram-below-4g", &m->ram, 0, low, err);
	if (!ret)
		ret = memory_region_add_subregion(&m->sysmem, 0,
						  &m->ram_below_4g, err);
	if (!ret && size > low) {
		ret = memory_region_init_alias(&m->ram_above_4g, &m->obj,
					       "ram-above-4g", &m->ram, low,
					       size - low, err);
		if (!ret)
			ret = memory_region_add_subregion(&m->sysmem,
							  LAYOUT_HIGH_RAM_BASE,
							  &m->ram_above_4g,
							  err);
	}
	memory_region_transaction_commit();
	if (ret)
		return ret;
	ret = address_space_init(&m->mem, &m->sysmem, "memory", err);
	if (ret)
		return ret;
	m->mem_ready = true;
	ret = address_space_init(&m->io, &m->iospace, "io", err);
	if (ret)
		return ret;
	m->io_ready = true;
	return 0;
}

static int machine_kvm_init(struct machine *m, struct error *err)
{
	unsigned i;
	int ret;

	ret = kvm_open(&m->kvm, err);
	if (ret)
		return ret;
	m->kvm_open = true;
	/* Needed on Intel VMX for real mode: three pages below 4 GiB. */
	ioctl(m->kvm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	ret = kvm_create_irqchip(&m->kvm, err);
	if (ret)
		return ret;
	for (i = 0; i <= LAYOUT_GSI_MAX; i++)
		m->irq[i] = (struct irq_line){
			.set = kvm_irq_set, .gsi = i, .opaque = m,
		};
	return kvm_attach_memory(&m->kvm, &m->mem, &m->io, err);
}

uint64_t machine_virtio_window(unsigned n)
{
	return LAYOUT_VIRTIO_MMIO_BASE + n * LAYOUT_VIRTIO_MMIO_SIZE;
}

unsigned machine_virtio_gsi(unsigned n)
{
	return layout_virtio_gsi(n);
}

static int machine_acpi_init(struct machine *m, struct error *err)
{
	struct acpi_config cfg = {
		.ncpus = m->cfg.ncpus,
		.base_gpa = LAYOUT_ACPI_BASE,
		.ioapic_addr = (uint32_t)LAYOUT_IOAPIC,
		.sleep_port = LAYOUT_PORT_ACPI_SLEEP,
		.serial = true,
		.i8042 = true,
		.rtc = true,
	};
	struct acpi_virtio_window win[LAYOUT_VIRTIO_MMIO_MAX];
	struct acpi_tables t;
	unsigned n;
	int ret;

	/* Every virtio-mmio window, so Linux finds them (LNRO0005). */
	for (n = 0; n < m->nr_boot_virtio + m->nr_slots; n++)
		win[n] = (struct acpi_virtio_window){
			.base = machine_virtio_window(n),
			.size = LAYOUT_VIRTIO_MMIO_SIZE,
			.gsi = machine_virtio_gsi(n),
		};
	cfg.virtio = win;
	cfg.nr_virtio = m->nr_boot_virtio + m->nr_slots;
	ret = acpi_build(&cfg, &t, err);
	if (ret)
		return ret;
	if (t.len > LAYOUT_ACPI_MAX) {
		acpi_tables_free(&t);
		return error_setf(err, E2BIG, "ACPI tables too large (%zu bytes)",
				  t.len);
	}
	address_space_write(&m->mem, LAYOUT_ACPI_BASE, t.blob, t.len);
	m->rsdp = t.rsdp_gpa;
	acpi_tables_free(&t);
	return 0;
}

static void machine_poweroff(void *opaque)
{
	machine_request_stop(opaque, MACHINE_POWEROFF, 0);
}

static void machine_testdev_exit(void *opaque, uint32_t status)
{
	machine_request_stop(opaque, MACHINE_TESTDEV_EXIT, (int)status);
}

static void machine_rx_drained(void *opaque)
{
	struct machine *m = opaque;
	uint64_t one = 1;

	if (write(m->rx_fd, &one, sizeof(one)) < 0)
		pr_warn_once("machine: cannot wake the console loop");
}

/* Map @mr at @addr in @c; errors name the device. */
int machine_map(struct memory_region *c, uint64_t addr,
		struct memory_region *mr, struct error *err)
{
	int ret = memory_region_add_subregion(c, addr, mr, err);

	if (ret)
		error_prepend(err, "mapping %s: ",
			      object_path(&mr->obj));
	return ret;
}

/* A transport finalized: its I/O thread has let go (any thread). */
void machine_virtio_finalized(struct machine *m)
{
	pthread_mutex_lock(&m->stop_lock);
	m->virtio_alive--;
	pthread_cond_broadcast(&m->virtio_gone);
	pthread_mutex_unlock(&m->stop_lock);
}

static void virtio_finalized(struct device *dev, void *opaque)
{
	machine_virtio_finalized(opaque);
}

/*
 * Count @vm until it finalizes and list it as attached (unplugged at
 * teardown).  Control thread or construction.
 */
void machine_virtio_track(struct machine *m, struct virtio_mmio *vm)
{
	pthread_mutex_lock(&m->stop_lock);
	m->virtio_alive++;
	m->virtio[m->nr_virtio++] = vm;
	pthread_mutex_unlock(&m->stop_lock);
	device_set_finalized_notifier(virtio_mmio_device(vm),
				      virtio_finalized, m);
}

/* @vm was unplugged: no longer attached, still counted until finalized. */
void machine_virtio_untrack(struct machine *m, struct virtio_mmio *vm)
{
	unsigned i;

	pthread_mutex_lock(&m->stop_lock);
	for (i = 0; i < m->nr_virtio; i++) {
		if (m->virtio[i] == vm) {
			m->virtio[i] = m->virtio[--m->nr_virtio];
			break;
		}
	}
	pthread_mutex_unlock(&m->stop_lock);
}

/*
 * Wait, offline and bounded (10 s), until @done(m) holds: @done is read
 * under @lock, and @cond is signalled by the finalizers that make it
 * true.  Each round lets a grace period pass first, since old views hold
 * the devices being waited for.  Called online; returns @done(m).
 */
bool machine_wait_finalized(struct machine *m, pthread_mutex_t *lock,
			    pthread_cond_t *cond,
			    bool (*done)(struct machine *m))
{
	struct timespec deadline;
	int rounds;
	bool ok;

	rcu_thread_offline();
	pthread_mutex_lock(lock);
	for (rounds = 0; !done(m) && rounds < 100; rounds++) {
		pthread_mutex_unlock(lock);
		rcu_barrier();
		pthread_mutex_lock(lock);
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += 100 * 1000 * 1000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		if (!done(m))
			pthread_cond_timedwait(cond, lock, &deadline);
	}
	ok = done(m);
	pthread_mutex_unlock(lock);
	rcu_thread_online();
	return ok;
}

/* Called with stop_lock held. */
static bool virtio_all_gone(struct machine *m)
{
	return !m->virtio_alive;
}

/*
 * Unplug the transports and wait (bounded) until they have finalized:
 * their I/O threads hold them and may drop the last reference after a
 * grace period, so the process must not exit under them.  Called online.
 */
static void machine_virtio_fini(struct machine *m)
{
	unsigned i;

	machine_hotplug_fini(m);
	for (i = 0; i < m->nr_virtio; i++) {
		device_unrealize(virtio_mmio_device(m->virtio[i]));
		object_unparent(&virtio_mmio_device(m->virtio[i])->obj);
	}
	m->nr_virtio = 0;
	if (!machine_wait_finalized(m, &m->stop_lock, &m->virtio_gone,
				    virtio_all_gone))
		pr_warn("%u virtio device(s) did not finalize within 10 s",
			m->virtio_alive);
}

/* The boot-time virtio devices: one transport per disk, then the rng. */
static int machine_virtio_init(struct machine *m, struct error *err)
{
	unsigned n, total = m->cfg.ndisks + (m->cfg.rng ? 1 : 0);
	struct virtio_mmio *vm;
	char id[32];
	int ret;

	if (total + m->cfg.hotplug_slots > LAYOUT_VIRTIO_GSI_COUNT)
		return error_setf(err, ENOSPC,
				  "%u virtio devices and %u hotplug slots need %u interrupt lines; the IOAPIC has %u for them",
				  total, m->cfg.hotplug_slots,
				  total + m->cfg.hotplug_slots,
				  LAYOUT_VIRTIO_GSI_COUNT);
	for (n = 0; n < total; n++) {
		if (n >= LAYOUT_VIRTIO_GSI_COUNT)
			return error_setf(err, ENOSPC,
					  "too many virtio devices: the IOAPIC has no interrupt line left for device %u (at most %u)",
					  n + 1, LAYOUT_VIRTIO_GSI_COUNT);
		if (n < m->cfg.ndisks) {
			snprintf(id, sizeof(id), "virtio-blk%u", n);
			vm = virtio_blk_create(&m->obj, id,
					       m->cfg.disks[n].path,
					       m->cfg.disks[n].readonly,
					       &m->irq[machine_virtio_gsi(n)], &m->mem,
					       err);
			if (!vm) {
				error_prepend(err, "--disk %s: ",
					      m->cfg.disks[n].path);
				return err ? err->code : -EINVAL;
			}
		} else {
			vm = virtio_rng_create(&m->obj, "virtio-rng",
					       &m->irq[machine_virtio_gsi(n)], &m->mem,
					       err);
			if (!vm)
				return err ? err->code : -EINVAL;
		}
		machine_virtio_track(m, vm);
		m->nr_boot_virtio++;
		ret = machine_map(&m->sysmem, machine_virtio_window(n),
				  virtio_mmio_region(vm), err);
		if (ret)
			return ret;
	}
	/* The empty windows after them, for hotplug (vmm/control.c). */
	return machine_hotplug_init(m, err);
}

static int machine_devices_init(struct machine *m, struct error *err)
{
	int ret = -ENOMEM;

	memory_region_transaction_begin();
	m->serial = serial_create(&m->obj, "serial0",
				  &m->irq[LAYOUT_GSI_COM1],
				  m->cfg.console_out, err);
	if (!m->serial)
		goto out;
	serial_set_rx_notify(m->serial, machine_rx_drained, m);
	m->i8042 = i8042_create(&m->obj, "i8042", &m->irq[LAYOUT_GSI_I8042],
				&m->irq[LAYOUT_GSI_I8042_AUX], machine_poweroff, m,
				err);
	if (!m->i8042)
		goto out;
	m->rtc = rtc_create(&m->obj, "rtc", err);
	if (!m->rtc)
		goto out;
	m->testdev = testdev_create(&m->obj, "testdev", machine_testdev_exit,
				    m, err);
	if (!m->testdev)
		goto out;
	m->pm = pm_create(&m->obj, "pm", machine_poweroff, m, err);
	if (!m->pm)
		goto out;
	ret = machine_map(&m->iospace, LAYOUT_PORT_COM1, &m->serial->io, err);
	if (!ret)
		ret = machine_map(&m->iospace, LAYOUT_PORT_I8042_DATA, &m->i8042->data,
			  err);
	if (!ret)
		ret = machine_map(&m->iospace, LAYOUT_PORT_I8042_CMD, &m->i8042->cmd,
			  err);
	if (!ret)
		ret = machine_map(&m->iospace, LAYOUT_PORT_RTC, &m->rtc->io, err);
	if (!ret)
		ret = machine_map(&m->iospace, LAYOUT_PORT_TESTDEV, &m->testdev->pio,
			  err);
	if (!ret)
		ret = machine_map(&m->sysmem, LAYOUT_TESTDEV_MMIO, &m->testdev->mmio,
			  err);
	if (!ret)
		ret = machine_map(&m->iospace, LAYOUT_PORT_ACPI_SLEEP, &m->pm->io, err);
	if (!ret)
		ret = machine_virtio_init(m, err);
out:
	memory_region_transaction_commit();
	return ret;
}

/*
 * The built-in guest, when no --kernel is given: flatvm carries it in
 * its binary and hands it to the same loader through a memfd, so it
 * boots exactly as a kernel file would.
 */

static int builtin_guest_path(char *path, size_t len, int *fdp,
			      struct error *err)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = memfd_create("flatvm-builtin-guest", MFD_CLOEXEC);
	if (fd < 0)
		return error_setf(err, errno,
				  "cannot stage the built-in guest: %s",
				  strerror(errno));
	while (off < flatvm_builtin_guest_size) {
		n = write(fd, flatvm_builtin_guest + off,
			  flatvm_builtin_guest_size - off);
		if (n <= 0) {
			close(fd);
			return error_setf(err, EIO,
					  "cannot stage the built-in guest");
		}
		off += (size_t)n;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	*fdp = fd;
	return 0;
}

static int machine_boot_init(struct machine *m, struct error *err)
{
	struct boot_config bc = {
		.kernel = m->cfg.kernel,
		.initrd = m->cfg.initrd,
		.cmdline = m->cfg.cmdline,
		.mem = &m->mem,
		.ram_size = m->cfg.mem_size,
		.rsdp_addr = m->rsdp,
		.ncpus = m->cfg.ncpus,
	};
	char path[64], *cmdline = NULL;
	int ret, fd = -1;

	unsigned nwin = m->nr_boot_virtio + m->nr_slots;

	if (m->cfg.virtio_cmdline && nwin) {
		size_t len = (bc.cmdline ? strlen(bc.cmdline) : 0) +
			     nwin * 64 + 1;
		size_t off;
		unsigned n;

		cmdline = malloc(len);
		if (!cmdline)
			return error_setf(err, ENOMEM, "out of memory");
		off = (size_t)snprintf(cmdline, len, "%s",
				       bc.cmdline ? bc.cmdline : "");
		for (n = 0; n < nwin && off < len; n++)
			off += (size_t)snprintf(cmdline + off, len - off,
						"%svirtio_mmio.device=%llu@%#llx:%u",
						off ? " " : "",
						(unsigned long long)LAYOUT_VIRTIO_MMIO_SIZE,
						(unsigned long long)machine_virtio_window(n),
						machine_virtio_gsi(n));
		bc.cmdline = cmdline;
	}
	if (!bc.kernel) {
		ret = builtin_guest_path(path, sizeof(path), &fd, err);
		if (ret)
			return ret;
		bc.kernel = path;
		if (!bc.cmdline)
			bc.cmdline = "";
	}
	ret = boot_load_kernel(&bc, &m->boot, err);
	if (fd >= 0)
		close(fd);
	free(cmdline);
	return ret;
}

static int machine_vcpus_init(struct machine *m, struct error *err)
{
	unsigned i;
	int ret;

	for (i = 0; i < m->cfg.ncpus; i++) {
		ret = vcpu_create(&m->kvm, &m->vcpu[i], i, err);
		if (ret)
			return ret;
		m->nr_vcpus++;
		m->vcpu[i].ops = &machine_vcpu_ops;
		m->vcpu[i].opaque = m;
		/* CPUID, MSRs, FPU, and the entry state for the boot vCPU. */
		ret = x86_setup_vcpu(&m->vcpu[i], &m->boot, &m->mem, err);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Reset every attached virtio transport, as a platform reset does: a
 * guest starting again must not find its predecessor's queues live, nor
 * have a request of it complete into RAM it now uses.  Control thread, vCPUs paused.
 */
static void reset_virtio(struct machine *m)
{
	struct virtio_mmio *vms[LAYOUT_VIRTIO_MMIO_MAX];
	unsigned i, n = 0;

	pthread_mutex_lock(&m->stop_lock);
	for (i = 0; i < m->nr_virtio; i++)
		if (object_tryref(&virtio_mmio_device(m->virtio[i])->obj))
			vms[n++] = m->virtio[i];
	pthread_mutex_unlock(&m->stop_lock);
	for (i = 0; i < n; i++) {
		virtio_mmio_reset(vms[i]);
		object_unref(&virtio_mmio_device(vms[i])->obj);
	}
}

/*
 * system_reset: reset the virtio devices, rewrite the ACPI tables and the
 * kernel and its boot structures, and put every vCPU back at its entry
 * state (APs waiting for INIT/SIPI).  Called with every vCPU paused and
 * parked; RAM is otherwise left as it is, as on a real reset.
 */
int machine_reload(struct machine *m, struct error *err)
{
	struct kvm_mp_state mp;
	unsigned i;
	int ret;

	reset_virtio(m);
	ret = machine_acpi_init(m, err);
	if (!ret)
		ret = machine_boot_init(m, err);
	for (i = 0; !ret && i < m->nr_vcpus; i++) {
		ret = x86_setup_vcpu(&m->vcpu[i], &m->boot, &m->mem, err);
		mp.mp_state = i ? KVM_MP_STATE_UNINITIALIZED :
				  KVM_MP_STATE_RUNNABLE;
		if (!ret && ioctl(m->vcpu[i].fd, KVM_SET_MP_STATE, &mp))
			ret = error_setf(err, errno,
					 "KVM_SET_MP_STATE on vCPU %u: %s", i,
					 strerror(errno));
	}
	return ret;
}

static int machine_check_config(const struct machine_config *cfg,
				struct error *err)
{
	struct sysinfo si;

	if (cfg->mem_size < MACHINE_MIN_MEM)
		return error_setf(err, EINVAL,
				  "--mem %llu MiB is too small: a microVM needs at least %llu MiB",
				  (unsigned long long)(cfg->mem_size >> 20),
				  (unsigned long long)(MACHINE_MIN_MEM >> 20));
	if (cfg->mem_size > MACHINE_MAX_MEM)
		return error_setf(err, EINVAL,
				  "--mem %llu GiB is too large: at most %llu GiB",
				  (unsigned long long)(cfg->mem_size >> 30),
				  (unsigned long long)(MACHINE_MAX_MEM >> 30));
	if (!sysinfo(&si) &&
	    cfg->mem_size > (uint64_t)si.totalram * si.mem_unit)
		return error_setf(err, EINVAL,
				  "--mem %llu MiB is more than this host's %llu MiB of RAM",
				  (unsigned long long)(cfg->mem_size >> 20),
				  (unsigned long long)(((uint64_t)si.totalram *
							si.mem_unit) >> 20));
	if (cfg->ncpus < 1 || cfg->ncpus > KVM_MAX_VCPUS)
		return error_setf(err, EINVAL,
				  "--cpus %u: expected 1 to %u", cfg->ncpus,
				  KVM_MAX_VCPUS);
	if (cfg->ndisks > MACHINE_MAX_DISKS)
		return error_setf(err, EINVAL, "at most %u --disk options",
				  MACHINE_MAX_DISKS);
	return 0;
}

struct machine *machine_create(const struct machine_config *cfg,
			       struct error *err)
{
	struct machine *m;
	int ret;

	if (machine_check_config(cfg, err))
		return NULL;
	m = (struct machine *)object_new(&machine_class);
	if (!m) {
		error_setf(err, ENOMEM, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	pthread_mutex_init(&m->stop_lock, NULL);
	pthread_cond_init(&m->virtio_gone, NULL);
	pthread_mutex_init(&m->ctl_lock, NULL);
	pthread_cond_init(&m->hp_gone, NULL);
	CDS_INIT_LIST_HEAD(&m->hp_devices);
	m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->rx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->stop_fd < 0 || m->rx_fd < 0) {
		error_setf(err, errno, "eventfd: %s", strerror(errno));
		goto err;
	}
	if (object_add_child(object_root(), "machine", &m->obj, err))
		goto err;
	object_unref(&m->obj);		/* the tree holds it */

	ret = machine_memory_init(m, err);
	if (!ret)
		ret = machine_kvm_init(m, err);
	if (!ret)
		ret = machine_devices_init(m, err);
	if (!ret)
		ret = machine_acpi_init(m, err);
	if (!ret)
		ret = machine_boot_init(m, err);
	if (!ret)
		ret = machine_vcpus_init(m, err);
	if (ret)
		goto err_destroy;
	return m;

err:
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->rx_fd >= 0)
		close(m->rx_fd);
	object_unref(&m->obj);
	return NULL;
err_destroy:
	machine_destroy(m);
	return NULL;
}

/* ---- Running ----------------------------------------------------------- */

static struct termios saved_tio;
static bool tio_saved;

static void console_raw(int fd)
{
	struct termios tio;

	if (!isatty(fd) || tcgetattr(fd, &saved_tio))
		return;
	tio = saved_tio;
	tio.c_lflag &= ~(ICANON | ECHO | ISIG);
	tio.c_iflag &= ~(ICRNL | IXON);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (!tcsetattr(fd, TCSANOW, &tio))
		tio_saved = true;
}

static void console_restore(int fd)
{
	if (tio_saved)
		tcsetattr(fd, TCSANOW, &saved_tio);
	tio_saved = false;
}

/* Offer held-back console input to the UART again.  Main thread. */
static void console_flush(struct machine *m)
{
	size_t n;

	if (m->pending_off == m->pending_len)
		return;
	rcu_thread_online();
	n = serial_input(m->serial, m->pending + m->pending_off,
			 m->pending_len - m->pending_off);
	rcu_thread_offline();
	m->pending_off += n;
}

static void stop_all_vcpus(struct machine *m)
{
	unsigned i;

	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_stop(&m->vcpu[i]);
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_join(&m->vcpu[i]);
}

int machine_run(struct machine *m)
{
	struct epoll_event ev, evs[4];
	int epfd = -1, sigfd = -1, n, i, status;
	struct signalfd_siginfo si;
	struct error err = { 0 };
	sigset_t mask, old;
	bool console_held = false;
	enum machine_stop why;
	ssize_t r;
	unsigned v;

	/* SIGINT/SIGTERM are read from a signalfd by this thread alone. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sigfd < 0 || epfd < 0) {
		pr_err("cannot set up the event loop: %s", strerror(errno));
		machine_request_stop(m, MACHINE_ERROR, 1);
	} else {
		ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = sigfd };
		epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
		ev.data.fd = m->stop_fd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, m->stop_fd, &ev);
		ev.data.fd = m->rx_fd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, m->rx_fd, &ev);
		if (m->cfg.console_in >= 0) {
			ev.data.fd = m->cfg.console_in;
			if (!epoll_ctl(epfd, EPOLL_CTL_ADD, m->cfg.console_in,
				       &ev))
				console_raw(m->cfg.console_in);
		}
	}

	if (m->cfg.api_sock) {
		struct qmp_server *qs;

		qs = qmp_server_start(m->cfg.api_sock, &machine_control_ops, m,
				      &err);
		if (!qs)
			machine_stop_error(m, err.msg);
		pthread_mutex_lock(&m->ctl_lock);
		m->qmp = qs;
		pthread_mutex_unlock(&m->ctl_lock);
	}

	for (v = 0; v < m->nr_vcpus && !machine_stopping(m); v++) {
		if (vcpu_start(&m->vcpu[v], &err)) {
			machine_stop_error(m, err.msg);
			break;
		}
	}

	rcu_thread_offline();
	while (epfd >= 0 && !machine_stopping(m)) {
		n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == sigfd) {
				if (read(sigfd, &si, sizeof(si)) == sizeof(si))
					pr_info("stopping on signal %u",
						si.ssi_signo);
				machine_request_stop(m, MACHINE_SIGNAL, 0);
			} else if (evs[i].data.fd == m->stop_fd) {
				uint64_t cnt;

				if (read(m->stop_fd, &cnt, sizeof(cnt)) < 0)
					continue;
			} else if (evs[i].data.fd == m->rx_fd) {
				uint64_t cnt;

				if (read(m->rx_fd, &cnt, sizeof(cnt)) < 0)
					continue;
				console_flush(m);
				/* All in: listen to the console again. */
				if (console_held &&
				    m->pending_off == m->pending_len) {
					ev.data.fd = m->cfg.console_in;
					epoll_ctl(epfd, EPOLL_CTL_ADD,
						  m->cfg.console_in, &ev);
					console_held = false;
				}
			} else if (evs[i].data.fd == m->cfg.console_in) {
				r = read(m->cfg.console_in, m->pending,
					 sizeof(m->pending));
				if (r <= 0) {
					/* EOF: stop listening, keep running */
					epoll_ctl(epfd, EPOLL_CTL_DEL,
						  m->cfg.console_in, NULL);
					continue;
				}
				m->pending_len = (size_t)r;
				m->pending_off = 0;
				console_flush(m);
				/*
				 * The FIFO is full: stop reading the console
				 * until the guest drains it (rx_fd), so typed
				 * input is neither lost nor busy-polled.
				 */
				if (m->pending_off < m->pending_len) {
					epoll_ctl(epfd, EPOLL_CTL_DEL,
						  m->cfg.console_in, NULL);
					console_held = true;
				}
			}
		}
	}
	stop_all_vcpus(m);
	rcu_thread_online();

	pthread_mutex_lock(&m->stop_lock);
	why = m->stop;
	pthread_mutex_unlock(&m->stop_lock);
	if (why == MACHINE_POWEROFF || why == MACHINE_TESTDEV_EXIT)
		machine_emit(m, "SHUTDOWN",
			     json_pack("{s:b, s:s}", "guest", 1, "reason",
				       "guest-shutdown"));
	else if (why == MACHINE_SIGNAL)
		machine_emit(m, "SHUTDOWN",
			     json_pack("{s:b, s:s}", "guest", 0, "reason",
				       "host-signal"));

	if (m->cfg.console_in >= 0)
		console_restore(m->cfg.console_in);
	if (epfd >= 0)
		close(epfd);
	if (sigfd >= 0)
		close(sigfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	pthread_mutex_lock(&m->stop_lock);
	status = m->status;
	if (m->stop == MACHINE_ERROR && m->stop_msg[0])
		fprintf(stderr, "flatvm: %s\n", m->stop_msg);
	pthread_mutex_unlock(&m->stop_lock);
	return status;
}

void machine_destroy(struct machine *m)
{
	struct qmp_server *qs;
	unsigned i;

	stop_all_vcpus(m);
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpu[i]);
	/* Their I/O threads hold the transports: stop them (rule 5). */
	machine_virtio_fini(m);
	/* After the unplugs above, so their DEVICE_DELETED still go out. */
	pthread_mutex_lock(&m->ctl_lock);
	qs = m->qmp;
	m->qmp = NULL;
	pthread_mutex_unlock(&m->ctl_lock);
	if (qs) {
		rcu_thread_offline();
		qmp_server_stop(qs);
		rcu_thread_online();
	}
	m->nr_vcpus = 0;
	if (m->kvm_open)
		kvm_close(&m->kvm);
	if (m->io_ready)
		address_space_destroy(&m->io);
	if (m->mem_ready)
		address_space_destroy(&m->mem);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->rx_fd >= 0)
		close(m->rx_fd);
	pthread_cond_destroy(&m->virtio_gone);
	pthread_mutex_destroy(&m->stop_lock);
	pthread_cond_destroy(&m->hp_gone);
	pthread_mutex_destroy(&m->ctl_lock);
	/* Children (devices, regions) go with the machine object. */
	object_unparent(&m->obj);
}
