/*
 * policy.h -- the decisions of DNS64 as pure functions of the
 * configuration, the client's query and the forwarder's answers: which
 * path a query takes (RFC 6147 5.1, 5.3.1, 5.5, 6.3.3; RFC 8880), what an
 * AAAA answer means (5.1.1-5.1.5), and what the A answer makes of it
 * (5.1.6, 5.5).  No I/O and no state: query.c acts on the verdicts, and
 * tests/unit/check_policy.c tests them from tables.
 */
#ifndef POLICY_H
#define POLICY_H

#include <sys/socket.h>
#include <stdint.h>
#include <ldns/ldns.h>

struct conf;
struct conf_prefix;

/* What a decision needs to know of the client's query. */
struct policy_query {
	const struct sockaddr	*peer;
	const ldns_rdf		*qname;
	uint16_t		 qtype;
	uint16_t		 qclass;
	int			 rd;
	int			 cd;
	int			 dnssec;	/* DO=1 and no break-dnssec */
};

enum policy_plan {
	PLAN_FORWARD,		/* ask the forwarder, relay its answer */
	PLAN_DNS64,		/* AAAA with DNS64 (RFC 6147 5.1) */
	PLAN_LOCAL,		/* answered here (RFC 8880; reverse zones) */
	PLAN_REVERSE_MAP	/* CNAME to in-addr.arpa, then its answer */
};

/* Where a name lies in the reverse zone of a prefix (RFC 6147 5.3.1). */
struct policy_reverse {
	const struct conf_prefix *prefix;	/* NULL: in none */
	int			 nibbles;	/* labels below ip6.arpa */
	uint8_t			 v4[4];		/* with 32 nibbles */
};

enum policy_aaaa {
	AAAA_RELAY,		/* the AAAA answer, as it is */
	AAAA_RELAY_STRIPPED,	/* without its excluded AAAA (5.1.4) */
	AAAA_NEED_A,		/* no usable AAAA: synthesize from the A */
	AAAA_SERVFAIL		/* failed, and no synthesis on error */
};

enum policy_a {
	A_SYNTHESIZE,		/* A records at the chain's end to map */
	A_RELAY_A,		/* the A answer is the basis (5.1.6) */
	A_RELAY_AAAA,		/* the original NODATA */
	A_AAAA_ERROR,		/* both failed: the AAAA leg's error */
	A_SERVFAIL		/* the A leg failed after a NODATA */
};

/*
 * The prefixes this client gets, as a bit per prefix in config order (a
 * prefix without a clients list is for everybody); 0 when DNS64 does not
 * apply to this client and these flags at all: class IN only (RFC 6147
 * 5.1), never with CD (5.5), RD=0 only without recursive-only, and only
 * for dns64-clients (and IPv6 clients with dns64-ipv6-only) (6.3.3).
 */
uint32_t	 policy_prefixes(const struct conf *,
		    const struct policy_query *);
/* 1 if name is in, or below, a name of the never-synthesize list. */
int		 policy_never(const struct conf *, const ldns_rdf *);
int		 policy_always(const struct conf *, const ldns_rdf *);
/*
 * The path of a query, for a client with these prefixes.  For the reverse
 * plans (and PLAN_LOCAL in a reverse zone) *rev tells where the name is.
 */
enum policy_plan policy_plan(const struct conf *, const struct policy_query *,
		    uint32_t, struct policy_reverse *);
/*
 * RFC 6147 5.1.1-5.1.5, 5.5: what the answer to the AAAA query (NULL: it
 * failed or timed out) means.  *target is the end of its CNAME chain (or
 * the query name); *failed is set when the A leg runs because the AAAA leg
 * failed (5.1.2, 5.1.3).
 */
enum policy_aaaa policy_aaaa(const struct conf *, const struct policy_query *,
		    const ldns_pkt *, const ldns_rdf **, int *);
/*
 * RFC 6147 5.1.6, 5.5: what the answer to the A query for aname (NULL: it
 * failed) makes of the query.  *owner is the end of the A answer's chain.
 * A_SYNTHESIZE only says there are A records to map; when none can be
 * mapped the verdict is policy_unmapped()'s.
 */
enum policy_a	 policy_a(const ldns_pkt *, int, const ldns_rdf *,
		    const ldns_rdf **);
/* A records were found, but none could be mapped. */
enum policy_a	 policy_unmapped(int);
/* 1 if the A RRset at owner is signed (a DO client checks it itself). */
int		 policy_a_signed(const ldns_pkt *, const ldns_rdf *);
/*
 * Does the A answer a for qname speak for target, the end of the AAAA
 * answer's chain: its own chain leads there, and it says what is there (A
 * records, NXDOMAIN, or a NODATA with its SOA) rather than stopping at a
 * CNAME as an authoritative server does?  0 for no answer.
 */
int		 policy_a_reaches(const ldns_pkt *, const ldns_rdf *,
		    const ldns_rdf *);
/* 1 if a reply carries DNSSEC data: RRSIG, NSEC or NSEC3 RRs. */
int		 policy_is_signed(const ldns_pkt *);
/* The 12-bit RCODE (RFC 6891 6.1.3). */
int		 policy_rcode(const ldns_pkt *);

#endif /* POLICY_H */
