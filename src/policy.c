/*
 * policy.c -- the decisions of DNS64, as pure functions.
 *
 * Each function looks at the configuration, the client's query and the
 * forwarder's answers, and returns a verdict; none of them changes a
 * message, does I/O or keeps state.  query.c acts on the verdicts.
 */
#include "config.h"

#include <sys/queue.h>
#include <string.h>

#include <ldns/ldns.h>

#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "policy.h"
#include "sa.h"

/* Wire forms of the names RFC 8880 7 makes special. */
static const uint8_t	ipv4only_name[] = "\010ipv4only\004arpa";
static const uint8_t	ipv4only_rev170[] =
    "\003170\0010\0010\003192\007in-addr\004arpa";
static const uint8_t	ipv4only_rev171[] =
    "\003171\0010\0010\003192\007in-addr\004arpa";

int
policy_rcode(const ldns_pkt *pkt)
{
	/* An upstream BADVERS or BADCOOKIE must not pass for NOERROR. */
	return (ldns_pkt_get_rcode(pkt) |
	    ldns_pkt_edns_extended_rcode(pkt) << 4);
}

static int
domain_listed(const struct conf_domainlist *list, const ldns_rdf *name)
{
	const struct conf_domain	*d;

	TAILQ_FOREACH(d, list, entry)
		if (dnsmsg_name_in(name, ldns_rdf_data(d->name),
		    ldns_rdf_size(d->name)))
			return (1);
	return (0);
}

int
policy_never(const struct conf *conf, const ldns_rdf *name)
{
	return (domain_listed(&conf->never_synth, name));
}

int
policy_always(const struct conf *conf, const ldns_rdf *name)
{
	return (domain_listed(&conf->always_synth, name));
}

uint32_t
policy_prefixes(const struct conf *conf, const struct policy_query *pq)
{
	const struct conf_prefix	*cp;
	uint32_t			 mask = 0, bit = 1;
	int				 af;

	/* RFC 6147 5.1: class IN only; 5.5: CD=1 means "no DNS64". */
	if (pq->qclass != LDNS_RR_CLASS_IN || pq->cd)
		return (0);
	if (conf->recursive_only && !pq->rd)
		return (0);
	/* RFC 6147 6.3.3: synthesis only toward the hosts that need it. */
	if (!TAILQ_EMPTY(&conf->dns64_clients) &&
	    acl_match_sa(&conf->dns64_clients, pq->peer) != ACL_ALLOW)
		return (0);
	if (conf->dns64_ipv6_only) {
		(void)sa_addr(pq->peer, &af);
		if (af != AF_INET6)
			return (0);
	}
	TAILQ_FOREACH(cp, &conf->prefixes, entry) {
		if (TAILQ_EMPTY(&cp->clients) ||
		    acl_match_sa(&cp->clients, pq->peer) == ACL_ALLOW)
			mask |= bit;
		bit <<= 1;
	}
	return (mask);
}

/* 1 if name is exactly the wire-form name, case-insensitively. */
static int
name_is(const ldns_rdf *name, const uint8_t *wire, size_t len)
{
	return (ldns_rdf_size(name) == len && dnsmsg_name_in(name, wire, len));
}

/*
 * RFC 6147 5.3.1: which prefix's reverse zone holds the name.  The longest
 * prefix wins, since a shorter one may contain a longer one.
 */
static int
reverse_find(const struct conf *conf, const ldns_rdf *qname,
    struct policy_reverse *rev)
{
	const struct conf_prefix	*p;
	uint8_t				 addr[16];
	int				 n;

	if ((n = dns64_ip6arpa_parse(qname, addr)) == -1)
		return (0);
	rev->prefix = NULL;
	TAILQ_FOREACH(p, &conf->prefixes, entry)
		if (n * 4 >= p->pfx.plen &&
		    memcmp(addr, p->pfx.addr, p->pfx.plen / 8) == 0 &&
		    (rev->prefix == NULL ||
		    p->pfx.plen > rev->prefix->pfx.plen))
			rev->prefix = p;
	if (rev->prefix == NULL)
		return (0);
	rev->nibbles = n;
	if (n == 32)
		(void)dns64_extract(&rev->prefix->pfx, addr, rev->v4);
	return (1);
}

static int
is_ipv4only_v4(const uint8_t *v4)
{
	return (v4[0] == 192 && v4[1] == 0 && v4[2] == 0 &&
	    (v4[3] == 170 || v4[3] == 171));
}

enum policy_plan
policy_plan(const struct conf *conf, const struct policy_query *pq,
    uint32_t mask, struct policy_reverse *rev)
{
	memset(rev, 0, sizeof(*rev));
	/* RFC 8880 7.1, 7.2: answered here, even with the forwarders down. */
	if (conf->ipv4only_arpa && pq->qclass == LDNS_RR_CLASS_IN) {
		if (pq->qtype == LDNS_RR_TYPE_PTR &&
		    (name_is(pq->qname, ipv4only_rev170,
		    sizeof(ipv4only_rev170)) || name_is(pq->qname,
		    ipv4only_rev171, sizeof(ipv4only_rev171))))
			return (PLAN_LOCAL);
		if (dnsmsg_name_in(pq->qname, ipv4only_name,
		    sizeof(ipv4only_name)))
			return (PLAN_LOCAL);
	}
	if (mask == 0 || policy_never(conf, pq->qname))
		return (PLAN_FORWARD);
	/*
	 * RFC 6147 5.3.1: the reverse zones of our prefixes are ours, for
	 * every type; an AAAA query for a name in them is no DNS64 case.
	 */
	if (!reverse_find(conf, pq->qname, rev))
		return (pq->qtype == LDNS_RR_TYPE_AAAA ? PLAN_DNS64 :
		    PLAN_FORWARD);
	if (rev->nibbles < 32)
		return (PLAN_LOCAL);		/* the apex, or no data */
	if (pq->qtype == LDNS_RR_TYPE_PTR && conf->ipv4only_arpa &&
	    is_ipv4only_v4(rev->v4))
		return (PLAN_LOCAL);		/* RFC 8880 7.2 */
	return (PLAN_REVERSE_MAP);
}

int
policy_a_reaches(const ldns_pkt *a, const ldns_rdf *qname,
    const ldns_rdf *target)
{
	const ldns_rr_list	*l;
	size_t			 i;
	int			 rcode;

	if (a == NULL)
		return (0);
	rcode = policy_rcode(a);
	if ((rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) ||
	    ldns_dname_compare(dns64_chain_end(ldns_pkt_answer(a), qname),
	    target) != 0)
		return (0);
	if (rcode == LDNS_RCODE_NXDOMAIN)
		return (1);
	l = ldns_pkt_answer(a);
	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (dns64_rr_at(ldns_rr_list_rr(l, i), target, LDNS_RR_TYPE_A))
			return (1);
	l = ldns_pkt_authority(a);
	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == LDNS_RR_TYPE_SOA)
			return (1);
	return (0);
}

int
policy_is_signed(const ldns_pkt *pkt)
{
	const ldns_rr_list	*l[2];
	ldns_rr_type		 t;
	size_t			 i, j;

	l[0] = ldns_pkt_answer(pkt);
	l[1] = ldns_pkt_authority(pkt);
	for (j = 0; j < 2; j++)
		for (i = 0; i < ldns_rr_list_rr_count(l[j]); i++) {
			t = ldns_rr_get_type(ldns_rr_list_rr(l[j], i));
			if (t == LDNS_RR_TYPE_RRSIG ||
			    t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3)
				return (1);
		}
	return (0);
}

enum policy_aaaa
policy_aaaa(const struct conf *conf, const struct policy_query *pq,
    const ldns_pkt *pkt, const ldns_rdf **target, int *failed)
{
	int	 rcode, real, excluded;

	*target = pq->qname;
	*failed = 0;
	if (pkt == NULL) {
		/* RFC 6147 5.1.3: a timeout is a server failure. */
		if (!conf->synth_on_error)
			return (AAAA_SERVFAIL);
		*failed = 1;
		return (AAAA_NEED_A);
	}
	rcode = policy_rcode(pkt);
	if (rcode == LDNS_RCODE_NXDOMAIN)		/* RFC 6147 5.1.2 */
		return (AAAA_RELAY);
	if (rcode != LDNS_RCODE_NOERROR) {
		/*
		 * RFC 6147 5.1.2: any other RCODE is treated as empty, but a
		 * validation failure (RFC 8914 EDE 6-12) is never papered
		 * over with synthesized data (5.5).
		 */
		if (!conf->synth_on_error || (rcode == LDNS_RCODE_SERVFAIL &&
		    dnsmsg_has_ede((ldns_pkt *)pkt, 6, 12)))
			return (AAAA_RELAY);
		*failed = 1;
		return (AAAA_NEED_A);
	}
	/* RFC 6147 5.1.5: the AAAA that count are at the chain's end. */
	*target = dns64_chain_end(ldns_pkt_answer(pkt), pq->qname);
	/* The domain lists apply to the name the chain leads to as well. */
	if (policy_never(conf, *target))
		return (AAAA_RELAY);
	/*
	 * RFC 6147 5.5: a client that set DO gets signed data untouched, so
	 * that it can validate it: no synthesis, and no exclusion either,
	 * since removing an AAAA breaks the signature of the rest.
	 */
	if (pq->dnssec && policy_is_signed(pkt))
		return (AAAA_RELAY);
	real = dns64_aaaa_count(ldns_pkt_answer(pkt), *target,
	    &conf->exclude_aaaa, &excluded);
	if (real > 0 && !policy_always(conf, pq->qname) &&
	    !policy_always(conf, *target))		/* RFC 6147 5.1.1 */
		return (excluded > 0 ? AAAA_RELAY_STRIPPED : AAAA_RELAY);
	/* RFC 6147 5.1.4, 5.1.6: no usable AAAA. */
	return (AAAA_NEED_A);
}

enum policy_a
policy_unmapped(int aaaa_failed)
{
	/*
	 * A records that may not be mapped must not reach an AAAA answer:
	 * the client gets what it would get without DNS64.
	 */
	return (aaaa_failed ? A_AAAA_ERROR : A_RELAY_AAAA);
}

enum policy_a
policy_a(const ldns_pkt *a, int aaaa_failed, const ldns_rdf *aname,
    const ldns_rdf **owner)
{
	const ldns_rr_list	*answer;
	size_t			 i;
	int			 rcode;

	*owner = aname;
	rcode = a != NULL ? policy_rcode(a) : LDNS_RCODE_SERVFAIL;
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN)
		/* Both failed: the AAAA leg's error stands.  RFC 6147
		 * 5.1.6: else the error is the basis. */
		return (aaaa_failed ? A_AAAA_ERROR : A_SERVFAIL);
	if (rcode == LDNS_RCODE_NOERROR) {
		answer = ldns_pkt_answer(a);
		*owner = dns64_chain_end(answer, aname);
		for (i = 0; i < ldns_rr_list_rr_count(answer); i++)
			if (dns64_rr_at(ldns_rr_list_rr(answer, i), *owner,
			    LDNS_RR_TYPE_A))
				return (A_SYNTHESIZE);
	}
	/*
	 * No A record.  RFC 6147 5.1.6: the A answer is the basis when the
	 * AAAA leg failed or when it is NXDOMAIN at the chain's end; an
	 * empty A answer after a NODATA gives back the original NODATA.
	 */
	if (aaaa_failed || rcode == LDNS_RCODE_NXDOMAIN)
		return (A_RELAY_A);
	return (A_RELAY_AAAA);
}

int
policy_a_signed(const ldns_pkt *a, const ldns_rdf *owner)
{
	const ldns_rr_list	*answer = ldns_pkt_answer(a);
	const ldns_rr		*rr;
	size_t			 i;

	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		rr = ldns_rr_list_rr(answer, i);
		/* dns64_rr_is() counts an RRSIG by the type it covers. */
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
		    dns64_rr_is(rr, owner, LDNS_RR_TYPE_A))
			return (1);
	}
	return (0);
}
