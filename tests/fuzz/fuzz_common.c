/*
 * fuzz_common.c -- checks and set-up shared by the fuzz harnesses.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "fuzz.h"

void
fuzz_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	abort();
}

/* Skip a name; -1 when it runs off the end or has a bad label type. */
static int
walk_name(const uint8_t *w, size_t len, size_t *pos)
{
	while (*pos < len) {
		if (w[*pos] == 0) {
			(*pos)++;
			return (0);
		}
		switch (w[*pos] & 0xc0) {
		case 0xc0:
			*pos += 2;
			return (*pos <= len ? 0 : -1);
		case 0x00:
			*pos += 1 + w[*pos];
			break;
		default:
			return (-1);
		}
	}
	return (-1);
}

/* FNV-1a over one RR's section, type, class and TTL. */
static uint32_t
sig_add(uint32_t h, int sec, uint16_t type, uint16_t class, uint32_t ttl)
{
	uint8_t	 b[9];
	size_t	 i;

	b[0] = sec;
	ldns_write_uint16(b + 1, type);
	ldns_write_uint16(b + 3, class);
	ldns_write_uint32(b + 5, ttl);
	for (i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * 16777619U;
	return (h);
}

#define SIG_INIT	2166136261U

uint32_t
fuzz_pkt_sig(const ldns_pkt *pkt)
{
	const ldns_rr_list	*l;
	const ldns_rr		*rr;
	uint32_t		 h = SIG_INIT;
	size_t			 i;
	int			 sec;

	for (sec = 1; sec <= 3; sec++) {
		l = sec == 1 ? ldns_pkt_answer(pkt) : sec == 2 ?
		    ldns_pkt_authority(pkt) : ldns_pkt_additional(pkt);
		for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
			rr = ldns_rr_list_rr(l, i);
			h = sig_add(h, sec, ldns_rr_get_type(rr),
			    ldns_rr_get_class(rr), ldns_rr_ttl(rr));
		}
	}
	return (h);
}

/*
 * Written apart from dnsmsg.c's wire_check() on purpose: it is the oracle
 * for what dnsmsg_parse_query() and dnsmsg_parse_reply() may accept.
 */
int
fuzz_wire_walk(const uint8_t *w, size_t len, struct fuzz_wire *fw)
{
	size_t		 pos = LDNS_HEADER_SIZE, rdlen;
	unsigned int	 i, first_ns, first_ar, total;
	uint16_t	 type, class;
	uint32_t	 ttl;
	int		 sec;

	memset(fw, 0, sizeof(*fw));
	fw->sig = SIG_INIT;
	if (len < LDNS_HEADER_SIZE)
		return (-1);
	for (i = 0; i < LDNS_QDCOUNT(w); i++) {
		if (walk_name(w, len, &pos) == -1 || len - pos < 4)
			return (-1);
		pos += 4;
	}
	first_ns = LDNS_ANCOUNT(w);
	first_ar = first_ns + LDNS_NSCOUNT(w);
	total = first_ar + LDNS_ARCOUNT(w);
	for (i = 0; i < total; i++) {
		if (walk_name(w, len, &pos) == -1 || len - pos < 10)
			return (-1);
		type = ldns_read_uint16(w + pos);
		class = ldns_read_uint16(w + pos + 2);
		ttl = ldns_read_uint32(w + pos + 4);
		rdlen = ldns_read_uint16(w + pos + 8);
		pos += 10;
		if (len - pos < rdlen)
			return (-1);
		pos += rdlen;
		sec = i < first_ns ? 1 : i < first_ar ? 2 : 3;
		if (sec != 3 || (type != LDNS_RR_TYPE_OPT &&
		    type != LDNS_RR_TYPE_TSIG))
			fw->sig = sig_add(fw->sig, sec, type, class, ttl);
		if (type == LDNS_RR_TYPE_OPT) {
			fw->opt_class = class;
			fw->opt_ttl = ttl;
			fw->nopt++;
			if (i < first_ar)
				fw->opt_outside++;
		}
		if (type == LDNS_RR_TYPE_TSIG) {
			if (sec == 3)
				fw->ntsig++;
			if (i + 1 != total)
				fw->tsig_not_last++;
		}
		if (class == LDNS_RR_CLASS_IN &&
		    ((type == LDNS_RR_TYPE_A && rdlen != 4) ||
		    (type == LDNS_RR_TYPE_AAAA && rdlen != 16)))
			fw->bad_addr++;
	}
	return (0);
}

int
fuzz_edns_is(const ldns_pkt *pkt, const struct fuzz_wire *fw)
{
	if (!ldns_pkt_edns(pkt))
		return (fw->nopt == 0);
	return (fw->nopt == 1 && ldns_pkt_edns_udp_size(pkt) == fw->opt_class &&
	    ldns_pkt_edns_extended_rcode(pkt) == fw->opt_ttl >> 24 &&
	    ldns_pkt_edns_version(pkt) == ((fw->opt_ttl >> 16) & 0xff) &&
	    ldns_pkt_edns_z(pkt) == (fw->opt_ttl & 0xffff));
}

struct conf *
fuzz_conf(void)
{
	static const char	*prefixes[] = {
		"2001:db8::/32",
		"2001:db8:100::/40",
		"2001:db8:122::/48",
		"2001:db8:122:300::/56",
		"2001:db8:122:344::/64",
		"2001:db8:122:344::/96",
		"64:ff9b::/96"		/* RFC 6052 2.1 */
	};
	struct conf		*conf;
	struct dns64_prefix	 pfx;
	const char		*errstr;
	size_t			 i;

	FUZZ_CHECK((conf = conf_new()) != NULL);
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		FUZZ_CHECK(conf_parse_prefix(prefixes[i], &pfx, &errstr) == 0);
		FUZZ_CHECK(conf_prefix_add(&conf->prefixes, &pfx) != NULL);
	}
	return (conf);
}

/* The question of a packet, or NULL. */
static const ldns_rr *
question(const ldns_pkt *pkt)
{
	if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1)
		return (NULL);
	return (ldns_rr_list_rr(ldns_pkt_question(pkt), 0));
}

int
fuzz_render(const ldns_pkt *reply, size_t max)
{
	ldns_pkt	*copy, *back = NULL;
	const ldns_rr	*q, *bq;
	uint8_t		*wire = NULL;
	size_t		 len = 0, an;
	ldns_status	 st;

	FUZZ_CHECK((copy = ldns_pkt_clone(reply)) != NULL);
	an = ldns_rr_list_rr_count(ldns_pkt_answer(copy));
	FUZZ_CHECK(ldns_pkt_ancount(copy) == an);
	st = dnsmsg_render(copy, max, &wire, &len);
	ldns_pkt_free(copy);
	if (st != LDNS_STATUS_OK) {
		/* Header, question (at most 255 + 4) and OPT fit in 512. */
		FUZZ_CHECK(max < DNS_UDP_MIN);
		FUZZ_CHECK(wire == NULL);
		return (0);
	}
	FUZZ_CHECK(wire != NULL && len >= LDNS_HEADER_SIZE && len <= max);
	/* What we send must parse: the counts agree with the sections. */
	FUZZ_CHECK(ldns_wire2pkt(&back, wire, len) == LDNS_STATUS_OK);
	FUZZ_CHECK(ldns_pkt_id(back) == ldns_pkt_id(reply));
	FUZZ_CHECK(ldns_pkt_qr(back) == ldns_pkt_qr(reply));
	FUZZ_CHECK(ldns_pkt_get_rcode(back) == ldns_pkt_get_rcode(reply));
	FUZZ_CHECK(ldns_pkt_edns(back) == ldns_pkt_edns(reply));
	q = question(reply);
	bq = question(back);
	FUZZ_CHECK((q == NULL) == (bq == NULL));
	if (q != NULL) {
		/* RFC 6147 5.4: the client's question, with its case. */
		FUZZ_CHECK(ldns_rr_get_type(q) == ldns_rr_get_type(bq));
		FUZZ_CHECK(ldns_rr_get_class(q) == ldns_rr_get_class(bq));
		FUZZ_CHECK(ldns_rdf_size(ldns_rr_owner(q)) ==
		    ldns_rdf_size(ldns_rr_owner(bq)));
		FUZZ_CHECK(memcmp(ldns_rdf_data(ldns_rr_owner(q)),
		    ldns_rdf_data(ldns_rr_owner(bq)),
		    ldns_rdf_size(ldns_rr_owner(q))) == 0);
	}
	/* RFC 2181 9: only TC may say that the answer is incomplete. */
	if (!LDNS_TC_WIRE(wire))
		FUZZ_CHECK(LDNS_ANCOUNT(wire) == an);
	ldns_pkt_free(back);
	free(wire);
	return (1);
}

void
fuzz_render_all(const ldns_pkt *reply, size_t limit)
{
	FUZZ_CHECK(fuzz_render(reply, 512));
	FUZZ_CHECK(fuzz_render(reply, 1232));
	FUZZ_CHECK(fuzz_render(reply, 65535));
	if (limit != 0 && limit != 512 && limit != 1232 && limit != 65535)
		(void)fuzz_render(reply, limit);
}

void
fuzz_print(const ldns_pkt *pkt, const ldns_rdf *name)
{
	/*
	 * What -vv should print with (src/query.c dump() still calls
	 * ldns_pkt2str(), which crashes on an EDNS CHAIN option).  NULL is
	 * allowed: ldns cannot print every RDATA it parses.
	 */
	if (pkt != NULL)
		free(dnsmsg_pkt2str(pkt));
	if (name != NULL)
		free(ldns_rdf2str(name));
}
