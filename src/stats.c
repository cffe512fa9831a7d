/*
 * stats.c -- counters: names, histograms, sums and the log line.
 */
#include "config.h"

#include <inttypes.h>

#include <ldns/ldns.h>

#include "log.h"
#include "stats.h"

static const char *const outcome_names[OUTCOME_MAX] = {
	"passed", "synthesized", "mapped", "local", "refused", "error",
	"dropped"
};

const char *
stats_outcome_name(enum outcome o)
{
	return (o < OUTCOME_MAX ? outcome_names[o] : "?");
}

enum stats_qtype
stats_qtype(uint16_t qtype)
{
	switch (qtype) {
	case LDNS_RR_TYPE_A:
		return (STATS_QTYPE_A);
	case LDNS_RR_TYPE_AAAA:
		return (STATS_QTYPE_AAAA);
	case LDNS_RR_TYPE_PTR:
		return (STATS_QTYPE_PTR);
	default:
		return (STATS_QTYPE_OTHER);
	}
}

void
stats_observe(struct stats_histogram *h, uint64_t us)
{
	uint64_t	 bound = STATS_BUCKET0_US;
	int		 i;

	for (i = 0; i < STATS_NBUCKETS && us > bound; i++)
		bound *= 2;
	STATS_INC(h->bucket[i]);
	STATS_ADD(h->sum_us, us);
	STATS_INC(h->count);
}

/*
 * The struct is nothing but counters, so it is summed as an array of them;
 * the static assertion keeps it that way.
 */
_Static_assert(sizeof(struct stats) % sizeof(stats_counter) == 0,
    "struct stats holds only counters");

void
stats_sum(struct stats *dst, const struct stats *src)
{
	stats_counter		*d = (stats_counter *)dst;
	const stats_counter	*s = (const stats_counter *)src;
	size_t			 i, n = sizeof(*dst) / sizeof(*d);

	for (i = 0; i < n; i++)
		atomic_store_explicit(&d[i], atomic_load_explicit(&d[i],
		    memory_order_relaxed) + atomic_load_explicit(&s[i],
		    memory_order_relaxed), memory_order_relaxed);
}

void
stats_log(const struct stats *s)
{
	uint64_t	 q[2] = { 0, 0 };
	int		 t, f, k;

	for (t = 0; t < 2; t++)
		for (f = 0; f < 2; f++)
			for (k = 0; k < STATS_QTYPE_MAX; k++)
				q[t] += STATS_GET(s->queries[t][f][k]);
	log_info("stats: queries udp %" PRIu64 " tcp %" PRIu64
	    ", passed %" PRIu64 ", synthesized %" PRIu64
	    ", mapped %" PRIu64 ", local %" PRIu64 ", refused %" PRIu64
	    ", errors %" PRIu64 ", dropped %" PRIu64 ", truncated %" PRIu64
	    "; cache reply hits %" PRIu64 " hits %" PRIu64 " misses %" PRIu64
	    "; upstream queries %" PRIu64 " timeouts %" PRIu64
	    " errors %" PRIu64 " broken %" PRIu64 " unmatched %" PRIu64
	    " tcp fallbacks %" PRIu64 " coalesced %" PRIu64
	    "; tcp clients %" PRIu64 " idle closed %" PRIu64
	    " closed at the cap %" PRIu64 " rejected %" PRIu64,
	    q[0], q[1], STATS_GET(s->outcome[OUTCOME_PASSED]),
	    STATS_GET(s->outcome[OUTCOME_SYNTHESIZED]),
	    STATS_GET(s->outcome[OUTCOME_MAPPED]),
	    STATS_GET(s->outcome[OUTCOME_LOCAL]),
	    STATS_GET(s->outcome[OUTCOME_REFUSED]),
	    STATS_GET(s->outcome[OUTCOME_ERROR]),
	    STATS_GET(s->outcome[OUTCOME_DROPPED]), STATS_GET(s->truncated),
	    STATS_GET(s->cache_reply_hits), STATS_GET(s->cache_hits),
	    STATS_GET(s->cache_misses), STATS_GET(s->upstream_queries),
	    STATS_GET(s->upstream_timeouts), STATS_GET(s->upstream_errors),
	    STATS_GET(s->upstream_broken), STATS_GET(s->upstream_unmatched),
	    STATS_GET(s->upstream_tcp), STATS_GET(s->upstream_coalesced),
	    STATS_GET(s->tcp_accepted), STATS_GET(s->tcp_closed_idle),
	    STATS_GET(s->tcp_closed_cap), STATS_GET(s->tcp_rejected));
}
