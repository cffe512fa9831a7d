/*
 * stats.c -- counters, logged on SIGUSR1 and at exit.
 */
#include "config.h"

#include <inttypes.h>

#include "log.h"
#include "stats.h"

void
stats_log(const struct stats *s)
{
	log_info("stats: queries udp %" PRIu64 " tcp %" PRIu64
	    ", passed %" PRIu64 ", synthesized %" PRIu64
	    ", ptr mapped %" PRIu64 ", local %" PRIu64
	    ", refused %" PRIu64 ", formerr %" PRIu64 ", notimp %" PRIu64
	    ", servfail %" PRIu64 ", dropped %" PRIu64
	    ", truncated %" PRIu64 "; upstream queries %" PRIu64
	    " timeouts %" PRIu64 " errors %" PRIu64 " tcp fallbacks %" PRIu64
	    " mismatched replies %" PRIu64 "; tcp clients %" PRIu64
	    " idle closed %" PRIu64 " closed at the cap %" PRIu64
	    " rejected at the cap %" PRIu64,
	    s->queries_udp, s->queries_tcp, s->passed, s->synthesized,
	    s->ptr_mapped, s->local, s->refused, s->formerr, s->notimp,
	    s->servfail, s->dropped, s->truncated, s->upstream_queries,
	    s->upstream_timeouts, s->upstream_errors, s->upstream_tcp,
	    s->upstream_mismatched, s->tcp_accepted, s->tcp_closed_idle,
	    s->tcp_closed_cap, s->tcp_rejected_cap);
}
