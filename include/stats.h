/*
 * stats.h -- counters of one worker.
 */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>

struct stats {
	uint64_t	 queries_udp;
	uint64_t	 queries_tcp;
	uint64_t	 dropped;		/* malformed, not answered */
	uint64_t	 refused;		/* query ACL */
	uint64_t	 formerr;
	uint64_t	 notimp;
	uint64_t	 servfail;
	uint64_t	 passed;		/* upstream answer relayed */
	uint64_t	 synthesized;		/* DNS64 AAAA answers */
	uint64_t	 ptr_mapped;		/* RFC 6147 5.3.1 answers */
	uint64_t	 local;			/* ipv4only.arpa answers */
	uint64_t	 truncated;
	uint64_t	 upstream_queries;
	uint64_t	 upstream_timeouts;
	uint64_t	 upstream_errors;
	uint64_t	 upstream_tcp;		/* TC=1 fallbacks */
	uint64_t	 upstream_mismatched;	/* RFC 5452 rejects */
	uint64_t	 tcp_accepted;
	uint64_t	 tcp_closed_idle;
	uint64_t	 tcp_closed_cap;	/* refused, gave way at the cap */
	uint64_t	 tcp_rejected_cap;	/* not accepted at the cap */
};

/* Log every counter in one line. */
void	stats_log(const struct stats *);

#endif /* STATS_H */
