/*
 * stats.h -- the counters, in one place.
 *
 * Each worker thread has its own struct stats and is the only one to write
 * it; the main thread sums them for the control tool, the metrics page and
 * the log.  The fields are atomics written with relaxed loads and stores
 * (plain moves on the usual machines, not locked instructions), so that a
 * reader never tears a value and a writer never waits.  Counters only
 * grow: nothing is reset on reading, so several readers can never disturb
 * one another.
 */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

/* What became of a query: the word of its -v log line. */
enum outcome {
	OUTCOME_PASSED,		/* the forwarder's answer, relayed */
	OUTCOME_SYNTHESIZED,	/* DNS64 AAAA (RFC 6147 5.1.7) */
	OUTCOME_MAPPED,		/* PTR mapped to in-addr.arpa (5.3.1) */
	OUTCOME_LOCAL,		/* answered here: ipv4only.arpa, reverse zones */
	OUTCOME_REFUSED,	/* the query ACL */
	OUTCOME_ERROR,		/* an error reply of ours */
	OUTCOME_DROPPED,	/* no reply at all */
	OUTCOME_MAX
};

enum stats_qtype {
	STATS_QTYPE_A,
	STATS_QTYPE_AAAA,
	STATS_QTYPE_PTR,
	STATS_QTYPE_OTHER,
	STATS_QTYPE_MAX
};

#define STATS_RCODE_MAX		17	/* 0-15, BADVERS; others count as 16 */
/*
 * Histogram buckets: upper bounds of 0.25 ms times powers of two, up to
 * 8.192 s (CoreDNS's), then +Inf.
 */
#define STATS_NBUCKETS		16
#define STATS_BUCKET0_US	250

typedef _Atomic uint64_t	stats_counter;

struct stats_histogram {
	stats_counter	 bucket[STATS_NBUCKETS + 1];	/* not cumulative */
	stats_counter	 sum_us;
	stats_counter	 count;
};

struct stats {
	/* by transport (0 udp, 1 tcp), family (0 IPv4, 1 IPv6), qtype */
	stats_counter	 queries[2][2][STATS_QTYPE_MAX];
	stats_counter	 outcome[OUTCOME_MAX];
	stats_counter	 rcode[STATS_RCODE_MAX];
	stats_counter	 truncated;
	stats_counter	 synthesized_rrs;	/* AAAA records made */
	stats_counter	 aaaa_excluded;		/* AAAA records excluded */
	stats_counter	 a_unmapped;		/* A found, none mappable */
	stats_counter	 cache_reply_hits;	/* whole replies */
	stats_counter	 cache_hits;		/* forwarder answers */
	stats_counter	 cache_misses;
	stats_counter	 cache_stale;		/* RFC 8767 answers */
	stats_counter	 upstream_queries;
	stats_counter	 upstream_timeouts;
	stats_counter	 upstream_errors;	/* ICMP, refused, reset */
	stats_counter	 upstream_broken;	/* bad question, unparsable */
	stats_counter	 upstream_unmatched;	/* unknown ID: late or forged */
	stats_counter	 upstream_tcp;		/* TC=1 retried over TCP */
	stats_counter	 upstream_coalesced;	/* joined a query in flight */
	stats_counter	 upstream_local_errors;	/* could not send */
	stats_counter	 tcp_accepted;
	stats_counter	 tcp_closed_idle;
	stats_counter	 tcp_closed_cap;	/* made room at the cap */
	stats_counter	 tcp_rejected;		/* not accepted: per-address
						   limit or no room */
	stats_counter	 inflight;		/* gauge: queries in flight */
	stats_counter	 tcp_open;		/* gauge: client connections */
	struct stats_histogram	 latency;	/* answer latency */
	struct stats_histogram	 upstream_rtt;
};

/* Only the owning thread writes; relaxed, so no locked instruction. */
#define STATS_ADD(c, n)	atomic_store_explicit(&(c),			\
	    atomic_load_explicit(&(c), memory_order_relaxed) + (n),	\
	    memory_order_relaxed)
#define STATS_INC(c)	STATS_ADD(c, 1)
#define STATS_DEC(c)	STATS_ADD(c, (uint64_t)-1)
#define STATS_GET(c)	atomic_load_explicit(&(c), memory_order_relaxed)

/* The -v word of an outcome. */
const char	*stats_outcome_name(enum outcome);
enum stats_qtype stats_qtype(uint16_t);
/* Count a sample of us microseconds. */
void		 stats_observe(struct stats_histogram *, uint64_t);
/* dst += src, field by field (dst is a private copy). */
void		 stats_sum(struct stats *, const struct stats *);
/* One log line with the main counters. */
void		 stats_log(const struct stats *);

#endif /* STATS_H */
