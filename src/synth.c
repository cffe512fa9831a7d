/*
 * synth.c -- building synthesized answers.
 *
 * Everything here works on messages handed in, with the configuration
 * read only: the A answer becomes the AAAA answer (RFC 6147 5.1.7, 5.4), a
 * mapped PTR answer gets its CNAME (5.3.1), a negative answer of ours its
 * SOA.
 */
#include "config.h"

#include <sys/queue.h>
#include <string.h>

#include <ldns/ldns.h>

#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "policy.h"
#include "synth.h"

/* The address of an A RR, or NULL for malformed RDATA. */
static const uint8_t *
a_addr(const ldns_rr *a)
{
	if (ldns_rr_rd_count(a) != 1 || ldns_rdf_size(ldns_rr_rdf(a, 0)) != 4)
		return (NULL);
	return (ldns_rdf_data(ldns_rr_rdf(a, 0)));
}

/*
 * Append the synthetic AAAA for one A RR: with every prefix of the set that
 * may map its IPv4 address, or with only the first of them from the
 * round-robin offset on.  Returns how many were added (0 with *why set),
 * -1 on failure.
 */
static int
synth_one(const struct conf *conf, const struct conf_prefix **set,
    unsigned int n, unsigned int start, const ldns_rr *a, uint32_t ttl,
    ldns_rr_list *out, enum synth_why *why)
{
	const struct conf_prefix	*cp;
	const uint8_t			*v4;
	ldns_rr				*aaaa;
	unsigned int			 i;
	int				 added = 0;

	if ((v4 = a_addr(a)) == NULL) {
		*why = SYNTH_DESTINATIONS;
		return (0);
	}
	if (acl_match(&conf->exclude_a, AF_INET, v4) == ACL_ALLOW) {
		*why = SYNTH_EXCLUDE_A;
		return (0);
	}
	*why = SYNTH_DESTINATIONS;
	for (i = 0; i < n; i++) {
		cp = set[(start + i) % n];
		/* RFC 6147 5: separate IPv4 ranges, separate prefixes. */
		if (!TAILQ_EMPTY(&cp->destinations) &&
		    acl_match(&cp->destinations, AF_INET, v4) != ACL_ALLOW)
			continue;
		/* RFC 6052 3.1 */
		if (dns64_prefix_is_wkp(&cp->pfx) &&
		    !dns64_ipv4_is_global(v4)) {
			*why = SYNTH_NOT_GLOBAL;
			continue;
		}
		if ((aaaa = dns64_synth_rr(a, &cp->pfx, ttl)) == NULL)
			return (-1);
		if (!ldns_rr_list_push_rr(out, aaaa)) {
			ldns_rr_free(aaaa);
			return (-1);
		}
		added++;
		if (conf->prefix_selection == PREFIX_SELECT_ROUNDROBIN)
			break;
	}
	return (added);
}

/* Append copies of the CNAME/DNAME RRs (and their RRSIGs) of from. */
static int
copy_chain(const ldns_rr_list *from, ldns_rr_list *to)
{
	ldns_rr		*rr;
	size_t		 i;

	for (i = 0; i < ldns_rr_list_rr_count(from); i++) {
		rr = ldns_rr_list_rr(from, i);
		if (!dns64_is_chain_rr(rr))
			continue;
		if ((rr = ldns_rr_clone(rr)) == NULL ||
		    !ldns_rr_list_push_rr(to, rr)) {
			ldns_rr_free(rr);
			return (-1);
		}
	}
	return (0);
}

/* Put the RRs of front before the answer section of pkt; consumes front. */
static int
prepend(ldns_pkt *pkt, ldns_rr_list *front)
{
	ldns_rr_list	*answer = ldns_pkt_answer(pkt);

	if (!ldns_rr_list_cat(front, answer)) {
		ldns_rr_list_deep_free(front);
		return (-1);
	}
	ldns_rr_list_free(answer);
	ldns_pkt_set_answer(pkt, front);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(front));
	return (0);
}

static const ldns_rr *
first_a(const ldns_rr_list *answer, const ldns_rdf *owner)
{
	size_t	 i;

	for (i = 0; i < ldns_rr_list_rr_count(answer); i++)
		if (dns64_rr_at(ldns_rr_list_rr(answer, i), owner,
		    LDNS_RR_TYPE_A))
			return (ldns_rr_list_rr(answer, i));
	return (NULL);
}

int
synth_aaaa(const struct conf *conf, uint32_t mask, unsigned int start,
    int dnssec, ldns_pkt *apkt, const ldns_rdf *owner,
    const ldns_pkt *negative, struct synth_result *res)
{
	const struct conf_prefix	*set[CONF_PREFIX_MAX], *cp;
	ldns_rr_list			*answer, *a_answer = ldns_pkt_answer(apkt);
	const ldns_rr			*rr;
	const uint8_t			*v4;
	enum synth_why			 why;
	uint32_t			 ttl;
	unsigned int			 n = 0, bit = 0;
	size_t				 i;
	int				 made;

	memset(res, 0, sizeof(*res));
	if ((rr = first_a(a_answer, owner)) == NULL ||
	    (v4 = a_addr(rr)) == NULL)
		return (0);
	/* RFC 6147 5.5: a signed A RRset is not rewritten for a client
	 * that asked for DNSSEC. */
	if (dnssec && policy_a_signed(apkt, owner)) {
		res->why = SYNTH_SIGNED;
		memcpy(res->v4, v4, 4);
		return (0);
	}
	TAILQ_FOREACH(cp, &conf->prefixes, entry)
		if (mask & (1U << bit++))
			set[n++] = cp;
	/*
	 * Round-robin moves to the client's next prefix with each response;
	 * with "all" every prefix is used, in config order.
	 */
	if (conf->prefix_selection != PREFIX_SELECT_ROUNDROBIN || n == 0)
		start = 0;
	ttl = dns64_synth_ttl(a_answer, owner, negative);
	if ((answer = ldns_rr_list_new()) == NULL ||
	    copy_chain(a_answer, answer) == -1)
		goto fail;
	for (i = 0; i < ldns_rr_list_rr_count(a_answer); i++) {
		rr = ldns_rr_list_rr(a_answer, i);
		if (!dns64_rr_at(rr, owner, LDNS_RR_TYPE_A))
			continue;
		if ((made = synth_one(conf, set, n, start, rr, ttl, answer,
		    &why)) == -1)
			goto fail;
		if (made == 0 && res->why == SYNTH_MAPPED &&
		    (v4 = a_addr(rr)) != NULL) {
			res->why = why;
			memcpy(res->v4, v4, 4);
		}
		res->made += made;
	}
	if (res->made == 0) {
		ldns_rr_list_deep_free(answer);
		return (0);
	}
	ldns_rr_list_deep_free(a_answer);
	ldns_pkt_set_answer(apkt, answer);
	ldns_pkt_set_ancount(apkt, ldns_rr_list_rr_count(answer));
	/* RFC 6147 5.5: synthesized data is never authenticated. */
	ldns_pkt_set_ad(apkt, 0);
	ldns_pkt_set_aa(apkt, 0);
	return (0);
 fail:
	ldns_rr_list_deep_free(answer);
	return (-1);
}

const char *
synth_why_text(enum synth_why why)
{
	switch (why) {
	case SYNTH_EXCLUDE_A:
		return ("in exclude-a");
	case SYNTH_DESTINATIONS:
		return ("outside the prefixes' destinations");
	case SYNTH_NOT_GLOBAL:
		return ("not global, well-known prefix");
	case SYNTH_SIGNED:
		return ("signed, and the client validates");
	default:
		return ("mapped");
	}
}

int
synth_prepend_chain(ldns_pkt *pkt, const ldns_pkt *from)
{
	ldns_rr_list	*chain;

	if ((chain = ldns_rr_list_new()) == NULL)
		return (-1);
	if (copy_chain(ldns_pkt_answer(from), chain) == -1) {
		ldns_rr_list_deep_free(chain);
		return (-1);
	}
	return (prepend(pkt, chain));
}

int
synth_ptr_cname(ldns_pkt *pkt, const ldns_rdf *qname, const ldns_rdf *target,
    uint32_t ttl)
{
	ldns_rr_list	*answer = ldns_pkt_answer(pkt), *front;
	ldns_rr		*rr;
	ldns_rdf	*owner = NULL, *rdata = NULL;
	uint32_t	 t;
	size_t		 i;
	int		 positive = 0;

	for (i = 0; i < ldns_rr_list_rr_count(answer); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(answer, i)) ==
		    LDNS_RR_TYPE_PTR)
			positive = 1;
	/* A negative answer caps the CNAME at its negative TTL. */
	if (!positive && dns64_negative_ttl(pkt, &t) == 0 && t < ttl)
		ttl = t;
	if ((rr = ldns_rr_new()) == NULL)
		return (-1);
	if ((owner = ldns_rdf_clone(qname)) == NULL ||
	    (rdata = ldns_rdf_clone(target)) == NULL ||
	    !ldns_rr_push_rdf(rr, rdata)) {
		ldns_rdf_deep_free(owner);
		ldns_rdf_deep_free(rdata);
		ldns_rr_free(rr);
		return (-1);
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_CNAME);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	/* The CNAME precedes the data of its target (RFC 1034 3.6.2). */
	if ((front = ldns_rr_list_new()) == NULL ||
	    !ldns_rr_list_push_rr(front, rr)) {
		ldns_rr_list_free(front);
		ldns_rr_free(rr);
		return (-1);
	}
	if (prepend(pkt, front) == -1)
		return (-1);
	ldns_pkt_set_aa(pkt, 0);
	ldns_pkt_set_ad(pkt, 0);
	return (0);
}

int
synth_nodata_soa(ldns_pkt *pkt, const ldns_pkt *from)
{
	const ldns_rr_list	*auth;
	ldns_rr			*rr;
	size_t			 i;

	auth = ldns_pkt_authority(pkt);
	for (i = 0; i < ldns_rr_list_rr_count(auth); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(auth, i)) ==
		    LDNS_RR_TYPE_SOA)
			return (0);
	if (from == NULL)
		return (0);
	auth = ldns_pkt_authority(from);
	for (i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
			continue;
		if ((rr = ldns_rr_clone(rr)) == NULL)
			return (-1);
		if (!ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, rr)) {
			ldns_rr_free(rr);
			return (-1);
		}
	}
	return (0);
}
