/*
 * conf.h -- the configuration: one struct built from scratch by the parser,
 * so that a reload is parse-then-swap and a bad file leaves the old one.
 */
#ifndef CONF_H
#define CONF_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <ldns/ldns.h>

#include "acl.h"
#include "dns64.h"
#include "fwd.h"

#define CONF_WORKERS_MAX	256
#define CONF_PREFIX_MAX		32	/* a bit each in a client's view */
#define CONF_METRICS_PORT	9153	/* CoreDNS's, for Prometheus */
#define CONF_PATH_MAX		108	/* sun_path */
#define CONF_CONTROL_SOCKET	"/run/dns64proxy/control.sock"

/* A listen address or a forwarder, with its port. */
struct conf_addr {
	TAILQ_ENTRY(conf_addr)	 entry;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fwd;		/* forwarders: fwd.h index */
};
TAILQ_HEAD(conf_addrlist, conf_addr);

enum dns64_parallel {
	DNS64_PARALLEL_NO,	/* the A query after the AAAA answer */
	DNS64_PARALLEL_YES,	/* with the AAAA query */
	DNS64_PARALLEL_AUTO	/* with it, unless the forwarder is fast */
};

enum prefix_selection {
	PREFIX_SELECT_ALL,		/* one AAAA per A per prefix (BIND) */
	PREFIX_SELECT_ROUNDROBIN	/* one prefix per response (totd) */
};

struct conf_prefix {
	TAILQ_ENTRY(conf_prefix) entry;
	struct dns64_prefix	 pfx;
	struct acl		 clients;	/* empty: every client */
	struct acl		 destinations;	/* IPv4 ranges; empty: all */
};
TAILQ_HEAD(conf_prefixlist, conf_prefix);

struct conf_domain {
	TAILQ_ENTRY(conf_domain) entry;
	ldns_rdf		*name;		/* absolute, lower case */
};
TAILQ_HEAD(conf_domainlist, conf_domain);

struct conf {
	/*
	 * A conf is shared, read-only, by every query that started under
	 * it; the last conf_unref() frees it (a reload swaps in a new one).
	 */
	_Atomic unsigned int	 refs;
	unsigned int		 generation;	/* set when it goes live */
	struct conf_addrlist	 listen;
	struct conf_addrlist	 forwarders;
	struct conf_prefixlist	 prefixes;
	enum prefix_selection	 prefix_selection;
	struct acl		 exclude_aaaa;	/* RFC 6147 5.1.4 */
	struct acl		 exclude_a;	/* IPv4 never synthesized */
	struct acl		 query_acl;	/* allow / deny */
	struct acl		 dns64_clients;	/* empty: every client */
	struct conf_domainlist	 never_synth;
	struct conf_domainlist	 always_synth;
	int			 dns64_ipv6_only;
	int			 synth_on_error;	/* RFC 6147 5.1.2 */
	int			 break_dnssec;
	int			 recursive_only;
	int			 ipv4only_arpa;		/* RFC 8880 7.1 */
	uint32_t		 reverse_ttl;
	unsigned int		 upstream_timeout;	/* ms, per try */
	unsigned int		 tcp_idle_timeout;	/* ms */
	unsigned int		 tcp_max_clients;
	unsigned int		 tcp_max_pipeline;	/* per connection */
	unsigned int		 tcp_per_address;	/* IPv6: per /64 */
	uint16_t		 edns_buffer_size;
	unsigned int		 workers;	/* 0: one per online CPU */
	size_t			 cache_size;	/* bytes; 0: no cache */
	uint32_t		 cache_max_ttl;
	uint32_t		 cache_max_neg_ttl;
	int			 serve_stale;	/* RFC 8767 */
	enum fwd_selection	 fwd_selection;
	enum dns64_parallel	 dns64_parallel;	/* RFC 6147 5.1.8 */
	char			*control_socket;	/* NULL: none */
	struct conf_addrlist	 metrics_listen;
	int			 freebind;
	char			*user;		/* NULL: stay as started */
	/* Set by conf_finalize() when the embedded default was used. */
	int			 listen_is_default;
	/*
	 * The resolv.conf the forwarders came from, or NULL: the path given
	 * to conf_finalize(), which must outlive the conf.
	 */
	const char		*forwarders_from;
	/*
	 * The forwarders in order, and their indexes in the health table
	 * (fwd.h), set by conf_index_forwarders() when the conf goes live.
	 */
	const struct conf_addr	**fwdv;
	int			*fwdi;
	int			 nfwd;
};

/* Defaults for every scalar and the default lists (ACL, exclusions). */
struct conf	*conf_new(void);
void		 conf_free(struct conf *);
/* Take and drop a reference; the last conf_unref() frees the conf. */
struct conf	*conf_ref(struct conf *);
void		 conf_unref(struct conf *);
/* Parse a file; NULL after logging "file:line: message" for each error. */
struct conf	*parse_config(const char *);
/*
 * Fill what is still empty: listen on 127.0.0.1 and ::1 port 53, the
 * forwarders from resolv_conf, prefix 64:ff9b::/96.  -1 after logging when
 * no forwarder can be found.
 */
int		 conf_finalize(struct conf *, const char *);
/*
 * Drop the forwarders from resolv.conf that are our own listen addresses,
 * as finally bound; -1 after logging when none is left.
 */
int		 conf_drop_own_forwarders(struct conf *);
/*
 * Give each forwarder its index in the health table (fwd.h), and fill
 * fwdv, fwdi and nfwd.  -1 after logging when the table is full or memory
 * is short.
 */
int		 conf_index_forwarders(struct conf *, struct fwd_table *);
/* "addr[@port]"; -1 with *errstr set. */
int		 conf_parse_addr(const char *, uint16_t, struct conf_addr *,
		    const char **);
/* "prefix/len", checked against RFC 6052; -1 with *errstr set. */
int		 conf_parse_prefix(const char *, struct dns64_prefix *,
		    const char **);
/* Append copies; -1 on allocation failure. */
int		 conf_addr_add(struct conf_addrlist *, const struct conf_addr *);
struct conf_prefix *conf_prefix_add(struct conf_prefixlist *,
		    const struct dns64_prefix *);
void		 conf_addrlist_clear(struct conf_addrlist *);
void		 conf_prefixlist_clear(struct conf_prefixlist *);
/* Read the nameserver lines of a resolv.conf; -1 if it cannot be read. */
int		 conf_read_resolv(const char *, struct conf_addrlist *);
/*
 * 1 if both configurations answer every query the same way (their
 * policy, forwarders and cache bounds are equal; where they listen and
 * the process settings do not count).  0 when unsure.
 */
int		 conf_same_answers(const struct conf *, const struct conf *);
/*
 * Log the effective setup: listen addresses, forwarders and where they
 * came from, prefixes and their limits, the query ACL; warn when a listen
 * address is refused by the query ACL.
 */
void		 conf_log_setup(const struct conf *);
/* Print in config file syntax (for -nv); the output parses back equal. */
void		 conf_print(FILE *, const struct conf *);

#endif /* CONF_H */
