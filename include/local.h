/*
 * local.h -- the answers given here, without a forwarder: ipv4only.arpa
 * and its reverse names (RFC 7050, RFC 8880 7), and the reverse zones of
 * the prefixes (RFC 6147 5.3.1) above the full-length names.
 */
#ifndef LOCAL_H
#define LOCAL_H

#include <stdint.h>
#include <ldns/ldns.h>

struct conf;
struct policy_query;
struct policy_reverse;

/*
 * The reply to a query policy_plan() said is PLAN_LOCAL, for a client
 * with the prefixes of mask.  *synthesized is set when it holds AAAA
 * records made from our prefixes.  NULL on allocation failure.
 */
ldns_pkt	*local_answer(const struct conf *, const struct policy_query *,
		    uint32_t, const struct policy_reverse *, int *);

#endif /* LOCAL_H */
