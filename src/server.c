/*
 * server.c -- the process: shared state, workers, the running
 * configuration and its lifetime.
 *
 * A configuration is shared read-only by everything that started under
 * it: each worker holds a reference to the current one and each query to
 * the one it started with (conf_ref), so a reload is parse, then swap,
 * and the old configuration goes when its last query does.  Listen
 * addresses a reload adds are bound before anything changes, so that a
 * failure leaves the running configuration whole (CoreDNS closes first,
 * and loses its port when the new bind fails); unchanged addresses keep
 * their sockets, so there is no gap.
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

#include "dns64proxy.h"
#include "cache.h"
#include "conf.h"
#include "fwd.h"
#include "listener.h"
#include "log.h"
#include "sa.h"
#include "server.h"
#include "stats.h"
#include "worker.h"

struct server_priv {
	struct server		 pub;		/* first: the workers' part */
	struct conf		*conf;
	unsigned int		 generation;
	struct worker		**workers;
	struct conf_addrlist	 bound;		/* addresses being served */
	int			 bound_default;	/* from the embedded default */
	/* Sockets opened at startup, until the workers take them. */
	struct listen_fds	*pending;	/* [address][worker] */
	int			 npending;	/* addresses */
};

static struct server_priv *
priv(struct server *srv)
{
	return ((struct server_priv *)srv);
}

/* Does the host have this address (and its family) at all? */
static int
addr_exists(const struct conf_addr *ca)
{
	struct sockaddr_storage	 ss = ca->ss;
	int			 fd, rv = 1;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (errno != EAFNOSUPPORT);
	if (bind(fd, (struct sockaddr *)&ss, ca->sslen) == -1 &&
	    errno == EADDRNOTAVAIL)
		rv = 0;
	close(fd);
	return (rv);
}

/* The sockets of one address for every worker; -1 with errno. */
static int
open_addr(struct server_priv *sp, const struct conf_addr *ca, int freebind,
    struct listen_fds *fds)
{
	unsigned int	 i, n = sp->pub.nworkers;
	int		 flags, saved;

	for (i = 0; i < n; i++) {
		flags = freebind ? LISTENER_FREEBIND : 0;
		if (n > 1)
			flags |= LISTENER_SHARED | (i == 0 ? LISTENER_PROBE : 0);
		if (listener_open(ca, flags, &fds[i]) == -1) {
			saved = errno;
			while (i-- > 0)
				listener_close_fds(&fds[i]);
			errno = saved;
			return (-1);
		}
	}
	return (0);
}

static void
bind_error(const struct conf_addr *ca, char *err, size_t len)
{
	char	 name[SA_STRLEN];
	int	 saved = errno;

	snprintf(err, len, "listen on %s: %s%s", sa_str((struct sockaddr *)
	    &ca->ss, name, sizeof(name)), strerror(saved),
	    saved == EADDRNOTAVAIL ? " (not an address of this host yet? "
	    "\"freebind yes\" binds it anyway)" : "");
}

static void
close_pending(struct server_priv *sp)
{
	int	 i, n = sp->npending * sp->pub.nworkers;

	for (i = 0; i < n; i++)
		listener_close_fds(&sp->pending[i]);
	free(sp->pending);
	sp->pending = NULL;
	sp->npending = 0;
}

/* Bind every address of conf into sp->pending; -1 with err set. */
static int
open_all(struct server_priv *sp, struct conf *conf, char *err, size_t len)
{
	struct conf_addr	*ca;
	int			 n = 0;

	TAILQ_FOREACH(ca, &conf->listen, entry)
		n++;
	if ((sp->pending = calloc(n ? n : 1, sp->pub.nworkers *
	    sizeof(*sp->pending))) == NULL) {
		snprintf(err, len, "out of memory");
		return (-1);
	}
	TAILQ_FOREACH(ca, &conf->listen, entry) {
		if (open_addr(sp, ca, conf->freebind, sp->pending +
		    sp->npending * sp->pub.nworkers) == -1) {
			bind_error(ca, err, len);
			close_pending(sp);
			return (-1);
		}
		sp->npending++;
	}
	return (0);
}

static void
set_port(struct conf_addr *ca, uint16_t port)
{
	if (ca->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ca->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ca->ss)->sin6_port = htons(port);
}

/*
 * The embedded default is meant to start on any host: an address the host
 * lacks (no ::1 in many containers) is left out, and when port 53 is taken
 * (a resolver already runs there) or needs a privilege we lack, port 5353
 * is used instead.  Configured addresses get no such help.
 */
static int
bind_default(struct server_priv *sp, struct conf *conf)
{
	struct conf_addr	*ca, *next;
	char			 name[SA_STRLEN], err[256];
	int			 saved;

	for (ca = TAILQ_FIRST(&conf->listen); ca != NULL; ca = next) {
		next = TAILQ_NEXT(ca, entry);
		if (addr_exists(ca))
			continue;
		log_info("cannot listen on %s: %s, skipped",
		    sa_str((struct sockaddr *)&ca->ss, name, sizeof(name)),
		    strerror(EADDRNOTAVAIL));
		TAILQ_REMOVE(&conf->listen, ca, entry);
		free(ca);
	}
	if (TAILQ_EMPTY(&conf->listen)) {
		log_warnx("no default listen address exists on this host");
		return (-1);
	}
	if (open_all(sp, conf, err, sizeof(err)) == 0)
		return (0);
	saved = errno;
	if (saved != EADDRINUSE && saved != EACCES) {
		log_warnx("%s", err);
		return (-1);
	}
	log_info("cannot listen on port %d (%s), using port %d instead",
	    DNS_PORT, strerror(saved), DNS_FALLBACK_PORT);
	TAILQ_FOREACH(ca, &conf->listen, entry)
		set_port(ca, DNS_FALLBACK_PORT);
	if (open_all(sp, conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return (-1);
	}
	return (0);
}

static int
copy_addrs(struct conf_addrlist *to, const struct conf_addrlist *from)
{
	const struct conf_addr	*ca;

	TAILQ_FOREACH(ca, from, entry)
		if (conf_addr_add(to, ca) == -1)
			return (-1);
	return (0);
}

struct server *
server_open(struct conf *conf, unsigned int nworkers)
{
	struct server_priv	*sp;
	char			 err[256];
	unsigned int		 shards;

	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		log_warn("%s", __func__);
		return (NULL);
	}
	TAILQ_INIT(&sp->bound);
	sp->pub.nworkers = nworkers;
	/* Shards enough that the workers seldom meet on a lock. */
	for (shards = 8; shards < 4 * nworkers; shards *= 2)
		;
	if ((conf->cache_size > 0 && (sp->pub.cache =
	    cache_new(conf->cache_size, shards)) == NULL) ||
	    (sp->pub.fwd = fwd_table_new()) == NULL ||
	    (sp->pub.tcp_limit = tcp_limit_new()) == NULL ||
	    (sp->workers = calloc(nworkers, sizeof(*sp->workers))) == NULL) {
		log_warn("%s", __func__);
		goto fail;
	}
	if (conf->listen_is_default) {
		if (bind_default(sp, conf) == -1)
			goto fail;
		sp->bound_default = 1;
	} else if (open_all(sp, conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto fail;
	}
	if (conf_drop_own_forwarders(conf) == -1 ||
	    conf_index_forwarders(conf, sp->pub.fwd) == -1 ||
	    copy_addrs(&sp->bound, &conf->listen) == -1)
		goto fail;
	conf->generation = sp->generation = 1;
	sp->conf = conf_ref(conf);
	return (&sp->pub);
 fail:
	server_free(&sp->pub);
	return (NULL);
}

int
server_start(struct server *srv)
{
	struct server_priv	*sp = priv(srv);
	struct listen_fds	*fds;
	unsigned int		 i, n = srv->nworkers;
	int			 a;

	if ((fds = calloc(sp->npending ? sp->npending : 1,
	    sizeof(*fds))) == NULL) {
		log_warn("%s", __func__);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		/* Worker i's socket of every address; it owns them now. */
		for (a = 0; a < sp->npending; a++) {
			fds[a] = sp->pending[a * n + i];
			sp->pending[a * n + i].udp = -1;
			sp->pending[a * n + i].tcp = -1;
		}
		if ((sp->workers[i] = worker_new(srv, i, sp->conf, fds,
		    sp->npending)) == NULL || worker_start(sp->workers[i]) ==
		    -1) {
			free(fds);
			return (-1);
		}
	}
	free(fds);
	close_pending(sp);
	return (0);
}

static int
addr_listed(const struct conf_addrlist *list, const struct conf_addr *ca)
{
	const struct conf_addr	*a;

	TAILQ_FOREACH(a, list, entry)
		if (sa_equal((const struct sockaddr *)&a->ss,
		    (const struct sockaddr *)&ca->ss))
			return (1);
	return (0);
}

/*
 * Settings that need a restart keep their running values, so that what
 * dump-config shows is what runs.
 */
static void
keep_restart_settings(const struct conf *old, struct conf *conf,
    unsigned int nworkers)
{
	if (conf->workers != 0 && conf->workers != nworkers)
		log_warnx("reload: workers %u needs a restart; %u keep "
		    "running", conf->workers, nworkers);
	conf->workers = old->workers;
	if (conf->cache_size != old->cache_size)
		log_warnx("reload: cache-size needs a restart; keeping %zu "
		    "MiB", old->cache_size >> 20);
	conf->cache_size = old->cache_size;
	if ((conf->user == NULL) != (old->user == NULL) ||
	    (conf->user != NULL && strcmp(conf->user, old->user) != 0))
		log_warnx("reload: user needs a restart");
	free(conf->user);
	conf->user = old->user != NULL ? strdup(old->user) : NULL;
}

int
server_reload(struct server *srv, struct conf *conf, char *err, size_t len)
{
	struct server_priv	*sp = priv(srv);
	struct conf		*old = sp->conf;
	struct worker_update	*u = NULL;
	struct listen_fds	*add = NULL;
	struct sockaddr_storage	*remove = NULL;
	struct conf_addr	*ca, *next;
	unsigned int		 i, n = srv->nworkers;
	int			 nadd = 0, nremove = 0, a, rv = -1;

	keep_restart_settings(old, conf, n);
	/* The embedded default stays where it was bound (maybe 5353). */
	if (conf->listen_is_default && sp->bound_default) {
		conf_addrlist_clear(&conf->listen);
		if (copy_addrs(&conf->listen, &sp->bound) == -1) {
			snprintf(err, len, "out of memory");
			return (-1);
		}
	}
	if (conf_drop_own_forwarders(conf) == -1) {
		snprintf(err, len, "no forwarder left");
		return (-1);
	}
	if (conf_index_forwarders(conf, srv->fwd) == -1) {
		snprintf(err, len, "cannot index the forwarders");
		return (-1);
	}
	TAILQ_FOREACH(ca, &conf->listen, entry)
		nadd += !addr_listed(&sp->bound, ca);
	TAILQ_FOREACH(ca, &sp->bound, entry)
		nremove += !addr_listed(&conf->listen, ca);
	if ((u = calloc(n, sizeof(*u))) == NULL ||
	    (add = calloc(nadd * n + 1, sizeof(*add))) == NULL ||
	    (remove = calloc(nremove + 1, sizeof(*remove))) == NULL) {
		snprintf(err, len, "out of memory");
		goto done;
	}
	for (a = 0; a < nadd * (int)n; a++)
		add[a].udp = add[a].tcp = -1;
	/* New addresses first: if one fails, nothing has changed. */
	a = 0;
	TAILQ_FOREACH(ca, &conf->listen, entry) {
		if (addr_listed(&sp->bound, ca))
			continue;
		if (open_addr(sp, ca, conf->freebind, add + a * n) == -1) {
			bind_error(ca, err, len);
			goto done;
		}
		a++;
	}
	a = 0;
	TAILQ_FOREACH(ca, &sp->bound, entry)
		if (!addr_listed(&conf->listen, ca))
			remove[a++] = ca->ss;
	conf->generation = ++sp->generation;
	/* The cache keeps what this configuration would fetch the same. */
	if (!conf_same_answers(old, conf))
		cache_flush(srv->cache);
	for (i = 0; i < n; i++) {
		u[i].conf = conf;
		/* Worker i's socket of each new address. */
		u[i].add = calloc(nadd + 1, sizeof(*u[i].add));
		if (u[i].add == NULL) {
			snprintf(err, len, "out of memory");
			goto done;
		}
		for (a = 0; a < nadd; a++)
			u[i].add[a] = add[a * n + i];
		u[i].nadd = nadd;
		u[i].remove = remove;
		u[i].nremove = nremove;
	}
	/* From here on the workers own the new sockets. */
	nadd = 0;
	if (worker_update(sp->workers, n, u) == -1)
		log_warnx("reload: a worker did not confirm the update");
	for (ca = TAILQ_FIRST(&sp->bound); ca != NULL; ca = next) {
		next = TAILQ_NEXT(ca, entry);
		TAILQ_REMOVE(&sp->bound, ca, entry);
		free(ca);
	}
	(void)copy_addrs(&sp->bound, &conf->listen);
	sp->conf = conf_ref(conf);
	conf_log_setup(conf);
	conf_unref(old);
	rv = 0;
 done:
	if (rv == -1 && add != NULL)
		for (a = 0; a < nadd * (int)n; a++)
			listener_close_fds(&add[a]);
	if (u != NULL)
		for (i = 0; i < n; i++)
			free(u[i].add);
	free(u);
	free(add);
	free(remove);
	return (rv);
}

struct conf *
server_conf(struct server *srv)
{
	return (priv(srv)->conf);
}

unsigned int
server_generation(struct server *srv)
{
	return (priv(srv)->generation);
}

void
server_stats(struct server *srv, struct stats *sum)
{
	struct server_priv	*sp = priv(srv);
	unsigned int		 i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < srv->nworkers; i++)
		if (sp->workers[i] != NULL)
			stats_sum(sum, &sp->workers[i]->stats);
}

size_t
server_flush(struct server *srv, const ldns_rdf *name)
{
	struct cache_stats	 cs;

	if (name != NULL)
		return (cache_flush_name(srv->cache, ldns_rdf_data(name),
		    ldns_rdf_size(name)));
	cache_get_stats(srv->cache, &cs);
	cache_flush(srv->cache);
	return (cs.entries);
}

void
server_free(struct server *srv)
{
	struct server_priv	*sp = priv(srv);
	struct conf_addr	*ca;
	unsigned int		 i;

	if (srv == NULL)
		return;
	for (i = 0; sp->workers != NULL && i < srv->nworkers; i++)
		if (sp->workers[i] != NULL)
			worker_stop(sp->workers[i]);
	for (i = 0; sp->workers != NULL && i < srv->nworkers; i++)
		worker_free(sp->workers[i]);
	free(sp->workers);
	close_pending(sp);
	while ((ca = TAILQ_FIRST(&sp->bound)) != NULL) {
		TAILQ_REMOVE(&sp->bound, ca, entry);
		free(ca);
	}
	cache_free(srv->cache);
	fwd_table_free(srv->fwd);
	tcp_limit_free(srv->tcp_limit);
	conf_unref(sp->conf);
	free(sp);
}
