/*
 * conf.c -- the configuration structure: defaults, address and prefix
 * helpers, filling in what the file left out, and printing it back.
 *
 * The parser (parse.y) builds a fresh struct conf on every load so that a
 * reload either yields a complete new configuration or leaves the running
 * one alone.  Everything here works on a struct conf passed in; nothing is
 * kept between calls.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "log.h"
#include "sa.h"

#define YESNO(x)		((x) ? "yes" : "no")

/*
 * The default query ACL: the loopback, RFC 1918, link-local and ULA ranges
 * may query, everybody else is refused.  An open DNS64 resolver would be a
 * reflection amplifier like any other open resolver (RFC 5358).
 */
static const struct {
	const char	*net;
	enum acl_action	 action;
} conf_default_acl[] = {
	{ "127.0.0.0/8",	ACL_ALLOW },
	{ "::1/128",		ACL_ALLOW },
	{ "10.0.0.0/8",		ACL_ALLOW },
	{ "172.16.0.0/12",	ACL_ALLOW },
	{ "192.168.0.0/16",	ACL_ALLOW },
	{ "169.254.0.0/16",	ACL_ALLOW },
	{ "fc00::/7",		ACL_ALLOW },
	{ "fe80::/10",		ACL_ALLOW },
	{ "0.0.0.0/0",		ACL_DENY },
	{ "::/0",		ACL_DENY },
};

/*
 * IPv4-mapped addresses in AAAA records are never treated as real IPv6
 * connectivity (RFC 6147 5.1.4), so by default they do not prevent synthesis.
 */
#define CONF_DEFAULT_EXCLUDE_AAAA	"::ffff:0:0/96"
#define CONF_DEFAULT_PREFIX		"64:ff9b::/96"	/* RFC 6052 2.1 */

static int	 conf_add_net(struct acl *, const char *, enum acl_action);
static void	 conf_domainlist_clear(struct conf_domainlist *);
static int	 conf_parse_literal(const char *, uint16_t, struct conf_addr *);
static int	 conf_is_loopback(const struct sockaddr *);
static const char *conf_own_listen(const struct conf *,
		    const struct sockaddr *, char *, size_t);
static void	 conf_print_word(FILE *, const char *);
static void	 conf_print_acl(FILE *, const struct acl *);
static void	 conf_print_addr(FILE *, const char *,
		    const struct conf_addr *);
static void	 conf_print_domains(FILE *, const char *,
		    const struct conf_domainlist *);

static int
conf_add_net(struct acl *acl, const char *s, enum acl_action action)
{
	struct acl_net	 na;
	const char	*errstr;

	if (acl_net_parse(s, &na, &errstr) == -1) {
		log_warnx("%s: %s", s, errstr);
		return (-1);
	}
	return (acl_add(acl, &na, action));
}

struct conf *
conf_new(void)
{
	struct conf	*conf;
	size_t		 i;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return (NULL);
	TAILQ_INIT(&conf->listen);
	TAILQ_INIT(&conf->forwarders);
	TAILQ_INIT(&conf->prefixes);
	TAILQ_INIT(&conf->exclude_aaaa);
	TAILQ_INIT(&conf->exclude_a);
	TAILQ_INIT(&conf->query_acl);
	TAILQ_INIT(&conf->dns64_clients);
	TAILQ_INIT(&conf->never_synth);
	TAILQ_INIT(&conf->always_synth);
	TAILQ_INIT(&conf->metrics_listen);
	conf->refs = 1;

	conf->prefix_selection = PREFIX_SELECT_ALL;
	conf->dns64_ipv6_only = 0;
	conf->synth_on_error = 1;	/* RFC 6147 5.1.2, 5.1.3 */
	conf->break_dnssec = 0;
	conf->recursive_only = 1;
	conf->ipv4only_arpa = 1;	/* RFC 8880 7.1 */
	conf->reverse_ttl = 600;
	conf->upstream_timeout = 1500;
	conf->tcp_idle_timeout = 10 * 1000;
	conf->tcp_max_clients = 256;
	conf->tcp_max_pipeline = 64;
	/* The value DNS flag day 2020 settled on: no IP fragmentation. */
	conf->edns_buffer_size = DNS_EDNS_SIZE;
	/*
	 * One address may hold this many TCP connections (an IPv6 client
	 * its /64), so that no single client can lock the others out of
	 * TCP (RFC 7766 6.2.2).
	 */
	conf->tcp_per_address = 32;
	conf->workers = 0;
	conf->cache_size = (size_t)16 << 20;
	/* Unbound's and dnsdist's bounds. */
	conf->cache_max_ttl = 86400;
	conf->cache_max_neg_ttl = 3600;
	conf->serve_stale = 0;
	conf->fwd_selection = FWD_SELECT_FASTEST;
	conf->dns64_parallel = DNS64_PARALLEL_AUTO;
	conf->freebind = 0;
	conf->user = NULL;
	if ((conf->control_socket = strdup(CONF_CONTROL_SOCKET)) == NULL)
		goto fail;

	if (conf_add_net(&conf->exclude_aaaa, CONF_DEFAULT_EXCLUDE_AAAA,
	    ACL_ALLOW) == -1)
		goto fail;
	for (i = 0; i < sizeof(conf_default_acl) / sizeof(conf_default_acl[0]);
	    i++)
		if (conf_add_net(&conf->query_acl, conf_default_acl[i].net,
		    conf_default_acl[i].action) == -1)
			goto fail;
	return (conf);

 fail:
	conf_free(conf);
	return (NULL);
}

static void
conf_domainlist_clear(struct conf_domainlist *list)
{
	struct conf_domain	*d;

	while ((d = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, d, entry);
		ldns_rdf_deep_free(d->name);
		free(d);
	}
}

void
conf_addrlist_clear(struct conf_addrlist *list)
{
	struct conf_addr	*a;

	while ((a = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, a, entry);
		free(a);
	}
}

void
conf_prefixlist_clear(struct conf_prefixlist *list)
{
	struct conf_prefix	*p;

	while ((p = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, p, entry);
		acl_clear(&p->clients);
		acl_clear(&p->destinations);
		free(p);
	}
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	conf_addrlist_clear(&conf->listen);
	conf_addrlist_clear(&conf->forwarders);
	conf_prefixlist_clear(&conf->prefixes);
	acl_clear(&conf->exclude_aaaa);
	acl_clear(&conf->exclude_a);
	acl_clear(&conf->query_acl);
	acl_clear(&conf->dns64_clients);
	conf_domainlist_clear(&conf->never_synth);
	conf_domainlist_clear(&conf->always_synth);
	conf_addrlist_clear(&conf->metrics_listen);
	free(conf->control_socket);
	free(conf->user);
	free(conf->fwdv);
	free(conf->fwdi);
	free(conf);
}

int
conf_index_forwarders(struct conf *conf, struct fwd_table *fwd)
{
	struct conf_addr	*ca;
	char			 buf[SA_STRLEN];
	int			 n = 0;

	TAILQ_FOREACH(ca, &conf->forwarders, entry)
		n++;
	if (n > FWD_MAX) {
		log_warnx("more than %d forwarders", FWD_MAX);
		return (-1);
	}
	free(conf->fwdv);
	free(conf->fwdi);
	conf->nfwd = 0;
	if ((conf->fwdv = calloc(n + 1, sizeof(*conf->fwdv))) == NULL ||
	    (conf->fwdi = calloc(n + 1, sizeof(*conf->fwdi))) == NULL) {
		log_warn("%s", __func__);
		return (-1);
	}
	TAILQ_FOREACH(ca, &conf->forwarders, entry) {
		if ((ca->fwd = fwd_table_add(fwd, (struct sockaddr *)&ca->ss,
		    ca->sslen)) == -1) {
			log_warnx("forwarder %s: more than %d forwarders over "
			    "the reloads; restart", sa_str((struct sockaddr *)
			    &ca->ss, buf, sizeof(buf)), FWD_MAX);
			return (-1);
		}
		conf->fwdv[conf->nfwd] = ca;
		conf->fwdi[conf->nfwd++] = ca->fwd;
	}
	return (0);
}

struct conf *
conf_ref(struct conf *conf)
{
	atomic_fetch_add_explicit(&conf->refs, 1, memory_order_relaxed);
	return (conf);
}

void
conf_unref(struct conf *conf)
{
	if (conf != NULL && atomic_fetch_sub_explicit(&conf->refs, 1,
	    memory_order_acq_rel) == 1)
		conf_free(conf);
}

/* An address literal without a port; 0, or -1 if it is not one. */
static int
conf_parse_literal(const char *s, uint16_t port, struct conf_addr *ca)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	memset(ca, 0, sizeof(*ca));
	sin = (struct sockaddr_in *)&ca->ss;
	sin6 = (struct sockaddr_in6 *)&ca->ss;
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ca->sslen = sizeof(*sin);
		return (0);
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ca->sslen = sizeof(*sin6);
		return (0);
	}
	memset(ca, 0, sizeof(*ca));
	return (-1);
}

int
conf_parse_addr(const char *s, uint16_t defport, struct conf_addr *ca,
    const char **errstr)
{
	char	 buf[INET6_ADDRSTRLEN + 8], *at, *end;
	long	 port = defport;

	if (strlen(s) >= sizeof(buf)) {
		*errstr = "invalid address";
		return (-1);
	}
	strcpy(buf, s);
	/* '@' and not ':' separates the port: IPv6 literals contain ':'. */
	if ((at = strrchr(buf, '@')) != NULL) {
		*at++ = '\0';
		errno = 0;
		port = strtol(at, &end, 10);
		if (!isdigit((unsigned char)*at) || *end != '\0' ||
		    errno != 0 || port < 1 || port > 65535) {
			*errstr = "invalid port";
			return (-1);
		}
	}
	if (conf_parse_literal(buf, port, ca) == -1) {
		*errstr = "invalid address";
		return (-1);
	}
	return (0);
}

int
conf_parse_prefix(const char *s, struct dns64_prefix *pfx,
    const char **errstr)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long		 plen;
	int		 i;

	memset(pfx, 0, sizeof(*pfx));
	if (strlen(s) >= sizeof(buf)) {
		*errstr = "invalid IPv6 prefix";
		return (-1);
	}
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL) {
		*errstr = "prefix length missing";
		return (-1);
	}
	*slash++ = '\0';
	if (inet_pton(AF_INET6, buf, pfx->addr) != 1) {
		*errstr = "invalid IPv6 prefix";
		return (-1);
	}
	errno = 0;
	plen = strtol(slash, &end, 10);
	if (!isdigit((unsigned char)*slash) || *end != '\0' || errno != 0 ||
	    plen < 0 || plen > 128) {
		*errstr = "invalid prefix length";
		return (-1);
	}
	pfx->plen = plen;
	/* Length and u-octet first: their message is the more useful one. */
	if (dns64_prefix_check(pfx, errstr) == -1)
		return (-1);
	for (i = pfx->plen; i < 128; i++)
		if (pfx->addr[i / 8] & (0x80 >> (i % 8))) {
			*errstr = "address has bits set beyond the prefix "
			    "length";
			return (-1);
		}
	return (0);
}

int
conf_addr_add(struct conf_addrlist *list, const struct conf_addr *ca)
{
	struct conf_addr	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (-1);
	n->ss = ca->ss;
	n->sslen = ca->sslen;
	TAILQ_INSERT_TAIL(list, n, entry);
	return (0);
}

struct conf_prefix *
conf_prefix_add(struct conf_prefixlist *list, const struct dns64_prefix *pfx)
{
	struct conf_prefix	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->pfx = *pfx;
	TAILQ_INIT(&p->clients);
	TAILQ_INIT(&p->destinations);
	TAILQ_INSERT_TAIL(list, p, entry);
	return (p);
}

int
conf_read_resolv(const char *path, struct conf_addrlist *list)
{
	FILE			*fp;
	char			*line = NULL, *p, *tok;
	size_t			 linesize = 0;
	struct conf_addr	 ca;
	const struct conf_addr	*a;
	int			 lineno = 0, dup;

	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (getline(&line, &linesize, fp) != -1) {
		lineno++;
		p = line + strspn(line, " \t");
		if (strncmp(p, "nameserver", 10) != 0 ||
		    (p[10] != ' ' && p[10] != '\t'))
			continue;
		p += 10;
		p += strspn(p, " \t");
		tok = p;
		p += strcspn(p, " \t\r\n#;");
		*p = '\0';
		if (*tok == '\0')
			continue;
		/*
		 * A link-local nameserver needs its interface, which a
		 * forwarder address of ours cannot carry.
		 */
		if (strchr(tok, '%') != NULL) {
			log_warnx("%s:%d: nameserver %s: scope ids are not "
			    "supported, skipped", path, lineno, tok);
			continue;
		}
		if (conf_parse_literal(tok, DNS_PORT, &ca) == -1) {
			log_warnx("%s:%d: nameserver %s: invalid address, "
			    "skipped", path, lineno, tok);
			continue;
		}
		dup = 0;
		TAILQ_FOREACH(a, list, entry)
			if (sa_equal((const struct sockaddr *)&a->ss,
			    (const struct sockaddr *)&ca.ss))
				dup = 1;
		if (dup)
			continue;
		if (conf_addr_add(list, &ca) == -1) {
			free(line);
			fclose(fp);
			errno = ENOMEM;
			return (-1);
		}
	}
	free(line);
	fclose(fp);
	return (0);
}

static int
conf_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127);
	}
	sin6 = (const struct sockaddr_in6 *)sa;
	return (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
}

/*
 * Would a query sent to sa arrive at one of our own sockets?  Forwarding to
 * ourselves loops every query until it times out, which is the classic
 * mistake when resolv.conf points at the local resolver we replace.
 * Returns the reason, or NULL.
 */
static const char *
conf_own_listen(const struct conf *conf, const struct sockaddr *sa,
    char *why, size_t len)
{
	const struct conf_addr	*l;
	const struct sockaddr	*lsa;
	char			 buf[SA_STRLEN];

	TAILQ_FOREACH(l, &conf->listen, entry) {
		lsa = (const struct sockaddr *)&l->ss;
		if (sa_equal(lsa, sa)) {
			snprintf(why, len, "it is our listen address %s",
			    sa_str(lsa, buf, sizeof(buf)));
			return (why);
		}
		if (lsa->sa_family == sa->sa_family && sa_is_wildcard(lsa) &&
		    sa_port(lsa) == sa_port(sa) && conf_is_loopback(sa)) {
			snprintf(why, len, "we listen on the wildcard "
			    "address %s, which includes the loopback",
			    sa_str(lsa, buf, sizeof(buf)));
			return (why);
		}
	}
	return (NULL);
}

int
conf_finalize(struct conf *conf, const char *resolv_path)
{
	struct conf_addrlist	 ns;
	struct conf_addr	 ca;
	struct dns64_prefix	 pfx;
	const char		*errstr;

	if (TAILQ_EMPTY(&conf->listen)) {
		if (conf_parse_addr("127.0.0.1", DNS_PORT, &ca,
		    &errstr) == -1 || conf_addr_add(&conf->listen, &ca) == -1 ||
		    conf_parse_addr("::1", DNS_PORT, &ca, &errstr) == -1 ||
		    conf_addr_add(&conf->listen, &ca) == -1) {
			log_warn("default listen addresses");
			return (-1);
		}
		conf->listen_is_default = 1;
	}

	if (TAILQ_EMPTY(&conf->forwarders)) {
		if (resolv_path == NULL) {
			log_warnx("no forwarder: no resolv.conf to take them "
			    "from; add a forwarder line or use -u");
			return (-1);
		}
		TAILQ_INIT(&ns);
		if (conf_read_resolv(resolv_path, &ns) == -1) {
			log_warnx("no forwarder: cannot read %s: %s; add a "
			    "forwarder line or use -u", resolv_path,
			    strerror(errno));
			conf_addrlist_clear(&ns);
			return (-1);
		}
		TAILQ_CONCAT(&conf->forwarders, &ns, entry);
		if (TAILQ_EMPTY(&conf->forwarders)) {
			log_warnx("no forwarder: %s has no usable nameserver "
			    "line; add a forwarder line or use -u",
			    resolv_path);
			return (-1);
		}
		conf->forwarders_from = resolv_path;
	}

	if (TAILQ_EMPTY(&conf->prefixes)) {
		if (conf_parse_prefix(CONF_DEFAULT_PREFIX, &pfx,
		    &errstr) == -1) {
			log_warnx("default prefix: %s", errstr);
			return (-1);
		}
		if (conf_prefix_add(&conf->prefixes, &pfx) == NULL) {
			log_warn("default prefix");
			return (-1);
		}
	}
	return (0);
}

int
conf_drop_own_forwarders(struct conf *conf)
{
	struct conf_addr	*a, *next;
	char			 buf[SA_STRLEN], why[128];

	if (conf->forwarders_from == NULL)
		return (0);
	for (a = TAILQ_FIRST(&conf->forwarders); a != NULL; a = next) {
		next = TAILQ_NEXT(a, entry);
		if (conf_own_listen(conf, (struct sockaddr *)&a->ss, why,
		    sizeof(why)) == NULL)
			continue;
		log_info("nameserver %s from %s skipped as forwarder: %s",
		    sa_str((struct sockaddr *)&a->ss, buf, sizeof(buf)),
		    conf->forwarders_from, why);
		TAILQ_REMOVE(&conf->forwarders, a, entry);
		free(a);
	}
	if (TAILQ_EMPTY(&conf->forwarders)) {
		log_warnx("no forwarder: %s has no usable nameserver line; "
		    "add a forwarder line or use -u", conf->forwarders_from);
		return (-1);
	}
	return (0);
}

/* A list's entries as "a, !b, c" into buf. */
static void
conf_acl_summary(const struct acl *acl, char *buf, size_t len)
{
	const struct acl_entry	*e;
	char			 net[64];
	size_t			 off = 0;

	buf[0] = '\0';
	TAILQ_FOREACH(e, acl, entry) {
		if (off >= len)
			break;
		off += snprintf(buf + off, len - off, "%s%s%s",
		    off ? ", " : "", e->action == ACL_DENY ? "!" : "",
		    acl_net_str(&e->net, net, sizeof(net)));
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "any");
}

void
conf_log_setup(const struct conf *conf)
{
	const struct conf_addr		*a;
	const struct conf_prefix	*p;
	const struct sockaddr		*sa;
	char				 name[SA_STRLEN], buf[512], cl[256];
	char				 dst[256], abuf[INET6_ADDRSTRLEN];
	size_t				 off = 0;

	TAILQ_FOREACH(a, &conf->listen, entry)
		log_info("listening on %s", sa_str((const struct sockaddr *)
		    &a->ss, name, sizeof(name)));
	buf[0] = '\0';
	TAILQ_FOREACH(a, &conf->forwarders, entry)
		if (off < sizeof(buf))
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
			    off ? " " : "", sa_str((const struct sockaddr *)
			    &a->ss, name, sizeof(name)));
	log_info("forwarders %s (%s%s), %s", buf, conf->forwarders_from ?
	    "from " : "", conf->forwarders_from ? conf->forwarders_from :
	    "configured",
	    conf->fwd_selection == FWD_SELECT_ORDERED ? "ordered" :
	    conf->fwd_selection == FWD_SELECT_ROUNDROBIN ? "round-robin" :
	    "fastest first");
	TAILQ_FOREACH(p, &conf->prefixes, entry) {
		if (inet_ntop(AF_INET6, p->pfx.addr, abuf, sizeof(abuf)) ==
		    NULL)
			strcpy(abuf, "?");
		conf_acl_summary(&p->clients, cl, sizeof(cl));
		conf_acl_summary(&p->destinations, dst, sizeof(dst));
		log_info("prefix %s/%d%s, clients %s, destinations %s", abuf,
		    p->pfx.plen, dns64_prefix_is_wkp(&p->pfx) ?
		    " (well-known: global IPv4 only)" : "", cl, dst);
	}
	conf_acl_summary(&conf->query_acl, buf, sizeof(buf));
	log_info("query acl: %s; everybody else is refused", buf);
	if (!TAILQ_EMPTY(&conf->dns64_clients)) {
		conf_acl_summary(&conf->dns64_clients, buf, sizeof(buf));
		log_info("dns64 clients: %s", buf);
	}
	/* The first trap of a lab: the ACL refuses our own network. */
	TAILQ_FOREACH(a, &conf->listen, entry) {
		sa = (const struct sockaddr *)&a->ss;
		if (!sa_is_wildcard(sa) &&
		    acl_match_sa(&conf->query_acl, sa) != ACL_ALLOW)
			log_warnx("listening on %s, but the query acl refuses "
			    "that address; add \"allow\" (or -a) for the "
			    "clients' network", sa_str(sa, name,
			    sizeof(name)));
	}
}

/*
 * The settings that shape answers, printed: everything but where we
 * listen, control, metrics, the TCP limits and the process settings.
 */
static char *
conf_answer_text(const struct conf *conf)
{
	static const char *const skip[] = {
		"listen on ", "metrics-listen ", "control-socket ", "tcp-",
		"workers ", "user ", "# user", "freebind ", "cache-size "
	};
	FILE		*fp;
	char		*text = NULL, *line = NULL, *out = NULL;
	size_t		 size = 0, linesize = 0, i, olen = 0;
	FILE		*op;
	int		 keep;

	if ((fp = open_memstream(&text, &size)) == NULL)
		return (NULL);
	conf_print(fp, conf);
	if (fclose(fp) != 0) {
		free(text);
		return (NULL);
	}
	if ((fp = fmemopen(text, size, "r")) == NULL ||
	    (op = open_memstream(&out, &olen)) == NULL) {
		if (fp != NULL)
			fclose(fp);
		free(text);
		return (NULL);
	}
	while (getline(&line, &linesize, fp) != -1) {
		keep = 1;
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (strncmp(line, skip[i], strlen(skip[i])) == 0)
				keep = 0;
		if (keep)
			fputs(line, op);
	}
	free(line);
	fclose(fp);
	free(text);
	if (fclose(op) != 0) {
		free(out);
		return (NULL);
	}
	return (out);
}

int
conf_same_answers(const struct conf *a, const struct conf *b)
{
	char	*ta, *tb;
	int	 same;

	ta = conf_answer_text(a);
	tb = conf_answer_text(b);
	same = ta != NULL && tb != NULL && strcmp(ta, tb) == 0;
	free(ta);
	free(tb);
	return (same);
}

/*
 * Print a word so that the lexer of parse.y reads it back unchanged: always
 * quoted, so that no keyword, number or special character can change its
 * meaning.  Domain names from ldns may contain anything.
 */
static void
conf_print_word(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
conf_print_acl(FILE *fp, const struct acl *acl)
{
	const struct acl_entry	*e;
	char			 buf[64];

	fputs("{", fp);
	TAILQ_FOREACH(e, acl, entry)
		fprintf(fp, " %s%s", e->action == ACL_DENY ? "!" : "",
		    acl_net_str(&e->net, buf, sizeof(buf)));
	fputs(" }", fp);
}

static void
conf_print_addr(FILE *fp, const char *kw, const struct conf_addr *ca)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&ca->ss;
	const void		*p;
	char			 buf[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET)
		p = &((const struct sockaddr_in *)sa)->sin_addr;
	else
		p = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (inet_ntop(sa->sa_family, p, buf, sizeof(buf)) == NULL)
		strcpy(buf, "?");
	fprintf(fp, "%s %s port %u\n", kw, buf, sa_port(sa));
}

static void
conf_print_domains(FILE *fp, const char *kw,
    const struct conf_domainlist *list)
{
	const struct conf_domain	*d;
	char				*s;

	fprintf(fp, "%s {", kw);
	TAILQ_FOREACH(d, list, entry) {
		fputc(' ', fp);
		if ((s = ldns_rdf2str(d->name)) == NULL) {
			/* Unprintable only when out of memory. */
			fputs("\"?\"", fp);
			continue;
		}
		conf_print_word(fp, s);
		free(s);
	}
	fputs(" }\n", fp);
}

void
conf_print(FILE *fp, const struct conf *conf)
{
	const struct conf_addr		*a;
	const struct conf_prefix	*p;
	const struct acl_entry		*e;
	char				 buf[64], abuf[INET6_ADDRSTRLEN];

	TAILQ_FOREACH(a, &conf->listen, entry)
		conf_print_addr(fp, "listen on", a);
	TAILQ_FOREACH(a, &conf->forwarders, entry)
		conf_print_addr(fp, "forwarder", a);
	TAILQ_FOREACH(p, &conf->prefixes, entry) {
		if (inet_ntop(AF_INET6, p->pfx.addr, abuf,
		    sizeof(abuf)) == NULL)
			strcpy(abuf, "?");
		fprintf(fp, "prefix %s/%d", abuf, p->pfx.plen);
		if (TAILQ_EMPTY(&p->clients) &&
		    TAILQ_EMPTY(&p->destinations)) {
			fputc('\n', fp);
			continue;
		}
		fputs(" {\n", fp);
		if (!TAILQ_EMPTY(&p->clients)) {
			fputs("\tclients ", fp);
			conf_print_acl(fp, &p->clients);
			fputc('\n', fp);
		}
		if (!TAILQ_EMPTY(&p->destinations)) {
			fputs("\tdestinations ", fp);
			conf_print_acl(fp, &p->destinations);
			fputc('\n', fp);
		}
		fputs("}\n", fp);
	}
	fprintf(fp, "prefix-selection %s\n",
	    conf->prefix_selection == PREFIX_SELECT_ROUNDROBIN ?
	    "round-robin" : "all");
	fputs("exclude-aaaa ", fp);
	conf_print_acl(fp, &conf->exclude_aaaa);
	fputs("\nexclude-a ", fp);
	conf_print_acl(fp, &conf->exclude_a);
	fputc('\n', fp);
	TAILQ_FOREACH(e, &conf->query_acl, entry)
		fprintf(fp, "%s %s\n", e->action == ACL_DENY ? "deny" : "allow",
		    acl_net_str(&e->net, buf, sizeof(buf)));
	fputs("dns64-clients ", fp);
	conf_print_acl(fp, &conf->dns64_clients);
	fputc('\n', fp);
	fprintf(fp, "dns64-ipv6-only %s\n", YESNO(conf->dns64_ipv6_only));
	conf_print_domains(fp, "never-synthesize", &conf->never_synth);
	conf_print_domains(fp, "always-synthesize", &conf->always_synth);
	fprintf(fp, "synthesize-on-error %s\n", YESNO(conf->synth_on_error));
	fprintf(fp, "break-dnssec %s\n", YESNO(conf->break_dnssec));
	fprintf(fp, "recursive-only %s\n", YESNO(conf->recursive_only));
	fprintf(fp, "ipv4only-arpa %s\n", YESNO(conf->ipv4only_arpa));
	fprintf(fp, "reverse-ttl %u\n", (unsigned int)conf->reverse_ttl);
	fprintf(fp, "upstream-timeout %u\n", conf->upstream_timeout);
	fprintf(fp, "tcp-idle-timeout %u\n", conf->tcp_idle_timeout / 1000);
	fprintf(fp, "tcp-clients %u\n", conf->tcp_max_clients);
	fprintf(fp, "tcp-pipeline %u\n", conf->tcp_max_pipeline);
	fprintf(fp, "tcp-clients-per-address %u\n", conf->tcp_per_address);
	fprintf(fp, "edns-buffer-size %u\n", conf->edns_buffer_size);
	if (conf->workers == 0)
		fputs("workers auto\n", fp);
	else
		fprintf(fp, "workers %u\n", conf->workers);
	fprintf(fp, "cache-size %zu\n", conf->cache_size >> 20);
	fprintf(fp, "cache-max-ttl %u\n", (unsigned int)conf->cache_max_ttl);
	fprintf(fp, "cache-max-negative-ttl %u\n",
	    (unsigned int)conf->cache_max_neg_ttl);
	fprintf(fp, "serve-stale %s\n", YESNO(conf->serve_stale));
	fprintf(fp, "forwarder-selection %s\n",
	    conf->fwd_selection == FWD_SELECT_ORDERED ? "ordered" :
	    conf->fwd_selection == FWD_SELECT_ROUNDROBIN ? "round-robin" :
	    "fastest");
	fprintf(fp, "dns64-parallel %s\n",
	    conf->dns64_parallel == DNS64_PARALLEL_AUTO ? "auto" :
	    YESNO(conf->dns64_parallel == DNS64_PARALLEL_YES));
	if (conf->control_socket == NULL)
		fputs("control-socket none\n", fp);
	else {
		fputs("control-socket ", fp);
		conf_print_word(fp, conf->control_socket);
		fputc('\n', fp);
	}
	TAILQ_FOREACH(a, &conf->metrics_listen, entry)
		conf_print_addr(fp, "metrics-listen", a);
	fprintf(fp, "freebind %s\n", YESNO(conf->freebind));
	if (conf->user == NULL)
		fputs("# user not set: no privilege drop\n", fp);
	else {
		fputs("user ", fp);
		conf_print_word(fp, conf->user);
		fputc('\n', fp);
	}
}
