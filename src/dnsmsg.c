/*
 * dnsmsg.c -- DNS message helpers on top of ldns.
 *
 * ldns does the wire work; this file holds the protocol rules that sit on
 * top of it: which queries we answer, what a reply to a client looks like,
 * truncation, and when an upstream reply belongs to our query.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "dnsmsg.h"

/* The question RR of a parsed packet, or NULL. */
static const ldns_rr *
question(const ldns_pkt *pkt)
{
	if (pkt == NULL || ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1)
		return (NULL);
	return (ldns_rr_list_rr(ldns_pkt_question(pkt), 0));
}

/* Skip a name in wire form; -1 when it runs off the end. */
static int
skip_name(const uint8_t *w, size_t len, size_t *pos)
{
	uint8_t	 c;

	for (;;) {
		if (*pos >= len)
			return (-1);
		c = w[*pos];
		if (c == 0) {
			(*pos)++;
			return (0);
		}
		if ((c & 0xc0) == 0xc0) {		/* a pointer ends it */
			*pos += 2;
			return (*pos <= len ? 0 : -1);
		}
		if ((c & 0xc0) != 0)			/* RFC 6891 5 */
			return (-1);
		*pos += 1 + c;
	}
}

/*
 * Where ldns's reading of an RR ends: it reads the RDATA field by field
 * and goes on from where its fields end, not from where RDLENGTH says.
 * (size_t)-1 when ldns cannot read the RR at all.
 */
static size_t
rr_end_by_ldns(const uint8_t *w, size_t len, size_t pos, ldns_pkt_section sec)
{
	ldns_rr	*rr = NULL;

	if (ldns_wire2rr(&rr, w, len, &pos, sec) != LDNS_STATUS_OK)
		return ((size_t)-1);
	ldns_rr_free(rr);
	return (pos);
}

/*
 * What ldns 1.8 lets through or mishandles, checked on the wire first.
 * Its reading of an RR ends where the RDATA fields it expects end, so an
 * IN A with RDLENGTH 5 was an address and the start of another RR, and
 * any RR whose fields end early or run past RDLENGTH shows ldns other RRs
 * than this walk sees: an OPT or TSIG hidden in a SOA's RDATA got past the
 * checks below (found by tests/fuzz).  So ldns reads each RR here too and
 * must end it where RDLENGTH does; an IN A or AAAA must have its 4 or 16
 * octets besides (with RDLENGTH 0 ldns makes an A without address).  ldns
 * counts OPT RRs in 8 bits, so 256 of them look like none; and each TSIG
 * RR after the first is leaked (RFC 8945 4.2 wants one, last).  Returns
 * the number of OPT RRs, which must all be in the additional section (as
 * must the TSIG), or -1 for a message to refuse.
 */
static int
wire_check(const uint8_t *w, size_t len)
{
	size_t			 pos = LDNS_HEADER_SIZE, start, rdlen;
	unsigned int		 i, an, ns, total, nopt = 0;
	uint16_t		 type, class;
	ldns_pkt_section	 sec;

	an = LDNS_ANCOUNT(w);
	ns = LDNS_NSCOUNT(w);
	total = an + ns + LDNS_ARCOUNT(w);
	for (i = 0; i < LDNS_QDCOUNT(w); i++)
		if (skip_name(w, len, &pos) == -1 || (pos += 4) > len)
			return (-1);
	for (i = 0; i < total; i++) {
		start = pos;
		if (skip_name(w, len, &pos) == -1 || pos + 10 > len)
			return (-1);
		type = ldns_read_uint16(w + pos);
		class = ldns_read_uint16(w + pos + 2);
		rdlen = ldns_read_uint16(w + pos + 8);
		if ((pos += 10 + rdlen) > len)
			return (-1);
		sec = i < an ? LDNS_SECTION_ANSWER : i < an + ns ?
		    LDNS_SECTION_AUTHORITY : LDNS_SECTION_ADDITIONAL;
		if (rr_end_by_ldns(w, len, start, sec) != pos)
			return (-1);
		if (class == LDNS_RR_CLASS_IN &&
		    ((type == LDNS_RR_TYPE_A && rdlen != 4) ||
		    (type == LDNS_RR_TYPE_AAAA && rdlen != 16)))
			return (-1);
		/*
		 * ldns keeps a TSIG outside the additional section as a
		 * plain RR, which we would relay with our OPT after it.
		 */
		if (type == LDNS_RR_TYPE_TSIG && (i != total - 1 ||
		    sec != LDNS_SECTION_ADDITIONAL))
			return (-1);
		if (type == LDNS_RR_TYPE_OPT) {
			if (sec != LDNS_SECTION_ADDITIONAL)
				return (-1);
			nopt++;
		}
	}
	return (nopt);
}

/*
 * Each test stands on its own, as in Unbound's worker_check_request(): a
 * query with any one count wrong is rejected.
 */
enum dnsmsg_verdict
dnsmsg_parse_query(const uint8_t *wire, size_t len, ldns_pkt **reqp,
    int *rcode)
{
	ldns_pkt		*req = NULL;
	const ldns_rr		*q;
	ldns_rdf		*data;
	int			 nopt;

	*reqp = NULL;
	if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(wire))
		return (DNSMSG_DROP);
	if ((nopt = wire_check(wire, len)) != -1 &&
	    ldns_wire2pkt(&req, wire, len) != LDNS_STATUS_OK)
		req = NULL;
	*reqp = req;
	/* RFC 1035 4.1.1 */
	if (LDNS_OPCODE_WIRE(wire) != LDNS_PACKET_QUERY) {
		*rcode = LDNS_RCODE_NOTIMPL;
		return (DNSMSG_ERROR);
	}
	*rcode = LDNS_RCODE_FORMERR;
	if (req == NULL || LDNS_QDCOUNT(wire) != 1 || LDNS_ANCOUNT(wire) != 0 ||
	    LDNS_TC_WIRE(wire))
		return (DNSMSG_ERROR);
	q = question(req);
	/* RFC 1995 3: an IXFR query carries the client's SOA. */
	if (LDNS_NSCOUNT(wire) != 0 &&
	    ldns_rr_get_type(q) != LDNS_RR_TYPE_IXFR)
		return (DNSMSG_ERROR);
	if (nopt > 1)			/* RFC 6891 6.1.1 */
		return (DNSMSG_ERROR);
	if (nopt == 1) {
		data = ldns_pkt_edns_data(req);
		if (data != NULL && ldns_rdf_size(data) > 0 &&
		    ldns_pkt_edns_get_option_list(req) == NULL)
			return (DNSMSG_ERROR);	/* RFC 6891 7 */
		if (ldns_pkt_edns_version(req) != 0) {	/* RFC 6891 6.1.3 */
			*rcode = DNSMSG_RCODE_BADVERS;
			return (DNSMSG_ERROR);
		}
	}
	switch (ldns_rr_get_type(q)) {
	case LDNS_RR_TYPE_OPT:
		return (DNSMSG_ERROR);
	case LDNS_RR_TYPE_AXFR:
	case LDNS_RR_TYPE_IXFR:
		/* Zone transfers are not relayed by a forwarding proxy. */
		*rcode = LDNS_RCODE_NOTIMPL;
		return (DNSMSG_ERROR);
	default:
		break;
	}
	return (DNSMSG_OK);
}

ldns_status
dnsmsg_parse_reply(const uint8_t *wire, size_t len, ldns_pkt **pktp)
{
	int	 nopt;

	*pktp = NULL;
	if (len < LDNS_HEADER_SIZE)
		return (LDNS_STATUS_WIRE_INCOMPLETE_HEADER);
	if ((nopt = wire_check(wire, len)) == -1 || nopt > 1)
		return (LDNS_STATUS_WIRE_RDATA_ERR);
	return (ldns_wire2pkt(pktp, wire, len));
}

/* Our OPT: only when the client sent one (RFC 6891 6.1.1, 7). */
static void
set_edns(ldns_pkt *reply, const ldns_pkt *req, uint16_t edns_size)
{
	ldns_pkt_set_edns_udp_size(reply, edns_size);
	ldns_pkt_set_edns_version(reply, 0);
	ldns_pkt_set_edns_z(reply, 0);
	ldns_pkt_set_edns_do(reply, ldns_pkt_edns_do(req));	/* RFC 3225 */
}

ldns_pkt *
dnsmsg_error(const uint8_t *wire, const ldns_pkt *req, int rcode,
    uint16_t edns_size)
{
	ldns_pkt	*reply;
	ldns_rr		*q = NULL;

	if ((reply = ldns_pkt_new()) == NULL)
		return (NULL);
	ldns_pkt_set_id(reply, LDNS_ID_WIRE(wire));
	ldns_pkt_set_qr(reply, 1);
	ldns_pkt_set_opcode(reply, LDNS_OPCODE_WIRE(wire));
	ldns_pkt_set_rd(reply, LDNS_RD_WIRE(wire) != 0);
	ldns_pkt_set_cd(reply, LDNS_CD_WIRE(wire) != 0);
	ldns_pkt_set_ra(reply, 1);
	if (rcode > 15) {
		ldns_pkt_set_rcode(reply, rcode & 0xf);
		ldns_pkt_set_edns_extended_rcode(reply, rcode >> 4);
	} else
		ldns_pkt_set_rcode(reply, rcode);
	if (req != NULL && ldns_rr_list_rr_count(ldns_pkt_question(req)) > 0) {
		if ((q = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(req),
		    0))) == NULL || !ldns_pkt_push_rr(reply,
		    LDNS_SECTION_QUESTION, q)) {
			ldns_rr_free(q);
			ldns_pkt_free(reply);
			return (NULL);
		}
	}
	if (req != NULL && ldns_pkt_edns(req))
		set_edns(reply, req, edns_size);
	return (reply);
}

static ldns_rr_list *
section(ldns_pkt *pkt, ldns_pkt_section sec)
{
	switch (sec) {
	case LDNS_SECTION_QUESTION:
		return (ldns_pkt_question(pkt));
	case LDNS_SECTION_ANSWER:
		return (ldns_pkt_answer(pkt));
	case LDNS_SECTION_AUTHORITY:
		return (ldns_pkt_authority(pkt));
	default:
		return (ldns_pkt_additional(pkt));
	}
}

int
dnsmsg_move_section(ldns_pkt *dst, ldns_pkt *src, ldns_pkt_section sec)
{
	ldns_rr_list	*to = section(dst, sec), *from = section(src, sec);

	/* The pointers move; nothing is copied. */
	if (!ldns_rr_list_cat(to, from))
		return (-1);
	ldns_rr_list_set_rr_count(from, 0);
	ldns_pkt_set_section_count(src, sec, 0);
	ldns_pkt_set_section_count(dst, sec, ldns_rr_list_rr_count(to));
	return (0);
}

static int
push_option(ldns_pkt *pkt, ldns_edns_option *opt)
{
	ldns_edns_option_list	*list;

	if ((list = ldns_pkt_edns_get_option_list(pkt)) == NULL) {
		if ((list = ldns_edns_option_list_new()) == NULL)
			return (-1);
		ldns_pkt_set_edns_option_list(pkt, list);
	}
	return (ldns_edns_option_list_push(list, opt) ? 0 : -1);
}

/*
 * Keep the EDE options of src, drop the rest (RFC 6891 6.1.1).  An EDE is
 * a code and a short text for a human; the forwarder's are kept only up to
 * DNSMSG_EDE_MAX bytes in all, so that they never crowd out the answer.
 */
static int
copy_ede(ldns_pkt *dst, ldns_pkt *src)
{
	ldns_edns_option_list	*from;
	ldns_edns_option	*opt;
	size_t			 i, n, room = DNSMSG_EDE_MAX;

	if ((from = ldns_pkt_edns_get_option_list(src)) == NULL)
		return (0);
	n = ldns_edns_option_list_get_count(from);
	for (i = 0; i < n; i++) {
		opt = ldns_edns_option_list_get_option(from, i);
		if (ldns_edns_get_code(opt) != DNSMSG_EDE ||
		    4 + ldns_edns_get_size(opt) > room)
			continue;
		room -= 4 + ldns_edns_get_size(opt);
		if ((opt = ldns_edns_clone(opt)) == NULL)
			return (-1);
		if (push_option(dst, opt) == -1) {
			ldns_edns_deep_free(opt);
			return (-1);
		}
	}
	return (0);
}

ldns_pkt *
dnsmsg_reply(ldns_pkt *src, const ldns_pkt *req, uint16_t edns_size)
{
	ldns_pkt	*reply;
	ldns_rr		*q = NULL;

	if ((reply = ldns_pkt_new()) == NULL)
		goto fail;
	ldns_pkt_set_id(reply, ldns_pkt_id(req));
	ldns_pkt_set_qr(reply, 1);
	ldns_pkt_set_opcode(reply, LDNS_PACKET_QUERY);
	ldns_pkt_set_aa(reply, ldns_pkt_aa(src));
	ldns_pkt_set_rd(reply, ldns_pkt_rd(req));
	ldns_pkt_set_cd(reply, ldns_pkt_cd(req));
	ldns_pkt_set_ra(reply, ldns_pkt_ra(src));
	ldns_pkt_set_ad(reply, ldns_pkt_ad(src));
	ldns_pkt_set_rcode(reply, ldns_pkt_get_rcode(src));
	/* RFC 6147 5.4: the question is the client's, with its case. */
	if ((q = ldns_rr_clone(question(req))) == NULL ||
	    !ldns_pkt_push_rr(reply, LDNS_SECTION_QUESTION, q))
		goto fail;
	q = NULL;
	if (dnsmsg_move_section(reply, src, LDNS_SECTION_ANSWER) == -1 ||
	    dnsmsg_move_section(reply, src, LDNS_SECTION_AUTHORITY) == -1 ||
	    dnsmsg_move_section(reply, src, LDNS_SECTION_ADDITIONAL) == -1)
		goto fail;
	/*
	 * RFC 6891 6.1.3: the RCODEs above 15 (BADVERS, BADCOOKIE) are about
	 * our OPT to the forwarder, a hop the client knows nothing of: to the
	 * client the forwarder failed.
	 */
	if (ldns_pkt_edns(src) && ldns_pkt_edns_extended_rcode(src) != 0)
		ldns_pkt_set_rcode(reply, LDNS_RCODE_SERVFAIL);
	if (ldns_pkt_edns(req)) {
		set_edns(reply, req, edns_size);
		if (copy_ede(reply, src) == -1)
			goto fail;
	}
	ldns_pkt_free(src);
	return (reply);
 fail:
	ldns_rr_free(q);
	ldns_pkt_free(reply);
	ldns_pkt_free(src);
	return (NULL);
}

size_t
dnsmsg_udp_limit(const ldns_pkt *req, uint16_t ours)
{
	size_t	 theirs;

	if (!ldns_pkt_edns(req))
		return (DNS_UDP_MIN);
	theirs = ldns_pkt_edns_udp_size(req);
	if (theirs < DNS_UDP_MIN)		/* RFC 6891 6.2.5 */
		theirs = DNS_UDP_MIN;
	return (theirs < ours ? theirs : ours);
}

static void
clear_section(ldns_pkt *pkt, ldns_pkt_section sec)
{
	ldns_rr_list	*l = section(pkt, sec);
	size_t		 i;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		ldns_rr_free(ldns_rr_list_rr(l, i));
	ldns_rr_list_set_rr_count(l, 0);
	ldns_pkt_set_section_count(pkt, sec, 0);
}

ldns_status
dnsmsg_render_buf(ldns_pkt *reply, size_t max, ldns_buffer *buf)
{
	ldns_status	 st;
	int		 step;

	for (step = 0;; step++) {
		ldns_buffer_clear(buf);
		if ((st = ldns_pkt2buffer_wire(buf, reply)) != LDNS_STATUS_OK)
			return (st);
		if (ldns_buffer_position(buf) <= max)
			return (LDNS_STATUS_OK);
		switch (step) {
		case 0:
			/* RFC 2181 9: missing additional data is not TC. */
			clear_section(reply, LDNS_SECTION_ADDITIONAL);
			break;
		case 1:
			/* The answer is complete without the authority. */
			if (ldns_pkt_ancount(reply) > 0)
				clear_section(reply, LDNS_SECTION_AUTHORITY);
			break;
		case 2:
			/* EDE texts are worth less than the answer. */
			ldns_pkt_set_edns_option_list(reply, NULL);
			break;
		case 3:
			/* RFC 6891 7: header, question and OPT remain. */
			clear_section(reply, LDNS_SECTION_ANSWER);
			clear_section(reply, LDNS_SECTION_AUTHORITY);
			ldns_pkt_set_tc(reply, 1);
			break;
		default:
			return (LDNS_STATUS_PACKET_OVERFLOW);
		}
	}
}

ldns_status
dnsmsg_render(ldns_pkt *reply, size_t max, uint8_t **wire, size_t *len)
{
	ldns_buffer	*buf;
	ldns_status	 st;

	*wire = NULL;
	if ((buf = ldns_buffer_new(LDNS_MIN_BUFLEN)) == NULL)
		return (LDNS_STATUS_MEM_ERR);
	if ((st = dnsmsg_render_buf(reply, max, buf)) == LDNS_STATUS_OK) {
		*len = ldns_buffer_position(buf);
		if ((*wire = malloc(*len)) == NULL)
			st = LDNS_STATUS_MEM_ERR;
		else
			memcpy(*wire, ldns_buffer_begin(buf), *len);
	}
	ldns_buffer_free(buf);
	return (st);
}

ldns_pkt *
dnsmsg_query(const ldns_rdf *qname, ldns_rr_type type, ldns_rr_class class,
    int rd, int cd, int dobit, uint16_t edns_size)
{
	ldns_pkt	*pkt;
	ldns_rdf	*name;
	ldns_rr		*q;

	if ((name = ldns_rdf_clone(qname)) == NULL)
		return (NULL);
	if ((pkt = ldns_pkt_query_new(name, type, class, 0)) == NULL) {
		ldns_rdf_deep_free(name);
		return (NULL);
	}
	/*
	 * ldns turns type 0 into A and class 0 into IN: the forwarder's A
	 * records would then match and reach a client that asked for type 0.
	 * The question goes upstream as the client asked it.
	 */
	q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	ldns_rr_set_type(q, type);
	ldns_rr_set_class(q, class);
	/* RFC 5452 9.2: an unpredictable ID from a CSPRNG. */
	ldns_pkt_set_id(pkt, arc4random_uniform(65536));
	ldns_pkt_set_rd(pkt, rd);
	ldns_pkt_set_cd(pkt, cd);
	ldns_pkt_set_edns_udp_size(pkt, edns_size);
	ldns_pkt_set_edns_do(pkt, dobit);
	return (pkt);
}

int
dnsmsg_reply_is_for(const ldns_pkt *reply, uint16_t id, const ldns_rdf *qname,
    uint16_t qtype, uint16_t qclass)
{
	const ldns_rr	*rq;

	if (ldns_pkt_id(reply) != id || !ldns_pkt_qr(reply) ||
	    ldns_pkt_get_opcode(reply) != LDNS_PACKET_QUERY ||
	    (rq = question(reply)) == NULL)
		return (0);
	return (ldns_rr_get_type(rq) == qtype &&
	    ldns_rr_get_class(rq) == qclass &&
	    ldns_dname_compare(ldns_rr_owner(rq), qname) == 0);
}

int
dnsmsg_reply_matches(const ldns_pkt *query, const ldns_pkt *reply)
{
	const ldns_rr	*qq;

	if ((qq = question(query)) == NULL)
		return (0);
	return (dnsmsg_reply_is_for(reply, ldns_pkt_id(query),
	    ldns_rr_owner(qq), ldns_rr_get_type(qq), ldns_rr_get_class(qq)));
}

size_t
dnsmsg_query_wire(uint8_t *buf, size_t size, uint16_t id, const ldns_rdf *qname,
    uint16_t qtype, uint16_t qclass, unsigned int flags, uint16_t edns_size)
{
	size_t	 nlen = ldns_rdf_size(qname), len;

	len = LDNS_HEADER_SIZE + nlen + 4 + 11;
	if (len > size)
		return (0);
	memset(buf, 0, LDNS_HEADER_SIZE);
	ldns_write_uint16(buf, id);
	if (flags & DNSMSG_Q_RD)
		LDNS_RD_SET(buf);
	if (flags & DNSMSG_Q_CD)
		LDNS_CD_SET(buf);
	ldns_write_uint16(buf + 4, 1);		/* QDCOUNT */
	ldns_write_uint16(buf + 10, 1);		/* ARCOUNT: our OPT */
	memcpy(buf + LDNS_HEADER_SIZE, ldns_rdf_data(qname), nlen);
	buf += LDNS_HEADER_SIZE + nlen;
	ldns_write_uint16(buf, qtype);
	ldns_write_uint16(buf + 2, qclass);
	/* RFC 6891 6.1.2: root owner, OPT, our size, DO as the client's. */
	buf[4] = 0;
	ldns_write_uint16(buf + 5, LDNS_RR_TYPE_OPT);
	ldns_write_uint16(buf + 7, edns_size);
	ldns_write_uint32(buf + 9, (flags & DNSMSG_Q_DO) ? 0x8000 : 0);
	ldns_write_uint16(buf + 13, 0);
	return (len);
}

int
dnsmsg_add_ede(ldns_pkt *pkt, uint16_t code, const char *text)
{
	ldns_edns_option	*opt;
	uint8_t			*data;
	size_t			 tlen = text ? strlen(text) : 0;

	if ((data = malloc(2 + tlen)) == NULL)
		return (-1);
	ldns_write_uint16(data, code);
	if (tlen > 0)
		memcpy(data + 2, text, tlen);
	if ((opt = ldns_edns_new(DNSMSG_EDE, 2 + tlen, data)) == NULL) {
		free(data);
		return (-1);
	}
	if (push_option(pkt, opt) == -1) {
		ldns_edns_deep_free(opt);
		return (-1);
	}
	return (0);
}

int
dnsmsg_has_ede(ldns_pkt *pkt, uint16_t lo, uint16_t hi)
{
	ldns_edns_option_list	*list;
	ldns_edns_option	*opt;
	size_t			 i, n;
	uint16_t		 code;

	if ((list = ldns_pkt_edns_get_option_list(pkt)) == NULL)
		return (0);
	n = ldns_edns_option_list_get_count(list);
	for (i = 0; i < n; i++) {
		opt = ldns_edns_option_list_get_option(list, i);
		if (ldns_edns_get_code(opt) != DNSMSG_EDE ||
		    ldns_edns_get_size(opt) < 2)
			continue;
		code = ldns_read_uint16(ldns_edns_get_data(opt));
		if (code >= lo && code <= hi)
			return (1);
	}
	return (0);
}

int
dnsmsg_name_in(const ldns_rdf *name, const uint8_t *z, size_t zlen)
{
	const uint8_t	*n = ldns_rdf_data(name);
	size_t		 nlen = ldns_rdf_size(name), off, i;

	/* Try each label boundary of name against the whole of zone. */
	for (off = 0; off < nlen && nlen - off >= zlen; off += n[off] + 1) {
		if (nlen - off != zlen)
			continue;
		for (i = 0; i < zlen; i++)
			if (tolower(n[off + i]) != tolower(z[i]))
				break;
		return (i == zlen);
	}
	return (0);
}

char *
dnsmsg_pkt2str(const ldns_pkt *pkt)
{
	ldns_pkt		*copy;
	ldns_edns_option_list	*list;
	ldns_edns_option	*opt;
	ldns_buffer		*buf = NULL;
	char			*s = NULL, *out = NULL;
	size_t			 i, n, slen, blen;

	if ((copy = ldns_pkt_clone(pkt)) == NULL ||
	    (buf = ldns_buffer_new(256)) == NULL)
		goto done;
	if ((list = ldns_pkt_edns_get_option_list(copy)) != NULL) {
		n = ldns_edns_option_list_get_count(list);
		ldns_buffer_printf(buf, ";; EDNS options (code/length):");
		for (i = 0; i < n; i++) {
			opt = ldns_edns_option_list_get_option(list, i);
			ldns_buffer_printf(buf, " %u/%zu",
			    (unsigned int)ldns_edns_get_code(opt),
			    ldns_edns_get_size(opt));
		}
		ldns_buffer_printf(buf, "\n");
	}
	/* ldns prints what is left, the rest of the OPT included. */
	ldns_pkt_set_edns_option_list(copy, NULL);
	ldns_rdf_deep_free(ldns_pkt_edns_data(copy));
	ldns_pkt_set_edns_data(copy, NULL);
	if (ldns_buffer_status(buf) != LDNS_STATUS_OK ||
	    (s = ldns_pkt2str(copy)) == NULL)
		goto done;
	slen = strlen(s);
	blen = ldns_buffer_position(buf);
	if ((out = malloc(slen + blen + 1)) != NULL) {
		memcpy(out, s, slen);
		memcpy(out + slen, ldns_buffer_begin(buf), blen);
		out[slen + blen] = '\0';
	}
 done:
	free(s);
	ldns_buffer_free(buf);
	ldns_pkt_free(copy);
	return (out);
}
