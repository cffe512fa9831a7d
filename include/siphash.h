/*
 * siphash.h -- SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed 64-bit
 * hash: with a random secret key, outsiders cannot choose inputs that
 * collide, so hash tables keyed on names from the network stay balanced.
 */
#ifndef SIPHASH_H
#define SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEYLEN	16

uint64_t	 siphash24(const uint8_t key[SIPHASH_KEYLEN], const void *,
		    size_t);

#endif /* SIPHASH_H */
