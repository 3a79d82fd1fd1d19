/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An interrupt line as devices see it.  Devices know nothing of KVM: the
 * machine hands each one a line backed by KVM_IRQ_LINE (or an irqfd), and
 * tests hand them one that records what it was told.
 */
#ifndef FLATVM_IRQ_H
#define FLATVM_IRQ_H

#include <stdbool.h>

struct irq_line {
	/* Drive the line: true = asserted.  Safe from any thread. */
	void (*set)(struct irq_line *line, bool level);
	unsigned gsi;
	void *opaque;
};

static inline void irq_set(struct irq_line *line, bool level)
{
	if (line && line->set)
		line->set(line, level);
}

/* An edge: assert then deassert (edge-triggered GSIs, e.g. virtio-mmio). */
static inline void irq_pulse(struct irq_line *line)
{
	irq_set(line, true);
	irq_set(line, false);
}

#endif /* FLATVM_IRQ_H */
