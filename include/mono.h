/*
 * mono.h -- the monotonic clock, in the units the modules count in.
 */
#ifndef MONO_H
#define MONO_H

#include <stdint.h>

uint64_t	 mono_ms(void);
uint64_t	 mono_us(void);

#endif /* MONO_H */
