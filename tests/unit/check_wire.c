/*
 * check_wire.c -- the lean path (wire.c): which queries it takes, and that
 * a reply replayed from a cache entry is the reply the full path built,
 * with the client's ID, name case, aged TTLs and its own OPT.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <ldns/ldns.h>

#include "dnsmsg.h"
#include "wire.h"

/* The wire form of a query built with ldns; *len set. */
static uint8_t *
query_wire(const char *name, ldns_rr_type type, int edns, int dobit,
    uint16_t id, size_t *len)
{
	ldns_pkt	*pkt;
	uint8_t		*wire;

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&pkt, name, type,
	    LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_id(pkt, id);
	if (edns) {
		ldns_pkt_set_edns_udp_size(pkt, 1232);
		ldns_pkt_set_edns_do(pkt, dobit);
	}
	ck_assert_int_eq(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	return (wire);
}

START_TEST(test_parse_plain)
{
	struct wire_query	 q;
	uint8_t			*w;
	size_t			 len;

	w = query_wire("Host.Example.", LDNS_RR_TYPE_AAAA, 1, 1, 4242, &len);
	ck_assert_int_eq(wire_query_parse(w, len, &q), 0);
	ck_assert_uint_eq(q.id, 4242);
	ck_assert_uint_eq(q.qtype, LDNS_RR_TYPE_AAAA);
	ck_assert_uint_eq(q.qclass, LDNS_RR_CLASS_IN);
	ck_assert_int_eq(q.rd, 1);
	ck_assert_int_eq(q.cd, 0);
	ck_assert_int_eq(q.edns, 1);
	ck_assert_int_eq(q.dobit, 1);
	ck_assert_uint_eq(q.udpsize, 1232);
	ck_assert_uint_eq(q.qnamelen, 14);
	ck_assert_int_eq(memcmp(q.qname, "\004Host\007Example", 13), 0);
	free(w);
	w = query_wire("a.example.", LDNS_RR_TYPE_A, 0, 0, 1, &len);
	ck_assert_int_eq(wire_query_parse(w, len, &q), 0);
	ck_assert_int_eq(q.edns, 0);
	free(w);
}
END_TEST

/*
 * What the lean path leaves to the full one: everything that is not a
 * plain query, so that FORMERR, NOTIMP, BADVERS and REFUSED stay theirs.
 */
static const struct {
	const char	*what;
	int		 offset;	/* byte to change, -1: length */
	uint8_t		 value;
} reject_table[] = {
	{ "QR=1", 2, 0x81 },
	{ "opcode STATUS", 2, 0x11 },
	{ "TC=1", 2, 0x03 },
	{ "QDCOUNT 2", 5, 2 },
	{ "ANCOUNT 1", 7, 1 },
	{ "NSCOUNT 1", 9, 1 },
	{ "ARCOUNT 2", 11, 2 },
	{ "compressed name", 12, 0xc0 },
	{ "EDNS version 1", 33, 1 },
	{ "extended RCODE", 32, 1 },
	{ "OPT owner not root", 27, 1 },
	{ "option length past the RDATA", -2, 0 },
	{ "trailing byte", -1, 0 },
	{ "truncated", -3, 0 },
};

START_TEST(test_parse_reject)
{
	struct wire_query	 q;
	uint8_t			*w, buf[512];
	size_t			 len;

	/* "a.example." A with an OPT and one empty option 65001. */
	w = query_wire("a.example.", LDNS_RR_TYPE_A, 1, 0, 7, &len);
	memcpy(buf, w, len);
	free(w);
	ck_assert_uint_eq(len, 38);
	/* Add an empty option: RDLENGTH 4, code 65001, length 0. */
	buf[37] = 4;
	memcpy(buf + 38, "\xfd\xe9\x00\x00", 4);
	len += 4;
	ck_assert_int_eq(wire_query_parse(buf, len, &q), 0);
	switch (reject_table[_i].offset) {
	case -1:
		buf[len++] = 0;
		break;
	case -2:
		buf[41] = 1;
		break;
	case -3:
		len = 20;
		break;
	default:
		buf[reject_table[_i].offset] = reject_table[_i].value;
	}
	ck_assert_msg(wire_query_parse(buf, len, &q) == -1, "%s accepted",
	    reject_table[_i].what);
}
END_TEST

START_TEST(test_parse_types)
{
	struct wire_query	 q;
	uint8_t			*w;
	size_t			 len;
	static const ldns_rr_type types[] = {
		LDNS_RR_TYPE_OPT, LDNS_RR_TYPE_AXFR, LDNS_RR_TYPE_IXFR
	};

	w = query_wire("a.example.", types[_i], 0, 0, 7, &len);
	ck_assert_int_eq(wire_query_parse(w, len, &q), -1);
	free(w);
}
END_TEST

/* A reply as the full path renders it: answer, authority, our OPT. */
static uint8_t *
reply_wire(const char *owner, int synth_ede, int other_ede, int tc,
    size_t *len)
{
	ldns_pkt	*pkt;
	ldns_rr		*rr;
	uint8_t		*wire;
	char		 buf[256];

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&pkt, owner,
	    LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_ra(pkt, 1);
	ldns_pkt_set_tc(pkt, tc);
	snprintf(buf, sizeof(buf), "%s 300 IN AAAA 64:ff9b::c000:221", owner);
	ck_assert_int_eq(ldns_rr_new_frm_str(&rr, buf, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	ck_assert(ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr));
	ck_assert_int_eq(ldns_rr_new_frm_str(&rr, "example. 1200 IN NS "
	    "ns.example.", 0, NULL, NULL), LDNS_STATUS_OK);
	ck_assert(ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, rr));
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	if (synth_ede)
		ck_assert_int_eq(dnsmsg_add_ede(pkt, 29, NULL), 0);
	if (other_ede)
		ck_assert_int_eq(dnsmsg_add_ede(pkt, 3, "stale"), 0);
	ck_assert_int_eq(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	return (wire);
}

START_TEST(test_replay)
{
	struct wire_query	 q;
	uint8_t			*r, *w, entry[4096], out[4096], outcome;
	size_t			 rlen, qlen;
	ssize_t			 elen, olen;
	uint32_t		 minttl;
	ldns_pkt		*pkt;
	ldns_rr			*rr;
	int			 rcode;

	r = reply_wire("host.example.", 1, 0, 0, &rlen);
	elen = wire_entry_make(r, rlen, 86400, 1, WIRE_ENTRY_SYNTH, entry,
	    sizeof(entry),
	    &minttl);
	ck_assert_int_gt(elen, 0);
	ck_assert_uint_eq(minttl, 300);
	free(r);

	/* Another client, another ID and case, with EDNS and DO. */
	w = query_wire("HOST.example.", LDNS_RR_TYPE_AAAA, 1, 1, 999, &qlen);
	ck_assert_int_eq(wire_query_parse(w, qlen, &q), 0);
	olen = wire_entry_reply(entry, elen, &q, 100, 1232, 1232, out,
	    sizeof(out), &outcome, &rcode);
	ck_assert_int_gt(olen, 0);
	ck_assert_uint_eq(outcome, 1);
	ck_assert_int_eq(rcode, LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_wire2pkt(&pkt, out, olen), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_id(pkt), 999);
	/* RFC 6147 5.4: the question with the client's case. */
	ck_assert_int_eq(memcmp(out + 12, "\004HOST", 5), 0);
	rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
	ck_assert_uint_eq(ldns_rr_ttl(rr), 200);
	rr = ldns_rr_list_rr(ldns_pkt_authority(pkt), 0);
	ck_assert_uint_eq(ldns_rr_ttl(rr), 1100);
	ck_assert(ldns_pkt_edns(pkt));
	ck_assert(ldns_pkt_edns_do(pkt));
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(pkt), 1232);
	ck_assert(dnsmsg_has_ede(pkt, 29, 29));
	ldns_pkt_free(pkt);
	free(w);

	/* Without EDNS: no OPT, no EDE (RFC 6891 7). */
	w = query_wire("host.example.", LDNS_RR_TYPE_AAAA, 0, 0, 5, &qlen);
	ck_assert_int_eq(wire_query_parse(w, qlen, &q), 0);
	olen = wire_entry_reply(entry, elen, &q, 1000, 1232, 512, out,
	    sizeof(out), &outcome, &rcode);
	ck_assert_int_gt(olen, 0);
	ck_assert_int_eq(ldns_wire2pkt(&pkt, out, olen), LDNS_STATUS_OK);
	ck_assert(!ldns_pkt_edns(pkt));
	ck_assert_uint_eq(ldns_pkt_arcount(pkt), 0);
	/* Aged past a TTL: 0, never negative. */
	rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
	ck_assert_uint_eq(ldns_rr_ttl(rr), 0);
	ldns_pkt_free(pkt);
	/* Too big for the client: the full path truncates. */
	ck_assert_int_eq(wire_entry_reply(entry, elen, &q, 0, 1232, 40, out,
	    sizeof(out), &outcome, &rcode), -1);
	free(w);
}
END_TEST

/* A reply built for a client without EDNS still gives EDE 29 to one with. */
START_TEST(test_replay_synth_flag)
{
	struct wire_query	 q;
	ldns_pkt		*pkt;
	ldns_rr			*rr;
	uint8_t			*r, *w, entry[4096], out[4096], outcome;
	size_t			 rlen, qlen;
	ssize_t			 elen, olen;
	uint32_t		 minttl;
	int			 rcode;

	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&pkt, "h.example.",
	    LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_qr(pkt, 1);
	ck_assert_int_eq(ldns_rr_new_frm_str(&rr, "h.example. 60 IN AAAA "
	    "64:ff9b::c000:221", 0, NULL, NULL), LDNS_STATUS_OK);
	ck_assert(ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr));
	ck_assert_int_eq(ldns_pkt2wire(&r, pkt, &rlen), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	elen = wire_entry_make(r, rlen, 86400, 1, WIRE_ENTRY_SYNTH, entry,
	    sizeof(entry), &minttl);
	ck_assert_int_gt(elen, 0);
	free(r);
	w = query_wire("h.example.", LDNS_RR_TYPE_AAAA, 1, 0, 3, &qlen);
	ck_assert_int_eq(wire_query_parse(w, qlen, &q), 0);
	olen = wire_entry_reply(entry, elen, &q, 0, 1232, 1232, out,
	    sizeof(out), &outcome, &rcode);
	ck_assert_int_gt(olen, 0);
	ck_assert_int_eq(ldns_wire2pkt(&pkt, out, olen), LDNS_STATUS_OK);
	ck_assert(dnsmsg_has_ede(pkt, 29, 29));
	ldns_pkt_free(pkt);
	free(w);
}
END_TEST

/*
 * An entry whose question is another name than the query's (the root; an
 * octet 0 where the query's name would end) is not replayed: the query's
 * name would be written over the stored question's type and class (found
 * by tests/fuzz).
 */
START_TEST(test_replay_other_name)
{
	struct wire_query	 q;
	uint8_t			*r, *w, entry[4096], out[4096], outcome;
	size_t			 rlen, qlen;
	ssize_t			 elen;
	uint32_t		 minttl;
	int			 rcode;

	r = reply_wire(".", 0, 0, 0, &rlen);
	elen = wire_entry_make(r, rlen, 86400, 1, 0, entry, sizeof(entry),
	    &minttl);
	ck_assert_int_gt(elen, 0);
	free(r);
	w = query_wire("ab.", LDNS_RR_TYPE_AAAA, 0, 0, 7, &qlen);
	ck_assert_int_eq(wire_query_parse(w, qlen, &q), 0);
	ck_assert_uint_eq(q.qnamelen, 4);
	ck_assert_int_eq(wire_entry_reply(entry, elen, &q, 0, 1232, 512, out,
	    sizeof(out), &outcome, &rcode), -1);
	free(w);
}
END_TEST

START_TEST(test_entry_refused)
{
	uint8_t		*r, entry[4096];
	size_t		 rlen;
	uint32_t	 minttl;

	/* Another EDNS option is per answer: not replayed. */
	r = reply_wire("host.example.", 0, 1, 0, &rlen);
	ck_assert_int_eq(wire_entry_make(r, rlen, 86400, 0, 0, entry,
	    sizeof(entry), &minttl), -1);
	free(r);
	/* A truncated reply is never cached. */
	r = reply_wire("host.example.", 0, 0, 1, &rlen);
	ck_assert_int_eq(wire_entry_make(r, rlen, 86400, 0, 0, entry,
	    sizeof(entry), &minttl), -1);
	free(r);
	/* The cap lowers the TTLs. */
	r = reply_wire("host.example.", 0, 0, 0, &rlen);
	ck_assert_int_gt(wire_entry_make(r, rlen, 60, 0, 0, entry,
	    sizeof(entry), &minttl), 0);
	ck_assert_uint_eq(minttl, 60);
	/* No room. */
	ck_assert_int_eq(wire_entry_make(r, rlen, 60, 0, 0, entry, 20,
	    &minttl), -1);
	free(r);
}
END_TEST

static Suite *
wire_suite(void)
{
	Suite	*s = suite_create("wire");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_plain);
	tcase_add_loop_test(tc, test_parse_reject, 0,
	    sizeof(reject_table) / sizeof(reject_table[0]));
	tcase_add_loop_test(tc, test_parse_types, 0, 3);
	suite_add_tcase(s, tc);
	tc = tcase_create("entries");
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_replay_synth_flag);
	tcase_add_test(tc, test_replay_other_name);
	tcase_add_test(tc, test_entry_refused);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(wire_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
