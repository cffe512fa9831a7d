/*
 * check_cache.c -- unit tests of the answer cache: keys (every field, case
 * of names), lifetimes (fresh, stale, expired, sweep), LRU eviction and
 * byte accounting, flushes, the NULL cache, SipHash-2-4's reference
 * vectors, and threads sharing one cache.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cache.h"
#include "cache_test.h"
#include "siphash.h"

struct tkey {
	struct cache_key	 k;
	uint8_t			 wire[256];
};

/* A key of kind upstream, class IN, view 0, for a dotted name. */
static void
tkey_init(struct tkey *tk, const char *name, uint16_t qtype)
{
	const char	*p = name, *dot;
	size_t		 len = 0, l;

	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		ck_assert(l > 0 && l < 64 && len + l + 2 <= sizeof(tk->wire));
		tk->wire[len++] = (uint8_t)l;
		memcpy(tk->wire + len, p, l);
		len += l;
		p += l;
		if (*p == '.')
			p++;
	}
	tk->wire[len++] = 0;
	memset(&tk->k, 0, sizeof(tk->k));
	tk->k.kind = CACHE_KIND_UPSTREAM;
	tk->k.qtype = qtype;
	tk->k.qclass = 1;
	tk->k.name = tk->wire;
	tk->k.namelen = len;
}

static int
put(struct cache *c, const struct tkey *tk, uint64_t now, uint32_t ttl,
    uint32_t stale_keep, const char *val)
{
	return (cache_put(c, &tk->k, now, ttl, stale_keep, val, strlen(val)));
}

/* 1 when key holds exactly val at now (fresh, or stale with stale_ok). */
static int
holds(struct cache *c, const struct tkey *tk, uint64_t now, int stale_ok,
    const char *val)
{
	char			 buf[512];
	struct cache_meta	 meta;
	ssize_t			 n;

	n = cache_get(c, &tk->k, now, stale_ok, buf, sizeof(buf), &meta);
	return (n > 0 && (size_t)n == strlen(val) &&
	    memcmp(buf, val, (size_t)n) == 0);
}

static int
misses(struct cache *c, const struct tkey *tk, uint64_t now, int stale_ok)
{
	char	 buf[512];

	return (cache_get(c, &tk->k, now, stale_ok, buf, sizeof(buf),
	    NULL) == 0);
}

static struct cache_stats
stats(struct cache *c)
{
	struct cache_stats	 st;

	cache_get_stats(c, &st);
	return (st);
}

START_TEST(test_roundtrip)
{
	struct cache		*c = cache_new(65536, 4);
	struct tkey		 k;
	struct cache_meta	 meta;
	char			 buf[64];

	ck_assert_ptr_nonnull(c);
	tkey_init(&k, "www.example.com", 28);
	ck_assert(misses(c, &k, 1000, 0));
	ck_assert_int_eq(put(c, &k, 1000, 300, 0, "hello"), 0);
	memset(&meta, 0xff, sizeof(meta));
	ck_assert_int_eq(cache_get(c, &k.k, 1000, 0, buf, sizeof(buf), &meta),
	    5);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	ck_assert_uint_eq(meta.stored, 1000);
	ck_assert_uint_eq(meta.ttl, 300);
	ck_assert_int_eq(meta.stale, 0);
	/* Empty values are refused: 0 means a miss. */
	ck_assert_int_eq(cache_put(c, &k.k, 1000, 300, 0, "", 0), -1);
	ck_assert_int_eq(cache_put(c, &k.k, 1000, 300, 0, NULL, 3), -1);
	ck_assert_int_eq(cache_check(c), 0);
	cache_free(c);
}
END_TEST

START_TEST(test_case_insensitive)
{
	struct cache	*c = cache_new(65536, 4);
	struct tkey	 k1, k2, k3;

	tkey_init(&k1, "WWW.Example.COM", 1);
	tkey_init(&k2, "www.example.com", 1);
	tkey_init(&k3, "wWw.eXaMpLe.CoM", 1);
	ck_assert_int_eq(put(c, &k1, 0, 60, 0, "v1"), 0);
	ck_assert(holds(c, &k2, 0, 0, "v1"));
	ck_assert(holds(c, &k3, 0, 0, "v1"));
	/* Another case of the same name replaces the entry. */
	ck_assert_int_eq(put(c, &k3, 0, 60, 0, "v2"), 0);
	ck_assert(holds(c, &k1, 0, 0, "v2"));
	ck_assert_uint_eq(stats(c).entries, 1);
	cache_free(c);
}
END_TEST

/* Only ASCII letters fold: '[' and '{' or 0xc1 and 0xe1 differ by 32 too. */
START_TEST(test_case_only_letters)
{
	struct cache	*c = cache_new(65536, 1);
	struct tkey	 k1, k2;

	tkey_init(&k1, "a[b.test", 1);
	tkey_init(&k2, "a{b.test", 1);
	ck_assert_int_eq(put(c, &k1, 0, 60, 0, "bracket"), 0);
	ck_assert(misses(c, &k2, 0, 0));
	tkey_init(&k1, "xx.test", 1);
	tkey_init(&k2, "xx.test", 1);
	k1.wire[1] = 0xc1;
	k2.wire[1] = 0xe1;
	ck_assert_int_eq(put(c, &k1, 0, 60, 0, "high"), 0);
	ck_assert(misses(c, &k2, 0, 0));
	k2.wire[1] = 0xc1;
	ck_assert(holds(c, &k2, 0, 0, "high"));
	cache_free(c);
}
END_TEST

/* Each key field, changed alone, makes another entry. */
static void
key_vary(struct tkey *tk, int field)
{
	switch (field) {
	case 0:
		tk->k.kind = CACHE_KIND_REPLY;
		break;
	case 1:
		tk->k.flags = 0x10;
		break;
	case 2:
		tk->k.qtype = 1;
		break;
	case 3:
		tk->k.qclass = 3;
		break;
	case 4:
		tk->k.view = UINT64_C(1) << 40;
		break;
	case 5:
		tkey_init(tk, "www.example.org", 28);
		break;
	case 6:
		/* A shorter name, a prefix of the base name's wire form. */
		tk->k.namelen -= 4;
		break;
	}
}

#define NFIELDS	7

START_TEST(test_key_fields)
{
	struct cache	*c = cache_new(65536, 4);
	struct tkey	 base, v[NFIELDS];
	char		 val[32];
	int		 i;

	tkey_init(&base, "www.example.com", 28);
	ck_assert_int_eq(put(c, &base, 0, 60, 0, "base"), 0);
	for (i = 0; i < NFIELDS; i++) {
		tkey_init(&v[i], "www.example.com", 28);
		key_vary(&v[i], i);
		ck_assert_msg(misses(c, &v[i], 0, 0), "field %d", i);
	}
	for (i = 0; i < NFIELDS; i++) {
		snprintf(val, sizeof(val), "field%d", i);
		ck_assert_int_eq(put(c, &v[i], 0, 60, 0, val), 0);
	}
	ck_assert(holds(c, &base, 0, 0, "base"));
	for (i = 0; i < NFIELDS; i++) {
		snprintf(val, sizeof(val), "field%d", i);
		ck_assert_msg(holds(c, &v[i], 0, 0, val), "field %d", i);
	}
	ck_assert_uint_eq(stats(c).entries, NFIELDS + 1);
	/* Names longer than 255 bytes are no key. */
	base.k.namelen = 256;
	ck_assert_int_eq(put(c, &base, 0, 60, 0, "long"), -1);
	ck_assert(misses(c, &base, 0, 0));
	cache_free(c);
}
END_TEST

START_TEST(test_ttl_expiry)
{
	struct cache	*c = cache_new(65536, 2);
	struct tkey	 k;

	tkey_init(&k, "ttl.test", 1);
	ck_assert_int_eq(put(c, &k, 1000, 5, 0, "v"), 0);
	ck_assert(holds(c, &k, 1000, 0, "v"));
	ck_assert(holds(c, &k, 5999, 0, "v"));
	ck_assert(holds(c, &k, 5999, 1, "v"));
	ck_assert(misses(c, &k, 6000, 0));
	/* Found too old: removed and counted. */
	ck_assert_uint_eq(stats(c).entries, 0);
	ck_assert_uint_eq(stats(c).expired, 1);
	ck_assert(misses(c, &k, 6000, 1));
	/* No lifetime at all: not stored. */
	ck_assert_int_eq(put(c, &k, 1000, 0, 0, "v"), -1);
	ck_assert_uint_eq(stats(c).entries, 0);
	cache_free(c);
}
END_TEST

START_TEST(test_stale)
{
	struct cache		*c = cache_new(65536, 2);
	struct tkey		 k;
	struct cache_meta	 meta;
	char			 buf[16];

	tkey_init(&k, "stale.test", 1);
	ck_assert_int_eq(put(c, &k, 1000, 5, 10, "old"), 0);
	ck_assert_int_eq(cache_get(c, &k.k, 5999, 1, buf, sizeof(buf), &meta),
	    3);
	ck_assert_int_eq(meta.stale, 0);
	/* Past the ttl: a miss without stale_ok, but kept. */
	ck_assert(misses(c, &k, 6000, 0));
	ck_assert_uint_eq(stats(c).entries, 1);
	ck_assert_int_eq(cache_get(c, &k.k, 6000, 1, buf, sizeof(buf), &meta),
	    3);
	ck_assert_int_eq(meta.stale, 1);
	ck_assert_uint_eq(meta.stored, 1000);
	ck_assert_uint_eq(meta.ttl, 5);
	ck_assert(holds(c, &k, 15999, 1, "old"));
	ck_assert(misses(c, &k, 16000, 1));
	ck_assert_uint_eq(stats(c).entries, 0);
	ck_assert_uint_eq(stats(c).expired, 1);
	/* Kept only stale (ttl 0): stored, never fresh. */
	ck_assert_int_eq(put(c, &k, 1000, 0, 10, "zero"), 0);
	ck_assert(misses(c, &k, 1000, 0));
	ck_assert(holds(c, &k, 1000, 1, "zero"));
	cache_free(c);
}
END_TEST

/* The accounted size of one entry with this name and value length. */
static uint64_t
entry_size(const char *name, size_t vlen)
{
	struct cache	*c = cache_new(1 << 20, 1);
	struct tkey	 k;
	char		 val[1024];
	uint64_t	 size;

	ck_assert(vlen > 0 && vlen < sizeof(val));
	memset(val, 'x', vlen);
	tkey_init(&k, name, 1);
	ck_assert_int_eq(cache_put(c, &k.k, 0, 60, 0, val, vlen), 0);
	size = stats(c).bytes;
	cache_free(c);
	return (size);
}

START_TEST(test_lru)
{
	struct cache	*c;
	struct tkey	 k[5];
	uint64_t	 size = entry_size("n0.test", 8);
	char		 name[32];
	int		 i;

	/* Room for three entries of one shard, not four. */
	c = cache_new(3 * size + size / 2, 1);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		tkey_init(&k[i], name, 1);
	}
	ck_assert_int_eq(put(c, &k[0], 0, 60, 0, "value--0"), 0);
	ck_assert_int_eq(put(c, &k[1], 0, 60, 0, "value--1"), 0);
	ck_assert_int_eq(put(c, &k[2], 0, 60, 0, "value--2"), 0);
	ck_assert_uint_eq(stats(c).bytes, 3 * size);
	/* Use the oldest: the least recently used is now 1. */
	ck_assert(holds(c, &k[0], 1, 0, "value--0"));
	ck_assert_int_eq(put(c, &k[3], 2, 60, 0, "value--3"), 0);
	ck_assert_uint_eq(stats(c).evictions, 1);
	ck_assert(misses(c, &k[1], 3, 0));
	/* Order (most recent first): 3 0 2; touch 2, then 3 0 go last. */
	ck_assert(holds(c, &k[2], 4, 0, "value--2"));
	ck_assert(holds(c, &k[3], 5, 0, "value--3"));
	ck_assert_int_eq(put(c, &k[4], 6, 60, 0, "value--4"), 0);
	ck_assert(misses(c, &k[0], 7, 0));
	ck_assert(holds(c, &k[2], 7, 0, "value--2"));
	ck_assert(holds(c, &k[3], 7, 0, "value--3"));
	ck_assert(holds(c, &k[4], 7, 0, "value--4"));
	ck_assert_uint_eq(stats(c).evictions, 2);
	ck_assert_uint_eq(stats(c).entries, 3);
	ck_assert_int_eq(cache_check(c), 0);
	cache_free(c);
}
END_TEST

START_TEST(test_replace)
{
	struct cache	*c = cache_new(65536, 4);
	struct tkey	 k;
	uint64_t	 b1;

	tkey_init(&k, "replace.test", 1);
	ck_assert_int_eq(put(c, &k, 0, 60, 0, "v1"), 0);
	b1 = stats(c).bytes;
	ck_assert_int_eq(put(c, &k, 10, 120, 0, "value-two"), 0);
	ck_assert_uint_eq(stats(c).entries, 1);
	ck_assert_uint_eq(stats(c).bytes, b1 + 7);
	ck_assert_uint_eq(stats(c).inserts, 2);
	ck_assert_uint_eq(stats(c).evictions, 0);
	ck_assert(holds(c, &k, 60000, 0, "value-two"));
	ck_assert_int_eq(put(c, &k, 10, 120, 0, "v3"), 0);
	ck_assert_uint_eq(stats(c).bytes, b1);
	ck_assert_int_eq(cache_check(c), 0);
	cache_free(c);
}
END_TEST

START_TEST(test_too_large)
{
	struct cache	*c;
	struct tkey	 k;
	char		 val[4096];
	uint64_t	 overhead = entry_size("big.test", 1) - 1;

	memset(val, 'v', sizeof(val));
	tkey_init(&k, "big.test", 1);
	/* 4 shards of 1000 bytes: exactly a shard's share fits, not more. */
	c = cache_new(4000, 4);
	ck_assert_int_eq(cache_put(c, &k.k, 0, 60, 0, val,
	    1000 - overhead + 1), -1);
	ck_assert_uint_eq(stats(c).entries, 0);
	ck_assert_int_eq(cache_put(c, &k.k, 0, 60, 0, val, 1000 - overhead),
	    0);
	ck_assert_uint_eq(stats(c).bytes, 1000);
	/* A refused value takes the old one under its key away. */
	ck_assert_int_eq(cache_put(c, &k.k, 0, 60, 0, val, sizeof(val)), -1);
	ck_assert(misses(c, &k, 0, 0));
	ck_assert_uint_eq(stats(c).bytes, 0);
	cache_free(c);
	/* 3 shards are 4: 4000 / 4 bytes each, not 4000 / 3. */
	c = cache_new(4000, 3);
	ck_assert_int_eq(cache_put(c, &k.k, 0, 60, 0, val,
	    1000 - overhead + 1), -1);
	cache_free(c);
	/* A budget of 0 stores nothing. */
	c = cache_new(0, 1);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(put(c, &k, 0, 60, 0, "v"), -1);
	cache_free(c);
}
END_TEST

START_TEST(test_small_buffer)
{
	struct cache		*c = cache_new(65536, 1);
	struct tkey		 k;
	struct cache_meta	 meta;
	char			 buf[16];

	tkey_init(&k, "buf.test", 1);
	ck_assert_int_eq(put(c, &k, 0, 60, 0, "0123456789"), 0);
	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(cache_get(c, &k.k, 0, 0, buf, 9, &meta), -1);
	ck_assert_int_eq(buf[0], '#');
	ck_assert_int_eq(cache_get(c, &k.k, 0, 0, NULL, 0, &meta), -1);
	ck_assert_int_eq(cache_get(c, &k.k, 0, 0, buf, 10, &meta), 10);
	ck_assert(memcmp(buf, "0123456789", 10) == 0);
	ck_assert_int_eq(buf[10], '#');
	cache_free(c);
}
END_TEST

START_TEST(test_flush)
{
	struct cache	*c = cache_new(65536, 8);
	struct tkey	 k;
	char		 name[32];
	int		 i;

	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "f%d.test", i);
		tkey_init(&k, name, 1);
		ck_assert_int_eq(put(c, &k, 0, 60, 0, "v"), 0);
	}
	ck_assert_uint_eq(stats(c).entries, 50);
	cache_flush(c);
	ck_assert_uint_eq(stats(c).entries, 0);
	ck_assert_uint_eq(stats(c).bytes, 0);
	ck_assert(misses(c, &k, 0, 0));
	ck_assert_int_eq(cache_check(c), 0);
	/* Still usable. */
	ck_assert_int_eq(put(c, &k, 0, 60, 0, "again"), 0);
	ck_assert(holds(c, &k, 0, 0, "again"));
	cache_free(c);
}
END_TEST

START_TEST(test_flush_name)
{
	struct cache	*c = cache_new(65536, 8);
	struct tkey	 k, other[3], flushme;
	uint16_t	 qtypes[] = { 1, 28, 12, 16 };
	int		 i, kind;

	/* The name under every type, both kinds and two views. */
	for (i = 0; i < 4; i++)
		for (kind = CACHE_KIND_UPSTREAM; kind <= CACHE_KIND_REPLY;
		    kind++) {
			tkey_init(&k, "www.Example.com", qtypes[i]);
			k.k.kind = kind;
			k.k.view = kind == CACHE_KIND_REPLY ? 7 : 0;
			ck_assert_int_eq(put(c, &k, 0, 60, 0, "gone"), 0);
		}
	tkey_init(&other[0], "example.com", 28);
	tkey_init(&other[1], "www.example.com.example.com", 28);
	tkey_init(&other[2], "www.example.net", 28);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(put(c, &other[i], 0, 60, 0, "kept"), 0);
	tkey_init(&flushme, "WWW.EXAMPLE.COM", 1);
	ck_assert_uint_eq(cache_flush_name(c, flushme.k.name,
	    flushme.k.namelen), 8);
	ck_assert_uint_eq(stats(c).entries, 3);
	for (i = 0; i < 3; i++)
		ck_assert(holds(c, &other[i], 0, 0, "kept"));
	tkey_init(&k, "www.example.com", 28);
	ck_assert(misses(c, &k, 0, 0));
	ck_assert_uint_eq(cache_flush_name(c, flushme.k.name,
	    flushme.k.namelen), 0);
	ck_assert_int_eq(cache_check(c), 0);
	cache_free(c);
}
END_TEST

/*
 * 10 entries dead at 1 s, 5 kept stale until 6 s, 5 fresh until 100 s;
 * sweeps of at most 3 remove only the dead ones, wherever they are.
 */
START_TEST(test_sweep)
{
	struct cache	*c = cache_new(1 << 20, _i == 0 ? 1 : 8);
	struct tkey	 k;
	char		 name[32];
	size_t		 n, total;
	int		 i, calls;

	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "s%d.test", i);
		tkey_init(&k, name, 1);
		ck_assert_int_eq(put(c, &k, 0, i < 15 ? 1 : 100,
		    i >= 10 && i < 15 ? 5 : 0, "v"), 0);
	}
	ck_assert_uint_eq(cache_sweep(c, 999, 100), 0);
	ck_assert_uint_eq(cache_sweep(c, 0, 0), 0);
	for (total = 0, calls = 0; calls < 100 && total < 10; calls++) {
		n = cache_sweep(c, 2000, 3);
		ck_assert_uint_le(n, 3);
		total += n;
	}
	ck_assert_uint_eq(total, 10);
	for (calls = 0; calls < 20; calls++)
		ck_assert_uint_eq(cache_sweep(c, 2000, 3), 0);
	ck_assert_uint_eq(stats(c).entries, 10);
	for (i = 10; i < 15; i++) {
		snprintf(name, sizeof(name), "s%d.test", i);
		tkey_init(&k, name, 1);
		ck_assert(holds(c, &k, 2000, 1, "v"));
	}
	for (total = 0, calls = 0; calls < 100 && total < 5; calls++)
		total += cache_sweep(c, 6000, 3);
	ck_assert_uint_eq(total, 5);
	ck_assert_uint_eq(stats(c).entries, 5);
	ck_assert_uint_eq(stats(c).expired, 15);
	for (i = 15; i < 20; i++) {
		snprintf(name, sizeof(name), "s%d.test", i);
		tkey_init(&k, name, 1);
		ck_assert(holds(c, &k, 6000, 0, "v"));
	}
	ck_assert_int_eq(cache_check(c), 0);
	cache_free(c);
}
END_TEST

/*
 * 1999 dead entries and one alive: each call removes exactly max while
 * there are more; the last ones come with the end of the round.
 */
START_TEST(test_sweep_max)
{
	struct cache	*c = cache_new(1 << 24, 1);
	struct tkey	 k;
	char		 name[32];
	size_t		 n, total = 0;
	int		 i;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "b%d.test", i);
		tkey_init(&k, name, 1);
		ck_assert_int_eq(put(c, &k, 0, i == 1999 ? 100 : 1, 0, "v"),
		    0);
	}
	for (i = 0; i < 19; i++) {
		ck_assert_uint_eq(cache_sweep(c, 5000, 100), 100);
		total += 100;
	}
	for (i = 0; i < 10 && total < 1999; i++) {
		n = cache_sweep(c, 5000, 100);
		ck_assert_uint_le(n, 99);
		total += n;
	}
	ck_assert_uint_eq(total, 1999);
	ck_assert_uint_eq(stats(c).entries, 1);
	cache_free(c);
}
END_TEST

/*
 * One dead entry among 2000 live ones: calls of max 1 look at a few
 * entries each and resume where the last stopped, so one of them finds
 * it within a round of the table.
 */
START_TEST(test_sweep_cursor)
{
	struct cache	*c = cache_new(1 << 24, _i == 0 ? 1 : 4);
	struct tkey	 k;
	char		 name[32];
	size_t		 n = 0;
	int		 i;

	for (i = 0; i < 2001; i++) {
		snprintf(name, sizeof(name), "l%d.test", i);
		tkey_init(&k, name, 1);
		ck_assert_int_eq(put(c, &k, 0, i == 1000 ? 1 : 100, 0, "v"),
		    0);
	}
	for (i = 0; i < 2001 && n == 0; i++) {
		n = cache_sweep(c, 5000, 1);
		ck_assert_uint_le(n, 1);
	}
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(stats(c).entries, 2000);
	cache_free(c);
}
END_TEST

/* Random puts of random sizes: the budget always holds. */
START_TEST(test_budget)
{
	struct cache		*c = cache_new(10000, 4);
	struct cache_stats	 st;
	struct tkey		 k;
	char			 name[32], val[600];
	unsigned int		 seed = 1;
	int			 i;

	memset(val, 'b', sizeof(val));
	for (i = 0; i < 2000; i++) {
		seed = seed * 1103515245 + 12345;
		snprintf(name, sizeof(name), "r%u.test", (seed >> 8) % 200);
		tkey_init(&k, name, (seed >> 4) & 1 ? 1 : 28);
		(void)cache_put(c, &k.k, (uint64_t)i, 1 + (seed >> 20) % 4, 0,
		    val, 1 + (seed >> 12) % sizeof(val));
		cache_get_stats(c, &st);
		ck_assert_uint_le(st.bytes, 10000);
		ck_assert_uint_eq(st.maxbytes, 10000);
		if (i % 100 == 0)
			ck_assert_int_eq(cache_check(c), 0);
	}
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_int_eq(cache_check(c), 0);
	cache_free(c);
}
END_TEST

/* Without replaces and flushes: entries = inserts - evictions - expired. */
START_TEST(test_stats)
{
	struct cache		*c;
	struct cache_stats	 st;
	struct tkey		 k;
	uint64_t		 size = entry_size("st000.test", 16);
	char			 name[32];
	int			 i;

	/*
	 * Room for 10; entry i is stored at i s, for 5 s when i is even,
	 * 60 s when odd.  Inserting i pushes out i - 10, which died at
	 * i - 5 s when even (expired) and is alive when odd (evicted).
	 */
	c = cache_new(10 * size, 1);
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "st%03d.test", i);
		tkey_init(&k, name, 1);
		ck_assert_int_eq(put(c, &k, (uint64_t)i * 1000,
		    i % 2 == 0 ? 5 : 60, 0, "0123456789abcdef"), 0);
	}
	cache_get_stats(c, &st);
	ck_assert_uint_eq(st.inserts, 30);
	ck_assert_uint_eq(st.entries, 10);
	ck_assert_uint_eq(st.bytes, 10 * size);
	ck_assert_uint_eq(st.expired, 10);
	ck_assert_uint_eq(st.evictions, 10);
	/* Lazily expired on lookup: entry 20 died at 25 s. */
	snprintf(name, sizeof(name), "st%03d.test", 20);
	tkey_init(&k, name, 1);
	ck_assert(misses(c, &k, 25000, 0));
	cache_get_stats(c, &st);
	ck_assert_uint_eq(st.expired, 11);
	ck_assert_uint_eq(st.entries, 9);
	ck_assert_uint_eq(st.entries, st.inserts - st.evictions - st.expired);
	ck_assert_uint_eq(st.bytes, 9 * size);
	cache_free(c);
}
END_TEST

START_TEST(test_null_cache)
{
	struct cache_stats	 st;
	struct tkey		 k;
	char			 buf[16];

	tkey_init(&k, "off.test", 1);
	ck_assert_int_eq(cache_get(NULL, &k.k, 0, 1, buf, sizeof(buf), NULL),
	    0);
	ck_assert_int_eq(put(NULL, &k, 0, 60, 60, "v"), -1);
	cache_flush(NULL);
	ck_assert_uint_eq(cache_flush_name(NULL, k.k.name, k.k.namelen), 0);
	ck_assert_uint_eq(cache_sweep(NULL, 0, 100), 0);
	memset(&st, 0xff, sizeof(st));
	cache_get_stats(NULL, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.maxbytes, 0);
	ck_assert_uint_eq(st.inserts, 0);
	cache_free(NULL);
}
END_TEST

/* SipHash-2-4 of 00 01 02 ... (0 to 63 bytes) under key 00 01 ... 0f. */
static const uint64_t sipvec[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL
};

START_TEST(test_siphash)
{
	uint8_t	 key[SIPHASH_KEYLEN], msg[64];
	int	 i;

	for (i = 0; i < SIPHASH_KEYLEN; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	ck_assert_msg(siphash24(key, msg, (size_t)_i) == sipvec[_i],
	    "length %d", _i);
}
END_TEST

/*
 * Threads on overlapping keys.  A value is its key's number (2 bytes)
 * followed by a pattern of it, so a reader can tell whether what it got is its key's;
 * failures are counted, asserted after the join (Check asserts belong to
 * the main thread).
 */
#define MT_THREADS	4
#define MT_ITER		20000
#define MT_KEYS		512

struct mt_arg {
	struct cache	*c;
	unsigned int	 seed;
	int		 id;
	unsigned long	 hits;
	unsigned long	 bad;
};

static unsigned int
mt_rand(unsigned int *s)
{
	/* xorshift32 */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

static void *
mt_run(void *p)
{
	struct mt_arg		*a = p;
	struct cache_stats	 st;
	struct tkey		 k;
	uint8_t			 val[300], buf[300];
	char			 name[32];
	unsigned int		 r, key, len, j;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < MT_ITER; i++) {
		r = mt_rand(&a->seed);
		key = r % MT_KEYS;
		snprintf(name, sizeof(name), "Mt%u.Test", key);
		tkey_init(&k, name, key & 1 ? 1 : 28);
		switch ((r >> 8) % 16) {
		case 0:
			(void)cache_flush_name(a->c, k.k.name, k.k.namelen);
			break;
		case 1:
			if ((r >> 12) % 8 == 0)
				cache_get_stats(a->c, &st);
			else
				(void)cache_sweep(a->c, (uint64_t)i, 16);
			break;
		case 2: case 3: case 4: case 5: case 6:
			len = 2 + (r >> 12) % (sizeof(val) - 2);
			val[0] = (uint8_t)(key >> 8);
			val[1] = (uint8_t)key;
			for (j = 2; j < len; j++)
				val[j] = (uint8_t)(key + j);
			(void)cache_put(a->c, &k.k, (uint64_t)i,
			    (r >> 20) % 3, (r >> 24) % 2, val, len);
			break;
		default:
			n = cache_get(a->c, &k.k, (uint64_t)i, (r >> 12) & 1,
			    buf, sizeof(buf), NULL);
			if (n == 0)
				break;
			if (n < 2 || buf[0] != (uint8_t)(key >> 8) ||
			    buf[1] != (uint8_t)key) {
				a->bad++;
				break;
			}
			for (j = 2; j < (unsigned int)n; j++)
				if (buf[j] != (uint8_t)(key + j)) {
					a->bad++;
					break;
				}
			a->hits++;
			break;
		}
	}
	return (NULL);
}

START_TEST(test_threads)
{
	struct cache		*c = cache_new(65536, 4);
	struct cache_stats	 st;
	struct mt_arg		 a[MT_THREADS];
	pthread_t		 th[MT_THREADS];
	unsigned long		 hits = 0;
	int			 i;

	ck_assert_ptr_nonnull(c);
	for (i = 0; i < MT_THREADS; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].c = c;
		a[i].id = i;
		a[i].seed = 2463534242U + (unsigned int)i * 7919;
		ck_assert_int_eq(pthread_create(&th[i], NULL, mt_run, &a[i]),
		    0);
	}
	for (i = 0; i < MT_THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_uint_eq(a[i].bad, 0);
		hits += a[i].hits;
	}
	/* The mix must have exercised hits, evictions and expiry. */
	ck_assert_uint_gt(hits, 0);
	ck_assert_int_eq(cache_check(c), 0);
	cache_get_stats(c, &st);
	ck_assert_uint_le(st.bytes, 65536);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_gt(st.expired, 0);
	cache_free(c);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite	*s = suite_create("cache");
	TCase	*tc;

	tc = tcase_create("keys");
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_case_insensitive);
	tcase_add_test(tc, test_case_only_letters);
	tcase_add_test(tc, test_key_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_test(tc, test_ttl_expiry);
	tcase_add_test(tc, test_stale);
	tcase_add_loop_test(tc, test_sweep, 0, 2);
	tcase_add_test(tc, test_sweep_max);
	tcase_add_loop_test(tc, test_sweep_cursor, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("space");
	tcase_add_test(tc, test_lru);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_test(tc, test_budget);
	tcase_add_test(tc, test_stats);
	suite_add_tcase(s, tc);

	tc = tcase_create("flush");
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_flush_name);
	tcase_add_test(tc, test_null_cache);
	suite_add_tcase(s, tc);

	tc = tcase_create("siphash");
	tcase_add_loop_test(tc, test_siphash, 0, 64);
	suite_add_tcase(s, tc);

	/* Generous: sanitizer builds run this several times slower. */
	tc = tcase_create("threads");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(cache_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
