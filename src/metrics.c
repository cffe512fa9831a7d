/*
 * metrics.c -- Prometheus metrics over HTTP.
 *
 * The page is rendered from one report (report.h), the same sums as the
 * control tool's stats, in the text exposition format 0.0.4: names with
 * the prefix dns64proxy_, base units (seconds, bytes), counters ending in
 * _total, histograms cumulative with le="+Inf" equal to _count.  Every
 * label combination that can appear is there from the start, at 0, so
 * that rate() sees the first increment.  No label carries a client address
 * or a query name: the only open-ended label is the forwarder, at most
 * FWD_MAX of them.  Counters only grow; reading resets nothing, so any
 * number of scrapers can share the page.
 *
 * The sockets are made here rather than by evhttp_bind_socket(), which
 * would bind "::" dual-stack and then fail on "0.0.0.0"
 * (libevent/libevent#394); each gets IPV6_V6ONLY, and IP_FREEBIND with
 * freebind, and is handed to evhttp_accept_socket_with_handle().  Only GET
 * is served; evhttp (2.1) has no cap on connections, which the timeout and
 * the loopback-only default make up for.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "dns64proxy.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "sa.h"

#define METRICS_BACKLOG		16
#define METRICS_TIMEOUT		10		/* seconds, per request */
#define METRICS_HEADERS_MAX	8192
#define METRICS_BODY_MAX	1024
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define P			"dns64proxy_"

struct msock {
	TAILQ_ENTRY(msock)		 entry;
	struct sockaddr_storage		 ss;
	socklen_t			 sslen;
	int				 fd;
	struct evhttp_bound_socket	*bound;		/* NULL until served */
	int				 keep;		/* in the new conf */
};
TAILQ_HEAD(msocklist, msock);

struct metrics {
	struct runstate		*rs;
	struct event_base	*base;
	struct evhttp		*http;
	struct msocklist	 socks;		/* served */
	struct msocklist	 pending;	/* prepared */
	int			 prepared;
};

/* ---------------------------------------------------------------- render */

static void
family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP " P "%s %s\n# TYPE " P "%s %s\n",
	    name, help, name, type);
}

static void
value(struct evbuffer *b, const char *name, const char *labels, uint64_t v)
{
	evbuffer_add_printf(b, P "%s%s%s%s %llu\n", name,
	    labels != NULL ? "{" : "", labels != NULL ? labels : "",
	    labels != NULL ? "}" : "", (unsigned long long)v);
}

static void
counter(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "counter", help);
	value(b, name, NULL, v);
}

static void
gauge(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "gauge", help);
	value(b, name, NULL, v);
}

/* Microseconds as seconds, exactly. */
static void
print_seconds(struct evbuffer *b, uint64_t us)
{
	evbuffer_add_printf(b, "%llu.%06llu", (unsigned long long)(us /
	    1000000), (unsigned long long)(us % 1000000));
}

/* A bucket bound: seconds, without trailing zeros ("0.00025", "8.192"). */
static void
print_bound(struct evbuffer *b, uint64_t us)
{
	char	 buf[32];
	size_t	 n;

	n = (size_t)snprintf(buf, sizeof(buf), "%llu.%06llu",
	    (unsigned long long)(us / 1000000),
	    (unsigned long long)(us % 1000000));
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	evbuffer_add(b, buf, n);
}

static void
histogram(struct evbuffer *b, const char *name, const char *help,
    const struct stats_histogram *h)
{
	uint64_t	 cum = 0;
	int		 i;

	family(b, name, "histogram", help);
	for (i = 0; i <= STATS_NBUCKETS; i++) {
		cum += STATS_GET(h->bucket[i]);
		evbuffer_add_printf(b, P "%s_bucket{le=\"", name);
		if (i < STATS_NBUCKETS)
			print_bound(b, report_bucket_us(i));
		else
			evbuffer_add_printf(b, "+Inf");
		evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	evbuffer_add_printf(b, P "%s_sum ", name);
	print_seconds(b, STATS_GET(h->sum_us));
	/* The count is the buckets' sum, so that it equals +Inf. */
	evbuffer_add_printf(b, "\n" P "%s_count %llu\n", name,
	    (unsigned long long)cum);
}

static void
render_requests(const struct report *r, struct evbuffer *b)
{
	static const char *const proto[2] = { "udp", "tcp" };
	const struct stats	*s = &r->stats;
	char			 labels[128];
	int			 t, f, k;

	family(b, "requests_total", "counter",
	    "Queries received, by transport, address family (1 IPv4, 2 IPv6) "
	    "and query type.");
	for (t = 0; t < 2; t++)
		for (f = 0; f < 2; f++)
			for (k = 0; k < STATS_QTYPE_MAX; k++) {
				snprintf(labels, sizeof(labels), "proto=\"%s\","
				    "family=\"%d\",type=\"%s\"", proto[t],
				    f + 1, report_qtype_name(k));
				value(b, "requests_total", labels,
				    STATS_GET(s->queries[t][f][k]));
			}
	family(b, "responses_total", "counter", "Responses sent, by rcode.");
	for (k = 0; k < STATS_RCODE_MAX; k++) {
		snprintf(labels, sizeof(labels), "rcode=\"%s\"",
		    report_rcode_name(k));
		value(b, "responses_total", labels, STATS_GET(s->rcode[k]));
	}
	family(b, "responses_by_outcome_total", "counter",
	    "Queries by what became of them (the word of the -v log line).");
	for (k = 0; k < OUTCOME_MAX; k++) {
		snprintf(labels, sizeof(labels), "outcome=\"%s\"",
		    stats_outcome_name(k));
		value(b, "responses_by_outcome_total", labels,
		    STATS_GET(s->outcome[k]));
	}
	counter(b, "truncated_total", "UDP responses sent with TC=1.",
	    STATS_GET(s->truncated));
	counter(b, "dropped_total", "Queries that got no response at all.",
	    STATS_GET(s->outcome[OUTCOME_DROPPED]));
	counter(b, "acl_refused_total", "Queries refused by the query ACL.",
	    STATS_GET(s->outcome[OUTCOME_REFUSED]));
	histogram(b, "request_duration_seconds", "Time from a query's "
	    "arrival to its response.", &s->latency);
	gauge(b, "inflight_queries", "Queries being answered now.",
	    STATS_GET(s->inflight));
	gauge(b, "tcp_connections", "Client TCP connections open now.",
	    STATS_GET(s->tcp_open));
	counter(b, "tcp_accepted_total", "Client TCP connections accepted.",
	    STATS_GET(s->tcp_accepted));
	counter(b, "tcp_rejected_total", "Client TCP connections refused "
	    "(per-address limit, or no room).", STATS_GET(s->tcp_rejected));
}

static void
render_dns64(const struct report *r, struct evbuffer *b)
{
	const struct stats	*s = &r->stats;

	counter(b, "dns64_requests_translated_total", "AAAA queries answered "
	    "with synthesized records (RFC 6147 5.1.7).",
	    STATS_GET(s->outcome[OUTCOME_SYNTHESIZED]));
	counter(b, "dns64_synthesized_records_total", "AAAA records "
	    "synthesized (built; a synthesized answer served again from the "
	    "cache counts in dns64_requests_translated_total only).",
	    STATS_GET(s->synthesized_rrs));
	counter(b, "dns64_ptr_translated_total", "PTR queries mapped to "
	    "in-addr.arpa (RFC 6147 5.3.1).",
	    STATS_GET(s->outcome[OUTCOME_MAPPED]));
	counter(b, "dns64_aaaa_excluded_total", "AAAA records excluded "
	    "(exclude-aaaa, RFC 6147 5.1.4).", STATS_GET(s->aaaa_excluded));
	counter(b, "dns64_a_unmapped_total", "Queries whose A records could "
	    "not be mapped into any prefix.", STATS_GET(s->a_unmapped));
}

static void
render_cache(const struct report *r, struct evbuffer *b)
{
	const struct stats	*s = &r->stats;

	family(b, "cache_hits_total", "counter", "Cache hits: whole replies "
	    "(reply) and forwarder answers (upstream).");
	value(b, "cache_hits_total", "kind=\"reply\"",
	    STATS_GET(s->cache_reply_hits));
	value(b, "cache_hits_total", "kind=\"upstream\"",
	    STATS_GET(s->cache_hits));
	counter(b, "cache_misses_total", "Cache misses.",
	    STATS_GET(s->cache_misses));
	counter(b, "cache_stale_total", "Stale answers served (RFC 8767).",
	    STATS_GET(s->cache_stale));
	gauge(b, "cache_entries", "Entries in the cache.", r->cache.entries);
	gauge(b, "cache_bytes", "Bytes the cache holds.", r->cache.bytes);
	gauge(b, "cache_max_bytes", "The cache's size (0: off).",
	    r->cache.maxbytes);
	counter(b, "cache_evictions_total", "Entries dropped to make room.",
	    r->cache.evictions);
}

static void
render_upstream(const struct report *r, struct evbuffer *b)
{
	const struct stats	*s = &r->stats;
	const struct fwd_info	*fi;
	char			 labels[128];
	int			 i, g;

	/* Per forwarder: every one known since the start. */
#define PER_FWD(m, t, h, expr) do {					\
	family(b, m, t, h);						\
	for (i = 0; i < r->nfwd; i++) {					\
		fi = &r->fwd[i].info;					\
		snprintf(labels, sizeof(labels), "upstream=\"%s\"",	\
		    fi->name);						\
		value(b, m, labels, (expr));				\
	}								\
} while (0)
	PER_FWD("upstream_queries_total", "counter",
	    "Queries sent to a forwarder (tries).", fi->tries);
	PER_FWD("upstream_replies_total", "counter",
	    "Replies received from a forwarder.", fi->replies);
	PER_FWD("upstream_timeouts_total", "counter",
	    "Tries that got no reply in time.", fi->timeouts_total);
	PER_FWD("upstream_errors_total", "counter",
	    "Transport errors: ICMP unreachable, refused, reset.", fi->errors);
	PER_FWD("upstream_broken_total", "counter",
	    "Replies only a broken server sends.", fi->broken);
#undef PER_FWD
	/* State: the forwarders of the running configuration. */
	family(b, "upstream_up", "gauge",
	    "1 if the forwarder is up for the query group, 0 if down.");
	for (i = 0; i < r->nfwd; i++) {
		if (!r->fwd[i].configured)
			continue;
		fi = &r->fwd[i].info;
		for (g = 0; g < FWD_NGROUPS; g++) {
			snprintf(labels, sizeof(labels), "upstream=\"%s\","
			    "group=\"%s\"", fi->name, report_group_name(g));
			value(b, "upstream_up", labels, fi->up[g]);
		}
	}
	family(b, "upstream_srtt_seconds", "gauge",
	    "Smoothed round-trip time (RFC 6298) of a forwarder that replied.");
	for (i = 0; i < r->nfwd; i++) {
		fi = &r->fwd[i].info;
		if (!r->fwd[i].configured || !fi->known)
			continue;
		evbuffer_add_printf(b, P "upstream_srtt_seconds{upstream=\"%s\"}"
		    " ", fi->name);
		print_seconds(b, (uint64_t)fi->srtt * 1000);
		evbuffer_add_printf(b, "\n");
	}
	histogram(b, "upstream_request_duration_seconds", "Round-trip time "
	    "of the forwarders' replies.", &s->upstream_rtt);
	counter(b, "upstream_tcp_fallbacks_total", "Truncated replies asked "
	    "again over TCP.", STATS_GET(s->upstream_tcp));
	counter(b, "upstream_coalesced_total", "Queries that joined an "
	    "identical one in flight.", STATS_GET(s->upstream_coalesced));
}

void
metrics_render(const struct report *r, struct evbuffer *b)
{
	family(b, "build_info", "gauge", "The version, as a label.");
	value(b, "build_info", "version=\"" PACKAGE_VERSION "\"", 1);
	gauge(b, "start_time_seconds", "When the daemon started, seconds "
	    "since the epoch.", (uint64_t)r->started);
	family(b, "config_reloads_total", "counter",
	    "Configuration reloads, by result.");
	value(b, "config_reloads_total", "result=\"success\"", r->reloads_ok);
	value(b, "config_reloads_total", "result=\"failure\"",
	    r->reloads_failed);
	gauge(b, "config_last_reload_success_timestamp_seconds", "When the "
	    "running configuration went live, seconds since the epoch.",
	    (uint64_t)r->last_reload_ok);
	gauge(b, "config_generation", "The running configuration's "
	    "generation (1 at start, one more per successful reload).",
	    r->generation);
	render_requests(r, b);
	render_dns64(r, b);
	render_cache(r, b);
	render_upstream(r, b);
}

/* ------------------------------------------------------------------ http */

static void
http_cb(struct evhttp_request *req, void *arg)
{
	struct metrics		*m = arg;
	struct evkeyvalq	*hdr = evhttp_request_get_output_headers(req);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path;
	struct evbuffer		*b;
	struct report		*r;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	/* Not evhttp_send_error(), which drops the headers set here. */
	evhttp_add_header(hdr, "Content-Type", "text/plain; charset=utf-8");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(hdr, "Allow", "GET");
		evbuffer_add_printf(b, "only GET is served\n");
		evhttp_send_reply(req, 405, "Method Not Allowed", b);
		evbuffer_free(b);
		return;
	}
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evbuffer_add_printf(b, "not found; the metrics are at "
		    "/metrics\n");
		evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", b);
		evbuffer_free(b);
		return;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		evbuffer_free(b);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	report_collect(m->rs, r);
	metrics_render(r, b);
	free(r);
	evhttp_remove_header(hdr, "Content-Type");
	evhttp_add_header(hdr, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* --------------------------------------------------------------- sockets */

static int
set_opt(int fd, int level, int name)
{
	int	 on = 1;

	return (setsockopt(fd, level, name, &on, sizeof(on)));
}

/* IP_FREEBIND: bind an address no interface has (yet). */
static int
set_freebind(int fd, int af)
{
#ifdef IPV6_FREEBIND
	if (af == AF_INET6)
		return (set_opt(fd, IPPROTO_IPV6, IPV6_FREEBIND));
#endif
	(void)af;
	return (set_opt(fd, IPPROTO_IP, IP_FREEBIND));
}

static int
open_sock(const struct conf_addr *ca, int freebind)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&ca->ss;
	int			 fd, saved;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if ((sa->sa_family == AF_INET6 &&
	    set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY) == -1) ||
	    set_opt(fd, SOL_SOCKET, SO_REUSEADDR) == -1)
		goto fail;
	if (freebind && set_freebind(fd, sa->sa_family) == -1)
		goto fail;
	if (bind(fd, sa, ca->sslen) == -1 || listen(fd, METRICS_BACKLOG) == -1)
		goto fail;
	return (fd);
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

static void
msock_close(struct metrics *m, struct msock *ms)
{
	if (ms->bound != NULL)
		evhttp_del_accept_socket(m->http, ms->bound);	/* closes */
	else if (ms->fd != -1)
		close(ms->fd);
	free(ms);
}

static int
serve(struct metrics *m, struct msock *ms)
{
	char	 name[SA_STRLEN], *at;
	int	 v6 = ms->ss.ss_family == AF_INET6;

	sa_str((struct sockaddr *)&ms->ss, name, sizeof(name));
	if ((ms->bound = evhttp_accept_socket_with_handle(m->http,
	    ms->fd)) == NULL) {
		log_warnx("metrics on %s: cannot serve it", name);
		return (-1);
	}
	if ((at = strrchr(name, '@')) != NULL)
		*at = '\0';
	log_info("metrics on http://%s%s%s:%u/metrics", v6 ? "[" : "", name,
	    v6 ? "]" : "", sa_port((struct sockaddr *)&ms->ss));
	return (0);
}

struct metrics *
metrics_new(struct runstate *rs)
{
	struct metrics	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	m->rs = rs;
	TAILQ_INIT(&m->socks);
	TAILQ_INIT(&m->pending);
	return (m);
}

int
metrics_prepare(struct metrics *m, const struct conf *conf, char *err,
    size_t len)
{
	const struct conf_addr	*ca;
	struct msock		*ms;
	char			 name[SA_STRLEN];
	int			 found;

	metrics_abort(m);
	TAILQ_FOREACH(ms, &m->socks, entry)
		ms->keep = 0;
	TAILQ_FOREACH(ca, &conf->metrics_listen, entry) {
		found = 0;
		TAILQ_FOREACH(ms, &m->socks, entry)
			if (sa_equal((struct sockaddr *)&ms->ss,
			    (const struct sockaddr *)&ca->ss)) {
				ms->keep = found = 1;
				break;
			}
		TAILQ_FOREACH(ms, &m->pending, entry)
			if (sa_equal((struct sockaddr *)&ms->ss,
			    (const struct sockaddr *)&ca->ss))
				found = 1;	/* listed twice */
		if (found)
			continue;
		if ((ms = calloc(1, sizeof(*ms))) == NULL) {
			snprintf(err, len, "out of memory");
			goto fail;
		}
		ms->ss = ca->ss;
		ms->sslen = ca->sslen;
		if ((ms->fd = open_sock(ca, conf->freebind)) == -1) {
			snprintf(err, len, "metrics-listen %s: %s%s",
			    sa_str((const struct sockaddr *)&ca->ss, name,
			    sizeof(name)), strerror(errno),
			    errno == EADDRNOTAVAIL ? " (not an address of this "
			    "host yet? \"freebind yes\" binds it anyway)" : "");
			free(ms);
			goto fail;
		}
		TAILQ_INSERT_TAIL(&m->pending, ms, entry);
	}
	m->prepared = 1;
	return (0);
 fail:
	m->prepared = 1;
	metrics_abort(m);
	return (-1);
}

void
metrics_commit(struct metrics *m)
{
	struct msock	*ms, *next;

	if (!m->prepared)
		return;
	for (ms = TAILQ_FIRST(&m->socks); ms != NULL; ms = next) {
		next = TAILQ_NEXT(ms, entry);
		if (ms->keep)
			continue;
		TAILQ_REMOVE(&m->socks, ms, entry);
		msock_close(m, ms);
	}
	while ((ms = TAILQ_FIRST(&m->pending)) != NULL) {
		TAILQ_REMOVE(&m->pending, ms, entry);
		ms->keep = 1;
		TAILQ_INSERT_TAIL(&m->socks, ms, entry);
		if (m->http != NULL && serve(m, ms) == -1) {
			TAILQ_REMOVE(&m->socks, ms, entry);
			msock_close(m, ms);
		}
	}
	m->prepared = 0;
}

void
metrics_abort(struct metrics *m)
{
	struct msock	*ms;

	if (!m->prepared)
		return;
	while ((ms = TAILQ_FIRST(&m->pending)) != NULL) {
		TAILQ_REMOVE(&m->pending, ms, entry);
		msock_close(m, ms);
	}
	m->prepared = 0;
}

int
metrics_start(struct metrics *m, struct event_base *base)
{
	struct msock	*ms, *next;

	m->base = base;
	if ((m->http = evhttp_new(base)) == NULL) {
		log_warnx("metrics: evhttp_new failed");
		return (-1);
	}
	evhttp_set_timeout(m->http, METRICS_TIMEOUT);
	evhttp_set_max_headers_size(m->http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(m->http, METRICS_BODY_MAX);
	/* The others get a 405 that says what is allowed. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(m->http, http_cb, m);
	metrics_commit(m);
	for (ms = TAILQ_FIRST(&m->socks); ms != NULL; ms = next) {
		next = TAILQ_NEXT(ms, entry);
		if (ms->bound == NULL && serve(m, ms) == -1) {
			TAILQ_REMOVE(&m->socks, ms, entry);
			msock_close(m, ms);
		}
	}
	return (0);
}

void
metrics_free(struct metrics *m)
{
	struct msock	*ms;

	if (m == NULL)
		return;
	metrics_abort(m);
	while ((ms = TAILQ_FIRST(&m->socks)) != NULL) {
		TAILQ_REMOVE(&m->socks, ms, entry);
		msock_close(m, ms);
	}
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
}
