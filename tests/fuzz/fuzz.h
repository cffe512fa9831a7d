/*
 * fuzz.h -- what the fuzz harnesses share (tests/fuzz/fuzz_common.c).
 *
 * A harness is one file, tests/fuzz/NAME.c, defining the libFuzzer entry
 * point below.  "make fuzz" links it with libFuzzer (clang); "make check"
 * links the same file with replay.c, a plain main() that feeds it every
 * file of tests/fuzz/corpus/NAME and tests/fuzz/crashes/NAME.
 *
 * A harness checks what must hold whatever the input (FUZZ_CHECK); a
 * failed check aborts, which both drivers report as a crash.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

struct conf;

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(e)	((e) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #e))
void	 fuzz_fail(const char *, int, const char *) __attribute__((noreturn));

/* What a walk over the wire finds, independently of ldns and dnsmsg.c. */
struct fuzz_wire {
	unsigned int	 nopt;		/* OPT RRs, in any section */
	unsigned int	 opt_outside;	/* OPT RRs outside the additional */
	unsigned int	 ntsig;		/* TSIG RRs in the additional section */
	unsigned int	 tsig_not_last;	/* TSIG RRs that are not the last RR */
	unsigned int	 bad_addr;	/* IN A without 4, IN AAAA without 16 */
	uint32_t	 sig;		/* the RRs, as fuzz_pkt_sig() */
	uint16_t	 opt_class;	/* the last OPT's UDP size */
	uint32_t	 opt_ttl;	/* its extended RCODE, version, flags */
};

/* 0 with *fw filled in, -1 if the message runs off its end. */
int	 fuzz_wire_walk(const uint8_t *, size_t, struct fuzz_wire *);
/*
 * A hash of section, type, class and TTL of each RR of the answer,
 * authority and additional sections in order, OPT and TSIG RRs of the
 * additional section left out (ldns keeps them apart): the same for a
 * packet as for its wire when ldns read the RRs the walk did.
 */
uint32_t fuzz_pkt_sig(const ldns_pkt *);
/* The EDNS fields of pkt are those of the walk's OPT. */
int	 fuzz_edns_is(const ldns_pkt *, const struct fuzz_wire *);

/*
 * The default configuration (conf_new(): the query ACL, exclude-aaaa
 * ::ffff:0:0/96) with one prefix of each RFC 6052 length and the WKP.
 */
struct conf *fuzz_conf(void);

/*
 * Render a clone of reply within max with dnsmsg_render() and check the
 * result: within max, parsable, same ID and question, the answer kept
 * unless TC is set.  Returns 1 if rendered, 0 if not (only for max < 512).
 */
int	 fuzz_render(const ldns_pkt *, size_t);
/* fuzz_render() at 512, 1232 and 65535, and at limit (0: none). */
void	 fuzz_render_all(const ldns_pkt *, size_t);

/* Print a packet and a name to strings, as the -v and -vv logs do. */
void	 fuzz_print(const ldns_pkt *, const ldns_rdf *);

#endif /* FUZZ_H */
