/*
 * fuzz_query.c -- fuzz harness: the client query path.
 *
 * The input is one query as a client sends it (a UDP payload, or a TCP
 * message without its length prefix).  Everything src/query.c does with
 * it before a packet goes upstream is done here, with the default
 * configuration and a prefix of each length:
 *   - dnsmsg_parse_query(), checked against a walk over the wire;
 *   - the query ACL (acl_match_sa()) for a peer address taken from the
 *     input's first bytes: IPv4 from bytes 0-3 when bit 0 of byte 1 (the
 *     ID's low bit) is clear, else IPv6 from bytes 0-15; a v4-mapped peer
 *     must match as its IPv4 address;
 *   - for an error or a refused query, dnsmsg_error();
 *   - for an accepted one: dnsmsg_udp_limit(), the -v and -vv logs, the
 *     names it is compared with (dnsmsg_name_in(): ipv4only.arpa, its
 *     reverse names, domain lists), the ip6.arpa mapping of a PTR query
 *     (dns64_ip6arpa_parse(), the longest prefix, the reverse zone apex,
 *     dns64_extract(), dns64_inaddr_name()), the upstream query
 *     (dnsmsg_query(), which our own checks must accept) and replies to
 *     the client (dnsmsg_reply() of a copy of the request, a local answer,
 *     dnsmsg_error()) rendered at 512, 1232, 65535 and the client's limit.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "fuzz.h"

/* Wire forms of the names src/query.c compares queries with. */
static const uint8_t	ipv4only_name[] = "\010ipv4only\004arpa";
static const uint8_t	ipv4only_rev170[] =
    "\003170\0010\0010\003192\007in-addr\004arpa";
static const uint8_t	ip6arpa_name[] = "\003ip6\004arpa";

/*
 * dnsmsg_name_in() against ldns: name is zone or below it, compared in
 * canonical (lower case) form.
 */
static void
check_name_in(const ldns_rdf *name, const uint8_t *zone, size_t zlen)
{
	ldns_rdf	*z, *cn, *cz;
	int		 want;

	FUZZ_CHECK((z = ldns_dname_new_frm_data(zlen, zone)) != NULL);
	FUZZ_CHECK((cn = ldns_rdf_clone(name)) != NULL);
	FUZZ_CHECK((cz = ldns_rdf_clone(z)) != NULL);
	ldns_dname2canonical(cn);
	ldns_dname2canonical(cz);
	want = ldns_rdf_compare(cn, cz) == 0 || ldns_dname_is_subdomain(cn, cz);
	FUZZ_CHECK(dnsmsg_name_in(name, zone, zlen) == want);
	ldns_rdf_deep_free(z);
	ldns_rdf_deep_free(cn);
	ldns_rdf_deep_free(cz);
}

static void
check_names(const ldns_rdf *qname)
{
	static const struct {
		const uint8_t	*wire;
		size_t		 len;
	} zones[] = {
		{ (const uint8_t *)"", 1 },
		{ (const uint8_t *)"\004arpa", 6 },
		{ ipv4only_name, sizeof(ipv4only_name) },
		{ ipv4only_rev170, sizeof(ipv4only_rev170) },
		{ ip6arpa_name, sizeof(ip6arpa_name) },
		{ (const uint8_t *)"\007EXAMPLE\003com", 13 },
	};
	ldns_rdf	*parent, *up;
	uint8_t		 child[LDNS_MAX_DOMAINLEN + 2];
	size_t		 i, len = ldns_rdf_size(qname);

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		check_name_in(qname, zones[i].wire, zones[i].len);
	/* A name is in itself and in each of its parents. */
	FUZZ_CHECK((parent = ldns_rdf_clone(qname)) != NULL);
	for (;;) {
		FUZZ_CHECK(dnsmsg_name_in(qname, ldns_rdf_data(parent),
		    ldns_rdf_size(parent)));
		if (ldns_dname_label_count(parent) == 0)
			break;
		FUZZ_CHECK((up = ldns_dname_left_chop(parent)) != NULL);
		ldns_rdf_deep_free(parent);
		parent = up;
	}
	ldns_rdf_deep_free(parent);
	/* ... and not in its children. */
	if (len + 2 <= LDNS_MAX_DOMAINLEN) {
		child[0] = 1;
		child[1] = 'x';
		memcpy(child + 2, ldns_rdf_data(qname), len);
		FUZZ_CHECK(!dnsmsg_name_in(qname, child, len + 2));
	}
}

/*
 * dns64_ip6arpa_parse() against ldns's labels: the number of one-hex-digit
 * labels in front of ip6.arpa (32 at most), else -1.
 */
static int
ip6arpa_labels(const ldns_rdf *qname)
{
	ldns_rdf	*label;
	size_t		 i, n = ldns_dname_label_count(qname);
	int		 ok = 1;
	uint8_t		 c;

	if (n < 2 || n - 2 > 32)
		return (-1);
	check_name_in(qname, ip6arpa_name, sizeof(ip6arpa_name));
	if (!dnsmsg_name_in(qname, ip6arpa_name, sizeof(ip6arpa_name)))
		return (-1);
	for (i = 0; i < n - 2 && ok; i++) {
		FUZZ_CHECK((label = ldns_dname_label(qname, i)) != NULL);
		c = ldns_rdf_data(label)[1];
		ok = ldns_rdf_data(label)[0] == 1 &&
		    ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F'));
		ldns_rdf_deep_free(label);
	}
	return (ok ? (int)(n - 2) : -1);
}

/* What ptr_start() does with a PTR name: the prefix, the IPv4 name. */
static void
check_ptr(const struct conf *conf, const ldns_rdf *qname)
{
	const struct conf_prefix	*cp, *p;
	ldns_rdf			*name, *canon, *zone;
	uint8_t				 addr[16], in6[16], v4[4], v4b[4];
	int				 n;

	n = dns64_ip6arpa_parse(qname, addr);
	FUZZ_CHECK(n == ip6arpa_labels(qname));
	if (n == -1)
		return;
	/* The nibbles read are those a name made of them has. */
	FUZZ_CHECK((name = dns64_ip6arpa_name(addr)) != NULL);
	FUZZ_CHECK((zone = ldns_dname_clone_from(name, 32 - n)) != NULL);
	FUZZ_CHECK((canon = ldns_rdf_clone(qname)) != NULL);
	ldns_dname2canonical(canon);
	FUZZ_CHECK(ldns_rdf_compare(zone, canon) == 0);
	ldns_rdf_deep_free(canon);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(name);
	cp = NULL;
	TAILQ_FOREACH(p, &conf->prefixes, entry)
		if (n * 4 >= p->pfx.plen &&
		    memcmp(addr, p->pfx.addr, p->pfx.plen / 8) == 0 &&
		    (cp == NULL || p->pfx.plen > cp->pfx.plen))
			cp = p;
	if (cp == NULL)
		return;
	/* The NODATA's SOA is owned by the prefix's reverse zone apex. */
	FUZZ_CHECK((name = dns64_ip6arpa_name(cp->pfx.addr)) != NULL);
	FUZZ_CHECK((zone = ldns_dname_clone_from(name,
	    32 - cp->pfx.plen / 4)) != NULL);
	FUZZ_CHECK(dnsmsg_name_in(qname, ldns_rdf_data(zone),
	    ldns_rdf_size(zone)));
	fuzz_print(NULL, zone);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(name);
	if (n < 32)
		return;
	FUZZ_CHECK(dns64_extract(&cp->pfx, addr, v4) == 0);
	dns64_embed(&cp->pfx, v4, in6);
	FUZZ_CHECK(dns64_extract(&cp->pfx, in6, v4b) == 0);
	FUZZ_CHECK(memcmp(v4, v4b, 4) == 0);
	FUZZ_CHECK((name = dns64_inaddr_name(v4)) != NULL);
	FUZZ_CHECK(ldns_dname_label_count(name) == 6);
	fuzz_print(NULL, name);
	ldns_rdf_deep_free(name);
}

/* The query to upstream for the client's question. */
static void
check_upstream_query(const struct conf *conf, const ldns_pkt *req,
    const ldns_rr *q)
{
	ldns_pkt	*uq, *parsed = NULL, *fake;
	uint8_t		*wire = NULL;
	size_t		 len;
	int		 rcode = -1;

	FUZZ_CHECK((uq = dnsmsg_query(ldns_rr_owner(q), ldns_rr_get_type(q),
	    ldns_rr_get_class(q), ldns_pkt_rd(req), ldns_pkt_cd(req),
	    ldns_pkt_edns_do(req), conf->edns_buffer_size)) != NULL);
	FUZZ_CHECK(ldns_pkt2wire(&wire, uq, &len) == LDNS_STATUS_OK);
	/* What we forward passes the checks we make on clients. */
	FUZZ_CHECK(dnsmsg_parse_query(wire, len, &parsed, &rcode) ==
	    DNSMSG_OK);
	/* The question goes upstream as the client asked it. */
	FUZZ_CHECK(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(parsed),
	    0)) == ldns_rr_get_type(q));
	FUZZ_CHECK(ldns_rr_get_class(ldns_rr_list_rr(ldns_pkt_question(
	    parsed), 0)) == ldns_rr_get_class(q));
	/* Our reply to it matches it; with another ID it does not. */
	FUZZ_CHECK((fake = ldns_pkt_clone(parsed)) != NULL);
	ldns_pkt_set_qr(fake, 1);
	FUZZ_CHECK(dnsmsg_reply_matches(uq, fake));
	ldns_pkt_set_id(fake, ldns_pkt_id(uq) + 1);
	FUZZ_CHECK(!dnsmsg_reply_matches(uq, fake));
	ldns_pkt_free(fake);
	ldns_pkt_free(parsed);
	ldns_pkt_free(uq);
	free(wire);
}

/* What every reply to this client carries of its request. */
static void
check_reply_header(const ldns_pkt *reply, const ldns_pkt *req)
{
	FUZZ_CHECK(ldns_pkt_id(reply) == ldns_pkt_id(req));
	FUZZ_CHECK(ldns_pkt_qr(reply));
	FUZZ_CHECK(ldns_pkt_rd(reply) == ldns_pkt_rd(req));
	FUZZ_CHECK(ldns_pkt_cd(reply) == ldns_pkt_cd(req));
	/* RFC 6891 7: an OPT if and only if the client sent one. */
	FUZZ_CHECK(ldns_pkt_edns(reply) == ldns_pkt_edns(req));
	if (ldns_pkt_edns(req))
		FUZZ_CHECK(ldns_pkt_edns_do(reply) == ldns_pkt_edns_do(req));
}

/* A local answer at qname, as ipv4only() builds them: AAAA per prefix. */
static ldns_pkt *
local_answer(const struct conf *conf, const ldns_rr *q)
{
	static const uint8_t		 wka[4] = { 192, 0, 0, 170 };
	const struct conf_prefix	*cp;
	ldns_pkt			*pkt;
	ldns_rr				*rr;
	ldns_rdf			*rd;
	uint8_t				 in6[16];

	FUZZ_CHECK((pkt = ldns_pkt_new()) != NULL);
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_aa(pkt, 1);
	TAILQ_FOREACH(cp, &conf->prefixes, entry) {
		dns64_embed(&cp->pfx, wka, in6);
		FUZZ_CHECK((rr = ldns_rr_new()) != NULL);
		FUZZ_CHECK((rd = ldns_rdf_clone(ldns_rr_owner(q))) != NULL);
		ldns_rr_set_owner(rr, rd);
		ldns_rr_set_type(rr, LDNS_RR_TYPE_AAAA);
		ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
		ldns_rr_set_ttl(rr, 3600);
		FUZZ_CHECK((rd = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16,
		    in6)) != NULL);
		FUZZ_CHECK(ldns_rr_push_rdf(rr, rd));
		FUZZ_CHECK(ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr));
	}
	return (pkt);
}

static void
check_replies(const struct conf *conf, const uint8_t *wire,
    const ldns_pkt *req, const ldns_rr *q, size_t limit)
{
	ldns_pkt	*src, *reply;

	/* Relaying: a copy of the request stands for the upstream's reply. */
	FUZZ_CHECK((src = ldns_pkt_clone(req)) != NULL);
	FUZZ_CHECK((reply = dnsmsg_reply(src, req,
	    conf->edns_buffer_size)) != NULL);
	check_reply_header(reply, req);
	if (ldns_pkt_edns(req)) {
		FUZZ_CHECK(dnsmsg_add_ede(reply, DNSMSG_EDE_SYNTHESIZED,
		    NULL) == 0);
		FUZZ_CHECK(dnsmsg_has_ede(reply, DNSMSG_EDE_SYNTHESIZED,
		    DNSMSG_EDE_SYNTHESIZED));
	}
	fuzz_render_all(reply, limit);
	ldns_pkt_free(reply);

	src = local_answer(conf, q);
	FUZZ_CHECK((reply = dnsmsg_reply(src, req,
	    conf->edns_buffer_size)) != NULL);
	check_reply_header(reply, req);
	fuzz_render_all(reply, limit);
	ldns_pkt_free(reply);

	/* SERVFAIL when the forwarders fail. */
	FUZZ_CHECK((reply = dnsmsg_error(wire, req, LDNS_RCODE_SERVFAIL,
	    conf->edns_buffer_size)) != NULL);
	check_reply_header(reply, req);
	fuzz_render_all(reply, limit);
	ldns_pkt_free(reply);
}

/* An accepted query: what dispatch() and the paths it starts look at. */
static void
accepted(const struct conf *conf, const uint8_t *wire, const ldns_pkt *req)
{
	const ldns_rr	*q;
	const ldns_rdf	*qname;
	char		*s;
	size_t		 limit;

	FUZZ_CHECK(ldns_rr_list_rr_count(ldns_pkt_question(req)) == 1);
	q = ldns_rr_list_rr(ldns_pkt_question(req), 0);
	qname = ldns_rr_owner(q);
	FUZZ_CHECK(ldns_rdf_get_type(qname) == LDNS_RDF_TYPE_DNAME);
	fuzz_print(req, qname);
	FUZZ_CHECK((s = ldns_rr_type2str(ldns_rr_get_type(q))) != NULL);
	free(s);
	limit = dnsmsg_udp_limit(req, conf->edns_buffer_size);
	FUZZ_CHECK(limit >= DNS_UDP_MIN && limit <= (ldns_pkt_edns(req) ?
	    conf->edns_buffer_size : DNS_UDP_MIN));
	check_names(qname);
	check_ptr(conf, qname);
	check_upstream_query(conf, req, q);
	check_replies(conf, wire, req, q, limit);
}

/* The query ACL for the peer the input gives; 1 if allowed. */
static int
peer_allowed(const struct conf *conf, const uint8_t *data, size_t size)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6, mapped;
	enum acl_action		 a4, a6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	memset(&mapped, 0, sizeof(mapped));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, data, 4);
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, data, size < 16 ? size : 16);
	mapped.sin6_family = AF_INET6;
	mapped.sin6_addr.s6_addr[10] = 0xff;
	mapped.sin6_addr.s6_addr[11] = 0xff;
	memcpy(mapped.sin6_addr.s6_addr + 12, data, 4);

	a4 = acl_match_sa(&conf->query_acl, (struct sockaddr *)&sin);
	a6 = acl_match_sa(&conf->query_acl, (struct sockaddr *)&sin6);
	/* A v4-mapped client is matched as its IPv4 address. */
	FUZZ_CHECK(acl_match_sa(&conf->query_acl,
	    (struct sockaddr *)&mapped) == a4);
	FUZZ_CHECK(a4 == acl_match(&conf->query_acl, AF_INET, data));
	if (!IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr))
		FUZZ_CHECK(a6 == acl_match(&conf->query_acl, AF_INET6,
		    sin6.sin6_addr.s6_addr));
	return (((data[1] & 1) ? a6 : a4) == ACL_ALLOW);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf		*conf;
	struct fuzz_wire	 fw;
	ldns_pkt		*req = NULL, *reply;
	enum dnsmsg_verdict	 verdict;
	int			 rcode = -1, walked;

	conf = fuzz_conf();
	verdict = dnsmsg_parse_query(data, size, &req, &rcode);
	walked = fuzz_wire_walk(data, size, &fw);
	if (verdict == DNSMSG_DROP) {
		FUZZ_CHECK(req == NULL);
		FUZZ_CHECK(size < LDNS_HEADER_SIZE || LDNS_QR_WIRE(data));
		goto done;
	}
	if (verdict == DNSMSG_OK) {
		/* What ldns would misread is never accepted. */
		FUZZ_CHECK(req != NULL);
		FUZZ_CHECK(walked == 0 && fw.nopt <= 1 && fw.opt_outside == 0 &&
		    fw.tsig_not_last == 0 && fw.bad_addr == 0);
		FUZZ_CHECK(LDNS_QDCOUNT(data) == 1 && LDNS_ANCOUNT(data) == 0);
		FUZZ_CHECK(!LDNS_TC_WIRE(data));
		FUZZ_CHECK(LDNS_OPCODE_WIRE(data) == LDNS_PACKET_QUERY);
		FUZZ_CHECK(fuzz_edns_is(req, &fw));
		/* ... and ldns read the RRs the walk did. */
		FUZZ_CHECK((ldns_pkt_tsig(req) != NULL) == (fw.ntsig == 1));
		FUZZ_CHECK(fuzz_pkt_sig(req) == fw.sig);
	} else
		FUZZ_CHECK(rcode == LDNS_RCODE_FORMERR ||
		    rcode == LDNS_RCODE_NOTIMPL ||
		    rcode == DNSMSG_RCODE_BADVERS);
	/* The query ACL comes first; a refused client learns nothing more. */
	if (!peer_allowed(conf, data, size)) {
		if (req == NULL)
			goto done;
		verdict = DNSMSG_ERROR;
		rcode = LDNS_RCODE_REFUSED;
	}
	if (verdict == DNSMSG_ERROR) {
		FUZZ_CHECK((reply = dnsmsg_error(data, req, rcode,
		    conf->edns_buffer_size)) != NULL);
		FUZZ_CHECK(ldns_pkt_id(reply) == LDNS_ID_WIRE(data));
		FUZZ_CHECK(ldns_pkt_get_opcode(reply) ==
		    LDNS_OPCODE_WIRE(data));
		FUZZ_CHECK(ldns_pkt_get_rcode(reply) == (rcode & 0xf));
		if (req != NULL) {
			check_reply_header(reply, req);
			fuzz_print(req, NULL);
		}
		fuzz_render_all(reply, req != NULL ?
		    dnsmsg_udp_limit(req, conf->edns_buffer_size) : 0);
		ldns_pkt_free(reply);
		goto done;
	}
	accepted(conf, data, req);
 done:
	ldns_pkt_free(req);
	conf_free(conf);
	return (0);
}
