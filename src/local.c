/*
 * local.c -- the answers given here, without a forwarder.
 *
 * ipv4only.arpa (RFC 7050 2, RFC 8880 7.1, 7.2) is answered even with
 * every forwarder down: A 192.0.0.170 and .171, the AAAA synthesized with
 * every prefix the client gets, and the PTRs of both addresses.
 *
 * The reverse zone of each prefix (RFC 6147 5.3.1) is ours: its apex has
 * a SOA and an NS record, and the names between the apex and the full
 * 32-nibble names have no data.  Answering the apex here keeps it
 * consistent with the SOA in our negative answers below it; forwarded, it
 * would usually get NXDOMAIN, which a downstream cache would take as a
 * denial of every name below (RFC 8020).
 */
#include "config.h"

#include <sys/queue.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "local.h"
#include "policy.h"

#define IPV4ONLY_TTL	3600		/* as BIND's built-in zone */

static const uint8_t	ipv4only_name[] = "\010ipv4only\004arpa";

/* An empty reply of ours, to be filled and relayed. */
static ldns_pkt *
local_pkt(int rcode)
{
	ldns_pkt	*pkt;

	if ((pkt = ldns_pkt_new()) == NULL)
		return (NULL);
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_aa(pkt, 1);
	ldns_pkt_set_ra(pkt, 1);
	ldns_pkt_set_rcode(pkt, rcode);
	return (pkt);
}

/* Append an RR given in presentation format. */
static int
push_str(ldns_pkt *pkt, ldns_pkt_section sec, const char *fmt, ...)
{
	ldns_rr		*rr = NULL;
	char		 buf[512];
	va_list		 ap;
	int		 len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(buf) ||
	    ldns_rr_new_frm_str(&rr, buf, 0, NULL, NULL) != LDNS_STATUS_OK)
		return (-1);
	if (!ldns_pkt_push_rr(pkt, sec, rr)) {
		ldns_rr_free(rr);
		return (-1);
	}
	return (0);
}

/* Append an RR at the client's qname (with its case).  Consumes rdata. */
static int
push_at(ldns_pkt *pkt, const ldns_rdf *qname, ldns_rr_type type,
    uint32_t ttl, ldns_rdf *rdata)
{
	ldns_rr		*rr;
	ldns_rdf	*owner;

	if (rdata == NULL || (rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(rdata);
		return (-1);
	}
	if ((owner = ldns_rdf_clone(qname)) == NULL ||
	    !ldns_rr_push_rdf(rr, rdata)) {
		ldns_rdf_deep_free(owner);
		ldns_rdf_deep_free(rdata);
		ldns_rr_free(rr);
		return (-1);
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	if (!ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr)) {
		ldns_rr_free(rr);
		return (-1);
	}
	return (0);
}

/* 1 if name is exactly the wire-form name, case-insensitively. */
static int
name_is(const ldns_rdf *name, const uint8_t *wire, size_t len)
{
	return (ldns_rdf_size(name) == len && dnsmsg_name_in(name, wire, len));
}

static int
ipv4only_soa(ldns_pkt *pkt, ldns_pkt_section sec)
{
	return (push_str(pkt, sec, "ipv4only.arpa. %d IN "
	    "SOA ipv4only.arpa. nobody.invalid. 0 28800 7200 604800 %d",
	    IPV4ONLY_TTL, IPV4ONLY_TTL));
}

static const uint8_t	wka[2][4] = {
	{ 192, 0, 0, 170 }, { 192, 0, 0, 171 }
};

static ldns_pkt *
ipv4only(const struct conf *conf, const struct policy_query *pq,
    uint32_t mask, int *synth)
{
	const struct conf_prefix	*cp;
	ldns_pkt			*pkt;
	uint8_t				 in6[16];
	uint32_t			 bit;
	int				 ok, i;

	/* The reverse names of the two addresses. */
	if (!dnsmsg_name_in(pq->qname, ipv4only_name,
	    sizeof(ipv4only_name))) {
		if ((pkt = local_pkt(LDNS_RCODE_NOERROR)) == NULL)
			return (NULL);
		ok = push_at(pkt, pq->qname, LDNS_RR_TYPE_PTR, IPV4ONLY_TTL,
		    ldns_dname_new_frm_str("ipv4only.arpa.")) == 0;
		goto done;
	}
	/* RFC 8880 7.1: the zone holds nothing else. */
	if (!name_is(pq->qname, ipv4only_name, sizeof(ipv4only_name))) {
		if ((pkt = local_pkt(LDNS_RCODE_NXDOMAIN)) == NULL)
			return (NULL);
		ok = ipv4only_soa(pkt, LDNS_SECTION_AUTHORITY) == 0;
		goto done;
	}
	if ((pkt = local_pkt(LDNS_RCODE_NOERROR)) == NULL)
		return (NULL);
	ok = 1;
	if (pq->qtype == LDNS_RR_TYPE_SOA)
		ok = ipv4only_soa(pkt, LDNS_SECTION_ANSWER) == 0;
	for (i = 0; i < 2 && ok; i++) {
		if (pq->qtype == LDNS_RR_TYPE_A) {
			ok = push_at(pkt, pq->qname, LDNS_RR_TYPE_A,
			    IPV4ONLY_TTL, ldns_rdf_new_frm_data(
			    LDNS_RDF_TYPE_A, 4, wka[i])) == 0;
			continue;
		}
		if (pq->qtype != LDNS_RR_TYPE_AAAA)
			continue;
		/*
		 * RFC 7050 3: every prefix the client gets, so that hosts
		 * learn them all; no mapping rule applies to these.
		 */
		bit = 1;
		TAILQ_FOREACH(cp, &conf->prefixes, entry) {
			if (mask & bit) {
				dns64_embed(&cp->pfx, wka[i], in6);
				ok = ok && push_at(pkt, pq->qname,
				    LDNS_RR_TYPE_AAAA, IPV4ONLY_TTL,
				    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA,
				    16, in6)) == 0;
				*synth = 1;
			}
			bit <<= 1;
		}
	}
	if (ok && ldns_pkt_ancount(pkt) == 0)
		ok = ipv4only_soa(pkt, LDNS_SECTION_AUTHORITY) == 0;
 done:
	if (!ok) {
		ldns_pkt_free(pkt);
		return (NULL);
	}
	return (pkt);
}

/* The name of a prefix's reverse zone, as text with the final dot. */
static char *
reverse_zone(const struct dns64_prefix *pfx)
{
	ldns_rdf	*rev, *zone = NULL;
	char		*z = NULL;

	/* RFC 6052 lengths are whole nibbles: the zone is a name. */
	if ((rev = dns64_ip6arpa_name(pfx->addr)) != NULL &&
	    (zone = ldns_dname_clone_from(rev, 32 - pfx->plen / 4)) != NULL)
		z = ldns_rdf2str(zone);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(rev);
	return (z);
}

/*
 * The reverse zone of a prefix, short of the full names: SOA and NS at the
 * apex, no data anywhere else.  One SOA, used in every negative answer.
 */
static ldns_pkt *
reverse(const struct conf *conf, const struct policy_query *pq,
    const struct policy_reverse *rev)
{
	ldns_pkt	*pkt;
	char		*z;
	uint32_t	 ttl = conf->reverse_ttl;
	int		 apex, ok, soa = 0, ns = 0;

	apex = rev->nibbles == rev->prefix->pfx.plen / 4;
	if (apex) {
		soa = pq->qtype == LDNS_RR_TYPE_SOA ||
		    pq->qtype == LDNS_RR_TYPE_ANY;
		ns = pq->qtype == LDNS_RR_TYPE_NS ||
		    pq->qtype == LDNS_RR_TYPE_ANY;
	}
	if ((z = reverse_zone(&rev->prefix->pfx)) == NULL)
		return (NULL);
	if ((pkt = local_pkt(LDNS_RCODE_NOERROR)) == NULL) {
		free(z);
		return (NULL);
	}
	ok = 1;
	if (soa || !ns)
		ok = push_str(pkt, soa ? LDNS_SECTION_ANSWER :
		    LDNS_SECTION_AUTHORITY, "%s %u IN SOA %s nobody.invalid. "
		    "0 28800 7200 604800 %u", z, ttl, z, ttl) == 0;
	if (ok && ns)
		ok = push_str(pkt, LDNS_SECTION_ANSWER, "%s %u IN NS %s", z,
		    ttl, z) == 0;
	free(z);
	if (!ok) {
		ldns_pkt_free(pkt);
		return (NULL);
	}
	return (pkt);
}

/* RFC 8880 7.2: a synthesized ipv4only.arpa address maps back locally. */
static ldns_pkt *
reverse_ipv4only(const struct policy_query *pq,
    const struct policy_reverse *rev)
{
	ldns_pkt	*pkt;
	ldns_rdf	*target;
	int		 ok;

	if ((pkt = local_pkt(LDNS_RCODE_NOERROR)) == NULL)
		return (NULL);
	target = dns64_inaddr_name(rev->v4);
	ok = target != NULL && push_at(pkt, pq->qname, LDNS_RR_TYPE_CNAME,
	    IPV4ONLY_TTL, ldns_rdf_clone(target)) == 0 &&
	    push_str(pkt, LDNS_SECTION_ANSWER,
	    "%u.0.0.192.in-addr.arpa. %d IN PTR ipv4only.arpa.", rev->v4[3],
	    IPV4ONLY_TTL) == 0;
	ldns_rdf_deep_free(target);
	if (!ok) {
		ldns_pkt_free(pkt);
		return (NULL);
	}
	return (pkt);
}

ldns_pkt *
local_answer(const struct conf *conf, const struct policy_query *pq,
    uint32_t mask, const struct policy_reverse *rev, int *synth)
{
	*synth = 0;
	if (rev->prefix == NULL)
		return (ipv4only(conf, pq, mask, synth));
	if (rev->nibbles < 32)
		return (reverse(conf, pq, rev));
	*synth = 1;
	return (reverse_ipv4only(pq, rev));
}
