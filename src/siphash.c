/*
 * siphash.c -- SipHash-2-4: two compression rounds per 8-byte word, four
 * finalization rounds, 64-bit output.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

struct sipstate {
	uint64_t	 v0, v1, v2, v3;
};

static uint64_t
load64le(const uint8_t *p)
{
	return ((uint64_t)p[0] | (uint64_t)p[1] << 8 |
	    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56);
}

static void
sipround(struct sipstate *s, int rounds)
{
	while (rounds-- > 0) {
		s->v0 += s->v1;
		s->v1 = ROTL(s->v1, 13);
		s->v1 ^= s->v0;
		s->v0 = ROTL(s->v0, 32);
		s->v2 += s->v3;
		s->v3 = ROTL(s->v3, 16);
		s->v3 ^= s->v2;
		s->v0 += s->v3;
		s->v3 = ROTL(s->v3, 21);
		s->v3 ^= s->v0;
		s->v2 += s->v1;
		s->v1 = ROTL(s->v1, 17);
		s->v1 ^= s->v2;
		s->v2 = ROTL(s->v2, 32);
	}
}

static void
compress(struct sipstate *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s, 2);
	s->v0 ^= m;
}

uint64_t
siphash24(const uint8_t key[SIPHASH_KEYLEN], const void *data, size_t len)
{
	const uint8_t	*p = data;
	struct sipstate	 s;
	uint64_t	 k0, k1, last;
	size_t		 i, tail;

	k0 = load64le(key);
	k1 = load64le(key + 8);
	/* "somepseudorandomlygeneratedbytes" */
	s.v0 = k0 ^ 0x736f6d6570736575ULL;
	s.v1 = k1 ^ 0x646f72616e646f6dULL;
	s.v2 = k0 ^ 0x6c7967656e657261ULL;
	s.v3 = k1 ^ 0x7465646279746573ULL;

	for (i = 0; i + 8 <= len; i += 8)
		compress(&s, load64le(p + i));
	/* The last word: the remaining bytes, and the length mod 256 on top. */
	last = (uint64_t)(len & 0xff) << 56;
	for (tail = 0; i + tail < len; tail++)
		last |= (uint64_t)p[i + tail] << (8 * tail);
	compress(&s, last);

	s.v2 ^= 0xff;
	sipround(&s, 4);
	return (s.v0 ^ s.v1 ^ s.v2 ^ s.v3);
}
