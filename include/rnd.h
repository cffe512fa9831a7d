/*
 * rnd.h -- random numbers for IDs, ports and choices: the kernel's CSPRNG
 * (getrandom), read in blocks.  glibc 2.36's arc4random makes a system
 * call for every number, which on the query path costs more than the
 * numbers are worth.
 */
#ifndef RND_H
#define RND_H

#include <stdint.h>

/* A uniform number in [0, bound), bound > 0. */
uint32_t	 rnd_uniform(uint32_t);

#endif /* RND_H */
