/*
 * dnsmsg.h -- DNS message helpers on top of ldns: query checks, error and
 * reply assembly, truncation, EDNS and reply matching.
 */
#ifndef DNSMSG_H
#define DNSMSG_H

#include <stddef.h>
#include <stdint.h>
#include <ldns/ldns.h>

#define DNSMSG_RCODE_BADVERS	16	/* RFC 6891 6.1.3 */
#define DNSMSG_EDE		15	/* EDNS option code, RFC 8914 */
#define DNSMSG_EDE_OTHER	0
#define DNSMSG_EDE_STALE	3
#define DNSMSG_EDE_NO_REACHABLE_AUTHORITY 22
#define DNSMSG_EDE_NETWORK_ERROR 23
#define DNSMSG_EDE_SYNTHESIZED	29
#define DNSMSG_EDE_MAX		300	/* bytes of upstream EDE relayed */

enum dnsmsg_verdict {
	DNSMSG_DROP = -1,	/* not worth an answer */
	DNSMSG_OK = 0,
	DNSMSG_ERROR = 1	/* answer with *rcode */
};

/*
 * Parse and check a client query.  DNSMSG_OK: *req is the query.
 * DNSMSG_ERROR: answer with *rcode; *req is the query if it could be parsed,
 * else NULL.
 */
enum dnsmsg_verdict dnsmsg_parse_query(const uint8_t *, size_t, ldns_pkt **,
		    int *);
/*
 * Parse a reply from upstream, refusing what ldns would misread (A or AAAA
 * RDATA of the wrong length, several OPT or TSIG RRs, an OPT outside the
 * additional section).
 */
ldns_status	 dnsmsg_parse_reply(const uint8_t *, size_t, ldns_pkt **);
/*
 * An error reply to the query whose 12-byte header is hdr; req, when it
 * could be parsed, gives the question and EDNS.
 */
ldns_pkt	*dnsmsg_error(const uint8_t *, const ldns_pkt *, int, uint16_t);
/*
 * Turn an upstream reply (or a reply we built) into the reply to req: the
 * client's ID, question, RD and CD, and an OPT of ours (udp size, DO echoed)
 * if and only if the client sent one.  EDE options of the upstream are kept.
 * Returns NULL on allocation failure; src is consumed either way.
 */
ldns_pkt	*dnsmsg_reply(ldns_pkt *, const ldns_pkt *, uint16_t);
/* The UDP size limit for replies to req (RFC 6891 6.2.5, RFC 1035). */
size_t		 dnsmsg_udp_limit(const ldns_pkt *, uint16_t);
/*
 * Render to wire, dropping what does not fit in max: additional first (no
 * TC, RFC 2181 9), then authority (when there is an answer), then the EDNS
 * options, then everything with TC set.  LDNS_STATUS_PACKET_OVERFLOW when
 * even header, question and OPT are too big.
 */
ldns_status	 dnsmsg_render(ldns_pkt *, size_t, uint8_t **, size_t *);
/*
 * The same into buf (cleared first), which the caller reuses: the message
 * is its first ldns_buffer_position() bytes.
 */
ldns_status	 dnsmsg_render_buf(ldns_pkt *, size_t, ldns_buffer *);
/* A query for upstream with a random ID and our EDNS. */
ldns_pkt	*dnsmsg_query(const ldns_rdf *, ldns_rr_type, ldns_rr_class,
		    int, int, int, uint16_t);
/* RFC 5452 9.1: ID, QR, opcode and question (case-insensitive) match. */
int		 dnsmsg_reply_matches(const ldns_pkt *, const ldns_pkt *);
/* The same against an ID and question. */
int		 dnsmsg_reply_is_for(const ldns_pkt *, uint16_t,
		    const ldns_rdf *, uint16_t, uint16_t);
/*
 * The wire form of a query for upstream: ID, the question, RD and CD as
 * flags say, and our OPT (edns_size, DO as flags say).  0 if it does not
 * fit in size.
 */
#define DNSMSG_Q_RD	0x01
#define DNSMSG_Q_CD	0x02
#define DNSMSG_Q_DO	0x04
size_t		 dnsmsg_query_wire(uint8_t *, size_t, uint16_t,
		    const ldns_rdf *, uint16_t, uint16_t, unsigned int,
		    uint16_t);
/* Append an Extended DNS Error option.  -1 on allocation failure. */
int		 dnsmsg_add_ede(ldns_pkt *, uint16_t, const char *);
/* 1 if the reply carries an EDE with an info code in [lo, hi]. */
int		 dnsmsg_has_ede(ldns_pkt *, uint16_t, uint16_t);
/* 1 if name is zone (wire form) or below it, case-insensitively. */
int		 dnsmsg_name_in(const ldns_rdf *, const uint8_t *, size_t);
/* Move all RRs of one section of src to the end of the same one of dst. */
int		 dnsmsg_move_section(ldns_pkt *, ldns_pkt *, ldns_pkt_section);
/*
 * ldns_pkt2str() for the logs, safe with any EDNS option: ldns 1.8.3
 * writes through a NULL pointer when it prints a CHAIN option (RFC 7901,
 * code 13), so its own dump of a client's query can be a crash.  The
 * options are listed by code and length after the packet.  NULL on
 * allocation failure; free() the result.
 */
char		*dnsmsg_pkt2str(const ldns_pkt *);

#endif /* DNSMSG_H */
