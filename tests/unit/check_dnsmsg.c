/*
 * check_dnsmsg.c -- unit tests of the DNS message helpers: the checks on a
 * client query (RFC 1035 4.1.1, RFC 6891 6.1.1, 6.1.3, 7), error and reply
 * assembly, the UDP size limit (RFC 6891 6.2.5), truncation (RFC 2181 9,
 * RFC 6891 7), upstream queries and reply matching (RFC 5452 9.1, 9.2),
 * Extended DNS Errors (RFC 8914) and name-in-zone tests.
 *
 * Test messages are built with ldns and rendered to wire; malformed ones
 * are made by editing those bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <ldns/ldns.h>

#include "dnsmsg.h"

#define QID		0xbeef
#define OUR_EDNS	1232

/* A wire message under construction. */
struct msg {
	uint8_t		 b[4096];
	size_t		 len;
};

static ldns_rr *
rr(const char *s)
{
	ldns_rr	*r = NULL;

	ck_assert_int_eq(ldns_rr_new_frm_str(&r, s, 3600, NULL, NULL),
	    LDNS_STATUS_OK);
	return (r);
}

static ldns_rr *
question_rr(const char *s)
{
	ldns_rr	*r = NULL;

	ck_assert_int_eq(ldns_rr_new_question_frm_str(&r, s, NULL, NULL),
	    LDNS_STATUS_OK);
	return (r);
}

static ldns_rdf *
dname(const char *s)
{
	ldns_rdf	*d = ldns_dname_new_frm_str(s);

	ck_assert_ptr_nonnull(d);
	return (d);
}

static void
put(struct msg *m, const void *p, size_t n)
{
	ck_assert_uint_le(m->len + n, sizeof(m->b));
	memmove(m->b + m->len, p, n);
	m->len += n;
}

static void
to_msg(const ldns_pkt *p, struct msg *m)
{
	uint8_t	*w = NULL;
	size_t	 n = 0;

	ck_assert_int_eq(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
	m->len = 0;
	if (n <= sizeof(m->b)) {
		memcpy(m->b, w, n);
		m->len = n;
	}
	free(w);
	ck_assert_uint_eq(m->len, n);
}

static ldns_pkt *
from_msg(const struct msg *m)
{
	ldns_pkt	*p = NULL;

	ck_assert_int_eq(ldns_wire2pkt(&p, m->b, m->len), LDNS_STATUS_OK);
	return (p);
}

/* A client query, ID QID, RD set, no EDNS. */
static ldns_pkt *
mkquery(const char *name, ldns_rr_type type)
{
	ldns_pkt	*p;

	p = ldns_pkt_query_new(dname(name), type, LDNS_RR_CLASS_IN, LDNS_RD);
	ck_assert_ptr_nonnull(p);
	ldns_pkt_set_id(p, QID);
	return (p);
}

static void
query_wire(struct msg *m, const char *name, ldns_rr_type type)
{
	ldns_pkt	*p = mkquery(name, type);

	to_msg(p, m);
	ldns_pkt_free(p);
}

/* Append an OPT RR written by hand and count it in ARCOUNT. */
static void
add_opt(struct msg *m, uint16_t udp, uint8_t version, int dobit,
    const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t	 h[11];

	h[0] = 0;				/* owner: root */
	ldns_write_uint16(h + 1, LDNS_RR_TYPE_OPT);
	ldns_write_uint16(h + 3, udp);
	h[5] = 0;				/* extended rcode */
	h[6] = version;
	h[7] = dobit ? 0x80 : 0;
	h[8] = 0;
	ldns_write_uint16(h + 9, rdlen);
	put(m, h, sizeof(h));
	if (rdlen > 0)
		put(m, rdata, rdlen);
	ldns_write_uint16(m->b + 10, LDNS_ARCOUNT(m->b) + 1);
}

/* Parse a client query that must be accepted. */
static ldns_pkt *
good_req(const struct msg *m)
{
	ldns_pkt	*req = NULL;
	int		 rcode = -1;

	ck_assert_int_eq(dnsmsg_parse_query(m->b, m->len, &req, &rcode),
	    DNSMSG_OK);
	ck_assert_ptr_nonnull(req);
	return (req);
}

static const ldns_rr *
qrr(const ldns_pkt *p)
{
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_question(p)), 1);
	return (ldns_rr_list_rr(ldns_pkt_question(p), 0));
}

/* The exact (case-sensitive) wire bytes of the owner of p's question. */
static void
assert_qname_bytes(const ldns_pkt *p, const uint8_t *want, size_t n)
{
	const ldns_rdf	*o = ldns_rr_owner(qrr(p));

	ck_assert_uint_eq(ldns_rdf_size(o), n);
	ck_assert_mem_eq(ldns_rdf_data(o), want, n);
}

/*
 * dnsmsg_parse_query
 */

static void
b_good(struct msg *m)
{
	query_wire(m, "www.example.com.", LDNS_RR_TYPE_AAAA);
}

static void
b_good_edns(struct msg *m)
{
	b_good(m);
	add_opt(m, 4096, 0, 1, NULL, 0);
}

static void
b_empty(struct msg *m)
{
	m->len = 0;
}

static void
b_short(struct msg *m)
{
	b_good(m);
	m->len = LDNS_HEADER_SIZE - 1;
}

static void
b_qr(struct msg *m)
{
	b_good(m);
	LDNS_QR_SET(m->b);
}

static void
b_status(struct msg *m)
{
	b_good(m);
	LDNS_OPCODE_SET(m->b, LDNS_PACKET_STATUS);
}

static void
b_notify(struct msg *m)
{
	b_good(m);
	LDNS_OPCODE_SET(m->b, LDNS_PACKET_NOTIFY);
}

static void
b_update(struct msg *m)
{
	b_good(m);
	LDNS_OPCODE_SET(m->b, LDNS_PACKET_UPDATE);
}

static void
b_qd0(struct msg *m)
{
	b_good(m);
	m->len = LDNS_HEADER_SIZE;
	ldns_write_uint16(m->b + 4, 0);
}

/* Two complete questions. */
static void
b_qd2(struct msg *m)
{
	b_good(m);
	put(m, m->b + LDNS_HEADER_SIZE, m->len - LDNS_HEADER_SIZE);
	ldns_write_uint16(m->b + 4, 2);
}

/* QDCOUNT 2, but only one question there. */
static void
b_qd2_missing(struct msg *m)
{
	b_good(m);
	ldns_write_uint16(m->b + 4, 2);
}

static void
b_an1(struct msg *m)
{
	ldns_pkt	*p = mkquery("www.example.com.", LDNS_RR_TYPE_AAAA);

	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER,
	    rr("www.example.com. 300 IN AAAA 2001:db8::1")));
	to_msg(p, m);
	ldns_pkt_free(p);
	ck_assert_uint_eq(LDNS_ANCOUNT(m->b), 1);
}

static void
b_ns1(struct msg *m)
{
	ldns_pkt	*p = mkquery("www.example.com.", LDNS_RR_TYPE_AAAA);

	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY,
	    rr("example.com. 300 IN NS ns1.example.com.")));
	to_msg(p, m);
	ldns_pkt_free(p);
	ck_assert_uint_eq(LDNS_NSCOUNT(m->b), 1);
}

static void
b_tc(struct msg *m)
{
	b_good(m);
	LDNS_TC_SET(m->b);
}

/* The QCLASS cut off. */
static void
b_cut_class(struct msg *m)
{
	b_good(m);
	m->len -= 2;
}

/* Cut inside the QNAME. */
static void
b_cut_name(struct msg *m)
{
	b_good(m);
	m->len = LDNS_HEADER_SIZE + 6;
}

static void
b_header_only(struct msg *m)
{
	b_good(m);
	m->len = LDNS_HEADER_SIZE;
}

static const uint8_t	 aaaa_in[4] = { 0, 28, 0, 1 };

/* A 64-octet label (RFC 1035 2.3.4: 63 at most). */
static void
b_long_label(struct msg *m)
{
	uint8_t	 label[65];

	b_header_only(m);
	label[0] = 64;
	memset(label + 1, 'a', 64);
	put(m, label, sizeof(label));
	put(m, "\003com", 5);		/* with its terminating root */
	put(m, aaaa_in, sizeof(aaaa_in));
}

/* QNAME is a pointer to itself. */
static void
b_ptr_self(struct msg *m)
{
	static const uint8_t	 q[] = { 0xc0, 12 };

	b_header_only(m);
	put(m, q, sizeof(q));
	put(m, aaaa_in, sizeof(aaaa_in));
}

/* QNAME points to 14, which points back to 12. */
static void
b_ptr_loop(struct msg *m)
{
	static const uint8_t	 q[] = { 0xc0, 14, 0xc0, 12, 0, 1 };

	b_header_only(m);
	put(m, q, sizeof(q));
}

static void
b_two_opt(struct msg *m)
{
	b_good_edns(m);
	add_opt(m, 4096, 0, 1, NULL, 0);
}

/* Option 65001 claims 8 octets; 2 are there (RFC 6891 7). */
static void
b_opt_badlen(struct msg *m)
{
	static const uint8_t	 o[] = { 0xfd, 0xe9, 0, 8, 1, 2 };

	b_good(m);
	add_opt(m, 4096, 0, 0, o, sizeof(o));
}

/* A valid option followed by 3 octets: half an option header. */
static void
b_opt_cut_header(struct msg *m)
{
	static const uint8_t	 o[] = { 0xfd, 0xe9, 0, 2, 0xab, 0xcd,
	    0, 10, 0 };

	b_good(m);
	add_opt(m, 4096, 0, 0, o, sizeof(o));
}

static void
b_edns_v1(struct msg *m)
{
	b_good(m);
	add_opt(m, 4096, 1, 0, NULL, 0);
}

static void
b_opt_unknown(struct msg *m)
{
	static const uint8_t	 o[] = { 0xfd, 0xe9, 0, 2, 0xab, 0xcd };

	b_good(m);
	add_opt(m, 4096, 0, 0, o, sizeof(o));
}

/* An empty NSID request, as "dig +nsid" sends. */
static void
b_opt_nsid(struct msg *m)
{
	static const uint8_t	 o[] = { 0, 3, 0, 0 };

	b_good(m);
	add_opt(m, 1232, 0, 0, o, sizeof(o));
}

static void
b_qtype_opt(struct msg *m)
{
	query_wire(m, "www.example.com.", LDNS_RR_TYPE_OPT);
}

static void
b_axfr(struct msg *m)
{
	query_wire(m, "example.com.", LDNS_RR_TYPE_AXFR);
}

static void
b_ixfr(struct msg *m)
{
	query_wire(m, "example.com.", LDNS_RR_TYPE_IXFR);
}

/* RFC 1995 3: the SOA the client has, in the authority section. */
static void
b_ixfr_soa(struct msg *m)
{
	ldns_pkt	*p = mkquery("example.com.", LDNS_RR_TYPE_IXFR);

	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY,
	    rr("example.com. 3600 IN SOA ns.example.com. h.example.com. "
	    "1 3600 900 604800 300")));
	to_msg(p, m);
	ldns_pkt_free(p);
}

/* ldns counts OPT RRs in 8 bits: 256 of them would look like none. */
static void
b_256_opt(struct msg *m)
{
	int	 i;

	b_good(m);
	for (i = 0; i < 256; i++)
		add_opt(m, 4096, 0, 0, NULL, 0);
}

/*
 * Append an RR "owner-is-the-question TYPE CLASS 300 RDATA" by hand, in
 * section sec (1 answer, 2 authority, 3 additional), whatever its RDATA.
 */
static void
add_raw_rr(struct msg *m, int sec, uint16_t type, uint16_t class,
    const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t	 h[12];

	h[0] = 0xc0;				/* owner: pointer to QNAME */
	h[1] = LDNS_HEADER_SIZE;
	ldns_write_uint16(h + 2, type);
	ldns_write_uint16(h + 4, class);
	ldns_write_uint32(h + 6, 300);
	ldns_write_uint16(h + 10, rdlen);
	put(m, h, sizeof(h));
	if (rdlen > 0)
		put(m, rdata, rdlen);
	ldns_write_uint16(m->b + 4 + 2 * sec,
	    ldns_read_uint16(m->b + 4 + 2 * sec) + 1);
}

/* Two TSIG RRs: ldns leaks the first; RFC 8945 allows one, last. */
static void
b_two_tsig(struct msg *m)
{
	static const uint8_t	 t[] = { 0 };

	b_good(m);
	add_raw_rr(m, 3, LDNS_RR_TYPE_TSIG, LDNS_RR_CLASS_ANY, t, 1);
	add_raw_rr(m, 3, LDNS_RR_TYPE_TSIG, LDNS_RR_CLASS_ANY, t, 1);
}

/*
 * ldns reads an RR's RDATA field by field and goes on where the fields
 * end: here two TSIG RRs ride in the RDATA of a class CH A (RDLENGTH 4 +
 * 2 x 12), so that the walk over RDLENGTHs sees A, A, A, TSIG (last) and
 * ldns sees A, TSIG, TSIG (the first leaked; ldns takes one RR off
 * ARCOUNT for each TSIG).
 */
static void
b_hidden_tsig(struct msg *m)
{
	static const uint8_t	 a[4] = { 192, 0, 2, 1 }, t[] = { 0 };
	uint8_t			 rd[4 + 2 * 12];
	int			 i;

	b_good(m);
	memcpy(rd, a, 4);
	for (i = 0; i < 2; i++) {
		/* root, TSIG, ANY, TTL 0, RDLENGTH 1, the root name */
		memcpy(rd + 4 + 12 * i,
		    "\000\000\372\000\377\000\000\000\000\000\001\000", 12);
	}
	add_raw_rr(m, 3, LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, rd, sizeof(rd));
	add_raw_rr(m, 3, LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, a, 4);
	add_raw_rr(m, 3, LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, a, 4);
	add_raw_rr(m, 3, LDNS_RR_TYPE_TSIG, LDNS_RR_CLASS_ANY, t, 1);
}

/* A class CH A with RDLENGTH 5: ldns reads 4 and the next RR from 1. */
static void
b_ch_a5(struct msg *m)
{
	static const uint8_t	 a[5] = { 192, 0, 2, 1, 0 };

	b_good(m);
	add_raw_rr(m, 3, LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, a, 5);
}

#define ANY	-1
static const struct {
	const char	*name;
	void		(*build)(struct msg *);
	int		 verdict;
	int		 rcode;		/* when DNSMSG_ERROR */
	int		 req;		/* 1: *req set, 0: NULL, ANY */
} parse_cases[] = {
	{ "good", b_good, DNSMSG_OK, ANY, 1 },
	{ "good edns", b_good_edns, DNSMSG_OK, ANY, 1 },
	{ "empty", b_empty, DNSMSG_DROP, ANY, ANY },
	{ "11 octets", b_short, DNSMSG_DROP, ANY, ANY },
	{ "QR=1", b_qr, DNSMSG_DROP, ANY, ANY },
	{ "opcode STATUS", b_status, DNSMSG_ERROR, LDNS_RCODE_NOTIMPL, 1 },
	{ "opcode NOTIFY", b_notify, DNSMSG_ERROR, LDNS_RCODE_NOTIMPL, 1 },
	{ "opcode UPDATE", b_update, DNSMSG_ERROR, LDNS_RCODE_NOTIMPL, 1 },
	{ "QDCOUNT 0", b_qd0, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 1 },
	{ "QDCOUNT 2", b_qd2, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 1 },
	{ "QDCOUNT 2, one there", b_qd2_missing, DNSMSG_ERROR,
	    LDNS_RCODE_FORMERR, 0 },
	{ "ANCOUNT 1", b_an1, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 1 },
	{ "NSCOUNT 1", b_ns1, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 1 },
	{ "TC=1", b_tc, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 1 },
	{ "QCLASS cut", b_cut_class, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 0 },
	{ "QNAME cut", b_cut_name, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 0 },
	{ "64-octet label", b_long_label, DNSMSG_ERROR, LDNS_RCODE_FORMERR,
	    0 },
	{ "pointer to itself", b_ptr_self, DNSMSG_ERROR, LDNS_RCODE_FORMERR,
	    0 },
	{ "pointer loop", b_ptr_loop, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 0 },
	{ "two OPT", b_two_opt, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 1 },
	{ "256 OPT", b_256_opt, DNSMSG_ERROR, LDNS_RCODE_FORMERR, ANY },
	{ "two TSIG", b_two_tsig, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 0 },
	{ "TSIG in RDATA", b_hidden_tsig, DNSMSG_ERROR, LDNS_RCODE_FORMERR,
	    0 },
	{ "CH A with RDLENGTH 5", b_ch_a5, DNSMSG_ERROR, LDNS_RCODE_FORMERR,
	    0 },
	{ "option length past RDATA", b_opt_badlen, DNSMSG_ERROR,
	    LDNS_RCODE_FORMERR, 1 },
	{ "half an option header", b_opt_cut_header, DNSMSG_ERROR,
	    LDNS_RCODE_FORMERR, 1 },
	{ "EDNS version 1", b_edns_v1, DNSMSG_ERROR, DNSMSG_RCODE_BADVERS, 1 },
	{ "option 65001", b_opt_unknown, DNSMSG_OK, ANY, 1 },
	{ "empty NSID option", b_opt_nsid, DNSMSG_OK, ANY, 1 },
	{ "QTYPE OPT", b_qtype_opt, DNSMSG_ERROR, LDNS_RCODE_FORMERR, 1 },
	{ "QTYPE AXFR", b_axfr, DNSMSG_ERROR, LDNS_RCODE_NOTIMPL, 1 },
	{ "QTYPE IXFR", b_ixfr, DNSMSG_ERROR, LDNS_RCODE_NOTIMPL, 1 },
	{ "IXFR with its SOA", b_ixfr_soa, DNSMSG_ERROR, LDNS_RCODE_NOTIMPL,
	    1 },
};
#define NPARSE	(sizeof(parse_cases) / sizeof(parse_cases[0]))

START_TEST(test_parse_table)
{
	struct msg	 m;
	ldns_pkt	*unset = (ldns_pkt *)&m, *req = unset;
	int		 verdict, rcode = -1, set, gotreq;

	memset(&m, 0, sizeof(m));
	parse_cases[_i].build(&m);
	verdict = dnsmsg_parse_query(m.b, m.len, &req, &rcode);
	set = req != unset;
	gotreq = set && req != NULL;
	if (gotreq)
		ldns_pkt_free(req);
	/* Documented for OK and ERROR: the query, or NULL. */
	ck_assert_msg(set || verdict == DNSMSG_DROP, "%s: *req not set",
	    parse_cases[_i].name);
	ck_assert_msg(verdict == parse_cases[_i].verdict,
	    "%s: verdict %d, want %d", parse_cases[_i].name, verdict,
	    parse_cases[_i].verdict);
	if (verdict == DNSMSG_ERROR)
		ck_assert_msg(rcode == parse_cases[_i].rcode,
		    "%s: rcode %d, want %d", parse_cases[_i].name, rcode,
		    parse_cases[_i].rcode);
	if (parse_cases[_i].req != ANY)
		ck_assert_msg(gotreq == parse_cases[_i].req,
		    "%s: req %s", parse_cases[_i].name,
		    gotreq ? "set" : "NULL");
}
END_TEST

START_TEST(test_parse_good)
{
	static const uint8_t	 name[] = "\003www\007example\003com";
	struct msg		 m;
	ldns_pkt		*req;

	memset(&m, 0, sizeof(m));
	b_good(&m);
	LDNS_CD_SET(m.b);
	req = good_req(&m);
	ck_assert_uint_eq(ldns_pkt_id(req), QID);
	ck_assert_int_eq(ldns_pkt_qr(req), 0);
	ck_assert_int_eq(ldns_pkt_rd(req), 1);
	ck_assert_int_eq(ldns_pkt_cd(req), 1);
	assert_qname_bytes(req, name, sizeof(name));
	ck_assert_int_eq(ldns_rr_get_type(qrr(req)), LDNS_RR_TYPE_AAAA);
	ck_assert_int_eq(ldns_rr_get_class(qrr(req)), LDNS_RR_CLASS_IN);
	ck_assert_int_eq(ldns_pkt_edns(req), 0);
	ldns_pkt_free(req);

	b_good_edns(&m);
	req = good_req(&m);
	ck_assert_int_eq(ldns_pkt_edns(req), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(req), 4096);
	ck_assert_int_eq(ldns_pkt_edns_do(req), 1);
	ck_assert_uint_eq(ldns_pkt_arcount(req), 0);
	ldns_pkt_free(req);
}
END_TEST

/*
 * dnsmsg_error
 */

/* A NOTIFY with RD, CD and EDNS (DO as given), ID QID: NOTIMP. */
static ldns_pkt *
notify_req(struct msg *m, int dobit)
{
	ldns_pkt	*req = NULL;
	int		 rcode = -1;

	b_good(m);
	LDNS_OPCODE_SET(m->b, LDNS_PACKET_NOTIFY);
	LDNS_CD_SET(m->b);
	add_opt(m, 4096, 0, dobit, NULL, 0);
	ck_assert_int_eq(dnsmsg_parse_query(m->b, m->len, &req, &rcode),
	    DNSMSG_ERROR);
	ck_assert_int_eq(rcode, LDNS_RCODE_NOTIMPL);
	ck_assert_ptr_nonnull(req);
	return (req);
}

START_TEST(test_error_edns)
{
	static const uint8_t	 name[] = "\003www\007example\003com";
	struct msg		 m, out;
	ldns_pkt		*req, *reply, *back;
	int			 dobit = _i;

	memset(&m, 0, sizeof(m));
	req = notify_req(&m, dobit);
	reply = dnsmsg_error(m.b, req, LDNS_RCODE_NOTIMPL, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	ck_assert_uint_eq(ldns_pkt_id(reply), QID);
	ck_assert_int_eq(ldns_pkt_qr(reply), 1);
	ck_assert_int_eq(ldns_pkt_get_opcode(reply), LDNS_PACKET_NOTIFY);
	ck_assert_int_eq(ldns_pkt_rd(reply), 1);
	ck_assert_int_eq(ldns_pkt_cd(reply), 1);
	ck_assert_int_eq(ldns_pkt_get_rcode(reply), LDNS_RCODE_NOTIMPL);
	assert_qname_bytes(reply, name, sizeof(name));
	ck_assert_int_eq(ldns_rr_get_type(qrr(reply)), LDNS_RR_TYPE_AAAA);

	to_msg(reply, &out);
	ck_assert_uint_eq(LDNS_ID_WIRE(out.b), QID);
	ck_assert(LDNS_QR_WIRE(out.b));
	ck_assert_int_eq(LDNS_OPCODE_WIRE(out.b), LDNS_PACKET_NOTIFY);
	ck_assert(LDNS_RD_WIRE(out.b));
	ck_assert(LDNS_CD_WIRE(out.b));
	ck_assert_int_eq(LDNS_RCODE_WIRE(out.b), LDNS_RCODE_NOTIMPL);
	ck_assert_uint_eq(LDNS_QDCOUNT(out.b), 1);
	ck_assert_uint_eq(LDNS_ANCOUNT(out.b), 0);
	ck_assert_uint_eq(LDNS_NSCOUNT(out.b), 0);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 1);	/* the OPT */
	back = from_msg(&out);
	ck_assert_int_eq(ldns_pkt_edns(back), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(back), OUR_EDNS);
	ck_assert_uint_eq(ldns_pkt_edns_version(back), 0);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(back), 0);
	ck_assert_int_eq(ldns_pkt_edns_do(back), dobit);
	ldns_pkt_free(back);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
}
END_TEST

/* RFC 1035 4.1.1: every opcode but QUERY is NOTIMP, echoed back. */
static const int	 opcodes[] = { 1, 2, 3, 4, 5, 6, 7, 15 };

START_TEST(test_error_opcode)
{
	struct msg	 m, out;
	ldns_pkt	*req = NULL, *reply;
	int		 rcode = -1, verdict;

	memset(&m, 0, sizeof(m));
	b_good(&m);
	LDNS_OPCODE_SET(m.b, opcodes[_i]);
	verdict = dnsmsg_parse_query(m.b, m.len, &req, &rcode);
	ck_assert_int_eq(verdict, DNSMSG_ERROR);
	ck_assert_int_eq(rcode, LDNS_RCODE_NOTIMPL);
	reply = dnsmsg_error(m.b, req, rcode, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	to_msg(reply, &out);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
	ck_assert_int_eq(LDNS_OPCODE_WIRE(out.b), opcodes[_i]);
	ck_assert_int_eq(LDNS_RCODE_WIRE(out.b), LDNS_RCODE_NOTIMPL);
	ck_assert_uint_eq(LDNS_ID_WIRE(out.b), QID);
	ck_assert(LDNS_QR_WIRE(out.b));
	ck_assert(LDNS_RD_WIRE(out.b));
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 0);
}
END_TEST

/* No parsed query: the header only, and no OPT. */
START_TEST(test_error_no_req)
{
	struct msg	 m, out;
	ldns_pkt	*reply;

	memset(&m, 0, sizeof(m));
	b_good_edns(&m);
	m.b[2] &= ~LDNS_RD_MASK;
	LDNS_CD_SET(m.b);
	reply = dnsmsg_error(m.b, NULL, LDNS_RCODE_FORMERR, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	to_msg(reply, &out);
	ldns_pkt_free(reply);
	ck_assert_uint_eq(out.len, LDNS_HEADER_SIZE);
	ck_assert_uint_eq(LDNS_ID_WIRE(out.b), QID);
	ck_assert(LDNS_QR_WIRE(out.b));
	ck_assert_int_eq(LDNS_OPCODE_WIRE(out.b), LDNS_PACKET_QUERY);
	ck_assert(!LDNS_RD_WIRE(out.b));
	ck_assert(LDNS_CD_WIRE(out.b));
	ck_assert_int_eq(LDNS_RCODE_WIRE(out.b), LDNS_RCODE_FORMERR);
	ck_assert_uint_eq(LDNS_QDCOUNT(out.b), 0);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 0);
}
END_TEST

/* A parsed query without EDNS: question copied, no OPT. */
START_TEST(test_error_no_edns)
{
	struct msg	 m, out;
	ldns_pkt	*req = NULL, *reply, *back;
	int		 rcode = -1;

	memset(&m, 0, sizeof(m));
	b_tc(&m);
	ck_assert_int_eq(dnsmsg_parse_query(m.b, m.len, &req, &rcode),
	    DNSMSG_ERROR);
	ck_assert_int_eq(rcode, LDNS_RCODE_FORMERR);
	ck_assert_ptr_nonnull(req);
	reply = dnsmsg_error(m.b, req, rcode, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	to_msg(reply, &out);
	ck_assert_uint_eq(LDNS_QDCOUNT(out.b), 1);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 0);
	ck_assert_int_eq(LDNS_RCODE_WIRE(out.b), LDNS_RCODE_FORMERR);
	ck_assert(LDNS_RD_WIRE(out.b));
	ck_assert(!LDNS_CD_WIRE(out.b));
	back = from_msg(&out);
	ck_assert_int_eq(ldns_pkt_edns(back), 0);
	ck_assert_int_eq(ldns_dname_compare(ldns_rr_owner(qrr(back)),
	    ldns_rr_owner(qrr(req))), 0);
	ldns_pkt_free(back);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
}
END_TEST

/* RFC 6891 6.1.3: BADVERS is 16, the upper 8 bits go in the OPT TTL. */
START_TEST(test_error_badvers)
{
	static const uint8_t	 opt[] = { 0, 0, 41, OUR_EDNS >> 8,
	    OUR_EDNS & 0xff, 1, 0, 0x80, 0, 0, 0 };
	struct msg		 m, out;
	ldns_pkt		*req = NULL, *reply, *back;
	int			 rcode = -1;

	memset(&m, 0, sizeof(m));
	b_good(&m);
	add_opt(&m, 4096, 1, 1, NULL, 0);
	ck_assert_int_eq(dnsmsg_parse_query(m.b, m.len, &req, &rcode),
	    DNSMSG_ERROR);
	ck_assert_int_eq(rcode, DNSMSG_RCODE_BADVERS);
	ck_assert_ptr_nonnull(req);
	reply = dnsmsg_error(m.b, req, rcode, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	ck_assert_int_eq(ldns_pkt_get_rcode(reply), 0);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(reply), 1);
	to_msg(reply, &out);
	ck_assert_int_eq(LDNS_RCODE_WIRE(out.b), 0);
	ck_assert_uint_eq(LDNS_QDCOUNT(out.b), 1);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 1);
	/* The OPT is last: root, type, udp size, ext rcode 1, version 0, DO. */
	ck_assert_uint_ge(out.len, sizeof(opt));
	ck_assert_mem_eq(out.b + out.len - sizeof(opt), opt, sizeof(opt));
	back = from_msg(&out);
	ck_assert_int_eq(ldns_pkt_get_rcode(back), 0);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(back), 1);
	ck_assert_uint_eq(ldns_pkt_edns_version(back), 0);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(back), OUR_EDNS);
	ck_assert_int_eq(ldns_pkt_edns_do(back), 1);
	ldns_pkt_free(back);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
}
END_TEST

/*
 * dnsmsg_reply
 */

static const uint8_t	 ede22[] = { 0, 22, 'n', 'o', ' ', 'a', 'u', 't',
    'h' };
static const uint8_t	 ede3[] = { 0, 3 };

/*
 * An upstream reply as received: its own ID, a lower-case question, RD,
 * CD and DO opposite to the client's, and options cookie, EDE 22,
 * 65001, EDE 3.
 */
static ldns_pkt *
upstream_reply(int flags, int dobit, ldns_pkt_rcode rc)
{
	static const uint8_t	 cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t	 unknown[2] = { 0xab, 0xcd };
	ldns_pkt		*p = ldns_pkt_new();
	ldns_edns_option_list	*l = ldns_edns_option_list_new();
	struct msg		 m;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(l);
	ldns_pkt_set_id(p, 0x1111);
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_aa(p, flags);
	ldns_pkt_set_ra(p, flags);
	ldns_pkt_set_ad(p, flags);
	ldns_pkt_set_rd(p, !flags);
	ldns_pkt_set_cd(p, !flags);
	ldns_pkt_set_rcode(p, rc);
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION,
	    question_rr("www.example.com. IN AAAA")));
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER,
	    rr("www.example.com. 300 IN CNAME web.example.com.")));
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER,
	    rr("web.example.com. 300 IN CNAME gone.example.com.")));
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY,
	    rr("example.com. 900 IN SOA ns1.example.com. h.example.com. "
	    "1 3600 900 604800 900")));
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL,
	    rr("ns1.example.com. 300 IN A 192.0.2.53")));
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL,
	    rr("ns1.example.com. 300 IN AAAA 2001:db8::53")));
	ldns_pkt_set_edns_udp_size(p, 4096);
	ldns_pkt_set_edns_do(p, dobit);
	ck_assert(ldns_edns_option_list_push(l,
	    ldns_edns_new_from_data(LDNS_EDNS_COOKIE, sizeof(cookie), cookie)));
	ck_assert(ldns_edns_option_list_push(l,
	    ldns_edns_new_from_data(DNSMSG_EDE, sizeof(ede22), ede22)));
	ck_assert(ldns_edns_option_list_push(l,
	    ldns_edns_new_from_data(65001, sizeof(unknown), unknown)));
	ck_assert(ldns_edns_option_list_push(l,
	    ldns_edns_new_from_data(DNSMSG_EDE, sizeof(ede3), ede3)));
	ldns_pkt_set_edns_option_list(p, l);
	/* Through the wire, as it would come from upstream. */
	to_msg(p, &m);
	ldns_pkt_free(p);
	return (from_msg(&m));
}

static void
assert_same_rrs(const ldns_rr_list *want, const ldns_rr_list *got)
{
	size_t	 i;

	ck_assert_uint_eq(ldns_rr_list_rr_count(got),
	    ldns_rr_list_rr_count(want));
	for (i = 0; i < ldns_rr_list_rr_count(want); i++)
		ck_assert_msg(ldns_rr_compare(ldns_rr_list_rr(want, i),
		    ldns_rr_list_rr(got, i)) == 0, "RR %zu differs", i);
}

static void
assert_option(const ldns_edns_option *o, uint16_t code, const uint8_t *data,
    size_t n)
{
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(ldns_edns_get_code(o), code);
	ck_assert_uint_eq(ldns_edns_get_size(o), n);
	ck_assert_mem_eq(ldns_edns_get_data(o), data, n);
}

/* The two EDE options of upstream_reply(), and nothing else. */
static void
assert_ede_only(ldns_pkt *p)
{
	ldns_edns_option_list	*l = ldns_pkt_edns_get_option_list(p);

	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(ldns_edns_option_list_get_count(l), 2);
	assert_option(ldns_edns_option_list_get_option(l, 0), DNSMSG_EDE,
	    ede22, sizeof(ede22));
	assert_option(ldns_edns_option_list_get_option(l, 1), DNSMSG_EDE,
	    ede3, sizeof(ede3));
}

/*
 * _i 0: client RD CD DO set, upstream AA RA AD set, NXDOMAIN.
 * _i 1: client RD CD DO clear, upstream AA RA AD clear, SERVFAIL.
 */
START_TEST(test_reply)
{
	static const uint8_t	 name[] = "\003WwW\007ExAmple\003COM";
	int			 on = _i == 0;
	ldns_pkt_rcode		 rc = on ? LDNS_RCODE_NXDOMAIN :
				    LDNS_RCODE_SERVFAIL;
	struct msg		 m, out;
	ldns_pkt		*req, *src, *reply, *back;
	ldns_rr_list		*an, *ns, *ar;

	memset(&m, 0, sizeof(m));
	query_wire(&m, "WwW.ExAmple.COM.", LDNS_RR_TYPE_AAAA);
	if (on)
		LDNS_CD_SET(m.b);
	else
		m.b[2] &= ~LDNS_RD_MASK;
	add_opt(&m, 4096, 0, on, NULL, 0);
	req = good_req(&m);

	src = upstream_reply(on, !on, rc);
	an = ldns_rr_list_clone(ldns_pkt_answer(src));
	ns = ldns_rr_list_clone(ldns_pkt_authority(src));
	ar = ldns_rr_list_clone(ldns_pkt_additional(src));
	ck_assert_uint_eq(ldns_rr_list_rr_count(an), 2);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ar), 2);

	reply = dnsmsg_reply(src, req, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	ck_assert_uint_eq(ldns_pkt_id(reply), QID);
	ck_assert_int_eq(ldns_pkt_qr(reply), 1);
	ck_assert_int_eq(ldns_pkt_get_opcode(reply), LDNS_PACKET_QUERY);
	ck_assert_int_eq(ldns_pkt_rd(reply), on);
	ck_assert_int_eq(ldns_pkt_cd(reply), on);
	ck_assert_int_eq(ldns_pkt_aa(reply), on);
	ck_assert_int_eq(ldns_pkt_ra(reply), on);
	ck_assert_int_eq(ldns_pkt_ad(reply), on);
	ck_assert_int_eq(ldns_pkt_get_rcode(reply), rc);
	/* RFC 6147 5.4: the client's question, with the client's case. */
	assert_qname_bytes(reply, name, sizeof(name));
	ck_assert_int_eq(ldns_rr_get_type(qrr(reply)), LDNS_RR_TYPE_AAAA);
	ck_assert_int_eq(ldns_rr_get_class(qrr(reply)), LDNS_RR_CLASS_IN);
	assert_same_rrs(an, ldns_pkt_answer(reply));
	assert_same_rrs(ns, ldns_pkt_authority(reply));
	assert_same_rrs(ar, ldns_pkt_additional(reply));
	ck_assert_uint_eq(ldns_pkt_ancount(reply), 2);
	ck_assert_uint_eq(ldns_pkt_nscount(reply), 1);
	ck_assert_uint_eq(ldns_pkt_arcount(reply), 2);
	ck_assert_int_eq(ldns_pkt_edns(reply), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(reply), OUR_EDNS);
	ck_assert_uint_eq(ldns_pkt_edns_version(reply), 0);
	ck_assert_int_eq(ldns_pkt_edns_do(reply), on);
	assert_ede_only(reply);

	/* And on the wire. */
	to_msg(reply, &out);
	ck_assert_uint_eq(LDNS_ID_WIRE(out.b), QID);
	ck_assert_int_eq(LDNS_RCODE_WIRE(out.b), rc);
	ck_assert_uint_eq(LDNS_QDCOUNT(out.b), 1);
	ck_assert_uint_eq(LDNS_ANCOUNT(out.b), 2);
	ck_assert_uint_eq(LDNS_NSCOUNT(out.b), 1);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 3);
	ck_assert_mem_eq(out.b + LDNS_HEADER_SIZE, name, sizeof(name));
	back = from_msg(&out);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(back), OUR_EDNS);
	ck_assert_int_eq(ldns_pkt_edns_do(back), on);
	assert_ede_only(back);
	assert_same_rrs(an, ldns_pkt_answer(back));

	ldns_pkt_free(back);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
	ldns_rr_list_deep_free(an);
	ldns_rr_list_deep_free(ns);
	ldns_rr_list_deep_free(ar);
}
END_TEST

/* The client sent no OPT: none in the reply, whatever upstream sent. */
START_TEST(test_reply_no_edns)
{
	struct msg	 m, out;
	ldns_pkt	*req, *src, *reply, *back;

	memset(&m, 0, sizeof(m));
	b_good(&m);
	req = good_req(&m);
	src = upstream_reply(1, 1, LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_edns(src), 1);
	ck_assert_int_eq(dnsmsg_has_ede(src, 0, 65535), 1);
	reply = dnsmsg_reply(src, req, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	ck_assert_int_eq(ldns_pkt_edns(reply), 0);
	ck_assert_int_eq(dnsmsg_has_ede(reply, 0, 65535), 0);
	to_msg(reply, &out);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 2);
	back = from_msg(&out);
	ck_assert_int_eq(ldns_pkt_edns(back), 0);
	ck_assert_uint_eq(ldns_pkt_arcount(back), 2);
	ck_assert_uint_eq(ldns_pkt_id(back), QID);
	ldns_pkt_free(back);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
}
END_TEST

/*
 * RFC 6891 6.1.3: an upstream's extended RCODE (here BADCOOKIE, 23 = 0x17:
 * 7 in the header, 1 in the OPT) is about our hop to it; the client, with
 * or without EDNS, gets SERVFAIL.
 */
START_TEST(test_reply_extended_rcode)
{
	struct msg	 m, out;
	ldns_pkt	*req, *src, *reply;
	int		 edns = _i;

	memset(&m, 0, sizeof(m));
	if (edns)
		b_good_edns(&m);
	else
		b_good(&m);
	req = good_req(&m);
	ck_assert_int_eq(ldns_pkt_edns(req), edns);
	src = upstream_reply(1, 0, 7);
	ldns_pkt_set_edns_extended_rcode(src, 1);
	reply = dnsmsg_reply(src, req, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	to_msg(reply, &out);
	ck_assert_int_eq(LDNS_RCODE_WIRE(out.b), LDNS_RCODE_SERVFAIL);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(reply), 0);
	ck_assert_int_eq(ldns_pkt_edns(reply), edns);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
}
END_TEST

/*
 * dnsmsg_udp_limit
 */

static const struct {
	int		 edns;
	uint16_t	 size;
	uint16_t	 ours;
	size_t		 want;
} limits[] = {
	{ 0, 0, 1232, 512 },
	{ 0, 0, 4096, 512 },
	{ 1, 4096, 1232, 1232 },
	{ 1, 1000, 1232, 1000 },
	{ 1, 100, 1232, 512 },		/* RFC 6891 6.2.5 */
	{ 1, 0, 1232, 512 },
	{ 1, 512, 1232, 512 },
	{ 1, 1232, 4096, 1232 },
	{ 1, 65535, 65535, 65535 },
};

START_TEST(test_udp_limit)
{
	struct msg	 m;
	ldns_pkt	*req;
	size_t		 got;

	memset(&m, 0, sizeof(m));
	b_good(&m);
	if (limits[_i].edns)
		add_opt(&m, limits[_i].size, 0, 0, NULL, 0);
	req = good_req(&m);
	got = dnsmsg_udp_limit(req, limits[_i].ours);
	ldns_pkt_free(req);
	ck_assert_msg(got == limits[_i].want, "edns %d size %u ours %u: %zu, "
	    "want %zu", limits[_i].edns, limits[_i].size, limits[_i].ours,
	    got, limits[_i].want);
}
END_TEST

/*
 * dnsmsg_render
 */

/* A reply to "www.example.com. AAAA", ID QID, with EDNS if asked. */
static ldns_pkt *
mkreply(int edns)
{
	ldns_pkt	*p = ldns_pkt_new();

	ck_assert_ptr_nonnull(p);
	ldns_pkt_set_id(p, QID);
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_rd(p, 1);
	ldns_pkt_set_ra(p, 1);
	ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION,
	    question_rr("www.example.com. IN AAAA")));
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, OUR_EDNS);
		ldns_pkt_set_edns_do(p, 1);
	}
	return (p);
}

/* n RRs from a printf format taking the index (twice). */
static void
push_n(ldns_pkt *p, ldns_pkt_section sec, const char *fmt, int n)
{
	char	 s[256];
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), fmt, i, i);
		ck_assert(ldns_pkt_push_rr(p, sec, rr(s)));
	}
}

#define AAAA_FMT	"www.example.com. 300 IN AAAA 2001:db8::%d:%d"
#define NS_FMT		"example.com. 300 IN NS " \
			    "ns%d-with-a-rather-long-label.dns%d.example.net."
#define GLUE_FMT	"ns%d.example.net. 300 IN A 192.0.2.%d"

static size_t
plain_len(const ldns_pkt *p)
{
	uint8_t	*w = NULL;
	size_t	 n = 0;

	ck_assert_int_eq(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
	free(w);
	return (n);
}

/*
 * Render at max and check the result: length, TC, section counts on the
 * wire, the question, and the OPT when edns.
 */
static void
render_check(ldns_pkt *p, size_t max, int tc, int an, int ns, int ar,
    int edns)
{
	uint8_t		*w = NULL;
	size_t		 n = 0;
	struct msg	 out;
	ldns_pkt	*back;

	ck_assert_int_eq(dnsmsg_render(p, max, &w, &n), LDNS_STATUS_OK);
	ck_assert_ptr_nonnull(w);
	out.len = 0;
	if (n <= sizeof(out.b)) {
		memcpy(out.b, w, n);
		out.len = n;
	}
	free(w);
	ck_assert_uint_eq(out.len, n);
	ck_assert_uint_le(n, max);
	ck_assert_int_eq(ldns_pkt_tc(p), tc);
	ck_assert_int_eq(LDNS_TC_WIRE(out.b) != 0, tc);
	ck_assert_uint_eq(LDNS_ID_WIRE(out.b), QID);
	ck_assert_uint_eq(LDNS_QDCOUNT(out.b), 1);
	ck_assert_uint_eq(LDNS_ANCOUNT(out.b), an);
	ck_assert_uint_eq(LDNS_NSCOUNT(out.b), ns);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), ar + (edns != 0));
	back = from_msg(&out);
	ck_assert_int_eq(ldns_pkt_edns(back), edns != 0);
	if (edns) {
		ck_assert_uint_eq(ldns_pkt_edns_udp_size(back), OUR_EDNS);
		ck_assert_int_eq(ldns_pkt_edns_do(back), 1);
	}
	ck_assert_int_eq(ldns_rr_get_type(qrr(back)), LDNS_RR_TYPE_AAAA);
	ck_assert_int_eq(ldns_rr_compare(qrr(back), qrr(p)), 0);
	ldns_pkt_free(back);
}

START_TEST(test_render_fits)
{
	ldns_pkt	*p = mkreply(_i);
	uint8_t		*w = NULL, *plain = NULL;
	size_t		 n = 0, pn = 0;

	push_n(p, LDNS_SECTION_ANSWER, AAAA_FMT, 2);
	push_n(p, LDNS_SECTION_AUTHORITY, NS_FMT, 1);
	push_n(p, LDNS_SECTION_ADDITIONAL, GLUE_FMT, 1);
	ck_assert_int_eq(ldns_pkt2wire(&plain, p, &pn), LDNS_STATUS_OK);
	ck_assert_int_eq(dnsmsg_render(p, 512, &w, &n), LDNS_STATUS_OK);
	ck_assert_uint_eq(n, pn);
	ck_assert_mem_eq(w, plain, n);
	free(w);
	free(plain);
	render_check(p, 512, 0, 2, 1, 1, _i);
	/* Exactly max fits too. */
	render_check(p, pn, 0, 2, 1, 1, _i);
	ldns_pkt_free(p);
}
END_TEST

/* RFC 2181 9: missing additional data is not a reason for TC. */
START_TEST(test_render_drop_additional)
{
	ldns_pkt	*p = mkreply(_i);

	push_n(p, LDNS_SECTION_ANSWER, AAAA_FMT, 1);
	push_n(p, LDNS_SECTION_AUTHORITY, NS_FMT, 2);
	push_n(p, LDNS_SECTION_ADDITIONAL, GLUE_FMT, 30);
	ck_assert_uint_gt(plain_len(p), 512);
	render_check(p, 512, 0, 1, 2, 0, _i);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 2);
	ck_assert_uint_eq(ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);
}
END_TEST

/* The answer is complete without the authority. */
START_TEST(test_render_drop_authority)
{
	ldns_pkt	*p = mkreply(_i);

	push_n(p, LDNS_SECTION_ANSWER, AAAA_FMT, 12);
	push_n(p, LDNS_SECTION_AUTHORITY, NS_FMT, 12);
	push_n(p, LDNS_SECTION_ADDITIONAL, GLUE_FMT, 2);
	ck_assert_uint_gt(plain_len(p), 512);
	render_check(p, 512, 0, 12, 0, 0, _i);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 12);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 12);
	ldns_pkt_free(p);
}
END_TEST

/* RFC 6891 7: the answer does not fit: header, question and OPT, TC. */
START_TEST(test_render_tc)
{
	ldns_pkt	*p = mkreply(_i);

	push_n(p, LDNS_SECTION_ANSWER, "www.example.com. 300 IN A 192.0.%d.%d",
	    60);
	push_n(p, LDNS_SECTION_AUTHORITY, NS_FMT, 1);
	push_n(p, LDNS_SECTION_ADDITIONAL, GLUE_FMT, 1);
	ck_assert_uint_gt(plain_len(p), 512);
	render_check(p, 512, 1, 0, 0, 0, _i);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 0);
	ldns_pkt_free(p);
}
END_TEST

/* No answer: a negative reply without its SOA is no reply; TC. */
START_TEST(test_render_tc_no_answer)
{
	ldns_pkt	*p = mkreply(_i);

	push_n(p, LDNS_SECTION_AUTHORITY, NS_FMT, 12);
	ck_assert_uint_gt(plain_len(p), 512);
	render_check(p, 512, 1, 0, 0, 0, _i);
	ldns_pkt_free(p);
}
END_TEST

/*
 * dnsmsg_parse_reply: what ldns would misread is refused.
 */

/* An upstream reply to "www.example.com. AAAA" with no records. */
static void
r_base(struct msg *m)
{
	b_good(m);
	LDNS_QR_SET(m->b);
}

static void
r_a4(struct msg *m)
{
	static const uint8_t	 a[] = { 192, 0, 2, 1 };

	r_base(m);
	add_raw_rr(m, 1, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, a, 4);
}

static void
r_a5(struct msg *m)
{
	static const uint8_t	 a[] = { 8, 8, 8, 8, 0x63 };

	r_base(m);
	add_raw_rr(m, 1, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, a, 5);
}

static void
r_a8_additional(struct msg *m)
{
	static const uint8_t	 a[8] = { 8, 8, 8, 8, 9, 9, 9, 9 };

	r_base(m);
	add_raw_rr(m, 3, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, a, 8);
}

static void
r_aaaa15(struct msg *m)
{
	static const uint8_t	 a[15] = { 0x20, 0x01, 0x0d, 0xb8 };

	r_base(m);
	add_raw_rr(m, 1, LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, a, 15);
}

static void
r_aaaa16_opt(struct msg *m)
{
	static const uint8_t	 a[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	r_base(m);
	add_raw_rr(m, 1, LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, a, 16);
	add_opt(m, 1232, 0, 0, NULL, 0);
}

static void
r_two_opt(struct msg *m)
{
	r_base(m);
	add_opt(m, 1232, 0, 0, NULL, 0);
	add_opt(m, 1232, 0, 0, NULL, 0);
}

/* An OPT in the answer section (RFC 6891 6.1.1: additional only). */
static void
r_opt_in_answer(struct msg *m)
{
	r_base(m);
	add_raw_rr(m, 1, LDNS_RR_TYPE_OPT, 1232, NULL, 0);
}

static void
r_tsig_not_last(struct msg *m)
{
	static const uint8_t	 t[] = { 0 };

	r_base(m);
	add_raw_rr(m, 3, LDNS_RR_TYPE_TSIG, LDNS_RR_CLASS_ANY, t, 1);
	add_opt(m, 1232, 0, 0, NULL, 0);
}

/*
 * A TSIG as the last RR, but in the authority section: ldns keeps it as a
 * plain RR there, and a reply relayed with it would carry our OPT after
 * it (found by tests/fuzz).
 */
static void
r_tsig_authority(struct msg *m)
{
	static const uint8_t	 t[17] = { 0 };

	r_a4(m);
	add_raw_rr(m, 2, LDNS_RR_TYPE_TSIG, LDNS_RR_CLASS_ANY, t, sizeof(t));
}

static void
r_many_additional(struct msg *m)
{
	uint8_t	 a[4] = { 192, 0, 2, 0 };
	int	 i;

	r_a4(m);
	for (i = 0; i < 80; i++) {
		a[3] = i;
		add_raw_rr(m, 3, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, a, 4);
	}
	add_opt(m, 1232, 0, 0, NULL, 0);
}

/* RFC 8945 4.2: a TSIG (empty MAC) as the last RR, after the OPT. */
static void
r_opt_tsig_last(struct msg *m)
{
	static const uint8_t	 t[17] = { 0 };

	r_a4(m);
	add_opt(m, 1232, 0, 0, NULL, 0);
	add_raw_rr(m, 3, LDNS_RR_TYPE_TSIG, LDNS_RR_CLASS_ANY, t, sizeof(t));
}

/* A NODATA's SOA: root, root and five numbers (22 octets), plus extra. */
static void
soa(struct msg *m, const uint8_t *extra, size_t n)
{
	uint8_t	 rd[22 + 11];

	memset(rd, 0, sizeof(rd));
	rd[9] = 1;				/* serial */
	rd[21] = 60;				/* minimum */
	ck_assert_uint_le(n, sizeof(rd) - 22);
	if (n > 0)
		memcpy(rd + 22, extra, n);
	r_base(m);
	add_raw_rr(m, 2, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, rd, 22 + n);
}

static void
r_soa(struct msg *m)
{
	soa(m, NULL, 0);
	add_opt(m, 1232, 0, 0, NULL, 0);
}

/*
 * An OPT after the SOA's fields, in its RDATA: ldns reads it as the
 * additional RR and the real one is left over; the two views disagree on
 * the OPT RRs (found by tests/fuzz).
 */
static void
r_soa_hides_opt(struct msg *m)
{
	static const uint8_t	 opt[11] = { 0, 0, 41, 0x04, 0xd0 };

	soa(m, opt, sizeof(opt));
	add_opt(m, 1232, 0, 0, NULL, 0);
}

/* A CNAME whose target name (3 octets) runs past its RDLENGTH (2). */
static void
r_cname_past_rdlength(struct msg *m)
{
	r_base(m);
	add_raw_rr(m, 1, LDNS_RR_TYPE_CNAME, LDNS_RR_CLASS_IN,
	    (const uint8_t *)"\001x", 2);
	put(m, "\000", 1);
}

static void
r_cut(struct msg *m)
{
	r_a4(m);
	m->len--;
}

static const struct {
	const char	*name;
	void		(*build)(struct msg *);
	int		 ok;
} reply_cases[] = {
	{ "A, 4 octets", r_a4, 1 },
	{ "AAAA, 16 octets, and OPT", r_aaaa16_opt, 1 },
	{ "80 additional A and OPT", r_many_additional, 1 },
	{ "OPT, then TSIG last", r_opt_tsig_last, 1 },
	{ "A with RDLENGTH 5", r_a5, 0 },
	{ "A with RDLENGTH 8 in additional", r_a8_additional, 0 },
	{ "AAAA with RDLENGTH 15", r_aaaa15, 0 },
	{ "two OPT", r_two_opt, 0 },
	{ "OPT in the answer section", r_opt_in_answer, 0 },
	{ "TSIG before the OPT", r_tsig_not_last, 0 },
	{ "TSIG last, in the authority section", r_tsig_authority, 0 },
	{ "last octet missing", r_cut, 0 },
	{ "NODATA with its SOA", r_soa, 1 },
	{ "OPT in the SOA's RDATA", r_soa_hides_opt, 0 },
	{ "CNAME target past RDLENGTH", r_cname_past_rdlength, 0 },
};

START_TEST(test_parse_reply)
{
	struct msg	 m;
	ldns_pkt	*pkt = (ldns_pkt *)&m;
	ldns_status	 st;

	memset(&m, 0, sizeof(m));
	reply_cases[_i].build(&m);
	st = dnsmsg_parse_reply(m.b, m.len, &pkt);
	ck_assert_msg((st == LDNS_STATUS_OK) == reply_cases[_i].ok,
	    "%s: %s", reply_cases[_i].name, ldns_get_errorstr_by_id(st));
	if (st == LDNS_STATUS_OK) {
		ck_assert_ptr_nonnull(pkt);
		ck_assert_uint_eq(ldns_pkt_id(pkt), QID);
		ldns_pkt_free(pkt);
	} else
		ck_assert_ptr_null(pkt);
}
END_TEST

/*
 * The forwarder's EDE text is relayed up to DNSMSG_EDE_MAX bytes; a reply
 * that still does not fit loses its EDNS options, never its OPT or the
 * size limit.
 */
START_TEST(test_ede_bounded)
{
	struct msg	 m, out;
	ldns_pkt	*req, *src, *reply;
	uint8_t		*wire = NULL;
	size_t		 len;
	char		 big[2000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&m, 0, sizeof(m));
	b_good_edns(&m);
	req = good_req(&m);

	/* Upstream: its small EDE 22 and 3, plus 6 small and 24 of 2000. */
	src = upstream_reply(1, 0, LDNS_RCODE_SERVFAIL);
	ck_assert_int_eq(dnsmsg_add_ede(src, 24, big), 0);
	ck_assert_int_eq(dnsmsg_add_ede(src, 6, "bogus"), 0);
	reply = dnsmsg_reply(src, req, OUR_EDNS);
	ck_assert_ptr_nonnull(reply);
	ck_assert_int_eq(dnsmsg_has_ede(reply, 22, 22), 1);
	ck_assert_int_eq(dnsmsg_has_ede(reply, 3, 3), 1);
	ck_assert_int_eq(dnsmsg_has_ede(reply, 6, 6), 1);
	ck_assert_int_eq(dnsmsg_has_ede(reply, 24, 24), 0);
	to_msg(reply, &out);
	ck_assert_uint_le(out.len, 512);
	ldns_pkt_free(reply);

	/*
	 * An option that pushes a fitting answer over the limit goes before
	 * the answer does: the answer stays, with the OPT, and no TC.
	 */
	reply = mkreply(1);
	ck_assert(ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER,
	    rr("www.example.com. 300 IN AAAA 2001:db8::1")));
	ck_assert_int_eq(dnsmsg_add_ede(reply, 0, big), 0);
	ck_assert_int_eq(dnsmsg_render(reply, 512, &wire, &len),
	    LDNS_STATUS_OK);
	ck_assert_uint_le(len, 512);
	ck_assert_uint_eq(LDNS_ANCOUNT(wire), 1);
	ck_assert_uint_eq(LDNS_ARCOUNT(wire), 1);
	ck_assert_int_eq(LDNS_TC_WIRE(wire), 0);
	free(wire);
	ldns_pkt_free(reply);

	/* Not even the question fits: an error, never an oversized reply. */
	reply = mkreply(1);
	ck_assert_int_eq(dnsmsg_render(reply, 12, &wire, &len),
	    LDNS_STATUS_PACKET_OVERFLOW);
	ck_assert_ptr_null(wire);
	ldns_pkt_free(reply);
	ldns_pkt_free(req);
}
END_TEST

/*
 * dnsmsg_query
 */

static const struct {
	int		 rd, cd, dobit;
	uint16_t	 size;
} queries[] = {
	{ 1, 0, 1, 1232 },
	{ 0, 1, 0, 4096 },
	{ 1, 1, 1, 512 },
};

START_TEST(test_query)
{
	static const uint8_t	 name[] = "\007ExAmple\003COM";
	ldns_rdf		*qname = dname("ExAmple.COM.");
	ldns_pkt		*q, *back;
	struct msg		 out;

	q = dnsmsg_query(qname, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
	    queries[_i].rd, queries[_i].cd, queries[_i].dobit,
	    queries[_i].size);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(ldns_pkt_qr(q), 0);
	ck_assert_int_eq(ldns_pkt_get_opcode(q), LDNS_PACKET_QUERY);
	ck_assert_int_eq(ldns_pkt_rd(q), queries[_i].rd);
	ck_assert_int_eq(ldns_pkt_cd(q), queries[_i].cd);
	ck_assert_int_eq(ldns_pkt_aa(q), 0);
	ck_assert_int_eq(ldns_pkt_tc(q), 0);
	ck_assert_int_eq(ldns_pkt_edns(q), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(q), queries[_i].size);
	ck_assert_int_eq(ldns_pkt_edns_do(q), queries[_i].dobit);
	ck_assert_uint_eq(ldns_pkt_edns_version(q), 0);
	assert_qname_bytes(q, name, sizeof(name));
	ck_assert_int_eq(ldns_rr_get_type(qrr(q)), LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_rr_get_class(qrr(q)), LDNS_RR_CLASS_IN);
	/* qname is the caller's still. */
	ck_assert_ptr_ne(ldns_rr_owner(qrr(q)), qname);

	to_msg(q, &out);
	ck_assert(!LDNS_QR_WIRE(out.b));
	ck_assert_int_eq(LDNS_RD_WIRE(out.b) != 0, queries[_i].rd);
	ck_assert_int_eq(LDNS_CD_WIRE(out.b) != 0, queries[_i].cd);
	ck_assert_uint_eq(LDNS_ID_WIRE(out.b), ldns_pkt_id(q));
	ck_assert_uint_eq(LDNS_QDCOUNT(out.b), 1);
	ck_assert_uint_eq(LDNS_ANCOUNT(out.b), 0);
	ck_assert_uint_eq(LDNS_NSCOUNT(out.b), 0);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 1);
	back = from_msg(&out);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(back), queries[_i].size);
	ck_assert_int_eq(ldns_pkt_edns_do(back), queries[_i].dobit);
	ldns_pkt_free(back);
	ldns_pkt_free(q);
	ldns_rdf_deep_free(qname);
}
END_TEST

/*
 * The question goes upstream as the client asked it: ldns_pkt_query_new()
 * turns type 0 into A and class 0 into IN, and an A answer would match.
 * Found by fuzzing (tests/fuzz/crashes/fuzz_reply/regress-qtype-0).
 */
START_TEST(test_query_type_class_0)
{
	static const struct {
		ldns_rr_type	 type;
		ldns_rr_class	 class;
	} tc[] = {
		{ 0, LDNS_RR_CLASS_IN },
		{ LDNS_RR_TYPE_AAAA, 0 },
		{ 0, 0 },
	};
	ldns_rdf	*qname = dname("example.com.");
	ldns_pkt	*q, *r;
	struct msg	 out;
	size_t		 i;

	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		q = dnsmsg_query(qname, tc[i].type, tc[i].class, 1, 0, 0,
		    1232);
		ck_assert_ptr_nonnull(q);
		ck_assert_int_eq(ldns_rr_get_type(qrr(q)), tc[i].type);
		ck_assert_int_eq(ldns_rr_get_class(qrr(q)), tc[i].class);
		/* On the wire: question type and class, then the OPT. */
		to_msg(q, &out);
		ck_assert_uint_eq(ldns_read_uint16(out.b + out.len - 15),
		    tc[i].type);
		ck_assert_uint_eq(ldns_read_uint16(out.b + out.len - 13),
		    tc[i].class);
		/* An answer about A/IN is not the answer to it. */
		r = ldns_pkt_clone(q);
		ck_assert_ptr_nonnull(r);
		ldns_pkt_set_qr(r, 1);
		ck_assert(dnsmsg_reply_matches(q, r));
		ldns_rr_set_type(ldns_rr_list_rr(ldns_pkt_question(r), 0),
		    LDNS_RR_TYPE_A);
		ldns_rr_set_class(ldns_rr_list_rr(ldns_pkt_question(r), 0),
		    LDNS_RR_CLASS_IN);
		ck_assert(!dnsmsg_reply_matches(q, r));
		ldns_pkt_free(r);
		ldns_pkt_free(q);
	}
	ldns_rdf_deep_free(qname);
}
END_TEST

/* RFC 5452 9.2: IDs are unpredictable, not a counter. */
START_TEST(test_query_ids)
{
	static uint8_t	 seen[65536 / 8];
	ldns_rdf	*qname = dname("example.com.");
	ldns_pkt	*q;
	uint16_t	 id[200];
	int		 i, distinct = 0, succ = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 200; i++) {
		q = dnsmsg_query(qname, LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN,
		    1, 0, 0, 1232);
		ck_assert_ptr_nonnull(q);
		id[i] = ldns_pkt_id(q);
		ldns_pkt_free(q);
		if (!(seen[id[i] / 8] & (1 << (id[i] % 8))))
			distinct++;
		seen[id[i] / 8] |= 1 << (id[i] % 8);
		if (i > 0 && id[i] == (uint16_t)(id[i - 1] + 1))
			succ++;
	}
	ldns_rdf_deep_free(qname);
	ck_assert_int_ge(distinct, 150);
	ck_assert_int_lt(succ, 10);
}
END_TEST

/*
 * dnsmsg_reply_matches
 */

static const struct {
	const char	*what;
	int		 id_delta;
	int		 qr;
	ldns_pkt_opcode	 opcode;
	const char	*question;	/* NULL: none */
	int		 twice;		/* the question two times */
	int		 want;
} matches[] = {
	{ "same", 0, 1, LDNS_PACKET_QUERY, "example.com. IN AAAA", 0, 1 },
	{ "ID", 1, 1, LDNS_PACKET_QUERY, "example.com. IN AAAA", 0, 0 },
	{ "QR=0", 0, 0, LDNS_PACKET_QUERY, "example.com. IN AAAA", 0, 0 },
	{ "opcode", 0, 1, LDNS_PACKET_NOTIFY, "example.com. IN AAAA", 0, 0 },
	{ "qtype", 0, 1, LDNS_PACKET_QUERY, "example.com. IN A", 0, 0 },
	{ "qclass", 0, 1, LDNS_PACKET_QUERY, "example.com. CH AAAA", 0, 0 },
	{ "qname", 0, 1, LDNS_PACKET_QUERY, "example.net. IN AAAA", 0, 0 },
	{ "qname child", 0, 1, LDNS_PACKET_QUERY, "a.example.com. IN AAAA", 0,
	    0 },
	{ "qname case", 0, 1, LDNS_PACKET_QUERY, "eXaMPle.COM. IN AAAA", 0, 1 },
	{ "no question", 0, 1, LDNS_PACKET_QUERY, NULL, 0, 0 },
	{ "two questions", 0, 1, LDNS_PACKET_QUERY, "example.com. IN AAAA", 1,
	    0 },
};

START_TEST(test_reply_matches)
{
	ldns_rdf	*qname = dname("example.com.");
	ldns_pkt	*q, *r;
	int		 got;

	q = dnsmsg_query(qname, LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 1, 0, 1,
	    1232);
	ck_assert_ptr_nonnull(q);
	r = ldns_pkt_new();
	ck_assert_ptr_nonnull(r);
	ldns_pkt_set_id(r, ldns_pkt_id(q) + matches[_i].id_delta);
	ldns_pkt_set_qr(r, matches[_i].qr);
	ldns_pkt_set_opcode(r, matches[_i].opcode);
	ldns_pkt_set_rd(r, 1);
	ldns_pkt_set_ra(r, 1);
	if (matches[_i].question != NULL)
		ck_assert(ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
		    question_rr(matches[_i].question)));
	if (matches[_i].twice)
		ck_assert(ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
		    question_rr(matches[_i].question)));
	got = dnsmsg_reply_matches(q, r);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	ldns_rdf_deep_free(qname);
	ck_assert_msg(got == matches[_i].want, "%s: %d, want %d",
	    matches[_i].what, got, matches[_i].want);
}
END_TEST

/*
 * dnsmsg_add_ede, dnsmsg_has_ede
 */

START_TEST(test_add_ede)
{
	static const char	 text[] = "synthesized from A";
	uint8_t			 opt[4 + 2 + sizeof(text) - 1];
	ldns_pkt		*p = mkreply(1), *back;
	ldns_edns_option_list	*l;
	struct msg		 out;

	ck_assert_int_eq(dnsmsg_add_ede(p, DNSMSG_EDE_SYNTHESIZED, text), 0);
	ck_assert_int_eq(dnsmsg_add_ede(p, 9, NULL), 0);
	to_msg(p, &out);
	ck_assert_uint_eq(LDNS_ARCOUNT(out.b), 1);
	/* The option on the wire: code 15, length, info code 29, text. */
	ldns_write_uint16(opt, DNSMSG_EDE);
	ldns_write_uint16(opt + 2, 2 + sizeof(text) - 1);
	ldns_write_uint16(opt + 4, DNSMSG_EDE_SYNTHESIZED);
	memcpy(opt + 6, text, sizeof(text) - 1);
	ck_assert_ptr_nonnull(memmem(out.b, out.len, opt, sizeof(opt)));

	back = from_msg(&out);
	l = ldns_pkt_edns_get_option_list(back);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(ldns_edns_option_list_get_count(l), 2);
	assert_option(ldns_edns_option_list_get_option(l, 0), DNSMSG_EDE,
	    opt + 4, sizeof(opt) - 4);
	assert_option(ldns_edns_option_list_get_option(l, 1), DNSMSG_EDE,
	    (const uint8_t *)"\0\011", 2);
	ck_assert_int_eq(dnsmsg_has_ede(back, 29, 29), 1);
	ck_assert_int_eq(dnsmsg_has_ede(back, 6, 12), 1);
	ldns_pkt_free(back);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(test_has_ede)
{
	ldns_pkt	*p = mkreply(1);

	ck_assert_int_eq(dnsmsg_has_ede(p, 0, 65535), 0);
	ck_assert_int_eq(dnsmsg_add_ede(p, 29, "x"), 0);
	ck_assert_int_eq(dnsmsg_has_ede(p, 6, 12), 0);
	ck_assert_int_eq(dnsmsg_has_ede(p, 29, 29), 1);
	ck_assert_int_eq(dnsmsg_has_ede(p, 28, 30), 1);
	ck_assert_int_eq(dnsmsg_has_ede(p, 30, 65535), 0);
	ck_assert_int_eq(dnsmsg_add_ede(p, 9, NULL), 0);
	ck_assert_int_eq(dnsmsg_has_ede(p, 6, 12), 1);
	ck_assert_int_eq(dnsmsg_has_ede(p, 9, 9), 1);
	ck_assert_int_eq(dnsmsg_has_ede(p, 10, 12), 0);
	ck_assert_int_eq(dnsmsg_has_ede(p, 0, 8), 0);
	ldns_pkt_free(p);
}
END_TEST

/* Options that are not EDE, or too short to hold an info code. */
START_TEST(test_has_ede_other)
{
	static const uint8_t	 short_ede[1] = { 9 };
	static const uint8_t	 cookie[8] = { 0, 9, 0, 9, 0, 9, 0, 9 };
	ldns_pkt		*p = mkreply(1);
	ldns_edns_option_list	*l = ldns_edns_option_list_new();

	ck_assert(ldns_edns_option_list_push(l,
	    ldns_edns_new_from_data(DNSMSG_EDE, 1, short_ede)));
	ck_assert(ldns_edns_option_list_push(l,
	    ldns_edns_new_from_data(LDNS_EDNS_COOKIE, 8, cookie)));
	ldns_pkt_set_edns_option_list(p, l);
	ck_assert_int_eq(dnsmsg_has_ede(p, 0, 65535), 0);
	ldns_pkt_free(p);
}
END_TEST

/*
 * dnsmsg_name_in
 */

static const struct {
	const char	*name;
	const char	*zone;
	int		 want;
} names_in[] = {
	{ "example.com.", "example.com.", 1 },
	{ "www.example.com.", "example.com.", 1 },
	{ "a.b.c.example.com.", "example.com.", 1 },
	{ "WWW.EXAMPLE.COM.", "example.com.", 1 },
	{ "www.example.com.", "ExAmPlE.CoM.", 1 },
	{ "www.example.com.", "com.", 1 },
	{ "www.example.com.", ".", 1 },
	{ ".", ".", 1 },
	{ "1.0.0.0.ip6.arpa.", "IP6.ARPA.", 1 },
	{ "example.com.", "www.example.com.", 0 },
	{ "com.", "example.com.", 0 },
	{ ".", "example.com.", 0 },
	{ "www.notexample.com.", "example.com.", 0 },
	{ "xexample.com.", "example.com.", 0 },
	{ "www.example.net.", "example.com.", 0 },
	{ "example.com.org.", "example.com.", 0 },
	{ "www.example.co.", "example.com.", 0 },
	/* Octets that only look alike: '[' and '{' are not a case pair. */
	{ "a.x[y.", "x{y.", 0 },
	{ "a.x\\255y.", "x\\223y.", 0 },
	/* The zone's octets, but not at a label boundary. */
	{ "a\\007example.com.", "example.com.", 0 },
};

START_TEST(test_name_in)
{
	ldns_rdf	*name = dname(names_in[_i].name);
	ldns_rdf	*zone = dname(names_in[_i].zone);
	int		 got;

	got = dnsmsg_name_in(name, ldns_rdf_data(zone), ldns_rdf_size(zone));
	ldns_rdf_deep_free(name);
	ldns_rdf_deep_free(zone);
	ck_assert_msg(got == names_in[_i].want, "%s in %s: %d, want %d",
	    names_in[_i].name, names_in[_i].zone, got, names_in[_i].want);
}
END_TEST

/*
 * dnsmsg_pkt2str: ldns_pkt2str() wrote through NULL for a CHAIN option
 * (found by tests/fuzz); the options are listed by code and length.
 */
START_TEST(test_pkt2str)
{
	static const uint8_t	 opts[] = {
		0, 13, 0, 1, 0,			/* CHAIN, the root */
		0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8	/* COOKIE */
	};
	struct msg		 m;
	ldns_pkt		*req;
	char			*s;

	memset(&m, 0, sizeof(m));
	b_good(&m);
	add_opt(&m, 1232, 0, 1, opts, sizeof(opts));
	req = good_req(&m);
	s = dnsmsg_pkt2str(req);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "www.example.com."));
	ck_assert_ptr_nonnull(strstr(s, "udp: 1232"));
	ck_assert_ptr_nonnull(strstr(s, ";; EDNS options (code/length): "
	    "13/1 10/8\n"));
	free(s);
	/* The packet is untouched: its options are still there. */
	ck_assert_uint_eq(ldns_edns_option_list_get_count(
	    ldns_pkt_edns_get_option_list(req)), 2);
	ldns_pkt_free(req);

	memset(&m, 0, sizeof(m));
	b_good(&m);
	req = good_req(&m);
	s = dnsmsg_pkt2str(req);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(strstr(s, "EDNS"));
	free(s);
	ldns_pkt_free(req);
}
END_TEST

/*
 * dnsmsg_move_section
 */

static const ldns_pkt_section	 moves[] = { LDNS_SECTION_ANSWER,
    LDNS_SECTION_AUTHORITY, LDNS_SECTION_ADDITIONAL };

static ldns_rr_list *
sec(ldns_pkt *p, ldns_pkt_section s)
{
	switch (s) {
	case LDNS_SECTION_ANSWER:
		return (ldns_pkt_answer(p));
	case LDNS_SECTION_AUTHORITY:
		return (ldns_pkt_authority(p));
	default:
		return (ldns_pkt_additional(p));
	}
}

static uint16_t
count(ldns_pkt *p, ldns_pkt_section s)
{
	switch (s) {
	case LDNS_SECTION_ANSWER:
		return (ldns_pkt_ancount(p));
	case LDNS_SECTION_AUTHORITY:
		return (ldns_pkt_nscount(p));
	default:
		return (ldns_pkt_arcount(p));
	}
}

START_TEST(test_move_section)
{
	ldns_pkt_section	 s = moves[_i], other;
	ldns_pkt		*dst = mkreply(0), *src = mkreply(0);
	ldns_rr			*want[4];
	size_t			 i;
	struct msg		 out;

	other = s == LDNS_SECTION_ANSWER ? LDNS_SECTION_ADDITIONAL :
	    LDNS_SECTION_ANSWER;
	want[0] = rr("a.example. 60 IN A 192.0.2.1");
	ck_assert(ldns_pkt_push_rr(dst, s, want[0]));
	for (i = 1; i < 4; i++) {
		char	 t[64];

		snprintf(t, sizeof(t), "b%zu.example. 60 IN A 192.0.2.%zu",
		    i, i + 1);
		want[i] = rr(t);
		ck_assert(ldns_pkt_push_rr(src, s, want[i]));
	}
	ck_assert(ldns_pkt_push_rr(src, other,
	    rr("c.example. 60 IN TXT \"stays\"")));

	ck_assert_int_eq(dnsmsg_move_section(dst, src, s), 0);
	ck_assert_uint_eq(ldns_rr_list_rr_count(sec(dst, s)), 4);
	for (i = 0; i < 4; i++)
		ck_assert_ptr_eq(ldns_rr_list_rr(sec(dst, s), i), want[i]);
	ck_assert_uint_eq(count(dst, s), 4);
	ck_assert_uint_eq(ldns_rr_list_rr_count(sec(src, s)), 0);
	ck_assert_uint_eq(count(src, s), 0);
	/* Other sections stay where they were. */
	ck_assert_uint_eq(ldns_rr_list_rr_count(sec(src, other)), 1);
	ck_assert_uint_eq(count(src, other), 1);
	ck_assert_uint_eq(count(dst, other), 0);
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_question(dst)), 1);
	/* The counts are the ones rendered. */
	to_msg(dst, &out);
	ck_assert_uint_eq(s == LDNS_SECTION_ANSWER ? LDNS_ANCOUNT(out.b) :
	    s == LDNS_SECTION_AUTHORITY ? LDNS_NSCOUNT(out.b) :
	    LDNS_ARCOUNT(out.b), 4);
	to_msg(src, &out);
	ck_assert_uint_eq(LDNS_ANCOUNT(out.b) + LDNS_NSCOUNT(out.b) +
	    LDNS_ARCOUNT(out.b), 1);
	/* Moving an empty section is a no-op. */
	ck_assert_int_eq(dnsmsg_move_section(dst, src, s), 0);
	ck_assert_uint_eq(count(dst, s), 4);
	ldns_pkt_free(src);
	ldns_pkt_free(dst);
}
END_TEST

static Suite *
dnsmsg_suite(void)
{
	Suite	*s = suite_create("dnsmsg");
	TCase	*tc;

	tc = tcase_create("parse_query");
	tcase_add_loop_test(tc, test_parse_table, 0, NPARSE);
	tcase_add_test(tc, test_parse_good);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_loop_test(tc, test_error_edns, 0, 2);
	tcase_add_loop_test(tc, test_error_opcode, 0,
	    sizeof(opcodes) / sizeof(opcodes[0]));
	tcase_add_test(tc, test_error_no_req);
	tcase_add_test(tc, test_error_no_edns);
	tcase_add_test(tc, test_error_badvers);
	suite_add_tcase(s, tc);

	tc = tcase_create("reply");
	tcase_add_loop_test(tc, test_reply, 0, 2);
	tcase_add_test(tc, test_reply_no_edns);
	tcase_add_loop_test(tc, test_reply_extended_rcode, 0, 2);
	tcase_add_loop_test(tc, test_udp_limit, 0,
	    sizeof(limits) / sizeof(limits[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("render");
	tcase_add_loop_test(tc, test_render_fits, 0, 2);
	tcase_add_loop_test(tc, test_render_drop_additional, 0, 2);
	tcase_add_loop_test(tc, test_render_drop_authority, 0, 2);
	tcase_add_loop_test(tc, test_render_tc, 0, 2);
	tcase_add_loop_test(tc, test_render_tc_no_answer, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("upstream");
	tcase_add_loop_test(tc, test_parse_reply, 0,
	    sizeof(reply_cases) / sizeof(reply_cases[0]));
	tcase_add_loop_test(tc, test_query, 0,
	    sizeof(queries) / sizeof(queries[0]));
	tcase_add_test(tc, test_query_type_class_0);
	tcase_add_test(tc, test_query_ids);
	tcase_add_loop_test(tc, test_reply_matches, 0,
	    sizeof(matches) / sizeof(matches[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("ede");
	tcase_add_test(tc, test_add_ede);
	tcase_add_test(tc, test_has_ede);
	tcase_add_test(tc, test_has_ede_other);
	tcase_add_test(tc, test_ede_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_name_in, 0,
	    sizeof(names_in) / sizeof(names_in[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("sections");
	tcase_add_loop_test(tc, test_move_section, 0,
	    sizeof(moves) / sizeof(moves[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("logs");
	tcase_add_test(tc, test_pkt2str);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(dnsmsg_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
