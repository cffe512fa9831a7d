/*
 * synth.h -- building synthesized answers: AAAA records from A records
 * (RFC 6147 5.1.7, 5.4), the CNAME of a mapped PTR (5.3.1), and the SOA a
 * negative answer of ours must carry (RFC 2308).  No I/O; the messages
 * are changed in place.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include <stdint.h>
#include <ldns/ldns.h>

struct conf;

/* Why an A record was not mapped, for the log and an EDE. */
enum synth_why {
	SYNTH_MAPPED = 0,
	SYNTH_EXCLUDE_A,	/* in exclude-a */
	SYNTH_DESTINATIONS,	/* outside the prefixes' destinations */
	SYNTH_NOT_GLOBAL,	/* the WKP and a non-global address */
	SYNTH_SIGNED		/* signed, for a client that validates */
};

struct synth_result {
	int		 made;		/* AAAA records synthesized */
	enum synth_why	 why;		/* of the first A not mapped */
	uint8_t		 v4[4];		/* its address */
};

/*
 * Replace the A records at owner in the answer of apkt by AAAA records,
 * one per A and prefix of mask (the client's prefixes; with round-robin
 * only one, the first from start on that may map it), after the CNAME and
 * DNAME records of the answer; authority and additional stay (5.3.2).
 * The TTL is dns64_synth_ttl() over the A RRset and negative (the AAAA
 * answer, NULL when that leg failed).  With dnssec and a signed A RRset,
 * nothing is mapped (5.5).  When nothing is made apkt is untouched.
 * Returns 0, or -1 on allocation failure.
 */
int		 synth_aaaa(const struct conf *, uint32_t, unsigned int, int,
		    ldns_pkt *, const ldns_rdf *, const ldns_pkt *,
		    struct synth_result *);
/* "not global, well-known prefix" and the like. */
const char	*synth_why_text(enum synth_why);
/* Put the CNAME and DNAME records of from's answer before pkt's answer. */
int		 synth_prepend_chain(ldns_pkt *, const ldns_pkt *);
/*
 * RFC 6147 5.3.1: put a CNAME from qname (with its case) to target before
 * the answer of pkt, with the TTL ttl, lowered to the negative TTL of pkt
 * when pkt has no PTR.  pkt is then no longer authoritative or
 * authenticated.
 */
int		 synth_ptr_cname(ldns_pkt *, const ldns_rdf *,
		    const ldns_rdf *, uint32_t);
/*
 * RFC 2308 2.2: a NODATA answer of ours carries a SOA.  When pkt has no
 * SOA in its authority section, copy those of from (may be NULL).
 */
int		 synth_nodata_soa(ldns_pkt *, const ldns_pkt *);

#endif /* SYNTH_H */
