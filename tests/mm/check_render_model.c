// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rendering against a model.  Random region trees (nested containers,
 * overlapping RAM leaves at random priorities, aliases, disabled regions)
 * are rendered by mm/flatview.c and read back through dispatch; each
 * sampled address must show what a direct walk of the tree says: the
 * first region in precedence order that covers it, containers letting
 * lower siblings show through their holes.
 */
#include <stdlib.h>

#include "harness.h"
#include "flatvm/memory.h"

#define SPACE		0x100000ull
#define MAX_MR		32
#define TREES		150
#define SAMPLES		300

static unsigned long long rng_state;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng_state >> 33) % n);
}

static uint8_t pattern(unsigned k, uint64_t off)
{
	return (uint8_t)((k * 31 + off * 7) % 251);	/* never 0xff */
}

struct model {
	struct memory_region *mr[MAX_MR];
	unsigned leaf_id[MAX_MR];
	unsigned n;
};

/* The tree walk: leaf id and offset at @addr below @mr, or -1. */
static int resolve(struct model *m, struct memory_region *mr, uint64_t addr,
		   uint64_t *off)
{
	struct memory_region *sub;
	unsigned i;
	int r;

	if (!mr->enabled || addr >= mr->size)
		return -1;
	switch (mr->type) {
	case MR_ALIAS:
		return resolve(m, mr->alias, addr + mr->alias_offset, off);
	case MR_CONTAINER:
		/* subregions are kept in precedence order */
		cds_list_for_each_entry(sub, &mr->subregions, subregions_link) {
			if (addr < sub->addr || addr - sub->addr >= sub->size)
				continue;
			r = resolve(m, sub, addr - sub->addr, off);
			if (r >= 0)
				return r;
		}
		return -1;
	default:
		for (i = 0; i < m->n; i++)
			if (m->mr[i] == mr) {
				*off = addr;
				return (int)m->leaf_id[i];
			}
		return -1;
	}
}

static struct memory_region *new_region(struct model *m, unsigned kind,
					uint64_t size, struct error *err)
{
	char name[16];
	struct memory_region *mr, *target;
	uint8_t *p;
	uint64_t i;

	snprintf(name, sizeof(name), "r%u", m->n);
	if (kind == 0) {
		mr = memory_region_new(NULL, name, size, err);
	} else if (kind == 1 || m->n == 0) {
		size = (size + 0xfff) & ~0xfffull;
		mr = memory_region_new_ram(NULL, name, size, err);
		ck_assert_ptr_nonnull(mr);
		p = memory_region_get_ram_ptr(mr);
		for (i = 0; i < size; i++)
			p[i] = pattern(m->n, i);
	} else {
		target = m->mr[rnd(m->n)];
		if (target->size < 2)
			return NULL;
		if (size > target->size)
			size = target->size;
		mr = memory_region_new_alias(NULL, name, target,
					     rnd((unsigned)(target->size - size + 1)),
					     size, err);
	}
	ck_assert_msg(mr != NULL, "%s", err->msg);
	m->leaf_id[m->n] = m->n;
	m->mr[m->n++] = mr;
	return mr;
}

START_TEST(random_trees_match_the_model)
{
	struct memory_region root, *conts[4], *mr;
	struct address_space as;
	struct error err = { 0 };
	long objs = live_objects();
	unsigned t, i, k, nconts;
	int leaf;
	uint64_t addr, off, size;
	uint8_t byte;

	rng_state = 0x5eed + (unsigned long long)_i;
	for (t = 0; t < TREES; t++) {
		struct model m = { 0 };

		ck_assert_int_eq(memory_region_init(&root, NULL, "root", SPACE,
						   &err), 0);
		memory_region_transaction_begin();
		nconts = 1 + rnd(3);
		conts[0] = &root;
		for (i = 1; i <= nconts; i++) {
			struct memory_region *parent = conts[rnd(i)];

			size = 0x1000 + rnd((unsigned)(parent->size - 0x1000));
			conts[i] = new_region(&m, 0, size, &err);
			ck_assert_int_eq(memory_region_add_subregion_overlap(
					 parent,
					 rnd((unsigned)(parent->size - size + 1)),
					 conts[i], (int)rnd(3), &err), 0);
		}
		for (k = 0; k < 14; k++) {
			struct memory_region *c = conts[rnd(nconts + 1)];

			mr = new_region(&m, 1 + rnd(2), 0x800 + rnd(0x20000),
					&err);
			if (!mr)
				continue;
			if (mr->size > c->size)
				continue;
			if (memory_region_add_subregion_overlap(c,
					rnd((unsigned)(c->size - mr->size + 1)),
					mr, (int)rnd(4), &err))
				continue;	/* e.g. alias cycles: refused */
			if (!rnd(8))
				memory_region_set_enabled(mr, false);
		}
		memory_region_transaction_commit();
		ck_assert_int_eq(address_space_init(&as, &root, "model", &err), 0);

		for (i = 0; i < SAMPLES; i++) {
			addr = rnd(SPACE);
			leaf = resolve(&m, &root, addr, &off);
			byte = 0;
			address_space_read(&as, addr, &byte, 1);
			if (leaf < 0)
				ck_assert_msg(byte == 0xff,
					      "tree %u addr %#llx: expected unassigned, read %#x",
					      t, (unsigned long long)addr, byte);
			else
				ck_assert_msg(byte == pattern((unsigned)leaf, off),
					      "tree %u addr %#llx: expected r%d @%#llx",
					      t, (unsigned long long)addr, leaf,
					      (unsigned long long)off);
		}

		address_space_destroy(&as);
		/* Unmap everything, then drop the creators' references. */
		memory_region_transaction_begin();
		for (i = m.n; i-- > 0;)
			if (m.mr[i]->container)
				memory_region_del_subregion(m.mr[i]->container,
							    m.mr[i], NULL);
		memory_region_transaction_commit();
		for (i = m.n; i-- > 0;)
			memory_region_unref(m.mr[i]);
		object_unref(&root.obj);
	}
	rcu_flush();
	ck_assert_int_eq(live_objects(), objs);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("render_model");
	TCase *tc = rcu_tcase("model", 120);

	tcase_add_loop_test(tc, random_trees_match_the_model, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(model_suite)
