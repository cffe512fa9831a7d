/*
 * fuzz_reply.c -- fuzz harness: the upstream reply path.
 *
 * The input is one reply as a forwarder sends it.  dnsmsg_parse_reply()
 * must refuse what ldns would misread (checked against a walk over the
 * wire), and dnsmsg_reply_matches() must accept it for a query built from
 * its own question, in any case, and for no other ID.  A matching reply
 * then takes every road src/query.c has for it, with the default
 * configuration (exclude-aaaa ::ffff:0:0/96) and a prefix of each RFC 6052
 * length plus the WKP:
 *   - relayed as is (a forwarded query, or an AAAA leg with an error);
 *   - as the AAAA leg: dnsmsg_has_ede(), dns64_chain_end(),
 *     dns64_strip_excluded(), dns64_negative_ttl();
 *   - as the A leg after that: dns64_synth_ttl(), dns64_synth_rr() for
 *     every A at the chain's end and every prefix (checked by extracting
 *     the IPv4 address back, and by the ip6.arpa and in-addr.arpa names of
 *     the result), the chains put in front;
 *   - as the in-addr.arpa leg of a mapped PTR query: the CNAME in front.
 * Each reply to the client (dnsmsg_reply(), EDE 29 when synthesized) is
 * rendered at 512, 1232, 65535 and the client's limit.  The client's
 * request is made from the reply's question; bits of the reply's ID say
 * whether it has EDNS (bit 0), DO (1), CD (2) and its UDP size (3-4).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "fuzz.h"

/*
 * The client's request for name and type, through the wire and
 * dnsmsg_parse_query() as a client's would be; NULL if we would not
 * accept it (a zone transfer type, for one).
 */
static ldns_pkt *
client_request(const ldns_pkt *reply, const ldns_rdf *name,
    ldns_rr_type type, ldns_rr_class class)
{
	static const uint16_t	 sizes[] = { 512, 1232, 4096, 65535 };
	ldns_pkt		*p, *req = NULL;
	ldns_rdf		*owner;
	uint8_t			*wire = NULL;
	size_t			 len;
	uint16_t		 id = ldns_pkt_id(reply);
	int			 rcode;

	FUZZ_CHECK((owner = ldns_rdf_clone(name)) != NULL);
	FUZZ_CHECK((p = ldns_pkt_query_new(owner, type, class,
	    LDNS_RD | ((id & 4) ? LDNS_CD : 0))) != NULL);
	ldns_pkt_set_id(p, id);
	if (id & 1) {
		ldns_pkt_set_edns_udp_size(p, sizes[(id >> 3) & 3]);
		ldns_pkt_set_edns_do(p, (id & 2) != 0);
	}
	FUZZ_CHECK(ldns_pkt2wire(&wire, p, &len) == LDNS_STATUS_OK);
	if (dnsmsg_parse_query(wire, len, &req, &rcode) != DNSMSG_OK) {
		ldns_pkt_free(req);
		req = NULL;
	}
	free(wire);
	ldns_pkt_free(p);
	return (req);
}

/* The EDE we relay are bounded, and nothing but EDE is relayed. */
static void
check_relayed_options(ldns_pkt *reply)
{
	ldns_edns_option_list	*list;
	ldns_edns_option	*opt;
	size_t			 i, n, total = 0;

	if ((list = ldns_pkt_edns_get_option_list(reply)) == NULL)
		return;
	n = ldns_edns_option_list_get_count(list);
	for (i = 0; i < n; i++) {
		opt = ldns_edns_option_list_get_option(list, i);
		FUZZ_CHECK(ldns_edns_get_code(opt) == DNSMSG_EDE);
		total += 4 + ldns_edns_get_size(opt);
	}
	FUZZ_CHECK(total <= DNSMSG_EDE_MAX);
}

/*
 * Relay pkt (consumed) to the client that sent req, as relay() does, and
 * render the reply.
 */
static void
relay(ldns_pkt *pkt, const ldns_pkt *req, const struct conf *conf,
    int synthesized)
{
	ldns_pkt	*reply;
	int		 ede;

	FUZZ_CHECK((reply = dnsmsg_reply(pkt, req,
	    conf->edns_buffer_size)) != NULL);
	FUZZ_CHECK(ldns_pkt_id(reply) == ldns_pkt_id(req));
	FUZZ_CHECK(ldns_pkt_edns(reply) == ldns_pkt_edns(req));
	check_relayed_options(reply);
	if (synthesized && ldns_pkt_edns(req)) {
		ede = dnsmsg_has_ede(reply, 0, 0xffff);
		FUZZ_CHECK(dnsmsg_add_ede(reply, DNSMSG_EDE_SYNTHESIZED,
		    NULL) == 0);
		FUZZ_CHECK(dnsmsg_has_ede(reply, DNSMSG_EDE_SYNTHESIZED,
		    DNSMSG_EDE_SYNTHESIZED));
		FUZZ_CHECK(ede || !dnsmsg_has_ede(reply, 0,
		    DNSMSG_EDE_SYNTHESIZED - 1));
	}
	fuzz_render_all(reply, dnsmsg_udp_limit(req, conf->edns_buffer_size));
	ldns_pkt_free(reply);
}

/* The 12-bit RCODE (RFC 6891 6.1.3). */
static int
full_rcode(const ldns_pkt *pkt)
{
	return (ldns_pkt_get_rcode(pkt) |
	    ldns_pkt_edns_extended_rcode(pkt) << 4);
}

/* dnsmsg_reply_matches() for queries built from the reply's question. */
static int
check_matches(const ldns_pkt *reply, const ldns_rr *q)
{
	ldns_pkt	*query;
	ldns_rdf	*lower;
	int		 want, m;

	want = ldns_pkt_qr(reply) &&
	    ldns_pkt_get_opcode(reply) == LDNS_PACKET_QUERY;
	FUZZ_CHECK((query = dnsmsg_query(ldns_rr_owner(q), ldns_rr_get_type(q),
	    ldns_rr_get_class(q), 1, 0, 0, DNS_EDNS_SIZE)) != NULL);
	ldns_pkt_set_id(query, ldns_pkt_id(reply));
	m = dnsmsg_reply_matches(query, reply);
	FUZZ_CHECK(m == want);
	ldns_pkt_set_id(query, ldns_pkt_id(reply) + 1);
	FUZZ_CHECK(!dnsmsg_reply_matches(query, reply));
	ldns_pkt_free(query);
	/* RFC 5452 9.1: the question matches whatever its case. */
	FUZZ_CHECK((lower = ldns_rdf_clone(ldns_rr_owner(q))) != NULL);
	ldns_dname2canonical(lower);
	FUZZ_CHECK((query = dnsmsg_query(lower, ldns_rr_get_type(q),
	    ldns_rr_get_class(q), 1, 0, 0, DNS_EDNS_SIZE)) != NULL);
	ldns_pkt_set_id(query, ldns_pkt_id(reply));
	FUZZ_CHECK(dnsmsg_reply_matches(query, reply) == want);
	ldns_pkt_free(query);
	ldns_rdf_deep_free(lower);
	return (m);
}

/* How many RRs of the list dns64_rr_at() counts. */
static size_t
count_at(const ldns_rr_list *l, const ldns_rdf *owner, ldns_rr_type type)
{
	size_t	 i, n = 0;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (dns64_rr_at(ldns_rr_list_rr(l, i), owner, type))
			n++;
	return (n);
}

/* AAAA at owner inside the exclusion list. */
static size_t
count_excluded(const ldns_rr_list *l, const ldns_rdf *owner,
    const struct acl *exclude)
{
	const ldns_rr	*rr;
	size_t		 i, n = 0;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		rr = ldns_rr_list_rr(l, i);
		if (dns64_rr_at(rr, owner, LDNS_RR_TYPE_AAAA) &&
		    ldns_rr_rd_count(rr) == 1 &&
		    ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 16 &&
		    acl_match(exclude, AF_INET6,
		    ldns_rdf_data(ldns_rr_rdf(rr, 0))) == ACL_ALLOW)
			n++;
	}
	return (n);
}

/* Copies of the CNAME and DNAME RRs of from (and their RRSIGs). */
static ldns_rr_list *
chain_of(const ldns_rr_list *from)
{
	ldns_rr_list	*l;
	ldns_rr		*rr;
	size_t		 i;

	FUZZ_CHECK((l = ldns_rr_list_new()) != NULL);
	for (i = 0; i < ldns_rr_list_rr_count(from); i++) {
		if (!dns64_is_chain_rr(ldns_rr_list_rr(from, i)))
			continue;
		FUZZ_CHECK((rr = ldns_rr_clone(ldns_rr_list_rr(from, i))) !=
		    NULL);
		FUZZ_CHECK(ldns_rr_list_push_rr(l, rr));
	}
	return (l);
}

/* Put front (consumed) before the answer section of pkt. */
static void
prepend(ldns_pkt *pkt, ldns_rr_list *front)
{
	FUZZ_CHECK(ldns_rr_list_cat(front, ldns_pkt_answer(pkt)));
	ldns_rr_list_free(ldns_pkt_answer(pkt));
	ldns_pkt_set_answer(pkt, front);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(front));
}

/*
 * The AAAA leg (aaaa_done()).  Returns the reply when the A leg is next
 * (no usable AAAA), with *target its chain's end; else NULL.
 */
static ldns_pkt *
aaaa_leg(const struct conf *conf, const ldns_pkt *reply,
    const ldns_pkt *req, ldns_rdf **target)
{
	ldns_pkt	*pkt;
	ldns_rr_list	*answer;
	const ldns_rdf	*end;
	size_t		 before, excluded, real_before, i;
	uint32_t	 ttl = 0;
	int		 rcode, real, soa = 0;

	*target = NULL;
	FUZZ_CHECK((pkt = ldns_pkt_clone(reply)) != NULL);
	for (i = 0; i < ldns_rr_list_rr_count(ldns_pkt_authority(pkt)); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(pkt),
		    i)) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(
		    ldns_rr_list_rr(ldns_pkt_authority(pkt), i)) == 7)
			soa = 1;
	FUZZ_CHECK((dns64_negative_ttl(pkt, &ttl) == 0) == soa);
	FUZZ_CHECK(ttl < 0x80000000U);
	rcode = full_rcode(pkt);
	FUZZ_CHECK(dnsmsg_has_ede(pkt, 0, 0xffff) ||
	    !dnsmsg_has_ede(pkt, 6, 12));
	if (rcode != LDNS_RCODE_NOERROR) {
		relay(pkt, req, conf, 0);
		return (NULL);
	}
	answer = ldns_pkt_answer(pkt);
	end = dns64_chain_end(answer, ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(pkt), 0)));
	FUZZ_CHECK(ldns_rdf_get_type(end) == LDNS_RDF_TYPE_DNAME);
	before = ldns_rr_list_rr_count(answer);
	excluded = count_excluded(answer, end, &conf->exclude_aaaa);
	real_before = count_at(answer, end, LDNS_RR_TYPE_AAAA) - excluded;
	/* end points into the answer: it must survive the stripping. */
	real = dns64_strip_excluded(answer, end, &conf->exclude_aaaa);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(answer));
	FUZZ_CHECK(real >= 0 && (size_t)real == real_before);
	FUZZ_CHECK(count_at(answer, end, LDNS_RR_TYPE_AAAA) == real_before);
	FUZZ_CHECK(count_excluded(answer, end, &conf->exclude_aaaa) == 0);
	FUZZ_CHECK(ldns_rr_list_rr_count(answer) + excluded <= before);
	if (excluded == 0)
		FUZZ_CHECK(ldns_rr_list_rr_count(answer) == before);
	FUZZ_CHECK((*target = ldns_rdf_clone(end)) != NULL);
	if (real > 0) {
		relay(pkt, req, conf, 0);
		ldns_rdf_deep_free(*target);
		*target = NULL;
		return (NULL);
	}
	return (pkt);
}

/* One synthetic AAAA and what can be read back from it. */
static void
check_synth(const ldns_rr *a, const ldns_rr *aaaa,
    const struct dns64_prefix *pfx, uint32_t ttl)
{
	const ldns_rdf	*rd;
	ldns_rdf	*name;
	uint8_t		 v4[4], addr[16];

	FUZZ_CHECK(ldns_rr_get_type(aaaa) == LDNS_RR_TYPE_AAAA);
	FUZZ_CHECK(ldns_rr_get_class(aaaa) == LDNS_RR_CLASS_IN);
	FUZZ_CHECK(ldns_rr_ttl(aaaa) == ttl);
	FUZZ_CHECK(ldns_rdf_compare(ldns_rr_owner(aaaa), ldns_rr_owner(a)) ==
	    0);
	FUZZ_CHECK(ldns_rr_rd_count(aaaa) == 1);
	rd = ldns_rr_rdf(aaaa, 0);
	FUZZ_CHECK(ldns_rdf_size(rd) == 16);
	FUZZ_CHECK(dns64_extract(pfx, ldns_rdf_data(rd), v4) == 0);
	FUZZ_CHECK(memcmp(v4, ldns_rdf_data(ldns_rr_rdf(a, 0)), 4) == 0);
	/* The PTR names of both addresses (ptr_start(), ptr_done()). */
	FUZZ_CHECK((name = dns64_ip6arpa_name(ldns_rdf_data(rd))) != NULL);
	FUZZ_CHECK(dns64_ip6arpa_parse(name, addr) == 32);
	FUZZ_CHECK(memcmp(addr, ldns_rdf_data(rd), 16) == 0);
	ldns_rdf_deep_free(name);
	FUZZ_CHECK((name = dns64_inaddr_name(v4)) != NULL);
	ldns_rdf_deep_free(name);
}

/*
 * The A leg (a_done(), synthesize()): the same reply stands for the
 * answer to the A query for target; aaaa is the AAAA leg's NODATA or NULL.
 */
static void
a_leg(const struct conf *conf, const ldns_pkt *reply, const ldns_pkt *aaaa,
    const ldns_rdf *target, const ldns_pkt *req)
{
	const struct conf_prefix	*cp;
	ldns_pkt			*pkt;
	ldns_rr_list			*answer, *synth;
	const ldns_rdf			*owner;
	ldns_rr				*a, *rr;
	uint32_t			 ttl, neg;
	size_t				 i, total = 0;

	FUZZ_CHECK((pkt = ldns_pkt_clone(reply)) != NULL);
	answer = ldns_pkt_answer(pkt);
	owner = dns64_chain_end(answer, target);
	ttl = dns64_synth_ttl(answer, owner, aaaa);
	/* RFC 6147 5.1.7: the SOA's negative TTL bounds it, else 600 s. */
	if (aaaa != NULL && dns64_negative_ttl(aaaa, &neg) == 0)
		FUZZ_CHECK(ttl <= neg);
	else
		FUZZ_CHECK(ttl <= DNS64_WKP_TTL_CAP);
	FUZZ_CHECK(ttl < 0x80000000U);
	synth = chain_of(answer);
	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		a = ldns_rr_list_rr(answer, i);
		if (!dns64_rr_at(a, owner, LDNS_RR_TYPE_A))
			continue;
		FUZZ_CHECK(dns64_ttl(ldns_rr_ttl(a)) >= ttl);
		TAILQ_FOREACH(cp, &conf->prefixes, entry) {
			/* RFC 6052 3.1 */
			if (dns64_prefix_is_wkp(&cp->pfx) &&
			    !dns64_ipv4_is_global(ldns_rdf_data(
			    ldns_rr_rdf(a, 0))))
				continue;
			FUZZ_CHECK((rr = dns64_synth_rr(a, &cp->pfx, ttl)) !=
			    NULL);
			check_synth(a, rr, &cp->pfx, ttl);
			FUZZ_CHECK(ldns_rr_list_push_rr(synth, rr));
			total++;
		}
	}
	if (total == 0) {
		ldns_rr_list_deep_free(synth);
		relay(pkt, req, conf, 0);
		return;
	}
	ldns_rr_list_deep_free(answer);
	ldns_pkt_set_answer(pkt, synth);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(synth));
	ldns_pkt_set_ad(pkt, 0);
	ldns_pkt_set_aa(pkt, 0);
	if (aaaa != NULL)
		prepend(pkt, chain_of(ldns_pkt_answer(aaaa)));
	relay(pkt, req, conf, 1);
}

/*
 * The in-addr.arpa leg of a mapped PTR query (ptr_done()): the client
 * asked for the ip6.arpa name of 192.0.2.33 in the WKP, the reply stands
 * for the answer about the reply's own question.
 */
static void
ptr_leg(const struct conf *conf, const ldns_pkt *reply, const ldns_rr *q)
{
	static const uint8_t	 in6[16] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0,
				    0, 0, 0, 0, 192, 0, 2, 33 };
	ldns_pkt		*pkt, *req;
	ldns_rdf		*qname, *target;
	ldns_rr_list		*front;
	ldns_rr			*cname;
	uint32_t		 ttl = conf->reverse_ttl, t;
	size_t			 i;
	int			 rcode, positive = 0;

	FUZZ_CHECK((qname = dns64_ip6arpa_name(in6)) != NULL);
	req = client_request(reply, qname, LDNS_RR_TYPE_PTR,
	    LDNS_RR_CLASS_IN);
	ldns_rdf_deep_free(qname);
	FUZZ_CHECK(req != NULL);
	FUZZ_CHECK((pkt = ldns_pkt_clone(reply)) != NULL);
	rcode = full_rcode(pkt);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		relay(pkt, req, conf, 0);
		ldns_pkt_free(req);
		return;
	}
	for (i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(pkt)); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(pkt),
		    i)) == LDNS_RR_TYPE_PTR)
			positive = 1;
	if (!positive && dns64_negative_ttl(pkt, &t) == 0 && t < ttl)
		ttl = t;
	FUZZ_CHECK((cname = ldns_rr_new()) != NULL);
	FUZZ_CHECK((qname = ldns_rdf_clone(ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(req), 0)))) != NULL);
	FUZZ_CHECK((target = ldns_rdf_clone(ldns_rr_owner(q))) != NULL);
	ldns_rr_set_owner(cname, qname);
	ldns_rr_set_type(cname, LDNS_RR_TYPE_CNAME);
	ldns_rr_set_class(cname, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(cname, ttl);
	FUZZ_CHECK(ldns_rr_push_rdf(cname, target));
	FUZZ_CHECK((front = ldns_rr_list_new()) != NULL);
	FUZZ_CHECK(ldns_rr_list_push_rr(front, cname));
	prepend(pkt, front);
	ldns_pkt_set_aa(pkt, 0);
	ldns_pkt_set_ad(pkt, 0);
	relay(pkt, req, conf, 1);
	ldns_pkt_free(req);
}

static void
matching(const struct conf *conf, const ldns_pkt *reply, const ldns_rr *q)
{
	ldns_pkt	*req, *aaaa, *pkt;
	ldns_rdf	*target;

	/* A forwarded query: the reply relayed as it is. */
	if ((req = client_request(reply, ldns_rr_owner(q),
	    ldns_rr_get_type(q), ldns_rr_get_class(q))) != NULL) {
		FUZZ_CHECK((pkt = ldns_pkt_clone(reply)) != NULL);
		relay(pkt, req, conf, 0);
		ldns_pkt_free(req);
	}
	/* The AAAA leg and, when it gives no AAAA, the A leg. */
	FUZZ_CHECK((req = client_request(reply, ldns_rr_owner(q),
	    LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN)) != NULL);
	if ((aaaa = aaaa_leg(conf, reply, req, &target)) != NULL) {
		a_leg(conf, reply, aaaa, target, req);
		ldns_pkt_free(aaaa);
		ldns_rdf_deep_free(target);
	}
	/* The A leg after an AAAA leg that failed (synthesize-on-error). */
	a_leg(conf, reply, NULL, ldns_rr_owner(q), req);
	ldns_pkt_free(req);
	ptr_leg(conf, reply, q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf		*conf;
	struct fuzz_wire	 fw;
	ldns_pkt		*pkt = NULL;
	const ldns_rr		*q;
	ldns_status		 st;
	int			 walked;

	conf = fuzz_conf();
	st = dnsmsg_parse_reply(data, size, &pkt);
	walked = fuzz_wire_walk(data, size, &fw);
	if (st != LDNS_STATUS_OK) {
		FUZZ_CHECK(pkt == NULL);
		goto done;
	}
	FUZZ_CHECK(pkt != NULL);
	/* What ldns would misread never comes back parsed. */
	FUZZ_CHECK(walked == 0 && fw.nopt <= 1 && fw.opt_outside == 0 &&
	    fw.ntsig <= 1 && fw.tsig_not_last == 0 && fw.bad_addr == 0);
	FUZZ_CHECK(fuzz_edns_is(pkt, &fw));
	/* ... and ldns read the RRs the walk did. */
	FUZZ_CHECK((ldns_pkt_tsig(pkt) != NULL) == (fw.ntsig == 1));
	FUZZ_CHECK(fuzz_pkt_sig(pkt) == fw.sig);
	fuzz_print(pkt, NULL);
	if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1)
		goto done;
	q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	fuzz_print(NULL, ldns_rr_owner(q));
	/* upstream.c passes on only the replies that match. */
	if (check_matches(pkt, q))
		matching(conf, pkt, q);
 done:
	ldns_pkt_free(pkt);
	conf_free(conf);
	return (0);
}
