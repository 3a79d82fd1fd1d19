// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for mm/flatview.c: rendering of the region tree into flat views,
 * the tree API that feeds it (priorities, overlaps, aliases, cycles,
 * enable/readonly, resize, placement limits), transactions, listeners and
 * the "info mtree"-style dumps.
 *
 * Every test compares dumps against the exact expected text, tears down
 * what it built and checks, after a grace period, that the live object
 * and allocation counters are back where they started.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "flatvm/memory.h"
#include "flatvm/object.h"
#include "harness.h"

/* Every call that may fail records here; tests run one per process. */
static struct error err;

/* ---- Helpers ----------------------------------------------------------- */

#define ck_ok(call)							\
	do {								\
		int ret_;						\
									\
		error_clear(&err);					\
		ret_ = (call);						\
		ck_assert_msg(ret_ == 0, "%s returned %d: %s", #call,	\
			      ret_, err.msg);				\
	} while (0)

/* @call fails with -@errnum and records the same code in err. */
#define ck_fails(errnum, call)						\
	do {								\
		int ret_;						\
									\
		error_clear(&err);					\
		ret_ = (call);						\
		ck_assert_msg(ret_ == -(errnum),			\
			      "%s returned %d, expected %d (%s)", #call,	\
			      ret_, -(errnum), err.msg);		\
		ck_assert_int_eq(err.code, -(errnum));			\
	} while (0)

/* The last error message names region @name (quoted, as mm/ does). */
#define ck_msg_names(name)						\
	ck_assert_msg(strstr(err.msg, "'" name "'") != NULL,		\
		      "error message \"%s\" does not name '%s'", err.msg,	\
		      name)

static char *dump_as(struct address_space *as, bool flat)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	if (flat)
		address_space_dump_flat(as, out);
	else
		address_space_dump_tree(as, out);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

#define ck_dump_eq(as, flat, expected)					\
	do {								\
		char *dump_ = dump_as(as, flat);			\
									\
		ck_assert_str_eq(dump_, expected);			\
		free(dump_);						\
	} while (0)

#define ck_flat(as, expected)	ck_dump_eq(as, true, expected)
#define ck_tree(as, expected)	ck_dump_eq(as, false, expected)

static uint64_t dummy_read(void *opaque, uint64_t addr, unsigned size)
{
	return 0;
}

static void dummy_write(void *opaque, uint64_t addr, uint64_t val,
			unsigned size)
{
}

static const struct memory_region_ops dummy_ops = {
	.read = dummy_read,
	.write = dummy_write,
};

static void container_init(struct memory_region *mr, const char *name,
			   uint64_t size)
{
	ck_ok(memory_region_init(mr, NULL, name, size, &err));
}

static void ram_init(struct memory_region *mr, const char *name,
		     uint64_t size)
{
	ck_ok(memory_region_init_ram(mr, NULL, name, size, &err));
}

static void rom_init(struct memory_region *mr, const char *name,
		     uint64_t size)
{
	ck_ok(memory_region_init_rom(mr, NULL, name, size, &err));
}

static void io_init(struct memory_region *mr, const char *name,
		    uint64_t size)
{
	ck_ok(memory_region_init_io(mr, NULL, &dummy_ops, NULL, name, size,
				    &err));
}

static void alias_init(struct memory_region *mr, const char *name,
		       struct memory_region *target, uint64_t offset,
		       uint64_t size)
{
	ck_ok(memory_region_init_alias(mr, NULL, name, target, offset, size,
				       &err));
}

static void map(struct memory_region *c, uint64_t offset,
		struct memory_region *mr)
{
	ck_ok(memory_region_add_subregion(c, offset, mr, &err));
}

static void map_prio(struct memory_region *c, uint64_t offset,
		     struct memory_region *mr, int priority)
{
	ck_ok(memory_region_add_subregion_prio(c, offset, mr, priority, &err));
}

static void map_overlap(struct memory_region *c, uint64_t offset,
			struct memory_region *mr, int priority)
{
	ck_ok(memory_region_add_subregion_overlap(c, offset, mr, priority,
						  &err));
}

static void unmap(struct memory_region *c, struct memory_region *mr)
{
	ck_ok(memory_region_del_subregion(c, mr, &err));
}

/* Unmap every direct subregion of @c (single-threaded test: no lock). */
static void unmap_all(struct memory_region *c)
{
	struct memory_region *sub;

	while (!cds_list_empty(&c->subregions)) {
		sub = cds_list_first_entry(&c->subregions,
					   struct memory_region,
					   subregions_link);
		unmap(c, sub);
	}
}

/* A standalone root container and its address space. */
static void as_setup(struct address_space *as, const char *as_name,
		     struct memory_region *root, const char *root_name,
		     uint64_t size)
{
	container_init(root, root_name, size);
	ck_ok(address_space_init(as, root, as_name, &err));
}

static void as_teardown(struct address_space *as, struct memory_region *root)
{
	unmap_all(root);
	address_space_destroy(as);
	memory_region_unref(root);
}

static uint8_t read_byte(struct address_space *as, uint64_t addr)
{
	uint8_t b = 0;

	ck_assert_int_eq(address_space_read(as, addr, &b, 1), 0);
	return b;
}

static uint8_t *ram_ptr(struct memory_region *mr)
{
	uint8_t *p = memory_region_get_ram_ptr(mr);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* ---- Leak accounting --------------------------------------------------- */

struct leak_mark {
	long objects;
	long allocations;
};

static struct leak_mark leak_mark(void)
{
	rcu_flush();
	return (struct leak_mark){
		.objects = live_objects(),
		.allocations = live_allocations(),
	};
}

/* After a grace period, everything the test made has been finalized. */
#define ck_no_leaks(mark)						\
	do {								\
		rcu_flush();						\
		ck_assert_int_eq(live_objects(), (mark).objects);	\
		ck_assert_int_eq(live_allocations(), (mark).allocations); \
	} while (0)

/* ---- A small owner object ---------------------------------------------- */

struct test_dev {
	struct object obj;
	struct memory_region mmio;	/* embedded region */
	struct memory_region *fifo;	/* heap region, a child of obj */
};

static const struct object_class test_dev_class = {
	.name = "test-dev",
	.size = sizeof(struct test_dev),
};

static struct test_dev *test_dev_new(void)
{
	struct object *obj = object_new(&test_dev_class);
	struct test_dev *dev;

	ck_assert_ptr_nonnull(obj);
	dev = container_of(obj, struct test_dev, obj);
	ck_ok(memory_region_init_io(&dev->mmio, obj, &dummy_ops, dev, "uart",
				    0x1000, &err));
	error_clear(&err);
	dev->fifo = memory_region_new_io(obj, &dummy_ops, dev, "uart-fifo",
					 0x100, &err);
	ck_assert_msg(dev->fifo != NULL, "memory_region_new_io: %s",
		      err.msg);
	return dev;
}

/* ---- A recording listener ---------------------------------------------- */

enum call_kind {
	CALL_BEGIN,
	CALL_COMMIT,
	CALL_REGION_ADD,
	CALL_REGION_DEL,
	CALL_EVENTFD_ADD,
	CALL_EVENTFD_DEL,
};

struct call {
	enum call_kind kind;
	char name[32];
	uint64_t addr;
	uint64_t size;
	uint64_t offset;
	bool readonly;
	bool match_data;
	uint64_t data;
	int fd;
};

#define MAX_CALLS	64

struct recorder {
	struct memory_listener l;
	struct call calls[MAX_CALLS];
	unsigned nr;
	int efd;		/* shown as "efd" in the log */
};

static struct recorder *to_recorder(struct memory_listener *l)
{
	return container_of(l, struct recorder, l);
}

static struct call *rec_next(struct memory_listener *l, enum call_kind kind)
{
	struct recorder *r = to_recorder(l);
	struct call *c;

	ck_assert_uint_lt(r->nr, MAX_CALLS);
	c = &r->calls[r->nr++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	return c;
}

static void rec_begin(struct memory_listener *l)
{
	rec_next(l, CALL_BEGIN);
}

static void rec_commit(struct memory_listener *l)
{
	rec_next(l, CALL_COMMIT);
}

static void rec_region(struct memory_listener *l, enum call_kind kind,
		       const struct memory_region_section *s)
{
	struct call *c = rec_next(l, kind);

	ck_assert_ptr_eq(s->as, l->as);
	ck_assert_ptr_nonnull(s->mr);
	snprintf(c->name, sizeof(c->name), "%s", memory_region_name(s->mr));
	c->addr = s->offset_within_as;
	c->size = s->size;
	c->offset = s->offset_within_region;
	c->readonly = s->readonly;
}

static void rec_region_add(struct memory_listener *l,
			   const struct memory_region_section *s)
{
	rec_region(l, CALL_REGION_ADD, s);
}

static void rec_region_del(struct memory_listener *l,
			   const struct memory_region_section *s)
{
	rec_region(l, CALL_REGION_DEL, s);
}

static void rec_eventfd(struct memory_listener *l, enum call_kind kind,
			const struct memory_region_section *s,
			bool match_data, uint64_t data, int fd)
{
	struct call *c = rec_next(l, kind);

	ck_assert_ptr_eq(s->as, l->as);
	c->addr = s->offset_within_as;
	c->size = s->size;
	c->match_data = match_data;
	c->data = data;
	c->fd = fd;
}

static void rec_eventfd_add(struct memory_listener *l,
			    const struct memory_region_section *s,
			    bool match_data, uint64_t data, int fd)
{
	rec_eventfd(l, CALL_EVENTFD_ADD, s, match_data, data, fd);
}

static void rec_eventfd_del(struct memory_listener *l,
			    const struct memory_region_section *s,
			    bool match_data, uint64_t data, int fd)
{
	rec_eventfd(l, CALL_EVENTFD_DEL, s, match_data, data, fd);
}

static void recorder_init(struct recorder *r, const char *name, int efd)
{
	memset(r, 0, sizeof(*r));
	r->l = (struct memory_listener){
		.name = name,
		.begin = rec_begin,
		.commit = rec_commit,
		.region_add = rec_region_add,
		.region_del = rec_region_del,
		.eventfd_add = rec_eventfd_add,
		.eventfd_del = rec_eventfd_del,
	};
	r->efd = efd;
}

/* The calls recorded so far as text, one per line; clears the record. */
static char *rec_take(struct recorder *r)
{
	static const char *const what[] = {
		[CALL_REGION_ADD] = "add",
		[CALL_REGION_DEL] = "del",
		[CALL_EVENTFD_ADD] = "eventfd_add",
		[CALL_EVENTFD_DEL] = "eventfd_del",
	};
	const struct call *c;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	unsigned i;

	out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	for (i = 0; i < r->nr; i++) {
		c = &r->calls[i];
		switch (c->kind) {
		case CALL_BEGIN:
			fprintf(out, "begin\n");
			break;
		case CALL_COMMIT:
			fprintf(out, "commit\n");
			break;
		case CALL_REGION_ADD:
		case CALL_REGION_DEL:
			fprintf(out, "%s %s 0x%" PRIx64 "+0x%" PRIx64
				" @0x%" PRIx64 "%s\n", what[c->kind], c->name,
				c->addr, c->size, c->offset,
				c->readonly ? " ro" : "");
			break;
		case CALL_EVENTFD_ADD:
		case CALL_EVENTFD_DEL:
			fprintf(out, "%s 0x%" PRIx64 "+%" PRIu64, what[c->kind],
				c->addr, c->size);
			if (c->match_data)
				fprintf(out, " data=0x%" PRIx64, c->data);
			else
				fprintf(out, " any");
			if (c->fd == r->efd)
				fprintf(out, " efd\n");
			else
				fprintf(out, " fd=%d\n", c->fd);
			break;
		}
	}
	ck_assert_int_eq(fclose(out), 0);
	r->nr = 0;
	return buf;
}

#define ck_calls(r, expected)						\
	do {								\
		char *calls_ = rec_take(r);				\
									\
		ck_assert_str_eq(calls_, expected);			\
		free(calls_);						\
	} while (0)

/* Region and eventfd calls recorded (begin/commit not counted). */
static unsigned rec_changes(const struct recorder *r)
{
	unsigned i, n = 0;

	for (i = 0; i < r->nr; i++)
		if (r->calls[i].kind != CALL_BEGIN &&
		    r->calls[i].kind != CALL_COMMIT)
			n++;
	return n;
}

/* ---- Overlaps and priorities ------------------------------------------- */

START_TEST(test_priority_punch_through)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, hole, under;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x10000);
	ram_init(&ram, "ram", 0x8000);
	io_init(&hole, "hole", 0x1000);
	io_init(&under, "under", 0x4000);
	map(&root, 0, &ram);
	map_prio(&root, 0x2000, &hole, 1);
	/* Lower priority: only what sticks out past "ram" is visible. */
	map_prio(&root, 0x6000, &under, -1);

	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000001fff (ram): ram\n"
		"  0000000000002000-0000000000002fff (mmio): hole\n"
		"  0000000000003000-0000000000007fff (ram): ram @0000000000003000\n"
		"  0000000000008000-0000000000009fff (mmio): under @0000000000002000\n");
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-000000000000ffff (prio 0, container): root\n"
		"    0000000000002000-0000000000002fff (prio 1, mmio): hole\n"
		"    0000000000000000-0000000000007fff (prio 0, ram): ram\n"
		"    0000000000006000-0000000000009fff (prio -1, mmio): under\n");

	/* The RAM below the hole and above it is the same backing store. */
	ram_ptr(&ram)[0x3000] = 0x5a;
	ck_assert_uint_eq(read_byte(&as, 0x3000), 0x5a);

	as_teardown(&as, &root);
	memory_region_unref(&ram);
	memory_region_unref(&hole);
	memory_region_unref(&under);
	ck_no_leaks(mark);
}
END_TEST

START_TEST(test_equal_priority_overlap_refused)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, dev, dev2, ram2;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x10000);
	ram_init(&ram, "ram", 0x8000);
	io_init(&dev, "dev", 0x1000);
	io_init(&dev2, "dev2", 0x1000);
	ram_init(&ram2, "ram2", 0x2000);
	map(&root, 0, &ram);

	ck_fails(EEXIST, memory_region_add_subregion(&root, 0x7000, &dev,
						     &err));
	ck_msg_names("dev");
	ck_msg_names("ram");
	ck_assert_ptr_null(dev.container);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000007fff (ram): ram\n");

	/* Adjacent is not overlapping. */
	map(&root, 0x8000, &dev);
	/* Moving into the same priority's territory is refused too. */
	ck_fails(EEXIST, memory_region_set_address(&dev, 0x7800, &err));
	ck_msg_names("dev");
	ck_msg_names("ram");
	ck_assert_uint_eq(dev.addr, 0x8000);

	/* With the _overlap form it is allowed, and the newest wins. */
	map_overlap(&root, 0x7000, &dev2, 0);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000006fff (ram): ram\n"
		"  0000000000007000-0000000000007fff (mmio): dev2\n"
		"  0000000000008000-0000000000008fff (mmio): dev\n");

	/*
	 * Overlapping a may-overlap sibling is fine, but ram2 would also
	 * overlap "dev", which was not added with the _overlap form.
	 */
	ck_fails(EEXIST, memory_region_add_subregion(&root, 0x7000, &ram2,
						     &err));
	ck_msg_names("ram2");
	ck_msg_names("dev");
	ck_assert_ptr_null(ram2.container);

	as_teardown(&as, &root);
	memory_region_unref(&ram);
	memory_region_unref(&dev);
	memory_region_unref(&dev2);
	memory_region_unref(&ram2);
	ck_no_leaks(mark);
}
END_TEST

START_TEST(test_overlap_last_added_wins)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, a, b, c, d;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x10000);
	io_init(&a, "a", 0x4000);
	io_init(&b, "b", 0x4000);
	io_init(&c, "c", 0x1000);
	io_init(&d, "d", 0x1000);
	map_overlap(&root, 0x1000, &a, 0);
	map_overlap(&root, 0x3000, &b, 0);
	map_overlap(&root, 0x2000, &c, 0);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000001000-0000000000001fff (mmio): a\n"
		"  0000000000002000-0000000000002fff (mmio): c\n"
		"  0000000000003000-0000000000006fff (mmio): b\n");

	/* Re-adding "a" makes it the newest: it now covers c and part of b. */
	unmap(&root, &a);
	map_overlap(&root, 0x1000, &a, 0);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000001000-0000000000004fff (mmio): a\n"
		"  0000000000005000-0000000000006fff (mmio): b @0000000000002000\n");

	/* Priority beats age: an older, lower-priority region stays below. */
	map_overlap(&root, 0x4000, &d, -1);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000001000-0000000000004fff (mmio): a\n"
		"  0000000000005000-0000000000006fff (mmio): b @0000000000002000\n");
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-000000000000ffff (prio 0, container): root\n"
		"    0000000000001000-0000000000004fff (prio 0, mmio): a\n"
		"    0000000000002000-0000000000002fff (prio 0, mmio): c\n"
		"    0000000000003000-0000000000006fff (prio 0, mmio): b\n"
		"    0000000000004000-0000000000004fff (prio -1, mmio): d\n");

	as_teardown(&as, &root);
	memory_region_unref(&a);
	memory_region_unref(&b);
	memory_region_unref(&c);
	memory_region_unref(&d);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Aliases and cycles ------------------------------------------------ */

START_TEST(test_alias_windows)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, lo, hi, hi_win, bus, dev0, bus_ram;
	struct memory_region bus_win;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x100000);
	ram_init(&ram, "ram", 0x10000);
	alias_init(&lo, "lo", &ram, 0, 0x4000);
	alias_init(&hi, "hi", &ram, 0x8000, 0x4000);
	/* An alias of an alias: window offsets compose (0x8000 + 0x1000). */
	alias_init(&hi_win, "hi-win", &hi, 0x1000, 0x1000);
	container_init(&bus, "bus", 0x10000);
	io_init(&dev0, "dev0", 0x1000);
	ram_init(&bus_ram, "bus-ram", 0x2000);
	map(&bus, 0x1000, &dev0);
	map(&bus, 0x8000, &bus_ram);
	/* An alias into a container clips what straddles its window. */
	alias_init(&bus_win, "bus-win", &bus, 0x1800, 0x8000);

	map(&root, 0, &lo);
	map(&root, 0x20000, &hi);
	map(&root, 0x30000, &hi_win);
	map(&root, 0x80000, &bus);
	map(&root, 0x40000, &bus_win);

	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000020000-0000000000023fff (ram): ram @0000000000008000\n"
		"  0000000000030000-0000000000030fff (ram): ram @0000000000009000\n"
		"  0000000000040000-00000000000407ff (mmio): dev0 @0000000000000800\n"
		"  0000000000046800-0000000000047fff (ram): bus-ram\n"
		"  0000000000081000-0000000000081fff (mmio): dev0\n"
		"  0000000000088000-0000000000089fff (ram): bus-ram\n");
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-00000000000fffff (prio 0, container): root\n"
		"    0000000000040000-0000000000047fff (prio 0, alias): bus-win @bus 0000000000001800-00000000000097ff\n"
		"    0000000000080000-000000000008ffff (prio 0, container): bus\n"
		"      0000000000088000-0000000000089fff (prio 0, ram): bus-ram\n"
		"      0000000000081000-0000000000081fff (prio 0, mmio): dev0\n"
		"    0000000000030000-0000000000030fff (prio 0, alias): hi-win @hi 0000000000001000-0000000000001fff\n"
		"    0000000000020000-0000000000023fff (prio 0, alias): hi @ram 0000000000008000-000000000000bfff\n"
		"    0000000000000000-0000000000003fff (prio 0, alias): lo @ram 0000000000000000-0000000000003fff\n");

	/* Moving the inner window moves the outer one with it. */
	ck_ok(memory_region_set_alias_offset(&hi, 0xc000, &err));
	ck_fails(ERANGE, memory_region_set_alias_offset(&hi, 0xd000, &err));
	ck_fails(EINVAL, memory_region_set_alias_offset(&ram, 0, &err));
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000020000-0000000000023fff (ram): ram @000000000000c000\n"
		"  0000000000030000-0000000000030fff (ram): ram @000000000000d000\n"
		"  0000000000040000-00000000000407ff (mmio): dev0 @0000000000000800\n"
		"  0000000000046800-0000000000047fff (ram): bus-ram\n"
		"  0000000000081000-0000000000081fff (mmio): dev0\n"
		"  0000000000088000-0000000000089fff (ram): bus-ram\n");
	ram_ptr(&ram)[0xd000] = 0x42;
	ck_assert_uint_eq(read_byte(&as, 0x30000), 0x42);
	ck_assert_uint_eq(read_byte(&as, 0x21000), 0x42);
	ram_ptr(&bus_ram)[0x17ff] = 0x24;
	ck_assert_uint_eq(read_byte(&as, 0x47fff), 0x24);
	ck_assert_uint_eq(read_byte(&as, 0x897ff), 0x24);

	/* A window outside its target is refused at creation. */
	{
		struct memory_region bad;

		ck_fails(ERANGE, memory_region_init_alias(&bad, NULL, "bad",
							  &ram, 0xf000,
							  0x2000, &err));
		ck_msg_names("bad");
		ck_msg_names("ram");
	}

	as_teardown(&as, &root);
	unmap_all(&bus);
	memory_region_unref(&bus_win);
	memory_region_unref(&hi_win);
	memory_region_unref(&hi);
	memory_region_unref(&lo);
	memory_region_unref(&bus);
	memory_region_unref(&dev0);
	memory_region_unref(&bus_ram);
	memory_region_unref(&ram);
	ck_no_leaks(mark);
}
END_TEST

START_TEST(test_cycles_refused)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, c, ram, c_alias, c_alias2, root_alias;
	struct memory_region d, e, f, d_alias;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x10000);
	container_init(&c, "c", 0x8000);
	ram_init(&ram, "ram", 0x1000);
	map(&root, 0, &c);
	map(&c, 0, &ram);

	/* An alias of a container, added into that container. */
	alias_init(&c_alias, "c-alias", &c, 0, 0x1000);
	ck_fails(ELOOP, memory_region_add_subregion(&c, 0x4000, &c_alias,
						    &err));
	ck_msg_names("c-alias");
	ck_msg_names("c");
	/* ... or through an alias of the alias. */
	alias_init(&c_alias2, "c-alias2", &c_alias, 0, 0x800);
	ck_fails(ELOOP, memory_region_add_subregion(&c, 0x4000, &c_alias2,
						    &err));
	ck_msg_names("c-alias2");
	alias_init(&root_alias, "root-alias", &root, 0, 0x1000);
	ck_fails(ELOOP, memory_region_add_subregion(&root, 0x8000,
						    &root_alias, &err));

	/* A container into itself. */
	container_init(&d, "d", 0x1000);
	ck_fails(ELOOP, memory_region_add_subregion(&d, 0, &d, &err));
	ck_msg_names("d");

	/* A container into its own descendant. */
	container_init(&e, "e", 0x1000);
	container_init(&f, "f", 0x1000);
	map(&d, 0, &e);
	map(&e, 0, &f);
	ck_fails(ELOOP, memory_region_add_subregion(&f, 0, &d, &err));
	ck_msg_names("d");
	ck_msg_names("f");
	ck_fails(ELOOP, memory_region_add_subregion(&e, 0, &d, &err));
	/* An alias of the ancestor into the descendant. */
	alias_init(&d_alias, "d-alias", &d, 0, 0x1000);
	ck_fails(ELOOP, memory_region_add_subregion(&f, 0, &d_alias, &err));

	/* Nothing moved. */
	ck_assert_ptr_null(c_alias.container);
	ck_assert_ptr_null(c_alias2.container);
	ck_assert_ptr_null(root_alias.container);
	ck_assert_ptr_null(d.container);
	ck_assert_ptr_null(d_alias.container);
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-000000000000ffff (prio 0, container): root\n"
		"    0000000000000000-0000000000007fff (prio 0, container): c\n"
		"      0000000000000000-0000000000000fff (prio 0, ram): ram\n");
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): ram\n");

	/*
	 * Not cycles: an alias of a detached tree, and an alias of "c"
	 * beside "c" in c's own container.
	 */
	map(&root, 0x8000, &d_alias);
	map(&root, 0x9000, &c_alias);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): ram\n"
		"  0000000000009000-0000000000009fff (ram): ram\n");

	as_teardown(&as, &root);
	unmap(&c, &ram);
	unmap(&e, &f);
	unmap(&d, &e);
	memory_region_unref(&d_alias);
	memory_region_unref(&root_alias);
	memory_region_unref(&c_alias2);
	memory_region_unref(&c_alias);
	memory_region_unref(&d);
	memory_region_unref(&e);
	memory_region_unref(&f);
	memory_region_unref(&c);
	memory_region_unref(&ram);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Nesting ----------------------------------------------------------- */

START_TEST(test_nested_containers)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, pci, bridge, bar, bar_ram, pci_dev;
	struct memory_region smm, big;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x100000);
	ram_init(&ram, "ram", 0x90000);
	container_init(&pci, "pci", 0x10000);
	container_init(&bridge, "bridge", 0x4000);
	io_init(&bar, "bar", 0x1000);
	ram_init(&bar_ram, "bar-ram", 0x1000);
	io_init(&pci_dev, "pci-dev", 0x1000);
	io_init(&smm, "smm", 0x800);
	io_init(&big, "big", 0x2000);

	map(&bridge, 0, &bar_ram);
	map(&bridge, 0x3000, &bar);
	map(&pci, 0x2000, &bridge);
	map(&pci, 0x8000, &pci_dev);
	/* The containers are transparent: "ram" shows through the gaps. */
	map_prio(&root, 0, &ram, -1);
	map(&root, 0x80000, &pci);
	/* A higher-priority sibling clips a region nested two levels down. */
	map_prio(&root, 0x85800, &smm, 1);

	ck_fails(ERANGE, memory_region_add_subregion(&bridge, 0x3000, &big,
						     &err));
	ck_msg_names("big");
	ck_msg_names("bridge");

	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000081fff (ram): ram\n"
		"  0000000000082000-0000000000082fff (ram): bar-ram\n"
		"  0000000000083000-0000000000084fff (ram): ram @0000000000083000\n"
		"  0000000000085000-00000000000857ff (mmio): bar\n"
		"  0000000000085800-0000000000085fff (mmio): smm\n"
		"  0000000000086000-0000000000087fff (ram): ram @0000000000086000\n"
		"  0000000000088000-0000000000088fff (mmio): pci-dev\n"
		"  0000000000089000-000000000008ffff (ram): ram @0000000000089000\n");

	/* Moving the outer container moves everything below it. */
	ck_ok(memory_region_set_address(&pci, 0xa0000, &err));
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-00000000000857ff (ram): ram\n"
		"  0000000000085800-0000000000085fff (mmio): smm\n"
		"  0000000000086000-000000000008ffff (ram): ram @0000000000086000\n"
		"  00000000000a2000-00000000000a2fff (ram): bar-ram\n"
		"  00000000000a5000-00000000000a5fff (mmio): bar\n"
		"  00000000000a8000-00000000000a8fff (mmio): pci-dev\n");
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-00000000000fffff (prio 0, container): root\n"
		"    0000000000085800-0000000000085fff (prio 1, mmio): smm\n"
		"    00000000000a0000-00000000000affff (prio 0, container): pci\n"
		"      00000000000a8000-00000000000a8fff (prio 0, mmio): pci-dev\n"
		"      00000000000a2000-00000000000a5fff (prio 0, container): bridge\n"
		"        00000000000a5000-00000000000a5fff (prio 0, mmio): bar\n"
		"        00000000000a2000-00000000000a2fff (prio 0, ram): bar-ram\n"
		"    0000000000000000-000000000008ffff (prio -1, ram): ram\n");

	/* Past the end of the root is refused and changes nothing. */
	ck_fails(ERANGE, memory_region_set_address(&pci, 0xf8000, &err));
	ck_assert_uint_eq(pci.addr, 0xa0000);

	as_teardown(&as, &root);
	unmap_all(&pci);
	unmap_all(&bridge);
	memory_region_unref(&ram);
	memory_region_unref(&pci);
	memory_region_unref(&bridge);
	memory_region_unref(&bar);
	memory_region_unref(&bar_ram);
	memory_region_unref(&pci_dev);
	memory_region_unref(&smm);
	memory_region_unref(&big);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Enable, readonly, ROM --------------------------------------------- */

START_TEST(test_enable_disable)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, dev, sub, sub_ram;
	struct address_space as;
	uint8_t b;

	as_setup(&as, "mem", &root, "root", 0x10000);
	ram_init(&ram, "ram", 0x4000);
	io_init(&dev, "dev", 0x1000);
	container_init(&sub, "sub", 0x2000);
	ram_init(&sub_ram, "sub-ram", 0x1000);
	map(&root, 0, &ram);
	map(&root, 0x8000, &dev);
	map(&sub, 0x1000, &sub_ram);
	map(&root, 0xa000, &sub);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000008000-0000000000008fff (mmio): dev\n"
		"  000000000000b000-000000000000bfff (ram): sub-ram\n");

	memory_region_set_enabled(&dev, false);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  000000000000b000-000000000000bfff (ram): sub-ram\n");
	b = 0;
	ck_assert_int_eq(address_space_read(&as, 0x8000, &b, 1), -EFAULT);
	ck_assert_uint_eq(b, 0xff);

	/* A disabled container hides its (enabled) subregions. */
	memory_region_set_enabled(&sub, false);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n");
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-000000000000ffff (prio 0, container): root\n"
		"    000000000000a000-000000000000bfff (prio 0, container, disabled): sub\n"
		"      000000000000b000-000000000000bfff (prio 0, ram): sub-ram\n"
		"    0000000000008000-0000000000008fff (prio 0, mmio, disabled): dev\n"
		"    0000000000000000-0000000000003fff (prio 0, ram): ram\n");

	memory_region_set_enabled(&dev, true);
	memory_region_set_enabled(&sub, true);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000008000-0000000000008fff (mmio): dev\n"
		"  000000000000b000-000000000000bfff (ram): sub-ram\n");
	ck_assert_int_eq(address_space_read(&as, 0x8000, &b, 1), 0);

	as_teardown(&as, &root);
	unmap_all(&sub);
	memory_region_unref(&ram);
	memory_region_unref(&dev);
	memory_region_unref(&sub);
	memory_region_unref(&sub_ram);
	ck_no_leaks(mark);
}
END_TEST

START_TEST(test_readonly_and_rom)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, bios, sub, sub_ram, sub_dev, ro_win;
	struct address_space as;
	struct address_space_stats st;
	uint8_t b = 0x99;

	as_setup(&as, "mem", &root, "root", 0x20000);
	ram_init(&ram, "ram", 0x2000);
	rom_init(&bios, "bios", 0x1000);
	container_init(&sub, "sub", 0x4000);
	ram_init(&sub_ram, "sub-ram", 0x1000);
	io_init(&sub_dev, "sub-dev", 0x1000);
	alias_init(&ro_win, "ro-win", &ram, 0x1000, 0x1000);
	map(&root, 0, &ram);
	map(&root, 0xf000, &bios);
	map(&sub, 0, &sub_ram);
	map(&sub, 0x2000, &sub_dev);
	map(&root, 0x10000, &sub);
	map(&root, 0x4000, &ro_win);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000001fff (ram): ram\n"
		"  0000000000004000-0000000000004fff (ram): ram @0000000000001000\n"
		"  000000000000f000-000000000000ffff (rom): bios\n"
		"  0000000000010000-0000000000010fff (ram): sub-ram\n"
		"  0000000000012000-0000000000012fff (mmio): sub-dev\n");

	memory_region_set_readonly(&ram, true);
	/* Readonly inherited from a container; ROM stays plain "rom". */
	memory_region_set_readonly(&sub, true);
	memory_region_set_readonly(&bios, true);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000001fff (ram, readonly): ram\n"
		"  0000000000004000-0000000000004fff (ram, readonly): ram @0000000000001000\n"
		"  000000000000f000-000000000000ffff (rom): bios\n"
		"  0000000000010000-0000000000010fff (ram, readonly): sub-ram\n"
		"  0000000000012000-0000000000012fff (mmio, readonly): sub-dev\n");
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-000000000001ffff (prio 0, container): root\n"
		"    0000000000004000-0000000000004fff (prio 0, alias): ro-win @ram 0000000000001000-0000000000001fff\n"
		"    0000000000010000-0000000000013fff (prio 0, container, readonly): sub\n"
		"      0000000000012000-0000000000012fff (prio 0, mmio): sub-dev\n"
		"      0000000000010000-0000000000010fff (prio 0, ram): sub-ram\n"
		"    000000000000f000-000000000000ffff (prio 0, rom, readonly): bios\n"
		"    0000000000000000-0000000000001fff (prio 0, ram, readonly): ram\n");

	/* Writes to read-only ranges and to ROM are dropped and counted. */
	ck_assert_int_eq(address_space_write(&as, 0x10, &b, 1), 0);
	ck_assert_int_eq(address_space_write(&as, 0xf010, &b, 1), 0);
	ck_assert_uint_eq(ram_ptr(&ram)[0x10], 0);
	ck_assert_uint_eq(ram_ptr(&bios)[0x10], 0);
	address_space_get_stats(&as, &st);
	ck_assert_uint_eq(st.readonly_writes, 2);

	/* Read-only only through the alias: the window, not the region. */
	memory_region_set_readonly(&ram, false);
	memory_region_set_readonly(&sub, false);
	memory_region_set_readonly(&ro_win, true);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000001fff (ram): ram\n"
		"  0000000000004000-0000000000004fff (ram, readonly): ram @0000000000001000\n"
		"  000000000000f000-000000000000ffff (rom): bios\n"
		"  0000000000010000-0000000000010fff (ram): sub-ram\n"
		"  0000000000012000-0000000000012fff (mmio): sub-dev\n");
	ck_assert_int_eq(address_space_write(&as, 0x1010, &b, 1), 0);
	ck_assert_uint_eq(read_byte(&as, 0x4010), 0x99);

	as_teardown(&as, &root);
	unmap_all(&sub);
	memory_region_unref(&ro_win);
	memory_region_unref(&ram);
	memory_region_unref(&bios);
	memory_region_unref(&sub);
	memory_region_unref(&sub_ram);
	memory_region_unref(&sub_dev);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Resize ------------------------------------------------------------ */

START_TEST(test_resize)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, vram, top, dev;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x20000);
	ram_init(&ram, "ram", 0x1000);
	ck_ok(memory_region_init_ram_resizeable(&vram, NULL, "vram", 0x2000,
						0x8000, &err));
	ck_ok(memory_region_init_ram_resizeable(&top, NULL, "top", 0x1000,
						0x8000, &err));
	io_init(&dev, "dev", 0x1000);
	map(&root, 0, &ram);
	map(&root, 0x10000, &vram);
	map(&root, 0x1e000, &top);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): ram\n"
		"  0000000000010000-0000000000011fff (ram): vram\n"
		"  000000000001e000-000000000001efff (ram): top\n");

	/* Grow: the range follows, and the data in place stays. */
	ram_ptr(&vram)[0] = 0x11;
	ck_ok(memory_region_ram_resize(&vram, 0x4000, &err));
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): ram\n"
		"  0000000000010000-0000000000013fff (ram): vram\n"
		"  000000000001e000-000000000001efff (ram): top\n");
	ram_ptr(&vram)[0x3000] = 0x33;
	ck_assert_uint_eq(read_byte(&as, 0x10000), 0x11);
	ck_assert_uint_eq(read_byte(&as, 0x13000), 0x33);

	/* Shrink: the tail leaves the view and reads as zero when regrown. */
	ck_ok(memory_region_ram_resize(&vram, 0x1000, &err));
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): ram\n"
		"  0000000000010000-0000000000010fff (ram): vram\n"
		"  000000000001e000-000000000001efff (ram): top\n");
	ck_assert_int_eq(address_space_read(&as, 0x13000, &(uint8_t){ 0 }, 1),
			 -EFAULT);
	ck_ok(memory_region_ram_resize(&vram, 0x4000, &err));
	ck_assert_uint_eq(read_byte(&as, 0x10000), 0x11);
	ck_assert_uint_eq(read_byte(&as, 0x13000), 0);
	ck_ok(memory_region_ram_resize(&vram, 0x2000, &err));

	/* Beyond the reserved maximum, or to nothing. */
	ck_fails(ERANGE, memory_region_ram_resize(&vram, 0x9000, &err));
	ck_msg_names("vram");
	ck_fails(ERANGE, memory_region_ram_resize(&vram, 0, &err));

	/* Exactly up to the container's end is fine; one page more is not. */
	ck_ok(memory_region_ram_resize(&top, 0x2000, &err));
	ck_fails(ERANGE, memory_region_ram_resize(&top, 0x3000, &err));
	ck_msg_names("top");
	ck_msg_names("root");

	/* Only RAM and ROM resize. */
	ck_fails(EINVAL, memory_region_ram_resize(&dev, 0x2000, &err));

	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): ram\n"
		"  0000000000010000-0000000000011fff (ram): vram\n"
		"  000000000001e000-000000000001ffff (ram): top\n");
	ck_tree(&as,
		"address-space: mem\n"
		"  0000000000000000-000000000001ffff (prio 0, container): root\n"
		"    000000000001e000-000000000001ffff (prio 0, ram): top\n"
		"    0000000000010000-0000000000011fff (prio 0, ram): vram\n"
		"    0000000000000000-0000000000000fff (prio 0, ram): ram\n");

	as_teardown(&as, &root);
	memory_region_unref(&ram);
	memory_region_unref(&vram);
	memory_region_unref(&top);
	memory_region_unref(&dev);
	ck_no_leaks(mark);
}
END_TEST

/*
 * Growing must not create what add_subregion() and set_address() refuse:
 * an overlap with a sibling of the same priority, neither added with the
 * _overlap form.
 */
START_TEST(test_resize_into_sibling_refused)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, vram, dev;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x20000);
	ck_ok(memory_region_init_ram_resizeable(&vram, NULL, "vram", 0x1000,
						0x4000, &err));
	io_init(&dev, "dev", 0x1000);
	map(&root, 0, &vram);
	map(&root, 0x2000, &dev);

	ck_ok(memory_region_ram_resize(&vram, 0x2000, &err));
	ck_fails(EEXIST, memory_region_ram_resize(&vram, 0x3000, &err));
	ck_msg_names("vram");
	ck_msg_names("dev");
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000001fff (ram): vram\n"
		"  0000000000002000-0000000000002fff (mmio): dev\n");

	as_teardown(&as, &root);
	memory_region_unref(&vram);
	memory_region_unref(&dev);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Sizes and limits -------------------------------------------------- */

START_TEST(test_zero_size_refused)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, target, mr, empty;
	struct address_space as, eas;

	as_setup(&as, "mem", &root, "root", 0x10000);
	ram_init(&target, "target", 0x1000);

	ck_fails(EINVAL, memory_region_init_ram(&mr, NULL, "z", 0, &err));
	ck_msg_names("z");
	ck_fails(EINVAL, memory_region_init_ram_resizeable(&mr, NULL, "z", 0,
							   0x1000, &err));
	ck_fails(EINVAL, memory_region_init_rom(&mr, NULL, "z", 0, &err));
	ck_fails(EINVAL, memory_region_init_io(&mr, NULL, &dummy_ops, NULL,
					       "z", 0, &err));
	ck_fails(EINVAL, memory_region_init_alias(&mr, NULL, "z", &target, 0,
						  0, &err));

	error_clear(&err);
	ck_assert_ptr_null(memory_region_new_ram(NULL, "z", 0, &err));
	ck_assert_int_eq(err.code, -EINVAL);
	error_clear(&err);
	ck_assert_ptr_null(memory_region_new_rom(NULL, "z", 0, &err));
	ck_assert_int_eq(err.code, -EINVAL);
	error_clear(&err);
	ck_assert_ptr_null(memory_region_new_io(NULL, &dummy_ops, NULL, "z",
						0, &err));
	ck_assert_int_eq(err.code, -EINVAL);
	error_clear(&err);
	ck_assert_ptr_null(memory_region_new_alias(NULL, "z", &target, 0, 0,
						   &err));
	ck_assert_int_eq(err.code, -EINVAL);

	/* An empty container exists, but cannot be mapped or filled. */
	container_init(&empty, "empty", 0);
	ck_fails(EINVAL, memory_region_add_subregion(&root, 0, &empty, &err));
	ck_msg_names("empty");
	ck_fails(ERANGE, memory_region_add_subregion(&empty, 0, &target,
						     &err));
	ck_msg_names("target");
	ck_msg_names("empty");
	ck_ok(address_space_init(&eas, &empty, "nothing", &err));
	ck_tree(&eas,
		"address-space: nothing\n"
		"  0000000000000000-0000000000000000 (prio 0, container): empty [empty]\n");
	ck_flat(&eas,
		"address-space (flat view): nothing\n"
		"  (no ranges)\n");
	address_space_destroy(&eas);

	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  (no ranges)\n");

	as_teardown(&as, &root);
	memory_region_unref(&empty);
	memory_region_unref(&target);
	ck_no_leaks(mark);
}
END_TEST

START_TEST(test_boundaries)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, box, fill, fill2, over, stray;
	struct memory_region space, below, top_ram, past;
	struct address_space as, tas;

	as_setup(&as, "mem", &root, "root", 0x20000);
	container_init(&box, "box", 0x4000);
	ram_init(&fill, "fill", 0x4000);
	ram_init(&fill2, "fill2", 0x1000);
	io_init(&over, "over", 0x1000);
	io_init(&stray, "stray", 0x1000);
	map(&root, 0x10000, &box);

	/* A region exactly filling its container. */
	map(&box, 0, &fill);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000010000-0000000000013fff (ram): fill\n");

	/* An offset at or beyond the container's end, or running past it. */
	ck_fails(ERANGE, memory_region_add_subregion_overlap(&box, 0x4000,
							     &fill2, 1,
							     &err));
	ck_msg_names("fill2");
	ck_msg_names("box");
	ck_fails(ERANGE, memory_region_add_subregion_overlap(&box, 0x3001,
							     &over, 1, &err));
	ck_fails(ERANGE, memory_region_add_subregion(&root, 0x20000, &fill2,
						     &err));
	ck_fails(ERANGE, memory_region_add_subregion(&root, UINT64_MAX,
						     &fill2, &err));

	/* Already in a container: there, or anywhere else. */
	ck_fails(EBUSY, memory_region_add_subregion(&root, 0, &fill, &err));
	ck_msg_names("fill");
	ck_msg_names("box");
	ck_fails(EBUSY, memory_region_add_subregion_overlap(&box, 0, &fill, 1,
							    &err));

	/* Not in that container. */
	ck_fails(ENOENT, memory_region_del_subregion(&root, &fill, &err));
	ck_msg_names("fill");
	ck_msg_names("root");
	ck_fails(ENOENT, memory_region_del_subregion(&root, &stray, &err));
	ck_msg_names("stray");
	unmap(&box, &fill);
	ck_fails(ENOENT, memory_region_del_subregion(&box, &fill, &err));
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  (no ranges)\n");

	/* The very top of the 64-bit space, in a root covering all of it. */
	as_setup(&tas, "top", &space, "space", UINT64_MAX);
	io_init(&below, "below", 0x1000);
	ram_init(&top_ram, "top-ram", 0x1000);
	io_init(&past, "past", 0x1000);
	map(&space, 0xfffffffffffff000ull, &top_ram);
	map(&space, 0xffffffffffffe000ull, &below);
	ck_fails(ERANGE, memory_region_add_subregion_overlap(
				&space, 0xfffffffffffff001ull, &past, 1, &err));
	ck_msg_names("past");
	ck_flat(&tas,
		"address-space (flat view): top\n"
		"  ffffffffffffe000-ffffffffffffefff (mmio): below\n"
		"  fffffffffffff000-ffffffffffffffff (ram): top-ram\n");
	ck_tree(&tas,
		"address-space: top\n"
		"  0000000000000000-ffffffffffffffff (prio 0, container): space\n"
		"    ffffffffffffe000-ffffffffffffefff (prio 0, mmio): below\n"
		"    fffffffffffff000-ffffffffffffffff (prio 0, ram): top-ram\n");
	ram_ptr(&top_ram)[0xfff] = 0x7e;
	ck_assert_uint_eq(read_byte(&tas, UINT64_MAX), 0x7e);

	as_teardown(&tas, &space);
	as_teardown(&as, &root);
	memory_region_unref(&box);
	memory_region_unref(&fill);
	memory_region_unref(&fill2);
	memory_region_unref(&over);
	memory_region_unref(&stray);
	memory_region_unref(&below);
	memory_region_unref(&top_ram);
	memory_region_unref(&past);
	ck_no_leaks(mark);
}
END_TEST

/*
 * A region of size UINT64_MAX is the whole 64-bit space (2^64 bytes): the
 * tree dump of an alias of it shows the whole window.
 */
START_TEST(test_whole_space_alias)
{
	struct leak_mark mark = leak_mark();
	struct memory_region space, top, view_root, all;
	struct address_space tas, vas;

	as_setup(&tas, "top", &space, "space", UINT64_MAX);
	io_init(&top, "top", 0x1000);
	map(&space, 0xfffffffffffff000ull, &top);
	as_setup(&vas, "view", &view_root, "view-root", UINT64_MAX);
	alias_init(&all, "all", &space, 0, UINT64_MAX);
	map(&view_root, 0, &all);

	ck_flat(&vas,
		"address-space (flat view): view\n"
		"  fffffffffffff000-ffffffffffffffff (mmio): top\n");
	ck_tree(&vas,
		"address-space: view\n"
		"  0000000000000000-ffffffffffffffff (prio 0, container): view-root\n"
		"    0000000000000000-ffffffffffffffff (prio 0, alias): all @space 0000000000000000-ffffffffffffffff\n");

	as_teardown(&vas, &view_root);
	as_teardown(&tas, &space);
	memory_region_unref(&all);
	memory_region_unref(&top);
	ck_no_leaks(mark);
}
END_TEST

/* ... and such a region fits only at offset 0: 2^64 bytes at 1 do not. */
START_TEST(test_whole_space_offset_refused)
{
	struct leak_mark mark = leak_mark();
	struct memory_region space, other_root, all;

	container_init(&space, "space", UINT64_MAX);
	container_init(&other_root, "other-root", UINT64_MAX);
	alias_init(&all, "all", &space, 0, UINT64_MAX);
	ck_fails(ERANGE, memory_region_add_subregion(&other_root, 1, &all,
						     &err));
	ck_msg_names("all");
	ck_fails(ERANGE, memory_region_add_subregion(&other_root, UINT64_MAX,
						     &all, &err));
	map(&other_root, 0, &all);

	unmap_all(&other_root);
	memory_region_unref(&other_root);
	memory_region_unref(&all);
	memory_region_unref(&space);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Merging ----------------------------------------------------------- */

START_TEST(test_merge)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, hole, a, b, ram2;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x20000);
	ram_init(&ram, "ram", 0x4000);
	io_init(&hole, "hole", 0x1000);
	ram_init(&ram2, "ram2", 0x1000);
	map(&root, 0, &ram);
	map_prio(&root, 0x1000, &hole, 1);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): ram\n"
		"  0000000000001000-0000000000001fff (mmio): hole\n"
		"  0000000000002000-0000000000003fff (ram): ram @0000000000002000\n");

	/* The two pieces of "ram" around the hole become one range again. */
	memory_region_set_enabled(&hole, false);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n");

	/* A different region right after it is a range of its own. */
	map(&root, 0x4000, &ram2);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000004000-0000000000004fff (ram): ram2\n");

	/* Two adjacent aliases with contiguous offsets merge... */
	alias_init(&a, "a", &ram, 0, 0x1000);
	alias_init(&b, "b", &ram, 0x1000, 0x1000);
	map(&root, 0x10000, &a);
	map(&root, 0x11000, &b);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000004000-0000000000004fff (ram): ram2\n"
		"  0000000000010000-0000000000011fff (ram): ram\n");

	/* ... but not when the offsets jump, */
	ck_ok(memory_region_set_alias_offset(&b, 0x2000, &err));
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000004000-0000000000004fff (ram): ram2\n"
		"  0000000000010000-0000000000010fff (ram): ram\n"
		"  0000000000011000-0000000000011fff (ram): ram @0000000000002000\n");

	/* ... or when only one of them is read-only. */
	ck_ok(memory_region_set_alias_offset(&b, 0x1000, &err));
	memory_region_set_readonly(&b, true);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000003fff (ram): ram\n"
		"  0000000000004000-0000000000004fff (ram): ram2\n"
		"  0000000000010000-0000000000010fff (ram): ram\n"
		"  0000000000011000-0000000000011fff (ram, readonly): ram @0000000000001000\n");

	as_teardown(&as, &root);
	memory_region_unref(&a);
	memory_region_unref(&b);
	memory_region_unref(&ram);
	memory_region_unref(&ram2);
	memory_region_unref(&hole);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Transactions ------------------------------------------------------ */

START_TEST(test_nested_transactions)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, old, new, dev;
	const char *old_view =
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): old\n";
	struct address_space as;
	struct flat_view *fv;

	as_setup(&as, "mem", &root, "root", 0x10000);
	ram_init(&old, "old", 0x1000);
	ram_init(&new, "new", 0x1000);
	io_init(&dev, "dev", 0x1000);
	ram_ptr(&old)[0] = 0xaa;
	ram_ptr(&new)[0] = 0x55;
	map(&root, 0, &old);
	ck_flat(&as, old_view);
	fv = rcu_load(as.current);

	memory_region_transaction_begin();
	memory_region_transaction_begin();
	unmap(&root, &old);
	map(&root, 0, &new);
	memory_region_transaction_begin();
	map(&root, 0x8000, &dev);
	/* A refused change inside the transaction changes nothing. */
	ck_fails(EEXIST, memory_region_add_subregion(&root, 0x8000, &old,
						     &err));
	memory_region_transaction_commit();
	ck_flat(&as, old_view);
	ck_assert_uint_eq(read_byte(&as, 0), 0xaa);
	memory_region_transaction_commit();
	ck_flat(&as, old_view);
	ck_assert_uint_eq(read_byte(&as, 0), 0xaa);
	ck_assert_ptr_eq(rcu_load(as.current), fv);
	memory_region_transaction_commit();

	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000000000-0000000000000fff (ram): new\n"
		"  0000000000008000-0000000000008fff (mmio): dev\n");
	ck_assert_uint_eq(read_byte(&as, 0), 0x55);
	ck_assert_ptr_ne(rcu_load(as.current), fv);

	/* A transaction that changes nothing publishes nothing. */
	fv = rcu_load(as.current);
	memory_region_transaction_begin();
	memory_region_set_enabled(&dev, true);
	memory_region_set_readonly(&new, false);
	memory_region_transaction_commit();
	ck_assert_ptr_eq(rcu_load(as.current), fv);

	as_teardown(&as, &root);
	memory_region_unref(&old);
	memory_region_unref(&new);
	memory_region_unref(&dev);
	ck_no_leaks(mark);
}
END_TEST

/* ---- Listeners --------------------------------------------------------- */

START_TEST(test_listener_replay_and_diff)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram, dev, hole, late, late2;
	struct recorder r1, r2;
	struct address_space as;

	as_setup(&as, "mem", &root, "root", 0x10000);
	ram_init(&ram, "ram", 0x8000);
	io_init(&dev, "dev", 0x1000);
	io_init(&hole, "hole", 0x1000);
	ram_init(&late, "late", 0x1000);
	ram_init(&late2, "late2", 0x1000);
	map(&root, 0, &ram);
	map(&root, 0x9000, &dev);

	/* Registration replays the current view as additions. */
	recorder_init(&r1, "r1", -1);
	memory_listener_register(&r1.l, &as);
	ck_calls(&r1,
		 "begin\n"
		 "add ram 0x0+0x8000 @0x0\n"
		 "add dev 0x9000+0x1000 @0x0\n"
		 "commit\n");

	/* Deletions first, then additions, each in address order. */
	memory_region_transaction_begin();
	map(&root, 0xc000, &late);
	ck_ok(memory_region_set_address(&dev, 0xa000, &err));
	map_prio(&root, 0x2000, &hole, 1);
	memory_region_transaction_commit();
	ck_calls(&r1,
		 "begin\n"
		 "del ram 0x0+0x8000 @0x0\n"
		 "del dev 0x9000+0x1000 @0x0\n"
		 "add ram 0x0+0x2000 @0x0\n"
		 "add hole 0x2000+0x1000 @0x0\n"
		 "add ram 0x3000+0x5000 @0x3000\n"
		 "add dev 0xa000+0x1000 @0x0\n"
		 "add late 0xc000+0x1000 @0x0\n"
		 "commit\n");

	/* Unchanged ranges are not reported. */
	map(&root, 0xe000, &late2);
	ck_calls(&r1,
		 "begin\n"
		 "add late2 0xe000+0x1000 @0x0\n"
		 "commit\n");
	memory_region_transaction_begin();
	memory_region_set_enabled(&dev, false);
	memory_region_set_enabled(&dev, true);
	memory_region_transaction_commit();
	ck_assert_uint_eq(rec_changes(&r1), 0);
	r1.nr = 0;

	/* A changed attribute is a deletion and an addition. */
	memory_region_set_readonly(&late, true);
	ck_calls(&r1,
		 "begin\n"
		 "del late 0xc000+0x1000 @0x0\n"
		 "add late 0xc000+0x1000 @0x0 ro\n"
		 "commit\n");

	/* A second listener gets its own replay; the first hears nothing. */
	recorder_init(&r2, "r2", -1);
	memory_listener_register(&r2.l, &as);
	ck_assert_uint_eq(r1.nr, 0);
	ck_calls(&r2,
		 "begin\n"
		 "add ram 0x0+0x2000 @0x0\n"
		 "add hole 0x2000+0x1000 @0x0\n"
		 "add ram 0x3000+0x5000 @0x3000\n"
		 "add dev 0xa000+0x1000 @0x0\n"
		 "add late 0xc000+0x1000 @0x0 ro\n"
		 "add late2 0xe000+0x1000 @0x0\n"
		 "commit\n");

	/* Both hear a change; the merge of "ram" is a del/add like any. */
	unmap(&root, &hole);
	ck_calls(&r1,
		 "begin\n"
		 "del ram 0x0+0x2000 @0x0\n"
		 "del hole 0x2000+0x1000 @0x0\n"
		 "del ram 0x3000+0x5000 @0x3000\n"
		 "add ram 0x0+0x8000 @0x0\n"
		 "commit\n");
	ck_calls(&r2,
		 "begin\n"
		 "del ram 0x0+0x2000 @0x0\n"
		 "del hole 0x2000+0x1000 @0x0\n"
		 "del ram 0x3000+0x5000 @0x3000\n"
		 "add ram 0x0+0x8000 @0x0\n"
		 "commit\n");

	/* Unregistering reports the view as deletions, to that one only. */
	memory_listener_unregister(&r2.l);
	ck_assert_uint_eq(r1.nr, 0);
	ck_calls(&r2,
		 "begin\n"
		 "del ram 0x0+0x8000 @0x0\n"
		 "del dev 0xa000+0x1000 @0x0\n"
		 "del late 0xc000+0x1000 @0x0 ro\n"
		 "del late2 0xe000+0x1000 @0x0\n"
		 "commit\n");
	unmap(&root, &late2);
	ck_assert_uint_eq(r2.nr, 0);
	ck_calls(&r1,
		 "begin\n"
		 "del late2 0xe000+0x1000 @0x0\n"
		 "commit\n");

	/* Destroying the address space tells the listeners still there. */
	memory_region_transaction_begin();
	unmap_all(&root);
	memory_region_transaction_commit();
	ck_calls(&r1,
		 "begin\n"
		 "del ram 0x0+0x8000 @0x0\n"
		 "del dev 0xa000+0x1000 @0x0\n"
		 "del late 0xc000+0x1000 @0x0 ro\n"
		 "commit\n");
	map(&root, 0, &ram);
	r1.nr = 0;
	address_space_destroy(&as);
	ck_calls(&r1,
		 "begin\n"
		 "del ram 0x0+0x8000 @0x0\n"
		 "commit\n");

	unmap_all(&root);
	memory_region_unref(&root);
	memory_region_unref(&ram);
	memory_region_unref(&dev);
	memory_region_unref(&hole);
	memory_region_unref(&late);
	memory_region_unref(&late2);
	ck_no_leaks(mark);
}
END_TEST

START_TEST(test_listener_eventfd)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, dev, cover;
	struct address_space as;
	uint32_t val = 0x1234;
	struct recorder r;
	uint64_t count;
	int efd;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(efd, 0);
	as_setup(&as, "mem", &root, "root", 0x10000);
	io_init(&dev, "dev", 0x1000);
	io_init(&cover, "cover", 0x100);
	map(&root, 0x4000, &dev);
	recorder_init(&r, "r", efd);
	memory_listener_register(&r.l, &as);
	r.nr = 0;

	/* The listener sees the absolute address, not the region offset. */
	ck_ok(memory_region_add_eventfd(&dev, 0x10, 4, true, 0x1234, efd,
					&err));
	ck_calls(&r,
		 "begin\n"
		 "eventfd_add 0x4010+4 data=0x1234 efd\n"
		 "commit\n");
	ck_ok(memory_region_add_eventfd(&dev, 0x20, 0, false, 0, efd, &err));
	ck_calls(&r,
		 "begin\n"
		 "eventfd_add 0x4020+0 any efd\n"
		 "commit\n");
	ck_fails(EEXIST, memory_region_add_eventfd(&dev, 0x20, 0, false, 0,
						   efd, &err));
	ck_fails(EINVAL, memory_region_add_eventfd(&root, 0x20, 0, false, 0,
						   efd, &err));
	ck_assert_uint_eq(r.nr, 0);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000004000-0000000000004fff (mmio): dev\n"
		"  ioeventfd 0000000000004010 size 4 data 0x1234\n"
		"  ioeventfd 0000000000004020 size 0\n");

	/* Moving the region moves its eventfds: deletions come first. */
	ck_ok(memory_region_set_address(&dev, 0x6000, &err));
	ck_calls(&r,
		 "begin\n"
		 "del dev 0x4000+0x1000 @0x0\n"
		 "eventfd_del 0x4010+4 data=0x1234 efd\n"
		 "eventfd_del 0x4020+0 any efd\n"
		 "add dev 0x6000+0x1000 @0x0\n"
		 "eventfd_add 0x6010+4 data=0x1234 efd\n"
		 "eventfd_add 0x6020+0 any efd\n"
		 "commit\n");

	/* A matching write at the absolute address signals the eventfd. */
	ck_assert_int_eq(address_space_write(&as, 0x6010, &val, 4), 0);
	ck_assert_int_eq(read(efd, &count, sizeof(count)), sizeof(count));
	ck_assert_uint_eq(count, 1);

	ck_ok(memory_region_del_eventfd(&dev, 0x10, 4, true, 0x1234, efd,
					&err));
	ck_calls(&r,
		 "begin\n"
		 "eventfd_del 0x6010+4 data=0x1234 efd\n"
		 "commit\n");
	ck_fails(ENOENT, memory_region_del_eventfd(&dev, 0x10, 4, true, 0x1234,
						   efd, &err));

	/* An eventfd hidden by a higher-priority region leaves the view. */
	map_prio(&root, 0x6000, &cover, 1);
	ck_calls(&r,
		 "begin\n"
		 "del dev 0x6000+0x1000 @0x0\n"
		 "eventfd_del 0x6020+0 any efd\n"
		 "add cover 0x6000+0x100 @0x0\n"
		 "add dev 0x6100+0xf00 @0x100\n"
		 "commit\n");
	ck_ok(memory_region_add_eventfd(&dev, 0x800, 2, false, 0, efd, &err));
	ck_calls(&r,
		 "begin\n"
		 "eventfd_add 0x6800+2 any efd\n"
		 "commit\n");

	memory_listener_unregister(&r.l);
	ck_calls(&r,
		 "begin\n"
		 "del cover 0x6000+0x100 @0x0\n"
		 "del dev 0x6100+0xf00 @0x100\n"
		 "eventfd_del 0x6800+2 any efd\n"
		 "commit\n");
	/* Unregistered: hears nothing more; a second unregister is a no-op. */
	unmap(&root, &cover);
	memory_listener_unregister(&r.l);
	ck_assert_uint_eq(r.nr, 0);

	as_teardown(&as, &root);
	memory_region_unref(&dev);
	memory_region_unref(&cover);
	close(efd);
	ck_no_leaks(mark);
}
END_TEST

/*
 * After address_space_destroy() the address space's memory is the
 * caller's again: a listener that was still registered must not touch it
 * when it is unregistered later.
 */
START_TEST(test_listener_unregister_after_destroy)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root, ram;
	struct address_space as;
	struct recorder r;

	as_setup(&as, "mem", &root, "root", 0x10000);
	ram_init(&ram, "ram", 0x1000);
	map(&root, 0, &ram);
	recorder_init(&r, "r", -1);
	memory_listener_register(&r.l, &as);
	r.nr = 0;

	address_space_destroy(&as);
	ck_calls(&r,
		 "begin\n"
		 "del ram 0x0+0x1000 @0x0\n"
		 "commit\n");
	/* As if it had been freed and its memory reused. */
	memset(&as, 0xa5, sizeof(as));
	memory_listener_unregister(&r.l);
	ck_assert_uint_eq(r.nr, 0);

	unmap_all(&root);
	memory_region_unref(&root);
	memory_region_unref(&ram);
	ck_no_leaks(mark);
}
END_TEST

/* ---- The tree dump of a small machine ---------------------------------- */

START_TEST(test_machine_tree_dump)
{
	static const char tree[] =
		"address-space: memory\n"
		"  0000000000000000-00000000ffffffff (prio 0, container): system\n"
		"    00000000000a0000-00000000000bffff (prio 1, mmio): vga\n"
		"    00000000e0000000-00000000e000ffff (prio 0, ram, disabled): fb\n"
		"    00000000d0001000-00000000d00010ff (prio 0, mmio): uart-fifo\n"
		"    00000000d0000000-00000000d0000fff (prio 0, mmio): uart\n"
		"    00000000ffff0000-00000000ffffffff (prio 0, rom): bios\n"
		"    00000000000f0000-00000000000fffff (prio 0, alias): isa-bios @bios 0000000000000000-000000000000ffff\n"
		"    0000000000100000-00000000001fffff (prio 0, alias): ram-above-1m @pc.ram 0000000000100000-00000000001fffff\n"
		"    0000000000000000-000000000009ffff (prio 0, alias): ram-below-640k @pc.ram 0000000000000000-000000000009ffff\n";
	static const char flat[] =
		"address-space (flat view): memory\n"
		"  0000000000000000-000000000009ffff (ram): pc.ram\n"
		"  00000000000a0000-00000000000bffff (mmio): vga\n"
		"  00000000000f0000-00000000000fffff (rom): bios\n"
		"  0000000000100000-00000000001fffff (ram): pc.ram @0000000000100000\n"
		"  00000000d0000000-00000000d0000fff (mmio): uart\n"
		"  00000000d0001000-00000000d00010ff (mmio): uart-fifo\n"
		"  00000000ffff0000-00000000ffffffff (rom): bios\n";
	struct leak_mark mark = leak_mark();
	struct memory_region system, pc_ram, below, above, vga, bios;
	struct memory_region isa_bios, fb;
	struct address_space as;
	struct test_dev *uart;
	char *s;

	as_setup(&as, "memory", &system, "system", 0x100000000ull);
	ram_init(&pc_ram, "pc.ram", 0x200000);
	alias_init(&below, "ram-below-640k", &pc_ram, 0, 0xa0000);
	alias_init(&above, "ram-above-1m", &pc_ram, 0x100000, 0x100000);
	io_init(&vga, "vga", 0x20000);
	rom_init(&bios, "bios", 0x10000);
	alias_init(&isa_bios, "isa-bios", &bios, 0, 0x10000);
	ram_init(&fb, "fb", 0x10000);
	uart = test_dev_new();

	memory_region_transaction_begin();
	map(&system, 0, &below);
	map(&system, 0x100000, &above);
	map_prio(&system, 0xa0000, &vga, 1);
	map(&system, 0xf0000, &isa_bios);
	map(&system, 0xffff0000, &bios);
	map(&system, 0xd0000000, &uart->mmio);
	map(&system, 0xd0001000, uart->fifo);
	map(&system, 0xe0000000, &fb);
	memory_region_set_enabled(&fb, false);
	memory_region_transaction_commit();

	ck_tree(&as, tree);
	ck_flat(&as, flat);
	/* The all-address-spaces dump is the same for a single one. */
	s = memory_mtree_dump(false);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, tree);
	free(s);
	s = memory_mtree_dump(true);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, flat);
	free(s);

	as_teardown(&as, &system);
	memory_region_unref(&below);
	memory_region_unref(&above);
	memory_region_unref(&isa_bios);
	memory_region_unref(&pc_ram);
	memory_region_unref(&vga);
	memory_region_unref(&bios);
	memory_region_unref(&fb);
	object_unref(&uart->obj);
	ck_no_leaks(mark);
}
END_TEST

/*
 * Owned regions: the view holds the owner (rule 4) and a container of
 * another owner counts it (rule 3), so the owner outlives its last
 * mapping, and goes away with no leak once everything lets go.
 */
START_TEST(test_owned_regions_released)
{
	struct leak_mark mark = leak_mark();
	struct memory_region root;
	struct address_space as;
	struct test_dev *dev;
	long base;

	as_setup(&as, "mem", &root, "root", 0x10000);
	dev = test_dev_new();
	base = object_refcount(&dev->obj);
	map(&root, 0x1000, &dev->mmio);
	map(&root, 0x2000, dev->fifo);
	ck_assert_int_gt(object_refcount(&dev->obj), base + 1);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  0000000000001000-0000000000001fff (mmio): uart\n"
		"  0000000000002000-00000000000020ff (mmio): uart-fifo\n");

	unmap(&root, &dev->mmio);
	unmap(&root, dev->fifo);
	ck_flat(&as,
		"address-space (flat view): mem\n"
		"  (no ranges)\n");
	rcu_flush();
	ck_assert_int_eq(object_refcount(&dev->obj), base);

	object_unref(&dev->obj);
	as_teardown(&as, &root);
	ck_no_leaks(mark);
}
END_TEST

static Suite *flatview_suite(void)
{
	Suite *s = suite_create("mm/flatview");
	TCase *tc;

	tc = rcu_tcase("priorities", 30);
	tcase_add_test(tc, test_priority_punch_through);
	tcase_add_test(tc, test_equal_priority_overlap_refused);
	tcase_add_test(tc, test_overlap_last_added_wins);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("aliases", 30);
	tcase_add_test(tc, test_alias_windows);
	tcase_add_test(tc, test_cycles_refused);
	tcase_add_test(tc, test_nested_containers);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("attributes", 30);
	tcase_add_test(tc, test_enable_disable);
	tcase_add_test(tc, test_readonly_and_rom);
	tcase_add_test(tc, test_resize);
	tcase_add_test(tc, test_resize_into_sibling_refused);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("limits", 30);
	tcase_add_test(tc, test_zero_size_refused);
	tcase_add_test(tc, test_boundaries);
	tcase_add_test(tc, test_whole_space_alias);
	tcase_add_test(tc, test_whole_space_offset_refused);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("views", 30);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_nested_transactions);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("listeners", 30);
	tcase_add_test(tc, test_listener_replay_and_diff);
	tcase_add_test(tc, test_listener_eventfd);
	tcase_add_test(tc, test_listener_unregister_after_destroy);
	suite_add_tcase(s, tc);

	tc = rcu_tcase("dumps", 30);
	tcase_add_test(tc, test_machine_tree_dump);
	tcase_add_test(tc, test_owned_regions_released);
	suite_add_tcase(s, tc);

	return s;
}

CHECK_MAIN(flatview_suite)
