// SPDX-License-Identifier: GPL-2.0-only
/*
 * flatvm: the command line.
 *
 *   flatvm run [--kernel PATH] [--initrd PATH] [--cmdline STR] [--mem SIZE]
 *              [--cpus N] [--disk PATH[,ro]]... [--rng] [--virtio-cmdline]
 *              [--api-sock PATH] [--hotplug-slots N]
 *
 * Every bad flag gets an error naming it and saying what is expected.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flatvm/machine.h"
#include "flatvm/rcu.h"

#define DEFAULT_MEM	(256ull << 20)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: flatvm run [options]\n"
		"\n"
		"Launch a microVM on /dev/kvm.  Without --kernel, boots flatvm's built-in\n"
		"test guest.\n"
		"\n"
		"  --kernel PATH     Linux bzImage, or an ELF vmlinux with a PVH entry note\n"
		"  --initrd PATH     initramfs for the kernel\n"
		"  --cmdline STR     kernel command line\n"
		"  --mem SIZE        guest RAM, e.g. 256M or 2G (default 256M; 16M..1T)\n"
		"  --cpus N          vCPUs (default 1)\n"
		"  --disk PATH[,ro]  a virtio-blk disk backed by PATH (repeatable)\n"
		"  --rng             a virtio-rng device\n"
		"  --api-sock PATH   serve the QMP control socket at PATH (mode 0600)\n"
		"  --hotplug-slots N reserve N virtio-mmio windows for device_add (0..%d)\n"
		"  --virtio-cmdline  also list the virtio-mmio devices on the kernel command\n"
		"                    line (virtio_mmio.device=...), for kernels built with\n"
		"                    CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES; ACPI describes them\n"
		"                    in any case\n"
		"  -h, --help        this text\n"
		"\n"
		"Exit status: 0 when the guest powers off or resets, or flatvm is stopped\n"
		"with SIGINT/SIGTERM; the test device's exit value when a guest reports\n"
		"through it; 1 on an error (the message says what went wrong); 2 on a\n"
		"usage error.\n", MACHINE_MAX_HOTPLUG_SLOTS);
}

static int file_check(const char *flag, const char *path, bool write)
{
	if (access(path, write ? R_OK | W_OK : R_OK)) {
		fprintf(stderr, "flatvm: %s %s: %s; expected a readable%s file\n",
			flag, path, strerror(errno),
			write ? " and writable" : "");
		return -1;
	}
	return 0;
}

static int parse_disk(char *arg, struct machine_disk *d)
{
	char *comma = strchr(arg, ',');

	d->readonly = false;
	if (comma) {
		*comma = '\0';
		if (strcmp(comma + 1, "ro") && strcmp(comma + 1, "readonly")) {
			fprintf(stderr,
				"flatvm: --disk %s,%s: unknown option '%s'; expected PATH or PATH,ro\n",
				arg, comma + 1, comma + 1);
			return -1;
		}
		d->readonly = true;
	}
	if (!*arg) {
		fprintf(stderr, "flatvm: --disk needs a file path, e.g. --disk disk.img\n");
		return -1;
	}
	d->path = arg;
	return file_check("--disk", arg, !d->readonly);
}

static int parse_cpus(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > KVM_MAX_VCPUS) {
		fprintf(stderr, "flatvm: --cpus %s: expected a number from 1 to %d\n",
			s, KVM_MAX_VCPUS);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_count(const char *flag, const char *s, unsigned max,
		       unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max) {
		fprintf(stderr, "flatvm: %s %s: expected a number from 0 to %u\n",
			flag, s, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_run(int argc, char **argv, struct machine_config *cfg)
{
	enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS,
	       OPT_DISK, OPT_RNG, OPT_VIRTIO_CMDLINE, OPT_API_SOCK,
	       OPT_HOTPLUG_SLOTS };
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "virtio-cmdline", no_argument, NULL, OPT_VIRTIO_CMDLINE },
		{ "api-sock", required_argument, NULL, OPT_API_SOCK },
		{ "hotplug-slots", required_argument, NULL, OPT_HOTPLUG_SLOTS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = { 0 };
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			if (file_check("--kernel", optarg, false))
				return 2;
			cfg->kernel = optarg;
			break;
		case OPT_INITRD:
			if (file_check("--initrd", optarg, false))
				return 2;
			cfg->initrd = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_MEM:
			if (machine_parse_size(optarg, &cfg->mem_size, &err)) {
				fprintf(stderr, "flatvm: --mem: %s\n", err.msg);
				return 2;
			}
			break;
		case OPT_CPUS:
			if (parse_cpus(optarg, &cfg->ncpus))
				return 2;
			break;
		case OPT_DISK:
			if (cfg->ndisks == MACHINE_MAX_DISKS) {
				fprintf(stderr, "flatvm: at most %d --disk options\n",
					MACHINE_MAX_DISKS);
				return 2;
			}
			if (parse_disk(optarg, &cfg->disks[cfg->ndisks]))
				return 2;
			cfg->ndisks++;
			break;
		case OPT_RNG:
			cfg->rng = true;
			break;
		case OPT_VIRTIO_CMDLINE:
			cfg->virtio_cmdline = true;
			break;
		case OPT_API_SOCK:
			if (!*optarg) {
				fprintf(stderr, "flatvm: --api-sock needs a socket path\n");
				return 2;
			}
			cfg->api_sock = optarg;
			break;
		case OPT_HOTPLUG_SLOTS:
			if (parse_count("--hotplug-slots", optarg,
					MACHINE_MAX_HOTPLUG_SLOTS,
					&cfg->hotplug_slots))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "flatvm: %s needs a value; see flatvm run --help\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "flatvm: unknown option '%s'; see flatvm run --help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flatvm: unexpected argument '%s'; options start with --, see flatvm run --help\n",
			argv[optind]);
		return 2;
	}
	if (cfg->initrd && !cfg->kernel) {
		fprintf(stderr, "flatvm: --initrd needs --kernel\n");
		return 2;
	}
	return -1;	/* go on */
}

int main(int argc, char **argv)
{
	struct machine_config cfg = {
		.mem_size = DEFAULT_MEM,
		.ncpus = 1,
		.console_in = STDIN_FILENO,
		.console_out = STDOUT_FILENO,
	};
	struct error err = { 0 };
	struct machine *m;
	sigset_t sigs;
	int status;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "run")) {
		fprintf(stderr, "flatvm: unknown command '%s'; expected 'run' (see flatvm --help)\n",
			argv[1]);
		return 2;
	}
	status = parse_run(argc - 1, argv + 1, &cfg);
	if (status >= 0)
		return status;

	/*
	 * SIGINT/SIGTERM are taken by machine_run() from a signalfd.  Block
	 * them before any thread exists, so one that arrives while the
	 * machine is still being built waits instead of killing us.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	rcu_thread_register();
	m = machine_create(&cfg, &err);
	if (!m) {
		fprintf(stderr, "flatvm: %s\n", err.msg);
		status = 1;
	} else {
		status = machine_run(m);
		machine_destroy(m);
	}
	rcu_thread_offline();
	rcu_barrier();			/* every finalizer has run */
	rcu_thread_unregister();
	return status;
}
