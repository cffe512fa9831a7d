/*
 * fwd_test.h -- hooks of the forwarder health table for the unit tests only.
 */
#ifndef FWD_TEST_H
#define FWD_TEST_H

#include <stdint.h>

struct fwd_table;

/*
 * Replace the table's source of randomness (arc4random_uniform(3) by
 * default) with fn(arg, bound), which returns a number below bound.
 * fwd_select() with FWD_SELECT_FASTEST draws twice at most: fn(arg,
 * FWD_EXPLORE), exploring when it returns 0, then fn(arg, n - 1) to pick
 * the n-th other forwarder that is up, in candidate order.
 */
void	 fwd_table_set_rng(struct fwd_table *,
	    uint32_t (*)(void *, uint32_t), void *);

#endif /* FWD_TEST_H */
