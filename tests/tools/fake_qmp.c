// SPDX-License-Identifier: GPL-2.0-only
/*
 * fake_qmp: flatvm's QMP server (vmm/qmp.c) in front of the fake machine
 * of tests/fake_control.c, in a process of its own, for clients that are
 * programs: flatvmctl (check_flatvmctl.sh) and socat (check_qmp_socat.sh).
 *
 *   fake_qmp SOCKET [DELETE_DELAY_MS]
 *
 * DELETE_DELAY_MS: how long a device_del takes before DEVICE_DELETED
 * (default 5).
 * Prints "ready" once the socket accepts connections; runs until SIGTERM
 * or SIGINT, or until a client sends quit (after its reply and SHUTDOWN
 * have gone out).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_control.h"

/* Called on the server thread: main() does the stopping. */
static void fake_qmp_quit(void *opaque)
{
	kill(getpid(), SIGUSR1);
}

int main(int argc, char **argv)
{
	struct fake_control f;
	struct error err = { 0 };
	struct qmp_server *s;
	sigset_t set;
	int sig;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: fake_qmp SOCKET [DELETE_DELAY_MS]\n");
		return 2;
	}
	/* Blocked in every thread; main() takes them with sigwait(). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	fake_control_init(&f);
	f.on_quit = fake_qmp_quit;
	if (argc == 3)
		f.del_delay_ms = (unsigned)strtoul(argv[2], NULL, 10);
	s = qmp_server_start(argv[1], &fake_control_ops, &f, &err);
	if (!s) {
		fprintf(stderr, "fake_qmp: %s\n", err.msg);
		fake_control_fini(&f);
		return 1;
	}
	fake_control_set_qmp(&f, s);
	printf("ready\n");
	fflush(stdout);

	sigwait(&set, &sig);
	fake_control_drain(&f);
	fake_control_set_qmp(&f, NULL);
	qmp_server_stop(s);
	fake_control_fini(&f);
	return 0;
}
