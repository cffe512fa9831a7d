/*
 * wire.c -- the lean path: replies from the reply cache, on the wire.
 *
 * A repeated query is the common case (most traffic hits the cache), and
 * for it parsing into ldns structures, building a reply and rendering it
 * cost many times what the answer is worth.  The full path builds each
 * reply once; this file stores the rendered bytes and replays them with
 * the few fields that differ between clients patched in.  Anything this
 * file does not fully understand is left to the full path.
 */
#include "config.h"

#include <string.h>

#include <ldns/ldns.h>

#include "wire.h"

#define OPT_FIXED	11	/* root owner, type, class, TTL, RDLENGTH */
#define EDE_LEN		6	/* option code, length, info code */
#define ENTRY_HDR	8	/* length, TTL count, outcome, flags, rcode */
#define WIRE_MAXRR	512	/* TTLs recorded per entry, at most */

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* Skip a name, compression allowed; -1 when it runs off the end. */
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
		if ((c & 0xc0) == 0xc0) {
			*pos += 2;
			return (*pos <= len ? 0 : -1);
		}
		if ((c & 0xc0) != 0)
			return (-1);
		*pos += 1 + c;
	}
}

/* The length of the uncompressed name at w, or 0. */
static size_t
name_len(const uint8_t *w, size_t len)
{
	size_t	 pos = 0;

	while (pos < len && w[pos] != 0) {
		if (w[pos] > 63)
			return (0);
		pos += 1 + w[pos];
	}
	return (pos < len ? pos + 1 : 0);
}

int
wire_query_parse(const uint8_t *w, size_t len, struct wire_query *q)
{
	size_t		 pos = LDNS_HEADER_SIZE, end, olen;
	uint8_t		 c;
	uint16_t	 rdlen;

	if (len < LDNS_HEADER_SIZE + 5 || LDNS_QR_WIRE(w) ||
	    LDNS_OPCODE_WIRE(w) != LDNS_PACKET_QUERY || LDNS_TC_WIRE(w) ||
	    LDNS_QDCOUNT(w) != 1 || LDNS_ANCOUNT(w) != 0 ||
	    LDNS_NSCOUNT(w) != 0 || LDNS_ARCOUNT(w) > 1)
		return (-1);
	memset(q, 0, sizeof(*q));
	q->qname = w + pos;
	for (;;) {
		if (pos >= len)
			return (-1);
		c = w[pos];
		if (c == 0)
			break;
		if (c > 63)		/* compressed, or not a label */
			return (-1);
		pos += 1 + c;
	}
	pos++;
	q->qnamelen = pos - LDNS_HEADER_SIZE;
	if (q->qnamelen > LDNS_MAX_DOMAINLEN || pos + 4 > len)
		return (-1);
	q->qtype = get16(w + pos);
	q->qclass = get16(w + pos + 2);
	pos += 4;
	if (q->qtype == LDNS_RR_TYPE_OPT || q->qtype == LDNS_RR_TYPE_AXFR ||
	    q->qtype == LDNS_RR_TYPE_IXFR)
		return (-1);
	q->id = LDNS_ID_WIRE(w);
	q->rd = LDNS_RD_WIRE(w) != 0;
	q->cd = LDNS_CD_WIRE(w) != 0;
	if (LDNS_ARCOUNT(w) == 0)
		return (pos == len ? 0 : -1);
	/* RFC 6891 6.1.2: root owner, type OPT; version 0 (6.1.3). */
	if (pos + OPT_FIXED > len || w[pos] != 0 ||
	    get16(w + pos + 1) != LDNS_RR_TYPE_OPT || w[pos + 5] != 0 ||
	    w[pos + 6] != 0)
		return (-1);
	q->edns = 1;
	q->udpsize = get16(w + pos + 3);
	q->dobit = (w[pos + 7] & 0x80) != 0;
	rdlen = get16(w + pos + 9);
	pos += OPT_FIXED;
	end = pos + rdlen;
	if (end != len)
		return (-1);
	/* RFC 6891 7: options must add up to the RDATA. */
	while (pos < end) {
		if (pos + 4 > end)
			return (-1);
		olen = get16(w + pos + 2);
		pos += 4 + olen;
	}
	return (pos == end ? 0 : -1);
}

ssize_t
wire_entry_make(const uint8_t *msg, size_t len, uint32_t cap,
    uint8_t outcome, uint8_t flags, uint8_t *buf, size_t bufsize,
    uint32_t *minttl)
{
	size_t		 pos = LDNS_HEADER_SIZE, rrstart, rdlen, mlen;
	unsigned int	 i, total, nttl = 0;
	int		 opt = 0;
	uint16_t	 type, arcount;
	uint32_t	 ttl;
	uint8_t		*offs, *body;

	if (len < LDNS_HEADER_SIZE || LDNS_TC_WIRE(msg) ||
	    LDNS_QDCOUNT(msg) != 1)
		return (-1);
	if (skip_name(msg, len, &pos) == -1 || (pos += 4) > len)
		return (-1);
	total = LDNS_ANCOUNT(msg) + LDNS_NSCOUNT(msg) + LDNS_ARCOUNT(msg);
	if (total > WIRE_MAXRR || ENTRY_HDR + 2 * total > bufsize)
		return (-1);
	offs = buf + ENTRY_HDR;
	*minttl = UINT32_MAX;
	for (i = 0; i < total; i++) {
		rrstart = pos;
		if (skip_name(msg, len, &pos) == -1 || pos + 10 > len)
			return (-1);
		type = get16(msg + pos);
		rdlen = get16(msg + pos + 8);
		if (pos + 10 + rdlen > len)
			return (-1);
		if (type == LDNS_RR_TYPE_OPT) {
			/* Ours, and last: the client's is made per query. */
			if (i != total - 1 || rrstart + OPT_FIXED + rdlen !=
			    len)
				return (-1);
			if (rdlen != 0 && !(rdlen == EDE_LEN &&
			    get16(msg + pos + 10) == LDNS_EDNS_EDE &&
			    get16(msg + pos + 12) == 2 &&
			    get16(msg + pos + 14) == WIRE_EDE_SYNTHESIZED))
				return (-1);
			opt = 1;
			pos = rrstart;
			break;
		}
		ttl = get32(msg + pos + 4);
		if (ttl & 0x80000000U)		/* RFC 2181 8 */
			ttl = 0;
		if (ttl > cap)
			ttl = cap;
		if (ttl < *minttl)
			*minttl = ttl;
		put16(offs + 2 * nttl++, (uint16_t)(pos + 4));
		pos += 10 + rdlen;
	}
	/* Nothing may follow the last RR. */
	if (!opt && pos != len)
		return (-1);
	mlen = pos;
	if (nttl == 0 || ENTRY_HDR + 2 * nttl + mlen > bufsize ||
	    mlen > UINT16_MAX)
		return (-1);
	body = offs + 2 * nttl;
	memcpy(body, msg, mlen);
	arcount = LDNS_ARCOUNT(msg) - opt;
	put16(body + 10, arcount);
	/* The TTLs as they will be counted down from. */
	for (i = 0; i < nttl; i++) {
		pos = get16(offs + 2 * i);
		ttl = get32(body + pos);
		if (ttl & 0x80000000U)
			ttl = 0;
		put32(body + pos, ttl > cap ? cap : ttl);
	}
	put16(buf, (uint16_t)mlen);
	put16(buf + 2, (uint16_t)nttl);
	buf[4] = outcome;
	buf[5] = flags;
	put16(buf + 6, (uint16_t)(LDNS_RCODE_WIRE(msg)));
	return (ENTRY_HDR + 2 * nttl + mlen);
}

ssize_t
wire_entry_reply(const uint8_t *e, size_t elen, const struct wire_query *q,
    uint32_t age, uint16_t ours, size_t max, uint8_t *out, size_t outsize,
    uint8_t *outcome, int *rcode)
{
	const uint8_t	*offs, *body;
	size_t		 mlen, nttl, i, len, rdlen, pos;
	uint32_t	 ttl;
	int		 synth;

	if (elen < ENTRY_HDR)
		return (-1);
	mlen = get16(e);
	nttl = get16(e + 2);
	synth = (e[5] & WIRE_ENTRY_SYNTH) != 0;
	if (ENTRY_HDR + 2 * nttl + mlen != elen ||
	    mlen < LDNS_HEADER_SIZE + q->qnamelen)
		return (-1);
	offs = e + ENTRY_HDR;
	body = offs + 2 * nttl;
	/*
	 * The cache key matched the names; the client's goes where the
	 * stored one is, so they must be as long.
	 */
	if (name_len(body + LDNS_HEADER_SIZE, mlen - LDNS_HEADER_SIZE) !=
	    q->qnamelen)
		return (-1);
	rdlen = synth && q->edns ? EDE_LEN : 0;
	len = mlen + (q->edns ? OPT_FIXED + rdlen : 0);
	if (len > max || len > outsize)
		return (-1);
	memcpy(out, body, mlen);
	put16(out, q->id);
	/* RFC 6147 5.4: the question is the client's, with its case. */
	memcpy(out + LDNS_HEADER_SIZE, q->qname, q->qnamelen);
	for (i = 0; i < nttl; i++) {
		pos = get16(offs + 2 * i);
		ttl = get32(out + pos);
		put32(out + pos, ttl > age ? ttl - age : 0);
	}
	if (q->edns) {
		/* RFC 6891 6.1.1: our OPT, DO echoed (RFC 3225). */
		pos = mlen;
		out[pos] = 0;
		put16(out + pos + 1, LDNS_RR_TYPE_OPT);
		put16(out + pos + 3, ours);
		put32(out + pos + 5, q->dobit ? 0x8000 : 0);
		put16(out + pos + 9, (uint16_t)rdlen);
		if (rdlen > 0) {
			put16(out + pos + 11, LDNS_EDNS_EDE);
			put16(out + pos + 13, 2);
			put16(out + pos + 15, WIRE_EDE_SYNTHESIZED);
		}
		put16(out + 10, get16(out + 10) + 1);
	}
	*outcome = e[4];
	*rcode = get16(e + 6);
	return ((ssize_t)len);
}
