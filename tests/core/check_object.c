// SPDX-License-Identifier: GPL-2.0-only
/* The object tree, paths, counting and storage (core/object.c). */
#include <signal.h>
#include <string.h>

#include "harness.h"

struct box {
	struct object obj;
	struct object inner;		/* embedded child */
	struct object inner2;
	int *finalized;
};

static int finalize_order[8], nfin;

static void box_finalize(struct object *obj)
{
	finalize_order[nfin++] = 1;
}

static void inner_finalize(struct object *obj)
{
	finalize_order[nfin++] = 2;
}

static const struct object_class box_class = {
	.name = "box", .size = sizeof(struct box), .finalize = box_finalize,
};

static const struct object_class inner_class = {
	.name = "inner", .size = sizeof(struct object),
	.finalize = inner_finalize,
};

START_TEST(paths_and_resolve)
{
	struct error err = { 0 };
	struct object *m = object_new(&box_class), *found;
	struct box *b = (struct box *)object_new(&box_class);

	ck_assert_int_eq(object_add_child(object_root(), "machine", m, &err), 0);
	ck_assert_int_eq(object_add_child(m, "serial0", &b->obj, &err), 0);
	ck_assert_int_eq(object_init_child(&b->obj, "mmio", &b->inner,
					   &inner_class, &err), 0);
	ck_assert_str_eq(object_path(&b->inner), "/machine/serial0/mmio");
	/* Paths follow a subtree when it moves. */
	object_ref(&b->obj);
	object_unparent(&b->obj);
	ck_assert_str_eq(object_path(&b->inner), "serial0/mmio");
	ck_assert_int_eq(object_add_child(m, "uart", &b->obj, &err), 0);
	object_unref(&b->obj);
	ck_assert_str_eq(object_path(&b->inner), "/machine/uart/mmio");
	object_unparent(&b->obj);
	ck_assert_int_eq(object_add_child(m, "serial0", &b->obj, &err), 0);
	ck_assert_str_eq(object_path(&b->inner), "/machine/serial0/mmio");
	ck_assert_str_eq(object_path(object_root()), "/");
	found = object_resolve_path("/machine/serial0/mmio");
	ck_assert_ptr_eq(found, &b->inner);
	object_unref(found);
	ck_assert_ptr_null(object_resolve_path("/machine/nothing"));
	ck_assert_ptr_null(object_resolve_path("machine"));
	ck_assert(object_is_descendant(&b->inner, m));
	ck_assert(!object_is_descendant(m, &b->inner));

	/* Duplicate names and second parents are refused with a reason. */
	ck_assert_int_eq(object_add_child(m, "serial0", &b->obj, &err), -EBUSY);
	ck_assert_int_eq(object_init_child(&b->obj, "mmio", &b->inner2,
					   &inner_class, &err), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "mmio"));
	ck_assert_int_eq(object_add_child(m, "a/b", &b->inner2, &err), -EINVAL);

	object_unref(&b->obj);
	object_unref(m);
	nfin = 0;
	object_unparent(m);
	/* machine, then box, then its embedded inner: parents first */
	ck_assert_int_eq(nfin, 3);
	ck_assert_int_eq(finalize_order[0], 1);
	ck_assert_int_eq(finalize_order[1], 1);
	ck_assert_int_eq(finalize_order[2], 2);
}
END_TEST

START_TEST(storage_counted_apart)
{
	long allocs = live_allocations(), objs = live_objects();
	struct error err = { 0 };
	struct box *b = (struct box *)object_new(&box_class);

	ck_assert_int_eq(object_init_child(&b->obj, "inner", &b->inner,
					   &inner_class, &err), 0);
	ck_assert_int_eq(b->obj.storage_ref, 2);
	ck_assert_ptr_eq(b->inner.storage, &b->obj);
	object_ref(&b->inner);
	nfin = 0;
	object_unref(&b->obj);
	ck_assert_int_eq(nfin, 1);		/* box only */
	ck_assert_int_eq(live_allocations(), allocs + 1);
	ck_assert_int_eq(live_objects(), objs + 1);
	/* Detached from a parent that was never in the tree. */
	ck_assert_str_eq(object_path(&b->inner), "box/inner");
	object_unref(&b->inner);
	ck_assert_int_eq(nfin, 2);
	ck_assert_int_eq(live_allocations(), allocs);
	ck_assert_int_eq(live_objects(), objs);
}
END_TEST

START_TEST(unref_null_and_tryref)
{
	struct object *o = object_new(&inner_class);

	object_unref(NULL);
	ck_assert(object_tryref(o));
	ck_assert_int_eq(object_refcount(o), 2);
	object_unref(o);
	object_unref(o);
}
END_TEST

START_TEST(unref_below_zero_aborts)
{
	static const struct object_class cls = {
		.name = "static-thing", .size = sizeof(struct object),
	};
	static struct object s;

	object_init_static(&s, &cls, "thing");
	object_unref(&s);	/* finalizes; nothing freed (static) */
	object_unref(&s);	/* a bug: aborts */
}
END_TEST

START_TEST(ref_after_zero_aborts)
{
	static const struct object_class cls = {
		.name = "static-thing", .size = sizeof(struct object),
	};
	static struct object s;

	object_init_static(&s, &cls, "thing");
	object_unref(&s);
	object_ref(&s);		/* a bug: aborts */
}
END_TEST

START_TEST(errors_format_and_prepend)
{
	struct error err = { 0 };
	char big[2 * ERROR_MSG_MAX];

	ck_assert_int_eq(error_setf(&err, EINVAL, "bad %s", "flag"), -EINVAL);
	ck_assert_int_eq(err.code, -EINVAL);
	error_prepend(&err, "--mem: ");
	ck_assert_str_eq(err.msg, "--mem: bad flag");
	ck_assert_int_eq(error_setf(NULL, ENOENT, "x"), -ENOENT);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	error_setf(&err, E2BIG, "%s", big);
	error_prepend(&err, "ctx: ");
	ck_assert_int_eq(strncmp(err.msg, "ctx: xxx", 8), 0);
	ck_assert_int_eq(strlen(err.msg), ERROR_MSG_MAX - 1);
}
END_TEST

static Suite *object_suite(void)
{
	Suite *s = suite_create("object");
	TCase *tc = tcase_create("object");

	tcase_add_test(tc, paths_and_resolve);
	tcase_add_test(tc, storage_counted_apart);
	tcase_add_test(tc, unref_null_and_tryref);
	tcase_add_test_raise_signal(tc, unref_below_zero_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, ref_after_zero_aborts, SIGABRT);
	tcase_add_test(tc, errors_format_and_prepend);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(object_suite)
