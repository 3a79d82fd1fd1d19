// SPDX-License-Identifier: GPL-2.0-only
/* The device core (core/device.c): states, realize, two-phase unplug. */
#include <string.h>

#include "harness.h"
#include "testdev.h"

static bool fail_realize;

static int flaky_realize(struct device *dev, struct error *err)
{
	if (fail_realize)
		return error_setf(err, EIO, "backend missing: give file=PATH");
	return 0;
}

static const struct device_class flaky_class = {
	.obj = {
		.name = "flaky",
		.size = sizeof(struct device),
		.parent = &device_class.obj,
	},
	.realize = flaky_realize,
	/* not hotpluggable */
};

START_TEST(realize_failure_leaves_created)
{
	struct error err = { 0 };
	struct device *d = (struct device *)object_new(&flaky_class.obj);

	device_init(d);
	fail_realize = true;
	ck_assert_int_eq(device_realize(d, &err), -EIO);
	ck_assert_str_eq(err.msg, "backend missing: give file=PATH");
	ck_assert_int_eq(device_get_state(d), DEVICE_CREATED);
	ck_assert(!device_accepting(d));
	fail_realize = false;
	ck_assert_int_eq(device_realize(d, &err), 0);
	ck_assert_int_eq(device_get_state(d), DEVICE_REALIZED);
	ck_assert(device_accepting(d));
	ck_assert_int_eq(device_realize(d, &err), -EBUSY);
	/* Not hotpluggable: refused, and it keeps working. */
	ck_assert_int_eq(device_unplug(d, &err), -EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "not hotpluggable"));
	ck_assert(device_accepting(d));
	device_unrealize(d);
	ck_assert(!device_accepting(d));
	ck_assert_int_eq(device_get_state(d), DEVICE_UNPLUGGING);
	object_unref(&d->obj);
}
END_TEST

START_TEST(device_cast_and_states)
{
	struct tdev *t = tdev_create("t0", 0);
	static const struct object_class other = {
		.name = "other", .size = sizeof(struct object),
	};
	struct object *o = object_new(&other);
	struct error err = { 0 };

	ck_assert_ptr_eq(device_cast(&t->dev.obj), &t->dev);
	ck_assert_ptr_null(device_cast(o));
	ck_assert_ptr_null(device_cast(NULL));
	ck_assert_str_eq(device_state_name(DEVICE_FINALIZED), "finalized");
	ck_assert_str_eq(object_path(&t->mmio.obj), "/t0/mmio");
	object_unref(o);
	tdev_finalized = 0;
	ck_assert_int_eq(device_unplug(&t->dev, &err), 0);
	/* Never mapped: nothing else holds it, it finalizes at once. */
	ck_assert_int_eq(tdev_finalized, 1);
}
END_TEST

START_TEST(unplug_unrealizes_embedded_children)
{
	struct error err = { 0 };
	struct xparent *p = xparent_create("x");

	object_ref(&p->child.dev.obj);
	ck_assert_int_eq(device_unplug(&p->dev, &err), 0);
	ck_assert(!device_accepting(&p->child.dev));
	ck_assert_int_eq(device_get_state(&p->child.dev), DEVICE_UNPLUGGING);
	object_unref(&p->child.dev.obj);
}
END_TEST

static Suite *device_suite(void)
{
	Suite *s = suite_create("device");
	TCase *tc = rcu_tcase("device", 10);

	tcase_add_test(tc, realize_failure_leaves_created);
	tcase_add_test(tc, device_cast_and_states);
	tcase_add_test(tc, unplug_unrealizes_embedded_children);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(device_suite)
