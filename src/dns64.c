/*
 * dns64.c -- the pure parts of DNS64: RFC 6052 address synthesis and
 * extraction, the special IPv4 ranges, TTL rules and reverse names.  Nothing
 * in here does I/O or looks at the configuration, so all of it is covered by
 * unit tests (tests/unit/check_dns64.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "acl.h"
#include "dns64.h"

static const uint8_t wkp[12] = { 0x00, 0x64, 0xff, 0x9b };

int
dns64_prefix_check(const struct dns64_prefix *p, const char **errstr)
{
	int	 i;

	switch (p->plen) {
	case 32:
	case 40:
	case 48:
	case 56:
	case 64:
	case 96:
		break;
	default:
		*errstr = "prefix length must be 32, 40, 48, 56, 64 or 96 "
		    "(RFC 6052 2.2)";
		return (-1);
	}
	/* RFC 6052 2.2: bits 64 to 71 (the "u" octet) must be zero. */
	if (p->addr[8] != 0) {
		*errstr = "bits 64-71 of the prefix must be zero (RFC 6052 2.2)";
		return (-1);
	}
	for (i = p->plen / 8; i < 16; i++)
		if (p->addr[i] != 0) {
			*errstr = "prefix has bits set beyond its length";
			return (-1);
		}
	return (0);
}

int
dns64_prefix_is_wkp(const struct dns64_prefix *p)
{
	return (p->plen == 96 && memcmp(p->addr, wkp, sizeof(wkp)) == 0);
}

/*
 * RFC 6052 2.2: the IPv4 address follows the prefix, skipping octet 8 (bits
 * 64-71), and the suffix is zero.  One loop serves every prefix length.
 */
void
dns64_embed(const struct dns64_prefix *p, const uint8_t *v4, uint8_t *out)
{
	int	 i, pos;

	memset(out, 0, 16);
	memcpy(out, p->addr, p->plen / 8);
	for (i = 0, pos = p->plen / 8; i < 4; i++, pos++) {
		if (pos == 8)
			pos++;
		out[pos] = v4[i];
	}
}

/* RFC 6052 2.3 */
int
dns64_extract(const struct dns64_prefix *p, const uint8_t *in6, uint8_t *v4)
{
	int	 i, pos;

	if (memcmp(in6, p->addr, p->plen / 8) != 0)
		return (-1);
	for (i = 0, pos = p->plen / 8; i < 4; i++, pos++) {
		if (pos == 8)
			pos++;
		v4[i] = in6[pos];
	}
	return (0);
}

/*
 * RFC 6052 3.1 forbids the Well-Known Prefix for non-global IPv4: the
 * special-purpose ranges of RFC 6890 whose "Global" flag is false, RFC 6598
 * shared space, and multicast and reserved space, which are not unicast at
 * all.  The documentation ranges are included: they are not global, and
 * translators (e.g. Tayga) refuse them under the WKP too.
 */
static const struct {
	uint8_t	 net[4];
	int	 plen;
} nonglobal[] = {
	{ { 0, 0, 0, 0 }, 8 },		/* "this network", RFC 791 */
	{ { 10, 0, 0, 0 }, 8 },		/* RFC 1918 */
	{ { 100, 64, 0, 0 }, 10 },	/* shared address space, RFC 6598 */
	{ { 127, 0, 0, 0 }, 8 },	/* loopback */
	{ { 169, 254, 0, 0 }, 16 },	/* link local, RFC 3927 */
	{ { 172, 16, 0, 0 }, 12 },	/* RFC 1918 */
	{ { 192, 0, 0, 0 }, 24 },	/* IETF protocol assignments */
	{ { 192, 0, 2, 0 }, 24 },	/* TEST-NET-1, RFC 5737 */
	{ { 192, 168, 0, 0 }, 16 },	/* RFC 1918 */
	{ { 198, 18, 0, 0 }, 15 },	/* benchmarking, RFC 2544 */
	{ { 198, 51, 100, 0 }, 24 },	/* TEST-NET-2, RFC 5737 */
	{ { 203, 0, 113, 0 }, 24 },	/* TEST-NET-3, RFC 5737 */
	{ { 224, 0, 0, 0 }, 4 },	/* multicast */
	{ { 240, 0, 0, 0 }, 4 },	/* reserved and broadcast */
};

int
dns64_ipv4_is_global(const uint8_t *v4)
{
	uint32_t	 a, net, mask;
	size_t		 i;

	a = (uint32_t)v4[0] << 24 | v4[1] << 16 | v4[2] << 8 | v4[3];
	/* RFC 6890: PCP and TURN anycast are global inside 192.0.0.0/24. */
	if (a == 0xc0000009 || a == 0xc000000a)
		return (1);
	for (i = 0; i < sizeof(nonglobal) / sizeof(nonglobal[0]); i++) {
		net = (uint32_t)nonglobal[i].net[0] << 24 |
		    nonglobal[i].net[1] << 16 | nonglobal[i].net[2] << 8 |
		    nonglobal[i].net[3];
		mask = 0xffffffffU << (32 - nonglobal[i].plen);
		if ((a & mask) == net)
			return (0);
	}
	return (1);
}

/* RFC 2181 8: a TTL with the most significant bit set is treated as 0. */
uint32_t
dns64_ttl(uint32_t ttl)
{
	return ((ttl & 0x80000000U) ? 0 : ttl);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * RFC 3596 2.5: nibble labels, least significant first, either case.
 * Walks the wire form of the name: labels are length-prefixed, so a nibble
 * label is the byte 1 followed by one hex digit.
 */
int
dns64_ip6arpa_parse(const ldns_rdf *name, uint8_t *addr)
{
	static const uint8_t	 suffix[] = "\003ip6\004arpa";
	const uint8_t		*w;
	size_t			 len, nlabels, i, j;
	int			 v;

	if (ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME)
		return (-1);
	w = ldns_rdf_data(name);
	len = ldns_rdf_size(name);
	/* The name ends with "ip6.arpa." and the root label. */
	if (len < sizeof(suffix) || (len - sizeof(suffix)) % 2 != 0)
		return (-1);
	if (strncasecmp((const char *)w + len - sizeof(suffix),
	    (const char *)suffix, sizeof(suffix) - 1) != 0 || w[len - 1] != 0)
		return (-1);
	nlabels = (len - sizeof(suffix)) / 2;
	if (nlabels > 32)
		return (-1);
	memset(addr, 0, 16);
	for (i = 0; i < nlabels; i++) {
		if (w[2 * i] != 1 || (v = hexval(w[2 * i + 1])) == -1)
			return (-1);
		/* The rightmost label is the most significant nibble. */
		j = nlabels - 1 - i;
		addr[j / 2] |= (j % 2 == 0) ? v << 4 : v;
	}
	return ((int)nlabels);
}

ldns_rdf *
dns64_inaddr_name(const uint8_t *v4)
{
	char	 buf[sizeof("255.255.255.255.in-addr.arpa.")];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u.in-addr.arpa.",
	    v4[3], v4[2], v4[1], v4[0]);
	return (ldns_dname_new_frm_str(buf));
}

ldns_rdf *
dns64_ip6arpa_name(const uint8_t *addr)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 buf[32 * 2 + sizeof("ip6.arpa.")], *p = buf;
	int			 i;

	for (i = 15; i >= 0; i--) {
		*p++ = hex[addr[i] & 0xf];
		*p++ = '.';
		*p++ = hex[addr[i] >> 4];
		*p++ = '.';
	}
	strcpy(p, "ip6.arpa.");
	return (ldns_dname_new_frm_str(buf));
}

const ldns_rdf *
dns64_chain_end(const ldns_rr_list *rrs, const ldns_rdf *name)
{
	const ldns_rr	*rr;
	size_t		 i, n = ldns_rr_list_rr_count(rrs), hops;

	/*
	 * n hops at most: a longer walk can only be a loop.  And at most
	 * DNS64_CHAIN_MAX: each hop scans the section, so a 64 KB answer of
	 * 4,600 CNAMEs ending in a loop took 10 million name comparisons
	 * (0.5 s of CPU) per call (found by tests/fuzz).
	 */
	for (hops = 0; hops < n && hops < DNS64_CHAIN_MAX; hops++) {
		for (i = 0; i < n; i++) {
			rr = ldns_rr_list_rr(rrs, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr), name) == 0)
				break;
		}
		if (i == n)
			break;
		name = ldns_rr_rdf(rr, 0);
	}
	return (name);
}

static ldns_rr_type
covered(const ldns_rr *rr)
{
	const ldns_rdf	*tc;

	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG ||
	    (tc = ldns_rr_rrsig_typecovered(rr)) == NULL)
		return (0);
	return (ldns_rdf2rr_type(tc));
}

int
dns64_is_chain_rr(const ldns_rr *rr)
{
	ldns_rr_type	 t = ldns_rr_get_type(rr);

	if (t == LDNS_RR_TYPE_RRSIG)
		t = covered(rr);
	return (t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_DNAME);
}

int
dns64_rr_is(const ldns_rr *rr, const ldns_rdf *owner, ldns_rr_type type)
{
	ldns_rr_type	 t = ldns_rr_get_type(rr);

	if (t == LDNS_RR_TYPE_RRSIG)
		t = covered(rr);
	/* RFC 6147 5.1: only class IN data is DNS64's. */
	return (t == type && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
	    ldns_dname_compare(ldns_rr_owner(rr), owner) == 0);
}

int
dns64_rr_at(const ldns_rr *rr, const ldns_rdf *owner, ldns_rr_type type)
{
	return (ldns_rr_get_type(rr) == type && dns64_rr_is(rr, owner, type));
}

int
dns64_negative_ttl(const ldns_pkt *pkt, uint32_t *ttl)
{
	const ldns_rr	*rr;
	ldns_rr_list	*auth = ldns_pkt_authority(pkt);
	uint32_t	 t, min;
	size_t		 i;
	int		 found = 0;

	for (i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
		    ldns_rr_rd_count(rr) != 7)
			continue;
		t = dns64_ttl(ldns_rr_ttl(rr));
		min = dns64_ttl(ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)));
		if (min < t)
			t = min;
		if (!found || t < *ttl)
			*ttl = t;
		found = 1;
	}
	return (found ? 0 : -1);
}

uint32_t
dns64_synth_ttl(const ldns_rr_list *answer, const ldns_rdf *owner,
    const ldns_pkt *negative)
{
	const ldns_rr	*rr;
	uint32_t	 ttl = DNS64_WKP_TTL_CAP, t;
	size_t		 i;

	/* With a SOA its negative TTL is the bound, else 600 s. */
	if (negative != NULL)
		(void)dns64_negative_ttl(negative, &ttl);
	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		rr = ldns_rr_list_rr(answer, i);
		if (!dns64_rr_at(rr, owner, LDNS_RR_TYPE_A))
			continue;
		t = dns64_ttl(ldns_rr_ttl(rr));
		if (t < ttl)
			ttl = t;
	}
	return (ttl);
}

ldns_rr *
dns64_synth_rr(const ldns_rr *a, const struct dns64_prefix *p, uint32_t ttl)
{
	ldns_rr		*aaaa;
	ldns_rdf	*owner, *rdf;
	uint8_t		 in6[16];

	if (ldns_rr_rd_count(a) != 1 ||
	    ldns_rdf_size(ldns_rr_rdf(a, 0)) != 4)
		return (NULL);
	dns64_embed(p, ldns_rdf_data(ldns_rr_rdf(a, 0)), in6);
	if ((aaaa = ldns_rr_new()) == NULL)
		return (NULL);
	if ((owner = ldns_rdf_clone(ldns_rr_owner(a))) == NULL ||
	    (rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, in6)) ==
	    NULL) {
		ldns_rdf_deep_free(owner);
		ldns_rr_free(aaaa);
		return (NULL);
	}
	ldns_rr_set_owner(aaaa, owner);
	ldns_rr_set_type(aaaa, LDNS_RR_TYPE_AAAA);
	ldns_rr_set_class(aaaa, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(aaaa, ttl);
	if (!ldns_rr_push_rdf(aaaa, rdf)) {
		ldns_rdf_deep_free(rdf);
		ldns_rr_free(aaaa);
		return (NULL);
	}
	return (aaaa);
}

/* An AAAA at owner whose address is in the exclusion list. */
static int
aaaa_excluded(const ldns_rr *rr, const ldns_rdf *owner,
    const struct acl *exclude)
{
	const ldns_rdf	*rd;

	if (!dns64_rr_at(rr, owner, LDNS_RR_TYPE_AAAA) ||
	    (rd = ldns_rr_rdf(rr, 0)) == NULL || ldns_rdf_size(rd) != 16)
		return (0);
	return (acl_match(exclude, AF_INET6, ldns_rdf_data(rd)) == ACL_ALLOW);
}

/*
 * RFC 6147 5.1.4: AAAA records at owner (the chain's end) inside the
 * exclusion list are never returned.  They are removed from answer, with
 * the RRSIG of the AAAA RRset, which no longer covers what is left.
 * Returns how many AAAA at owner remain: 0 means "no AAAA", synthesize.
 */
int
dns64_aaaa_count(const ldns_rr_list *answer, const ldns_rdf *owner,
    const struct acl *exclude, int *excluded)
{
	const ldns_rr	*rr;
	size_t		 i, n = ldns_rr_list_rr_count(answer);
	int		 real = 0;

	*excluded = 0;
	for (i = 0; i < n; i++) {
		rr = ldns_rr_list_rr(answer, i);
		if (aaaa_excluded(rr, owner, exclude))
			(*excluded)++;
		else if (dns64_rr_at(rr, owner, LDNS_RR_TYPE_AAAA))
			real++;
	}
	return (real);
}

int
dns64_strip_excluded(ldns_rr_list *answer, const ldns_rdf *owner,
    const struct acl *exclude)
{
	ldns_rr		*rr;
	size_t		 i, j, n = ldns_rr_list_rr_count(answer);
	int		 real, nexcl;

	real = dns64_aaaa_count(answer, owner, exclude, &nexcl);
	if (nexcl == 0)
		return (real);
	for (i = j = 0; i < n; i++) {
		rr = ldns_rr_list_rr(answer, i);
		if (aaaa_excluded(rr, owner, exclude) ||
		    (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
		    dns64_rr_is(rr, owner, LDNS_RR_TYPE_AAAA)))
			ldns_rr_free(rr);
		else
			(void)ldns_rr_list_set_rr(answer, rr, j++);
	}
	ldns_rr_list_set_rr_count(answer, j);
	return (real);
}
