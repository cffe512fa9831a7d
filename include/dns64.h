/*
 * dns64.h -- pure RFC 6052 / RFC 6147 functions: no I/O, no event loop, no
 * configuration lookups.  Everything here is unit-tested.
 */
#ifndef DNS64_H
#define DNS64_H

#include <stdint.h>
#include <ldns/ldns.h>

struct acl;

#define DNS64_WKP_TTL_CAP	600	/* RFC 6147 5.1.7 */
#define DNS64_CHAIN_MAX		16	/* CNAME hops dns64_chain_end() takes */

/* A Pref64::/n of RFC 6052 2.2. */
struct dns64_prefix {
	uint8_t		 addr[16];
	int		 plen;		/* 32, 40, 48, 56, 64 or 96 */
};

/* 0 if the prefix is usable, else -1 with *errstr set. RFC 6052 2.2 */
int		 dns64_prefix_check(const struct dns64_prefix *, const char **);
/* 1 for the Well-Known Prefix 64:ff9b::/96. RFC 6052 2.1 */
int		 dns64_prefix_is_wkp(const struct dns64_prefix *);
/* Embed v4 into the prefix. RFC 6052 2.2 */
void		 dns64_embed(const struct dns64_prefix *, const uint8_t *,
		    uint8_t *);
/* Extract the IPv4 address; 0 if in6 lies in the prefix, else -1. 2.3 */
int		 dns64_extract(const struct dns64_prefix *, const uint8_t *,
		    uint8_t *);
/* 0 unless v4 is a global unicast address. RFC 6052 3.1 */
int		 dns64_ipv4_is_global(const uint8_t *);
/* A TTL with the top bit set means 0. RFC 2181 8 */
uint32_t	 dns64_ttl(uint32_t);

/*
 * Reverse names.  dns64_ip6arpa_parse() returns the number of nibble labels
 * (0-32) of a name below ip6.arpa and stores them, high order first, in
 * addr; -1 if the name is not below ip6.arpa or a label is not one hex digit.
 */
int		 dns64_ip6arpa_parse(const ldns_rdf *, uint8_t *);
ldns_rdf	*dns64_inaddr_name(const uint8_t *);
ldns_rdf	*dns64_ip6arpa_name(const uint8_t *);

/*
 * Answer sections (RFC 6147 5.1.5, 5.1.7).  dns64_chain_end() follows the
 * CNAME chain from name through the section and returns its last name (a
 * pointer into the list, or name itself), or where it is after
 * DNS64_CHAIN_MAX hops (resolvers stop well before: Unbound and BIND
 * after 11 restarts).
 */
const ldns_rdf	*dns64_chain_end(const ldns_rr_list *, const ldns_rdf *);
/* 1 for CNAME and DNAME RRs and the RRSIGs that cover them. */
int		 dns64_is_chain_rr(const ldns_rr *);
/* 1 for class IN RRs of type at owner, and the RRSIGs covering them. */
int		 dns64_rr_is(const ldns_rr *, const ldns_rdf *, ldns_rr_type);
/* The same for RRs of exactly that type: no RRSIGs. */
int		 dns64_rr_at(const ldns_rr *, const ldns_rdf *, ldns_rr_type);
/*
 * TTL of a synthesized RRset: the smallest TTL of the A RRs at owner and
 * of the SOA in the negative AAAA reply, or 600 when that reply had no SOA
 * (or there was none).  One TTL for the RRset (RFC 2181 5.2).
 */
uint32_t	 dns64_synth_ttl(const ldns_rr_list *, const ldns_rdf *,
		    const ldns_pkt *);
/*
 * The negative TTL a negative answer carries: the smallest min(TTL,
 * MINIMUM) of the SOA RRs in its authority section (RFC 2308 5).  0 when
 * there is one, -1 (and *ttl untouched) when there is none.
 */
int		 dns64_negative_ttl(const ldns_pkt *, uint32_t *);
/*
 * RFC 6147 5.1.4: the number of AAAA at owner outside the exclusion list,
 * and in *excluded the number inside it.
 */
int		 dns64_aaaa_count(const ldns_rr_list *, const ldns_rdf *,
		    const struct acl *, int *);
/*
 * RFC 6147 5.1.4: remove the AAAA at owner inside the exclusion list (and
 * their RRSIG) from an answer; returns how many AAAA at owner remain.
 */
int		 dns64_strip_excluded(ldns_rr_list *, const ldns_rdf *,
		    const struct acl *);
/* One synthetic AAAA from an A RR. RFC 6147 5.1.7 */
ldns_rr		*dns64_synth_rr(const ldns_rr *, const struct dns64_prefix *,
		    uint32_t);

#endif /* DNS64_H */
