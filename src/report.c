/*
 * report.c -- the snapshot behind status, stats and /metrics, and the
 * names they share.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "dns64proxy.h"
#include "conf.h"
#include "mono.h"
#include "report.h"
#include "server.h"

/* RFC 6895 2.3; 12-15 are unassigned, 16 is BADVERS (stats.h). */
static const char *const rcode_names[STATS_RCODE_MAX] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
	"RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS"
};

static const char *const qtype_names[STATS_QTYPE_MAX] = {
	"A", "AAAA", "PTR", "other"
};

static const char *const group_names[FWD_NGROUPS] = {
	"A", "AAAA", "other"
};

const char *
report_rcode_name(int i)
{
	return (i >= 0 && i < STATS_RCODE_MAX ? rcode_names[i] : "?");
}

const char *
report_qtype_name(enum stats_qtype t)
{
	return (t < STATS_QTYPE_MAX ? qtype_names[t] : "?");
}

const char *
report_group_name(enum fwd_group g)
{
	return (g < FWD_NGROUPS ? group_names[g] : "?");
}

uint64_t
report_bucket_us(int i)
{
	return (i < STATS_NBUCKETS ? (uint64_t)STATS_BUCKET0_US << i : 0);
}

uint64_t
report_hist_count(const struct stats_histogram *h)
{
	uint64_t	 n = 0;
	int		 i;

	for (i = 0; i <= STATS_NBUCKETS; i++)
		n += STATS_GET(h->bucket[i]);
	return (n);
}

static int
configured(const struct conf *conf, int idx)
{
	int	 i;

	for (i = 0; i < conf->nfwd; i++)
		if (conf->fwdi[i] == idx)
			return (1);
	return (0);
}

void
report_collect(const struct runstate *rs, struct report *r)
{
	struct server	*srv = rs->srv;
	struct conf	*conf = server_conf(srv);
	int		 i, n;

	memset(r, 0, sizeof(*r));
	server_stats(srv, &r->stats);
	cache_get_stats(srv->cache, &r->cache);
	r->cache_on = srv->cache != NULL;
	n = fwd_count(srv->fwd);
	for (i = 0; i < n && r->nfwd < FWD_MAX; i++) {
		if (fwd_get_info(srv->fwd, i, &r->fwd[r->nfwd].info) == -1)
			continue;
		r->fwd[r->nfwd].configured = configured(conf, i);
		r->nfwd++;
	}
	r->generation = server_generation(srv);
	r->nworkers = srv->nworkers;
	r->pid = getpid();
	(void)clock_gettime(CLOCK_REALTIME, &r->now);
	r->uptime_ms = mono_ms() - rs->started_ms;
	r->started = rs->started;
	r->last_reload_ok = rs->last_reload_ok;
	r->reloads_ok = rs->reloads_ok;
	r->reloads_failed = rs->reloads_failed;
}
