/*
 * rnd.c -- random numbers from getrandom(2), buffered per thread.
 *
 * The buffer is the one piece of per-thread state in the program: each
 * worker draws from its own, so no lock is taken on the query path.
 * Bytes are used once and the buffer is refilled from the kernel's
 * CSPRNG, so the numbers are as unpredictable as getrandom's (RFC 5452
 * 9.2 asks for a CSPRNG, RFC 4086).  arc4random stays the fallback if
 * getrandom ever fails.
 */
#include "config.h"

#include <sys/random.h>
#include <stdlib.h>
#include <string.h>

#include "rnd.h"

#define RND_BUFSIZE	1024

static _Thread_local uint8_t	rnd_buf[RND_BUFSIZE];
static _Thread_local size_t	rnd_pos = RND_BUFSIZE;

static uint32_t
rnd32(void)
{
	uint32_t	 v;
	ssize_t		 n;

	if (rnd_pos + sizeof(v) > RND_BUFSIZE) {
		n = getrandom(rnd_buf, RND_BUFSIZE, 0);
		if (n != RND_BUFSIZE)
			return (arc4random());
		rnd_pos = 0;
	}
	memcpy(&v, rnd_buf + rnd_pos, sizeof(v));
	/* Never hand out the same bytes twice. */
	memset(rnd_buf + rnd_pos, 0, sizeof(v));
	rnd_pos += sizeof(v);
	return (v);
}

uint32_t
rnd_uniform(uint32_t bound)
{
	uint32_t	 v, min;

	if (bound < 2)
		return (0);
	/* Reject the values that would make some results likelier. */
	min = -bound % bound;
	do
		v = rnd32();
	while (v < min);
	return (v % bound);
}
