/*
 * cache.c -- the answer cache shared by the worker threads (see cache.h).
 *
 * The cache is 2^k shards.  The top k bits of a key's hash pick the shard
 * and the low bits its bucket, so the two choices are independent.  Each
 * shard has its own mutex, a chained hash table that doubles when it holds
 * more entries than buckets, an LRU list (most recently used first) and a
 * byte budget of maxbytes / 2^k; an entry is accounted as its struct, its
 * key and its value.  Threads only meet on a shard's lock; the hash key is
 * constant after cache_new() and the sweep cursor has a mutex of its own.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/types.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_test.h"
#include "siphash.h"

#define CACHE_MAXSHARDS		1024
#define CACHE_MINBUCKETS	16
#define CACHE_NAMEMAX		255
/* The fixed part of a key (kind, flags, qtype, qclass, view), then the name. */
#define KEYHDR			14
#define KEYMAX			(KEYHDR + CACHE_NAMEMAX)
/* A sweep visits this many buckets and entries per entry it may remove. */
#define SWEEP_SCAN		8
/* Avoid false sharing between the locks of neighbouring shards. */
#define CACHELINE		64

struct entry {
	struct entry		*chain;		/* next in the bucket */
	TAILQ_ENTRY(entry)	 lru;
	uint64_t		 hash;
	uint64_t		 stored;	/* ms */
	uint32_t		 ttl;		/* s */
	uint32_t		 stale_keep;	/* s */
	size_t			 size;		/* accounted bytes */
	size_t			 vlen;
	size_t			 keylen;
	uint8_t			 data[];	/* key, then value */
};

TAILQ_HEAD(lru, entry);

struct shard {
	_Alignas(CACHELINE) pthread_mutex_t lock;
	struct entry		**buckets;
	size_t			 nbuckets;	/* a power of two */
	struct lru		 lru;
	size_t			 maxbytes;
	size_t			 bytes;
	size_t			 entries;
	uint64_t		 inserts;
	uint64_t		 evictions;
	uint64_t		 expired;
};

struct cache {
	struct shard		*shards;
	unsigned int		 nshards;	/* 1 << shardbits */
	unsigned int		 shardbits;
	unsigned int		 ninit;		/* shards with a lock */
	size_t			 maxbytes;
	uint8_t			 hashkey[SIPHASH_KEYLEN];
	pthread_mutex_t		 sweeplock;	/* for the cursor below */
	unsigned int		 sweep_shard;
	size_t			 sweep_bucket;
};

/* A key as stored: the fixed fields in network order, the name lowercased. */
struct ckey {
	uint8_t			 buf[KEYMAX];
	size_t			 len;
	uint64_t		 hash;
};

/*
 * RFC 4343: ASCII letters compare case-insensitively.  Label length bytes
 * are at most 63 and so never letters; no need to walk the labels.
 */
static void
name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ?
		    src[i] - 'A' + 'a' : src[i];
}

static int
key_make(const struct cache *c, const struct cache_key *k, struct ckey *ck)
{
	uint8_t	*p = ck->buf;
	int	 i;

	if (k == NULL || k->namelen > CACHE_NAMEMAX ||
	    (k->name == NULL && k->namelen > 0))
		return (-1);
	p[0] = k->kind;
	p[1] = k->flags;
	p[2] = k->qtype >> 8;
	p[3] = k->qtype & 0xff;
	p[4] = k->qclass >> 8;
	p[5] = k->qclass & 0xff;
	for (i = 0; i < 8; i++)
		p[6 + i] = (k->view >> (56 - 8 * i)) & 0xff;
	if (k->namelen > 0)
		name_lower(p + KEYHDR, k->name, k->namelen);
	ck->len = KEYHDR + k->namelen;
	ck->hash = siphash24(c->hashkey, ck->buf, ck->len);
	return (0);
}

static struct shard *
shard_of(const struct cache *c, uint64_t hash)
{
	if (c->shardbits == 0)
		return (&c->shards[0]);
	return (&c->shards[hash >> (64 - c->shardbits)]);
}

static uint64_t
fresh_until(const struct entry *e)
{
	return (e->stored + (uint64_t)e->ttl * 1000);
}

static uint64_t
kept_until(const struct entry *e)
{
	return (e->stored + ((uint64_t)e->ttl + e->stale_keep) * 1000);
}

static struct entry *
shard_find(struct shard *s, const struct ckey *ck)
{
	struct entry	*e;

	for (e = s->buckets[ck->hash & (s->nbuckets - 1)]; e != NULL;
	    e = e->chain)
		if (e->hash == ck->hash && e->keylen == ck->len &&
		    memcmp(e->data, ck->buf, ck->len) == 0)
			return (e);
	return (NULL);
}

/* Unlink e from its bucket and the LRU list, uncount it and free it. */
static void
shard_drop(struct shard *s, struct entry *e)
{
	struct entry	**pp;

	for (pp = &s->buckets[e->hash & (s->nbuckets - 1)]; *pp != e;
	    pp = &(*pp)->chain)
		;
	*pp = e->chain;
	TAILQ_REMOVE(&s->lru, e, lru);
	s->bytes -= e->size;
	s->entries--;
	free(e);
}

/*
 * Double the buckets once there are more entries than buckets.  Without
 * memory the table keeps its size: chains get longer, nothing breaks.
 */
static void
shard_grow(struct shard *s)
{
	struct entry	**nb, *e, *next;
	size_t		 n, i, mask;

	if (s->entries <= s->nbuckets ||
	    s->nbuckets > SIZE_MAX / 2 / sizeof(*nb))
		return;
	n = s->nbuckets * 2;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	mask = n - 1;
	for (i = 0; i < s->nbuckets; i++)
		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->chain;
			e->chain = nb[e->hash & mask];
			nb[e->hash & mask] = e;
		}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

static void
shard_clear(struct shard *s)
{
	struct entry	*e;

	while ((e = TAILQ_FIRST(&s->lru)) != NULL) {
		TAILQ_REMOVE(&s->lru, e, lru);
		free(e);
	}
	memset(s->buckets, 0, s->nbuckets * sizeof(*s->buckets));
	s->bytes = 0;
	s->entries = 0;
}

struct cache *
cache_new(size_t maxbytes, unsigned int nshards)
{
	struct cache	*c;
	struct shard	*s;
	unsigned int	 bits = 0;

	while ((1U << bits) < nshards && (1U << bits) < CACHE_MAXSHARDS)
		bits++;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	if (pthread_mutex_init(&c->sweeplock, NULL) != 0) {
		free(c);
		return (NULL);
	}
	c->shardbits = bits;
	c->nshards = 1U << bits;
	c->maxbytes = maxbytes;
	/* sizeof(struct shard) is a multiple of its alignment, as C11 wants. */
	c->shards = aligned_alloc(_Alignof(struct shard),
	    c->nshards * sizeof(*c->shards));
	if (c->shards == NULL)
		goto fail;
	memset(c->shards, 0, c->nshards * sizeof(*c->shards));
	for (c->ninit = 0; c->ninit < c->nshards; c->ninit++) {
		s = &c->shards[c->ninit];
		s->nbuckets = CACHE_MINBUCKETS;
		if ((s->buckets = calloc(s->nbuckets,
		    sizeof(*s->buckets))) == NULL)
			goto fail;
		if (pthread_mutex_init(&s->lock, NULL) != 0) {
			free(s->buckets);
			goto fail;
		}
		TAILQ_INIT(&s->lru);
		s->maxbytes = maxbytes >> bits;
	}
	/* The secret that keeps outsiders from choosing colliding names. */
	arc4random_buf(c->hashkey, sizeof(c->hashkey));
	return (c);
fail:
	cache_free(c);
	return (NULL);
}

void
cache_free(struct cache *c)
{
	unsigned int	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ninit; i++) {
		shard_clear(&c->shards[i]);
		free(c->shards[i].buckets);
		pthread_mutex_destroy(&c->shards[i].lock);
	}
	free(c->shards);
	pthread_mutex_destroy(&c->sweeplock);
	free(c);
}

ssize_t
cache_get(struct cache *c, const struct cache_key *key, uint64_t now,
    int stale_ok, void *buf, size_t bufsize, struct cache_meta *meta)
{
	struct ckey	 ck;
	struct shard	*s;
	struct entry	*e;
	ssize_t		 ret;

	if (c == NULL || key_make(c, key, &ck) == -1)
		return (0);
	s = shard_of(c, ck.hash);
	pthread_mutex_lock(&s->lock);
	if ((e = shard_find(s, &ck)) == NULL) {
		pthread_mutex_unlock(&s->lock);
		return (0);
	}
	if (now >= kept_until(e)) {
		shard_drop(s, e);
		s->expired++;
		pthread_mutex_unlock(&s->lock);
		return (0);
	}
	/* Stale but still kept: a miss for this caller, not for the next. */
	if (now >= fresh_until(e) && !stale_ok) {
		pthread_mutex_unlock(&s->lock);
		return (0);
	}
	TAILQ_REMOVE(&s->lru, e, lru);
	TAILQ_INSERT_HEAD(&s->lru, e, lru);
	if (meta != NULL) {
		meta->stored = e->stored;
		meta->ttl = e->ttl;
		meta->stale = now >= fresh_until(e);
	}
	if (e->vlen > bufsize || buf == NULL)
		ret = -1;
	else {
		memcpy(buf, e->data + e->keylen, e->vlen);
		ret = (ssize_t)e->vlen;
	}
	pthread_mutex_unlock(&s->lock);
	return (ret);
}

int
cache_put(struct cache *c, const struct cache_key *key, uint64_t now,
    uint32_t ttl, uint32_t stale_keep, const void *val, size_t vlen)
{
	struct ckey	 ck;
	struct shard	*s;
	struct entry	*e = NULL, *old;

	if (c == NULL || val == NULL || vlen == 0 ||
	    key_make(c, key, &ck) == -1)
		return (-1);
	s = shard_of(c, ck.hash);
	/*
	 * Build the entry before taking the lock.  An entry that cannot be
	 * kept (no lifetime, larger than the shard) is not built, but the
	 * old value under the key goes all the same: after a put, a get
	 * returns the new value or nothing, never an older one.
	 */
	if ((ttl > 0 || stale_keep > 0) && vlen <= s->maxbytes &&
	    sizeof(*e) + ck.len + vlen <= s->maxbytes &&
	    (e = malloc(sizeof(*e) + ck.len + vlen)) != NULL) {
		e->hash = ck.hash;
		e->stored = now;
		e->ttl = ttl;
		e->stale_keep = stale_keep;
		e->size = sizeof(*e) + ck.len + vlen;
		e->keylen = ck.len;
		e->vlen = vlen;
		memcpy(e->data, ck.buf, ck.len);
		memcpy(e->data + ck.len, val, vlen);
	}

	pthread_mutex_lock(&s->lock);
	if ((old = shard_find(s, &ck)) != NULL)
		shard_drop(s, old);
	if (e == NULL) {
		pthread_mutex_unlock(&s->lock);
		return (-1);
	}
	while (s->bytes + e->size > s->maxbytes) {
		old = TAILQ_LAST(&s->lru, lru);
		if (now >= kept_until(old))
			s->expired++;
		else
			s->evictions++;
		shard_drop(s, old);
	}
	e->chain = s->buckets[e->hash & (s->nbuckets - 1)];
	s->buckets[e->hash & (s->nbuckets - 1)] = e;
	TAILQ_INSERT_HEAD(&s->lru, e, lru);
	s->bytes += e->size;
	s->entries++;
	s->inserts++;
	shard_grow(s);
	pthread_mutex_unlock(&s->lock);
	return (0);
}

void
cache_flush(struct cache *c)
{
	unsigned int	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nshards; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		shard_clear(&c->shards[i]);
		pthread_mutex_unlock(&c->shards[i].lock);
	}
}

size_t
cache_flush_name(struct cache *c, const uint8_t *name, size_t namelen)
{
	uint8_t		 lname[CACHE_NAMEMAX];
	struct shard	*s;
	struct entry	*e, *next;
	unsigned int	 i;
	size_t		 n = 0;

	if (c == NULL || namelen > CACHE_NAMEMAX ||
	    (name == NULL && namelen > 0))
		return (0);
	if (namelen > 0)
		name_lower(lname, name, namelen);
	/* The name is only part of the key: it may be in every shard. */
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		for (e = TAILQ_FIRST(&s->lru); e != NULL; e = next) {
			next = TAILQ_NEXT(e, lru);
			if (e->keylen == KEYHDR + namelen &&
			    memcmp(e->data + KEYHDR, lname, namelen) == 0) {
				shard_drop(s, e);
				n++;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return (n);
}

/*
 * The cursor is a shard and a bucket in it.  A call removes at most max
 * entries and visits about SWEEP_SCAN * max buckets and entries (a bucket
 * once begun is finished unless max is reached), so that it holds a
 * shard's lock only briefly however big the cache; it stops after one
 * round of all shards.
 * A table that grew between calls only makes the cursor skip or revisit
 * some buckets once.
 */
size_t
cache_sweep(struct cache *c, uint64_t now, size_t max)
{
	struct shard	*s;
	struct entry	*e, *next;
	size_t		 removed = 0, looked = 0, limit, b, nb;
	unsigned int	 rounds = 0;

	if (c == NULL || max == 0)
		return (0);
	limit = max > SIZE_MAX / SWEEP_SCAN ? SIZE_MAX : max * SWEEP_SCAN;
	pthread_mutex_lock(&c->sweeplock);
	for (;;) {
		s = &c->shards[c->sweep_shard];
		pthread_mutex_lock(&s->lock);
		nb = s->nbuckets;
		b = c->sweep_bucket < nb ? c->sweep_bucket : nb;
		for (; b < nb && removed < max && looked < limit; b++) {
			looked++;
			for (e = s->buckets[b]; e != NULL && removed < max;
			    e = next) {
				next = e->chain;
				looked++;
				if (now >= kept_until(e)) {
					shard_drop(s, e);
					s->expired++;
					removed++;
				}
			}
			/* Stopped inside this bucket: resume in it. */
			if (e != NULL)
				break;
		}
		pthread_mutex_unlock(&s->lock);
		if (b < nb) {
			c->sweep_bucket = b;
			break;
		}
		c->sweep_shard = (c->sweep_shard + 1) & (c->nshards - 1);
		c->sweep_bucket = 0;
		if (++rounds >= c->nshards || removed >= max || looked >= limit)
			break;
	}
	pthread_mutex_unlock(&c->sweeplock);
	return (removed);
}

void
cache_get_stats(struct cache *c, struct cache_stats *st)
{
	struct shard	*s;
	unsigned int	 i;

	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	st->maxbytes = c->maxbytes;
	for (i = 0; i < c->nshards; i++) {
		s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		st->entries += s->entries;
		st->bytes += s->bytes;
		st->inserts += s->inserts;
		st->evictions += s->evictions;
		st->expired += s->expired;
		pthread_mutex_unlock(&s->lock);
	}
}

static int
shard_check(const struct cache *c, struct shard *s)
{
	struct entry	*e;
	size_t		 b, n = 0, bytes = 0, nlru = 0;

	if (s->nbuckets == 0 || (s->nbuckets & (s->nbuckets - 1)) != 0)
		return (-1);
	for (b = 0; b < s->nbuckets; b++)
		for (e = s->buckets[b]; e != NULL; e = e->chain) {
			if ((e->hash & (s->nbuckets - 1)) != b ||
			    shard_of(c, e->hash) != s ||
			    e->size != sizeof(*e) + e->keylen + e->vlen ||
			    e->keylen < KEYHDR || e->keylen > KEYMAX)
				return (-1);
			n++;
			bytes += e->size;
		}
	TAILQ_FOREACH(e, &s->lru, lru)
		if (++nlru > n)
			return (-1);
	if (n != s->entries || nlru != n || bytes != s->bytes ||
	    s->bytes > s->maxbytes)
		return (-1);
	return (0);
}

int
cache_check(struct cache *c)
{
	unsigned int	 i;
	int		 ret = 0;

	if (c == NULL)
		return (0);
	if (c->nshards != 1U << c->shardbits)
		return (-1);
	for (i = 0; i < c->nshards && ret == 0; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		ret = shard_check(c, &c->shards[i]);
		pthread_mutex_unlock(&c->shards[i].lock);
	}
	return (ret);
}
