/*
 * cache.h -- the answer cache: bounded in bytes, least recently used entries
 * evicted first, split into shards with a lock each so that every worker
 * thread can share one cache.
 *
 * A key is compared in full on every hit; a keyed 64-bit hash (SipHash,
 * random key per cache) only picks the shard and the bucket, so a hash
 * collision can never return another name's data.  Names are compared
 * case-insensitively (RFC 4343).  Values are opaque blobs, copied in by
 * cache_put() and out by cache_get() under the shard's lock, so that no
 * pointer into the cache outlives a call.
 *
 * Every function accepts a NULL cache, which is the cache turned off:
 * cache_get() misses, cache_put() stores nothing.
 *
 * Time is passed in by the caller, in milliseconds of a monotonic clock,
 * so that the tests can drive it.
 */
#ifndef CACHE_H
#define CACHE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_KIND_UPSTREAM	1	/* a forwarder's reply, as received */
#define CACHE_KIND_REPLY	2	/* a reply as built for a client view */

struct cache;

struct cache_key {
	uint8_t		 kind;		/* CACHE_KIND_* */
	uint8_t		 flags;		/* query flags that change the answer */
	uint16_t	 qtype;
	uint16_t	 qclass;
	uint64_t	 view;		/* 0 for upstream replies */
	const uint8_t	*name;		/* wire form, at most 255 bytes */
	size_t		 namelen;
};

struct cache_meta {
	uint64_t	 stored;	/* now of the cache_put() */
	uint32_t	 ttl;		/* seconds it was stored for */
	int		 stale;		/* past stored + ttl (serve-stale) */
};

struct cache_stats {
	uint64_t	 entries;
	uint64_t	 bytes;		/* accounted size of all entries */
	uint64_t	 maxbytes;
	uint64_t	 inserts;
	uint64_t	 evictions;	/* dropped for room, not for age */
	uint64_t	 expired;	/* dropped because they were too old */
};

/*
 * A cache of at most maxbytes (entries, keys and bookkeeping counted) in
 * nshards shards (rounded up to a power of two, at least 1).  NULL on
 * allocation failure.
 */
struct cache	*cache_new(size_t maxbytes, unsigned int nshards);
void		 cache_free(struct cache *);
/*
 * Look key up at time now.  A fresh entry (now < stored + ttl) is a hit;
 * with stale_ok, so is an entry past its ttl that is still kept (see
 * cache_put), with meta->stale set.  On a hit the entry becomes the most
 * recently used and its value is copied to buf: returns the value's
 * length, or -1 when it is larger than bufsize (nothing copied).  Returns
 * 0 on a miss (values are never empty).  An entry found too old to return
 * is removed.
 */
ssize_t		 cache_get(struct cache *, const struct cache_key *,
		    uint64_t now, int stale_ok, void *buf, size_t bufsize,
		    struct cache_meta *);
/*
 * Store a copy of val (vlen > 0) under key, replacing an entry with the
 * same key, fresh for ttl seconds and then kept stale_keep seconds more
 * (0: dropped at expiry) for cache_get(..., stale_ok).  Least recently
 * used entries of the shard are evicted to make room; a value bigger than
 * a shard's share is not stored.  0 when stored, -1 when not.
 */
int		 cache_put(struct cache *, const struct cache_key *,
		    uint64_t now, uint32_t ttl, uint32_t stale_keep,
		    const void *val, size_t vlen);
/* Drop every entry. */
void		 cache_flush(struct cache *);
/* Drop every entry whose name is this one (any kind, type or view). */
size_t		 cache_flush_name(struct cache *, const uint8_t *, size_t);
/*
 * Remove up to max entries that are past stored + ttl + stale_keep,
 * resuming where the previous call stopped; for a periodic timer.
 * Returns how many were removed.
 */
size_t		 cache_sweep(struct cache *, uint64_t now, size_t max);
void		 cache_get_stats(struct cache *, struct cache_stats *);

#endif /* CACHE_H */
