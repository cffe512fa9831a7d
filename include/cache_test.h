/*
 * cache_test.h -- hooks of the answer cache for the unit tests only.
 */
#ifndef CACHE_TEST_H
#define CACHE_TEST_H

struct cache;

/*
 * Walk every shard under its lock and check its bookkeeping: each entry in
 * the bucket its hash picks and once in the LRU list, entry and byte counts
 * equal to the sums over the entries, bytes within the shard's budget.
 * 0 when all of it holds, -1 when not.
 */
int	 cache_check(struct cache *);

#endif /* CACHE_TEST_H */
