/*
 * wire.h -- the lean path: answering a repeated query from a reply we
 * built before, on the wire, without ldns and without allocating.
 *
 * wire_query_parse() recognises the plain queries this path may answer;
 * everything else takes the full path (dnsmsg.c, query.c), which is also
 * where replies are first built.  A reply the full path sent becomes a
 * cache entry with wire_entry_make(): its OPT RR removed (ours is added
 * per client), the offsets of its TTLs recorded.  wire_entry_reply() turns
 * an entry back into the reply to another query with the same key: the
 * client's ID and name (with its case), the TTLs counted down, and our
 * OPT when the client sent one.  Pure functions; tests/unit/check_wire.c.
 */
#ifndef WIRE_H
#define WIRE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

struct wire_query {
	uint16_t	 id;
	const uint8_t	*qname;		/* into the message, uncompressed */
	size_t		 qnamelen;
	uint16_t	 qtype;
	uint16_t	 qclass;
	int		 rd;
	int		 cd;
	int		 edns;		/* it carries an OPT RR */
	int		 dobit;
	uint16_t	 udpsize;	/* of its OPT */
};

#define WIRE_ENTRY_SYNTH	0x01	/* EDE 29 for EDNS clients */
#define WIRE_EDE_SYNTHESIZED	29

/*
 * 0 if the message is a plain query: QR=0, opcode QUERY, TC=0, one
 * question with an uncompressed name, no answer or authority RRs, and at
 * most an OPT RR (root owner, version 0, extended RCODE 0, well-formed
 * options, nothing after it); its type is not OPT, AXFR or IXFR.  -1 for
 * anything else, which takes the full path.
 */
int		 wire_query_parse(const uint8_t *, size_t, struct wire_query *);
/*
 * A cache entry of the rendered reply msg, with the outcome it had and
 * flags (WIRE_ENTRY_SYNTH: EDNS clients get EDE 29, whether or not msg,
 * built for another client, has it): none when it is truncated, holds no
 * RR with a TTL, has an OPT RR that is not last, or carries EDNS options
 * other than our EDE 29 (-1).  TTLs above cap are lowered to it; *minttl
 * is the smallest.  Returns the entry's length in buf, or -1.
 */
ssize_t		 wire_entry_make(const uint8_t *, size_t, uint32_t, uint8_t,
		    uint8_t, uint8_t *, size_t, uint32_t *);
/*
 * The reply to q (whose message is qmsg) from an entry age seconds old,
 * with an OPT RR of ours (UDP size ours, DO echoed, EDE 29 if the entry
 * says so) when q has one.  -1 when it does not fit in max (the full path
 * truncates) or the entry does not match the query's name length.  The
 * outcome and RCODE stored with the entry are returned too.
 */
ssize_t		 wire_entry_reply(const uint8_t *, size_t,
		    const struct wire_query *, uint32_t, uint16_t, size_t,
		    uint8_t *, size_t, uint8_t *, int *);

#endif /* WIRE_H */
