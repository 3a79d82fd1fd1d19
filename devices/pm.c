// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hardware-reduced ACPI sleep control and status register: one port,
 * named by the FADT as both SLEEP_CONTROL_REG and SLEEP_STATUS_REG.
 *
 * A guest's poweroff writes ACPI_SLEEP_STS_WAK (clearing the wake status),
 * then SLP_TYP S5 with SLP_EN; only the second is a poweroff
 * (acpi_sleep_ctl_is_poweroff()).  Reads return 0, so a guest that asked
 * for another sleep state waits for a wake that never comes, which is
 * what a machine without that state does.
 */
#include <errno.h>

#include "flatvm/acpi.h"
#include "flatvm/devices.h"

static uint64_t pm_read(void *opaque, uint64_t addr, unsigned size)
{
	return 0;	/* WAK_STS clear */
}

static void pm_write(void *opaque, uint64_t addr, uint64_t val,
		     unsigned size)
{
	struct pm *p = opaque;

	if (!acpi_sleep_ctl_is_poweroff((uint8_t)val))
		return;
	pr_info("%s: guest entered S5 (soft off)", object_path(&p->dev.obj));
	if (p->poweroff)
		p->poweroff(p->opaque);
}

static const struct memory_region_ops pm_ops = {
	.read = pm_read,
	.write = pm_write,
	.min_access_size = 1,
	.max_access_size = 1,
};

static const struct device_class pm_class = {
	.obj = {
		.name = "acpi-sleep",
		.size = sizeof(struct pm),
		.parent = &device_class.obj,
	},
};

struct pm *pm_create(struct object *parent, const char *id,
		     void (*poweroff)(void *opaque), void *opaque,
		     struct error *err)
{
	struct pm *p;
	int ret;

	p = (struct pm *)object_new(&pm_class.obj);
	if (!p) {
		error_setf(err, ENOMEM,
			   "out of memory creating ACPI sleep register %s", id);
		return NULL;
	}
	device_init(&p->dev);
	p->poweroff = poweroff;
	p->opaque = opaque;

	ret = memory_region_init_io(&p->io, &p->dev.obj, &pm_ops, p, "io", 1,
				    err);
	if (ret)
		goto err_unref;
	ret = object_add_child(parent ? parent : object_root(), id,
			       &p->dev.obj, err);
	if (ret)
		goto err_unref;
	object_unref(&p->dev.obj);	/* the parent holds it now */
	ret = device_realize(&p->dev, err);
	if (ret)
		goto err_unparent;
	return p;

err_unparent:
	object_unparent(&p->dev.obj);
	return NULL;
err_unref:
	object_unref(&p->dev.obj);
	return NULL;
}
