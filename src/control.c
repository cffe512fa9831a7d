/*
 * control.c -- the control socket.
 *
 * Protocol, unbound's with our own tag: the client sends one line,
 * "DNS64P1 command [args]\n"; the server writes its reply as text and
 * closes.  The first line of a failure starts with "error:".  Commands run
 * on the main thread, one at a time, and reload replies only once the new
 * configuration is in force, or with the reason it is not (unbound's
 * reload says ok first and may then die: NLnetLabs/unbound#1230).
 *
 * The socket is bound with the umask at 0117, so that it is never usable
 * by others, not even for a moment, then set to 0660 and given the group
 * of "user".  A path behind which a live socket answers is never taken
 * over: two daemons on one path would leave the first without control,
 * and the tool talking to the wrong one.  A socket nobody answers on is
 * the leftover of a daemon that died, and is replaced.  At exit the path
 * is removed only if it is still ours.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "conf.h"
#include "control.h"
#include "log.h"
#include "report.h"
#include "sa.h"
#include "server.h"

#define CONTROL_MAX_CONNS	8	/* at once; more wait in the backlog */
#define CONTROL_BACKLOG		16
#define CONTROL_LINE_MAX	512
#define CONTROL_MAXARGS		4

/* One socket: its path and, to remove only our own, the path's inode. */
struct csock {
	int			 fd;		/* -1: none */
	char			 path[CONF_PATH_MAX];
	dev_t			 dev;
	ino_t			 ino;
};

struct cconn {
	TAILQ_ENTRY(cconn)	 entry;
	struct control		*ctl;
	struct bufferevent	*bev;
};

struct control {
	struct runstate		*rs;
	control_reload_fn	*reload;
	void			*arg;
	struct event_base	*base;
	struct evconnlistener	*lev;
	struct csock		 cur;
	char			*cur_conf;	/* as configured; NULL: none */
	struct csock		 next;		/* prepared */
	char			*next_conf;
	int			 prepared;
	TAILQ_HEAD(, cconn)	 conns;
	unsigned int		 nconns;
};

struct command {
	const char	*name;
	int		 minargs;
	int		 maxargs;
	const char	*usage;
	void		(*fn)(struct control *, struct evbuffer *, char **,
			    int);
};

static void	cmd_status(struct control *, struct evbuffer *, char **, int);
static void	cmd_stats(struct control *, struct evbuffer *, char **, int);
static void	cmd_reload(struct control *, struct evbuffer *, char **, int);
static void	cmd_flush(struct control *, struct evbuffer *, char **, int);
static void	cmd_verbosity(struct control *, struct evbuffer *, char **,
		    int);
static void	cmd_dump_config(struct control *, struct evbuffer *, char **,
		    int);
static void	conn_event_cb(struct bufferevent *, short, void *);

static const struct command commands[] = {
	{ "status",	 0, 0, "status",	cmd_status },
	{ "stats",	 0, 0, "stats",		cmd_stats },
	{ "reload",	 0, 0, "reload",	cmd_reload },
	{ "flush",	 0, 1, "flush [name]",	cmd_flush },
	{ "verbosity",	 1, 1, "verbosity 0|1|2", cmd_verbosity },
	{ "dump-config", 0, 0, "dump-config",	cmd_dump_config },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
csock_init(struct csock *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->fd = -1;
}

/* Remove the path if it is still the socket we bound. */
static void
csock_unlink(struct csock *cs)
{
	struct stat	 st;

	if (cs->path[0] == '\0')
		return;
	if (lstat(cs->path, &st) == 0 && st.st_dev == cs->dev &&
	    st.st_ino == cs->ino)
		(void)unlink(cs->path);
	cs->path[0] = '\0';
}

/*
 * The directory of the socket, created (0750, owned by user) when it does
 * not exist; an existing one is left as it is.
 */
static int
make_dir(const char *path, uid_t uid, gid_t gid, char *err, size_t len)
{
	struct stat	 st;
	char		 dir[CONF_PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return (0);
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return (0);
		snprintf(err, len, "control socket %s: %s is not a directory",
		    path, dir);
		return (-1);
	}
	if (errno != ENOENT || mkdir(dir, 0750) == -1 ||
	    chmod(dir, 0750) == -1 ||
	    (uid != (uid_t)-1 && chown(dir, uid, gid) == -1)) {
		snprintf(err, len, "control socket %s: cannot create %s: %s",
		    path, dir, strerror(errno));
		return (-1);
	}
	log_info("created %s for the control socket", dir);
	return (0);
}

/*
 * Is a daemon serving the socket at path?  1 yes, 0 no (stale: nobody
 * listens), -1 cannot tell (errno).
 */
static int
socket_live(const struct sockaddr_un *sun)
{
	int	 fd, rv;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (-1);
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN)		/* its backlog is full: alive */
		rv = 1;
	else if (errno == ECONNREFUSED)
		rv = 0;
	else
		rv = -1;
	close(fd);
	return (rv);
}

static int
csock_open(struct csock *cs, const char *path, const char *user, char *err,
    size_t len)
{
	struct sockaddr_un	 sun;
	struct passwd		*pw;
	struct stat		 st;
	uid_t			 uid = (uid_t)-1;
	gid_t			 gid = (gid_t)-1;
	mode_t			 mask;
	int			 fd, rv, saved;

	csock_init(cs);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, len, "control socket %s: not an absolute path "
		    "that fits a unix socket", path);
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			snprintf(err, len, "control socket %s: unknown user "
			    "%s", path, user);
			return (-1);
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (make_dir(path, uid, gid, err, len) == -1)
		return (-1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, len, "control socket %s: exists and is "
			    "not a socket", path);
			return (-1);
		}
		switch (socket_live(&sun)) {
		case 1:
			snprintf(err, len, "control socket %s is in use by "
			    "another running daemon (not taken over; give "
			    "this one its own control-socket or -s)", path);
			return (-1);
		case 0:
			if (unlink(path) == -1 && errno != ENOENT) {
				snprintf(err, len, "control socket %s: cannot "
				    "remove the stale socket: %s", path,
				    strerror(errno));
				return (-1);
			}
			log_info("control socket %s: replaced a stale socket",
			    path);
			break;
		default:
			snprintf(err, len, "control socket %s: %s", path,
			    strerror(errno));
			return (-1);
		}
	} else if (errno != ENOENT) {
		snprintf(err, len, "control socket %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, len, "control socket: %s", strerror(errno));
		return (-1);
	}
	/* Never usable by others, not even before the chmod. */
	mask = umask(0117);
	rv = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	(void)umask(mask);
	if (rv == -1) {
		snprintf(err, len, "control socket %s: %s", path,
		    strerror(saved));
		close(fd);
		return (-1);
	}
	if (chmod(path, 0660) == -1 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1) ||
	    listen(fd, CONTROL_BACKLOG) == -1 || lstat(path, &st) == -1) {
		snprintf(err, len, "control socket %s: %s", path,
		    strerror(errno));
		(void)unlink(path);
		close(fd);
		return (-1);
	}
	cs->fd = fd;
	snprintf(cs->path, sizeof(cs->path), "%s", path);
	cs->dev = st.st_dev;
	cs->ino = st.st_ino;
	return (0);
}

/* ----------------------------------------------------------- connections */

static void
conn_free(struct cconn *c)
{
	struct control	*ctl = c->ctl;

	TAILQ_REMOVE(&ctl->conns, c, entry);
	bufferevent_free(c->bev);
	free(c);
	if (ctl->nconns-- == CONTROL_MAX_CONNS && ctl->lev != NULL)
		evconnlistener_enable(ctl->lev);
}

static void
conn_written_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_free(arg);
}

/* Split line into words; -1 when there are too many. */
static int
split(char *line, char **argv, int max)
{
	char	*p;
	int	 argc = 0;

	while ((p = strsep(&line, " \t\r\n")) != NULL) {
		if (*p == '\0')
			continue;
		if (argc == max)
			return (-1);
		argv[argc++] = p;
	}
	return (argc);
}

static void
conn_reply(struct cconn *c, struct evbuffer *out)
{
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, conn_written_cb, conn_event_cb, c);
	if (bufferevent_write_buffer(c->bev, out) == -1)
		conn_free(c);
}

static void
run(struct control *ctl, struct evbuffer *out, char *line)
{
	char			*argv[CONTROL_MAXARGS + 1];
	const struct command	*cmd = NULL;
	size_t			 i;
	int			 argc;

	argc = split(line, argv, CONTROL_MAXARGS + 1);
	if (argc < 1 || strcmp(argv[0], CONTROL_PROTO) != 0) {
		evbuffer_add_printf(out, "error: not a %s request (a client "
		    "of another version?)\n", CONTROL_PROTO);
		return;
	}
	if (argc < 2) {
		evbuffer_add_printf(out, "error: no command\n");
		return;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		evbuffer_add_printf(out, "error: unknown command \"%s\"; "
		    "commands:", argv[1]);
		for (i = 0; i < NCOMMANDS; i++)
			evbuffer_add_printf(out, " %s", commands[i].name);
		evbuffer_add_printf(out, "\n");
		return;
	}
	if (argc == -1 || argc - 2 < cmd->minargs || argc - 2 > cmd->maxargs) {
		evbuffer_add_printf(out, "error: usage: %s\n", cmd->usage);
		return;
	}
	cmd->fn(ctl, out, argv + 2, argc - 2);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cconn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev), *out;
	size_t		 n;
	char		*line;

	/*
	 * A request without its newline, then EOF (the client shut down its
	 * side): the request is what came.  Otherwise (EOF before a request,
	 * an error, a timeout) there is nothing to say.
	 */
	n = evbuffer_get_length(in);
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) && n > 0 &&
	    n <= CONTROL_LINE_MAX && (out = evbuffer_new()) != NULL) {
		if ((line = malloc(n + 1)) != NULL) {
			evbuffer_remove(in, line, n);
			line[n] = '\0';
			run(c->ctl, out, line);
			free(line);
			conn_reply(c, out);
		} else
			conn_free(c);
		evbuffer_free(out);
		return;
	}
	conn_free(c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct cconn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev), *out;
	char		*line;
	size_t		 n;

	if ((out = evbuffer_new()) == NULL) {
		conn_free(c);
		return;
	}
	if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		if (n > CONTROL_LINE_MAX)
			evbuffer_add_printf(out, "error: request too long\n");
		else
			run(c->ctl, out, line);
	} else if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
		evbuffer_add_printf(out, "error: request too long\n");
	else {
		evbuffer_free(out);
		return;			/* wait for the rest of the line */
	}
	free(line);
	conn_reply(c, out);
	evbuffer_free(out);
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control	*ctl = arg;
	struct cconn	*c;
	struct timeval	 tv = { CONTROL_TIMEOUT, 0 };

	(void)sa;
	(void)salen;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warn("control connection");
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	TAILQ_INSERT_TAIL(&ctl->conns, c, entry);
	if (++ctl->nconns == CONTROL_MAX_CONNS)
		evconnlistener_disable(lev);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	(void)lev;
	(void)arg;
	/* EMFILE and the like: the connection waits in the backlog. */
	log_warn("control socket: accept");
}

/* ------------------------------------------------------------- commands */

static void
print_addrs(struct evbuffer *out, const char *key,
    const struct conf_addrlist *list)
{
	const struct conf_addr	*a;
	char			 name[SA_STRLEN];

	evbuffer_add_printf(out, "%s:", key);
	if (TAILQ_EMPTY(list))
		evbuffer_add_printf(out, " none");
	TAILQ_FOREACH(a, list, entry)
		evbuffer_add_printf(out, " %s", sa_str((const struct sockaddr *)
		    &a->ss, name, sizeof(name)));
	evbuffer_add_printf(out, "\n");
}

static void
cmd_status(struct control *ctl, struct evbuffer *out, char **argv, int argc)
{
	const struct conf		*conf = server_conf(ctl->rs->srv);
	const struct conf_prefix	*p;
	const struct fwd_info		*fi;
	struct report			*r;
	char				 abuf[INET6_ADDRSTRLEN];
	int				 i, g;

	(void)argv;
	(void)argc;
	if ((r = malloc(sizeof(*r))) == NULL) {
		evbuffer_add_printf(out, "error: out of memory\n");
		return;
	}
	report_collect(ctl->rs, r);
	evbuffer_add_printf(out, "version: %s\n", PACKAGE_VERSION);
	evbuffer_add_printf(out, "pid: %ld\n", (long)r->pid);
	evbuffer_add_printf(out, "uptime: %llu seconds\n",
	    (unsigned long long)(r->uptime_ms / 1000));
	evbuffer_add_printf(out, "config: %s\n", ctl->rs->file);
	evbuffer_add_printf(out, "config_generation: %u\n", r->generation);
	evbuffer_add_printf(out, "verbosity: %d\n", log_getverbose());
	evbuffer_add_printf(out, "workers: %u\n", r->nworkers);
	print_addrs(out, "listen", &conf->listen);
	evbuffer_add_printf(out, "control: %s\n", ctl->cur.fd != -1 ?
	    ctl->cur.path : "none");
	print_addrs(out, "metrics", &conf->metrics_listen);
	TAILQ_FOREACH(p, &conf->prefixes, entry) {
		if (inet_ntop(AF_INET6, p->pfx.addr, abuf, sizeof(abuf)) ==
		    NULL)
			strcpy(abuf, "?");
		evbuffer_add_printf(out, "prefix: %s/%d\n", abuf, p->pfx.plen);
	}
	for (i = 0; i < r->nfwd; i++) {
		if (!r->fwd[i].configured)
			continue;
		fi = &r->fwd[i].info;
		evbuffer_add_printf(out, "forwarder: %s", fi->name);
		for (g = 0; g < FWD_NGROUPS; g++)
			evbuffer_add_printf(out, " %s %s,",
			    report_group_name(g), fi->up[g] ? "up" : "down");
		if (fi->known)
			evbuffer_add_printf(out, " srtt %u ms\n", fi->srtt);
		else
			evbuffer_add_printf(out, " no reply yet\n");
	}
	if (r->cache_on)
		evbuffer_add_printf(out, "cache: %llu entries, %llu bytes of "
		    "%llu\n", (unsigned long long)r->cache.entries,
		    (unsigned long long)r->cache.bytes,
		    (unsigned long long)r->cache.maxbytes);
	else
		evbuffer_add_printf(out, "cache: off\n");
	evbuffer_add_printf(out, "queries_in_flight: %llu\n",
	    (unsigned long long)STATS_GET(r->stats.inflight));
	evbuffer_add_printf(out, "tcp_connections: %llu\n",
	    (unsigned long long)STATS_GET(r->stats.tcp_open));
	evbuffer_add_printf(out, "dns64proxy (pid %ld) is running\n",
	    (long)r->pid);
	free(r);
}

static void
stat_u(struct evbuffer *out, const char *name, uint64_t v)
{
	evbuffer_add_printf(out, "%s=%llu\n", name, (unsigned long long)v);
}

/* Seconds with microseconds, as unbound prints times. */
static void
stat_us(struct evbuffer *out, const char *name, uint64_t us)
{
	evbuffer_add_printf(out, "%s=%llu.%06llu\n", name,
	    (unsigned long long)(us / 1000000),
	    (unsigned long long)(us % 1000000));
}

static void
print_seconds(struct evbuffer *out, uint64_t us)
{
	evbuffer_add_printf(out, "%llu.%06llu", (unsigned long long)(us /
	    1000000), (unsigned long long)(us % 1000000));
}

/*
 * A histogram as unbound prints its own: a line per bucket, each counting
 * the samples between its bounds (not cumulative), then the count and the
 * sum in seconds.
 */
static void
stat_hist(struct evbuffer *out, const char *name,
    const struct stats_histogram *h)
{
	uint64_t	 lo = 0, hi;
	int		 i;

	for (i = 0; i <= STATS_NBUCKETS; i++) {
		hi = report_bucket_us(i);
		evbuffer_add_printf(out, "%s.histogram.", name);
		print_seconds(out, lo);
		evbuffer_add_printf(out, ".to.");
		if (i < STATS_NBUCKETS)
			print_seconds(out, hi);
		else
			evbuffer_add_printf(out, "inf");
		evbuffer_add_printf(out, "=%llu\n", (unsigned long long)
		    STATS_GET(h->bucket[i]));
		lo = hi;
	}
	evbuffer_add_printf(out, "%s.count=%llu\n", name,
	    (unsigned long long)report_hist_count(h));
	evbuffer_add_printf(out, "%s.sum=", name);
	print_seconds(out, STATS_GET(h->sum_us));
	evbuffer_add_printf(out, "\n");
}

/* Every counter, "name=value" a line; nothing is reset by reading. */
static void
cmd_stats(struct control *ctl, struct evbuffer *out, char **argv, int argc)
{
	static const char *const proto[2] = { "udp", "tcp" };
	static const char *const family[2] = { "ipv4", "ipv6" };
	struct report		*r;
	const struct stats	*s;
	const struct fwd_info	*fi;
	uint64_t		 total = 0, v;
	char			 name[128];
	int			 t, f, k, i, g;

	(void)argv;
	(void)argc;
	if ((r = malloc(sizeof(*r))) == NULL) {
		evbuffer_add_printf(out, "error: out of memory\n");
		return;
	}
	report_collect(ctl->rs, r);
	s = &r->stats;
	stat_us(out, "time.now", (uint64_t)r->now.tv_sec * 1000000 +
	    (uint64_t)r->now.tv_nsec / 1000);
	stat_us(out, "time.up", r->uptime_ms * 1000);
	stat_u(out, "config.generation", r->generation);
	stat_u(out, "config.reloads.success", r->reloads_ok);
	stat_u(out, "config.reloads.failure", r->reloads_failed);
	for (t = 0; t < 2; t++)
		for (f = 0; f < 2; f++)
			for (k = 0; k < STATS_QTYPE_MAX; k++) {
				v = STATS_GET(s->queries[t][f][k]);
				total += v;
				snprintf(name, sizeof(name), "queries.%s.%s.%s",
				    proto[t], family[f], report_qtype_name(k));
				stat_u(out, name, v);
			}
	stat_u(out, "queries.total", total);
	stat_u(out, "queries.inflight", STATS_GET(s->inflight));
	for (k = 0; k < OUTCOME_MAX; k++) {
		snprintf(name, sizeof(name), "outcome.%s",
		    stats_outcome_name(k));
		stat_u(out, name, STATS_GET(s->outcome[k]));
	}
	for (k = 0; k < STATS_RCODE_MAX; k++) {
		snprintf(name, sizeof(name), "rcode.%s", report_rcode_name(k));
		stat_u(out, name, STATS_GET(s->rcode[k]));
	}
	stat_u(out, "truncated", STATS_GET(s->truncated));
	stat_u(out, "dns64.synthesized_records", STATS_GET(s->synthesized_rrs));
	stat_u(out, "dns64.aaaa_excluded", STATS_GET(s->aaaa_excluded));
	stat_u(out, "dns64.a_unmapped", STATS_GET(s->a_unmapped));
	stat_u(out, "cache.reply_hits", STATS_GET(s->cache_reply_hits));
	stat_u(out, "cache.upstream_hits", STATS_GET(s->cache_hits));
	stat_u(out, "cache.misses", STATS_GET(s->cache_misses));
	stat_u(out, "cache.stale", STATS_GET(s->cache_stale));
	stat_u(out, "cache.entries", r->cache.entries);
	stat_u(out, "cache.bytes", r->cache.bytes);
	stat_u(out, "cache.max_bytes", r->cache.maxbytes);
	stat_u(out, "cache.inserts", r->cache.inserts);
	stat_u(out, "cache.evictions", r->cache.evictions);
	stat_u(out, "cache.expired", r->cache.expired);
	stat_u(out, "upstream.queries", STATS_GET(s->upstream_queries));
	stat_u(out, "upstream.timeouts", STATS_GET(s->upstream_timeouts));
	stat_u(out, "upstream.errors", STATS_GET(s->upstream_errors));
	stat_u(out, "upstream.broken", STATS_GET(s->upstream_broken));
	stat_u(out, "upstream.unmatched", STATS_GET(s->upstream_unmatched));
	stat_u(out, "upstream.tcp_fallbacks", STATS_GET(s->upstream_tcp));
	stat_u(out, "upstream.coalesced", STATS_GET(s->upstream_coalesced));
	stat_u(out, "upstream.local_errors",
	    STATS_GET(s->upstream_local_errors));
	stat_u(out, "tcp.accepted", STATS_GET(s->tcp_accepted));
	stat_u(out, "tcp.closed_idle", STATS_GET(s->tcp_closed_idle));
	stat_u(out, "tcp.closed_at_cap", STATS_GET(s->tcp_closed_cap));
	stat_u(out, "tcp.rejected", STATS_GET(s->tcp_rejected));
	stat_u(out, "tcp.open", STATS_GET(s->tcp_open));
	for (i = 0; i < r->nfwd; i++) {
		fi = &r->fwd[i].info;
#define FWD_STAT(field, v) do {						\
		snprintf(name, sizeof(name), "forwarder.%s.%s", fi->name,	\
		    field);							\
		stat_u(out, name, v);						\
	} while (0)
		FWD_STAT("configured", r->fwd[i].configured);
		FWD_STAT("tries", fi->tries);
		FWD_STAT("replies", fi->replies);
		FWD_STAT("timeouts", fi->timeouts_total);
		FWD_STAT("errors", fi->errors);
		FWD_STAT("broken", fi->broken);
		FWD_STAT("srtt_ms", fi->known ? fi->srtt : 0);
		FWD_STAT("rto_ms", fi->rto);
		for (g = 0; g < FWD_NGROUPS; g++) {
			snprintf(name, sizeof(name), "forwarder.%s.up.%s",
			    fi->name, report_group_name(g));
			stat_u(out, name, fi->up[g]);
		}
#undef FWD_STAT
	}
	stat_hist(out, "latency", &s->latency);
	stat_hist(out, "upstream.rtt", &s->upstream_rtt);
	free(r);
}

static void
cmd_reload(struct control *ctl, struct evbuffer *out, char **argv, int argc)
{
	char	 err[512];

	(void)argv;
	(void)argc;
	log_info("control: reload");
	if (ctl->reload(ctl->arg, err, sizeof(err)) == -1)
		evbuffer_add_printf(out, "error: %s; the running "
		    "configuration is kept\n", err);
	else
		evbuffer_add_printf(out, "ok: configuration generation %u is "
		    "running\n", server_generation(ctl->rs->srv));
}

static void
cmd_flush(struct control *ctl, struct evbuffer *out, char **argv, int argc)
{
	struct server	*srv = ctl->rs->srv;
	ldns_rdf	*name = NULL, *root;
	size_t		 n;

	if (srv->cache == NULL) {
		evbuffer_add_printf(out, "ok: the cache is off (cache-size 0), "
		    "nothing to drop\n");
		return;
	}
	if (argc == 1) {
		if ((name = ldns_dname_new_frm_str(argv[0])) == NULL) {
			evbuffer_add_printf(out, "error: \"%s\" is not a "
			    "domain name\n", argv[0]);
			return;
		}
		if (!ldns_dname_str_absolute(argv[0])) {
			if ((root = ldns_dname_new_frm_str(".")) == NULL ||
			    ldns_dname_cat(name, root) != LDNS_STATUS_OK) {
				ldns_rdf_deep_free(root);
				ldns_rdf_deep_free(name);
				evbuffer_add_printf(out, "error: out of "
				    "memory\n");
				return;
			}
			ldns_rdf_deep_free(root);
		}
	}
	n = server_flush(srv, name);
	log_info("control: flush %s: %zu entr%s dropped", argc == 1 ? argv[0] :
	    "(all)", n, n == 1 ? "y" : "ies");
	if (name == NULL)
		evbuffer_add_printf(out, "ok: %zu cache entr%s dropped\n", n,
		    n == 1 ? "y" : "ies");
	else
		evbuffer_add_printf(out, "ok: %zu cache entr%s for %s "
		    "dropped\n", n, n == 1 ? "y" : "ies", argv[0]);
	ldns_rdf_deep_free(name);
}

static void
cmd_verbosity(struct control *ctl, struct evbuffer *out, char **argv,
    int argc)
{
	const char	*a = argv[0];
	int		 old = log_getverbose();

	(void)ctl;
	(void)argc;
	if (strlen(a) != 1 || a[0] < '0' || a[0] > '2') {
		evbuffer_add_printf(out, "error: verbosity is 0, 1 or 2, not "
		    "\"%s\"\n", a);
		return;
	}
	log_setverbose(a[0] - '0');
	log_info("control: verbosity %d (was %d)", a[0] - '0', old);
	evbuffer_add_printf(out, "ok: verbosity %d (was %d)\n", a[0] - '0',
	    old);
}

static void
cmd_dump_config(struct control *ctl, struct evbuffer *out, char **argv,
    int argc)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 size = 0;

	(void)argv;
	(void)argc;
	if ((fp = open_memstream(&text, &size)) == NULL) {
		evbuffer_add_printf(out, "error: out of memory\n");
		return;
	}
	conf_print(fp, server_conf(ctl->rs->srv));
	if (fclose(fp) != 0) {
		evbuffer_add_printf(out, "error: out of memory\n");
		free(text);
		return;
	}
	evbuffer_add_printf(out, "# dns64proxy %s, configuration generation "
	    "%u, from %s\n", PACKAGE_VERSION, server_generation(ctl->rs->srv),
	    ctl->rs->file);
	evbuffer_add(out, text, size);
	free(text);
}

/* ------------------------------------------------------------- the socket */

struct control *
control_new(struct runstate *rs, control_reload_fn *reload, void *arg)
{
	struct control	*ctl;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return (NULL);
	ctl->rs = rs;
	ctl->reload = reload;
	ctl->arg = arg;
	csock_init(&ctl->cur);
	csock_init(&ctl->next);
	TAILQ_INIT(&ctl->conns);
	return (ctl);
}

static int
same_path(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

int
control_prepare(struct control *ctl, const char *path, const char *user,
    char *err, size_t len)
{
	control_abort(ctl);
	if (same_path(path, ctl->cur_conf))
		return (0);
	if (path != NULL && (ctl->next_conf = strdup(path)) == NULL) {
		snprintf(err, len, "out of memory");
		return (-1);
	}
	if (path != NULL && csock_open(&ctl->next, path, user, err, len) ==
	    -1) {
		if (strcmp(path, CONF_CONTROL_SOCKET) != 0) {
			free(ctl->next_conf);
			ctl->next_conf = NULL;
			return (-1);
		}
		log_warnx("%s; running without a control socket (set "
		    "control-socket, or -s)", err);
	}
	ctl->prepared = 1;
	return (0);
}

static void
listen_start(struct control *ctl)
{
	if (ctl->cur.fd == -1 || ctl->base == NULL || ctl->lev != NULL)
		return;
	if ((ctl->lev = evconnlistener_new(ctl->base, accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
	    ctl->cur.fd)) == NULL) {
		log_warnx("control socket %s: cannot serve it", ctl->cur.path);
		close(ctl->cur.fd);
		csock_unlink(&ctl->cur);
		ctl->cur.fd = -1;
		return;
	}
	evconnlistener_set_error_cb(ctl->lev, accept_error_cb);
	if (ctl->nconns >= CONTROL_MAX_CONNS)
		evconnlistener_disable(ctl->lev);
	log_info("control socket %s", ctl->cur.path);
}

static void
close_current(struct control *ctl)
{
	if (ctl->lev != NULL)
		evconnlistener_free(ctl->lev);	/* closes the fd */
	else if (ctl->cur.fd != -1)
		close(ctl->cur.fd);
	ctl->lev = NULL;
	ctl->cur.fd = -1;
	csock_unlink(&ctl->cur);
}

void
control_commit(struct control *ctl)
{
	if (!ctl->prepared)
		return;
	close_current(ctl);
	ctl->cur = ctl->next;
	free(ctl->cur_conf);
	ctl->cur_conf = ctl->next_conf;
	csock_init(&ctl->next);
	ctl->next_conf = NULL;
	ctl->prepared = 0;
	listen_start(ctl);
}

void
control_abort(struct control *ctl)
{
	if (!ctl->prepared)
		return;
	if (ctl->next.fd != -1)
		close(ctl->next.fd);
	csock_unlink(&ctl->next);
	csock_init(&ctl->next);
	free(ctl->next_conf);
	ctl->next_conf = NULL;
	ctl->prepared = 0;
}

void
control_start(struct control *ctl, struct event_base *base)
{
	ctl->base = base;
	control_commit(ctl);
	listen_start(ctl);
}

const char *
control_path(const struct control *ctl)
{
	return (ctl->cur.fd != -1 ? ctl->cur.path : NULL);
}

void
control_free(struct control *ctl)
{
	struct cconn	*c;

	if (ctl == NULL)
		return;
	control_abort(ctl);
	while ((c = TAILQ_FIRST(&ctl->conns)) != NULL)
		conn_free(c);
	close_current(ctl);
	free(ctl->cur_conf);
	free(ctl);
}
