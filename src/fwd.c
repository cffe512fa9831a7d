/*
 * fwd.c -- forwarder health: RTT estimates, per-group up/down state and
 * probes, and the choice of forwarder for each try (see fwd.h).
 *
 * Choices made where fwd.h leaves room:
 * - srtt and rttvar are kept in microseconds although samples come in
 *   milliseconds: in whole milliseconds, srtt = (7 * srtt + r) / 8 never
 *   climbs the last 7 ms towards r, which on a LAN is the whole RTT.
 *   fwd_get_info() and the RTO round to milliseconds.
 * - A due probe goes before the forwarders that are up, but to one query
 *   at a time: while it is in flight, the others use the forwarders that
 *   are up, so at most one query per probe interval waits on a dead
 *   forwarder.  Any timeout reported while a probe is in flight for the
 *   group counts as the probe's (the table does not know which try was
 *   the probe); at worst a second probe leaves early.
 * - When every untried candidate is down and no probe is due, the one
 *   whose next probe is soonest goes first among those without a probe in
 *   flight (one in flight has no next probe yet), then any.  That try is
 *   not a probe: it schedules nothing.
 * - Round robin keeps the table index of the last forwarder it chose and
 *   takes the first one up after it in the candidate list, wrapping.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"
#include "fwd_test.h"
#include "log.h"
#include "rnd.h"
#include "sa.h"

/* Unbound's infra-cache-max-rtt: samples and RTOs beyond this are noise. */
#define FWD_RTO_MAX	120000	/* ms */

struct fwd_group_state {
	int			 down;
	int			 probing;	/* a probe is in flight */
	int			 waited_long;	/* one timeout of the run was */
	unsigned int		 timeouts;	/* consecutive */
	unsigned int		 probe_ivl;	/* ms, while down */
	uint64_t		 next_probe;	/* ms, while down */
};

struct fwd {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 name[64];
	int			 known;
	uint64_t		 last_reply;	/* ms, 0 never */
	unsigned int		 near[2];	/* min RTT ms: this, last window */
	uint64_t		 near_start;	/* ms, this window's start */
	uint64_t		 srtt;		/* us */
	uint64_t		 rttvar;	/* us */
	struct fwd_group_state	 g[FWD_NGROUPS];
	uint64_t		 tries;
	uint64_t		 replies;
	uint64_t		 timeouts_total;
	uint64_t		 errors;
	uint64_t		 broken;
};

struct fwd_table {
	pthread_mutex_t		 lock;
	int			 n;
	int			 rr_last;	/* table index, or -1 */
	uint32_t		(*rng)(void *, uint32_t);
	void			*rng_arg;
	struct fwd		 fwd[FWD_MAX];
};

static const char *const group_names[FWD_NGROUPS] = { "A", "AAAA", "other" };

static uint32_t
rng_default(void *arg, uint32_t bound)
{
	(void)arg;
	return (rnd_uniform(bound));
}

struct fwd_table *
fwd_table_new(void)
{
	struct fwd_table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return (NULL);
	}
	t->rr_last = -1;
	t->rng = rng_default;
	return (t);
}

void
fwd_table_free(struct fwd_table *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void
fwd_table_set_rng(struct fwd_table *t, uint32_t (*fn)(void *, uint32_t),
    void *arg)
{
	pthread_mutex_lock(&t->lock);
	t->rng = fn != NULL ? fn : rng_default;
	t->rng_arg = arg;
	pthread_mutex_unlock(&t->lock);
}

int
fwd_table_add(struct fwd_table *t, const struct sockaddr *sa, socklen_t len)
{
	struct fwd	*f;
	int		 i;

	if (sa == NULL ||
	    (sa->sa_family == AF_INET && len < sizeof(struct sockaddr_in)) ||
	    (sa->sa_family == AF_INET6 && len < sizeof(struct sockaddr_in6)) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return (-1);
	if (len > sizeof(f->ss))
		len = sizeof(f->ss);
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n; i++)
		if (sa_equal((struct sockaddr *)&t->fwd[i].ss, sa)) {
			pthread_mutex_unlock(&t->lock);
			return (i);
		}
	if (t->n == FWD_MAX) {
		pthread_mutex_unlock(&t->lock);
		return (-1);
	}
	i = t->n++;
	f = &t->fwd[i];
	memset(f, 0, sizeof(*f));
	memcpy(&f->ss, sa, len);
	f->sslen = len;
	sa_str(sa, f->name, sizeof(f->name));
	pthread_mutex_unlock(&t->lock);
	return (i);
}

static struct fwd *
fwd_at(struct fwd_table *t, int idx)
{
	if (idx < 0 || idx >= t->n)
		return (NULL);
	return (&t->fwd[idx]);
}

/*
 * RFC 6298 2.3's RTO, bounded as Unbound bounds it rather than by 2.4's
 * one second floor, which is meant for TCP.
 */
static unsigned int
fwd_rto(const struct fwd *f)
{
	uint64_t	 rto;

	if (!f->known)
		return (FWD_RTO_UNKNOWN);
	rto = (f->srtt + 4 * f->rttvar + 500) / 1000;
	if (rto < FWD_RTO_MIN)
		rto = FWD_RTO_MIN;
	if (rto > FWD_RTO_MAX)
		rto = FWD_RTO_MAX;
	return ((unsigned int)rto);
}

/* The smoothed RTT that FWD_SELECT_FASTEST compares, in microseconds. */
static uint64_t
fwd_speed(const struct fwd *f)
{
	return (f->known ? f->srtt : (uint64_t)FWD_RTO_UNKNOWN * 1000);
}

/*
 * The RTO doubled per consecutive timeout in the group, at most max_ms,
 * and no further than FWD_DOWN_WAITED (or the RTO, if longer): that is
 * enough to tell a forwarder that is down, and a forwarder that has just
 * gone silent costs each query sent to it meanwhile that long, not max_ms.
 */
static unsigned int
fwd_try_timeout(const struct fwd *f, enum fwd_group group,
    unsigned int max_ms)
{
	uint64_t	 t, cap;
	unsigned int	 i;

	t = fwd_rto(f);
	cap = t > FWD_DOWN_WAITED ? t : FWD_DOWN_WAITED;
	if (cap > max_ms)
		cap = max_ms;
	for (i = 0; i < f->g[group].timeouts && t < cap; i++)
		t *= 2;
	return (t < cap ? (unsigned int)t : (unsigned int)cap);
}

static void
fwd_rtt_sample(struct fwd *f, unsigned int rtt_ms)
{
	uint64_t	 r, delta;

	r = (uint64_t)(rtt_ms < FWD_RTO_MAX ? rtt_ms : FWD_RTO_MAX) * 1000;
	if (!f->known) {
		/* RFC 6298 2.2 */
		f->srtt = r;
		f->rttvar = r / 2;
		f->known = 1;
		return;
	}
	/* RFC 6298 2.3: rttvar from the old srtt, then srtt. */
	delta = f->srtt > r ? f->srtt - r : r - f->srtt;
	f->rttvar = (3 * f->rttvar + delta) / 4;
	f->srtt = (7 * f->srtt + r) / 8;
}

/* Among the forwarders up (positions up[0..nup-1] in cand), by sel. */
static int
choose_up(struct fwd_table *t, const int *cand, int n, const int *up,
    int nup, enum fwd_selection sel)
{
	int	 best, i, k, p;

	switch (sel) {
	case FWD_SELECT_ORDERED:
		return (up[0]);
	case FWD_SELECT_ROUNDROBIN:
		for (p = 0; p < n; p++)
			if (cand[p] == t->rr_last)
				break;
		best = up[0];
		for (i = 0; i < nup; i++)
			if (up[i] > p) {
				best = up[i];
				break;
			}
		t->rr_last = cand[best];
		return (best);
	case FWD_SELECT_FASTEST:
	default:
		break;
	}
	k = 0;
	for (i = 1; i < nup; i++)
		if (fwd_speed(&t->fwd[cand[up[i]]]) <
		    fwd_speed(&t->fwd[cand[up[k]]]))
			k = i;
	/* Explore now and then, so that the others' RTTs stay current. */
	if (nup > 1 && t->rng(t->rng_arg, FWD_EXPLORE) == 0) {
		i = (int)t->rng(t->rng_arg, (uint32_t)nup - 1);
		return (up[i < k ? i : i + 1]);
	}
	return (up[k]);
}

int
fwd_select(struct fwd_table *t, const int *cand, int n, uint64_t tried,
    enum fwd_selection sel, enum fwd_group group, uint64_t now,
    unsigned int max_ms, unsigned int *timeout_ms, int *all_down)
{
	struct fwd_group_state	*g;
	struct fwd		*f;
	int			 up[64], nup = 0, i, pick = -1;
	int			 soonest = -1, soonest_busy = -1;

	*all_down = 0;
	if (n > 64)
		n = 64;
	if (cand == NULL || n <= 0 || (unsigned int)group >= FWD_NGROUPS)
		return (-1);
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < n; i++) {
		if ((tried & (UINT64_C(1) << i)) ||
		    (f = fwd_at(t, cand[i])) == NULL)
			continue;
		g = &f->g[group];
		if (!g->down) {
			up[nup++] = i;
			continue;
		}
		if (g->probing) {
			if (soonest_busy == -1)
				soonest_busy = i;
			continue;
		}
		if (soonest == -1 || g->next_probe <
		    t->fwd[cand[soonest]].g[group].next_probe)
			soonest = i;
	}
	if (soonest != -1 &&
	    now >= t->fwd[cand[soonest]].g[group].next_probe) {
		/*
		 * The soonest is due: this try is the probe, and with
		 * nothing up besides, the question's last try.
		 */
		pick = soonest;
		t->fwd[cand[pick]].g[group].probing = 1;
		*all_down = nup == 0;
	} else if (nup > 0)
		pick = choose_up(t, cand, n, up, nup, sel);
	else if (soonest != -1 || soonest_busy != -1) {
		pick = soonest != -1 ? soonest : soonest_busy;
		*all_down = 1;
	}
	if (pick != -1) {
		f = &t->fwd[cand[pick]];
		f->tries++;
		*timeout_ms = fwd_try_timeout(f, group, max_ms);
	}
	pthread_mutex_unlock(&t->lock);
	return (pick);
}

void
fwd_reply(struct fwd_table *t, int idx, enum fwd_group group,
    unsigned int rtt_ms, uint64_t now)
{
	struct fwd		*f;
	struct fwd_group_state	*g;
	char			 name[sizeof(f->name)];
	int			 was_down;

	if ((unsigned int)group >= FWD_NGROUPS)
		return;
	pthread_mutex_lock(&t->lock);
	if ((f = fwd_at(t, idx)) == NULL) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	f->replies++;
	f->last_reply = now;
	fwd_rtt_sample(f, rtt_ms);
	if (f->near_start == 0 || now - f->near_start >= FWD_NEAR_WINDOW) {
		f->near[1] = f->near_start != 0 &&
		    now - f->near_start < 2 * FWD_NEAR_WINDOW ? f->near[0] :
		    UINT_MAX;
		f->near[0] = UINT_MAX;
		f->near_start = now != 0 ? now : 1;
	}
	if (rtt_ms < f->near[0])
		f->near[0] = rtt_ms;
	g = &f->g[group];
	was_down = g->down;
	memset(g, 0, sizeof(*g));
	memcpy(name, f->name, sizeof(name));
	pthread_mutex_unlock(&t->lock);
	if (was_down)
		log_info("forwarder %s up for %s", name, group_names[group]);
}

void
fwd_timeout(struct fwd_table *t, int idx, enum fwd_group group,
    unsigned int waited_ms, unsigned int max_ms, uint64_t now)
{
	struct fwd		*f;
	struct fwd_group_state	*g;
	char			 name[sizeof(f->name)];
	unsigned int		 count = 0;
	int			 went_down = 0;

	if ((unsigned int)group >= FWD_NGROUPS)
		return;
	pthread_mutex_lock(&t->lock);
	if ((f = fwd_at(t, idx)) == NULL) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	f->timeouts_total++;
	g = &f->g[group];
	if (g->timeouts < UINT32_MAX)
		g->timeouts++;
	/*
	 * Knot Resolver's rule: short timeouts alone, as when many queries
	 * were in flight with a small RTO, do not take a forwarder down.  A
	 * forwarder that has not answered anything for FWD_DOWN_SILENT has
	 * not merely been slow, though.
	 */
	if (waited_ms >= (max_ms < FWD_DOWN_WAITED ? max_ms :
	    FWD_DOWN_WAITED) || now - f->last_reply >= FWD_DOWN_SILENT)
		g->waited_long = 1;
	if (g->down) {
		if (g->probing) {
			g->probing = 0;
			g->probe_ivl = g->probe_ivl < FWD_PROBE_MAX / 2 ?
			    g->probe_ivl * 2 : FWD_PROBE_MAX;
			g->next_probe = now + g->probe_ivl;
		}
	} else if (g->timeouts >= FWD_DOWN_TIMEOUTS && g->waited_long) {
		g->down = 1;
		g->probing = 0;
		g->probe_ivl = FWD_PROBE_FIRST;
		g->next_probe = now + FWD_PROBE_FIRST;
		went_down = 1;
		count = g->timeouts;
		memcpy(name, f->name, sizeof(name));
	}
	pthread_mutex_unlock(&t->lock);
	if (went_down)
		log_info("forwarder %s down for %s: %u timeouts", name,
		    group_names[group], count);
}

void
fwd_error(struct fwd_table *t, int idx)
{
	struct fwd	*f;

	pthread_mutex_lock(&t->lock);
	if ((f = fwd_at(t, idx)) != NULL)
		f->errors++;
	pthread_mutex_unlock(&t->lock);
}

void
fwd_broken(struct fwd_table *t, int idx)
{
	struct fwd	*f;

	pthread_mutex_lock(&t->lock);
	if ((f = fwd_at(t, idx)) != NULL)
		f->broken++;
	pthread_mutex_unlock(&t->lock);
}

void
fwd_abandon(struct fwd_table *t, int idx, enum fwd_group group)
{
	struct fwd	*f;

	if ((unsigned int)group >= FWD_NGROUPS)
		return;
	pthread_mutex_lock(&t->lock);
	if ((f = fwd_at(t, idx)) != NULL)
		f->g[group].probing = 0;
	pthread_mutex_unlock(&t->lock);
}

unsigned int
fwd_nearest_ms(struct fwd_table *t, uint64_t now)
{
	const struct fwd	*f;
	unsigned int		 best = UINT_MAX;
	int			 i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n; i++) {
		f = &t->fwd[i];
		if (f->near_start == 0 || now - f->near_start >=
		    2 * FWD_NEAR_WINDOW)
			continue;
		if (f->near[0] < best)
			best = f->near[0];
		if (now - f->near_start < FWD_NEAR_WINDOW && f->near[1] < best)
			best = f->near[1];
	}
	pthread_mutex_unlock(&t->lock);
	return (best);
}

int
fwd_get_info(struct fwd_table *t, int idx, struct fwd_info *fi)
{
	struct fwd	*f;
	int		 i;

	pthread_mutex_lock(&t->lock);
	if ((f = fwd_at(t, idx)) == NULL) {
		pthread_mutex_unlock(&t->lock);
		return (-1);
	}
	memset(fi, 0, sizeof(*fi));
	memcpy(&fi->ss, &f->ss, sizeof(fi->ss));
	fi->sslen = f->sslen;
	memcpy(fi->name, f->name, sizeof(fi->name));
	fi->known = f->known;
	fi->srtt = (uint32_t)((f->srtt + 500) / 1000);
	fi->rttvar = (uint32_t)((f->rttvar + 500) / 1000);
	fi->rto = fwd_rto(f);
	for (i = 0; i < FWD_NGROUPS; i++) {
		fi->up[i] = !f->g[i].down;
		fi->timeouts[i] = f->g[i].timeouts;
		fi->next_probe[i] = f->g[i].down ? f->g[i].next_probe : 0;
	}
	fi->tries = f->tries;
	fi->replies = f->replies;
	fi->timeouts_total = f->timeouts_total;
	fi->errors = f->errors;
	fi->broken = f->broken;
	pthread_mutex_unlock(&t->lock);
	return (0);
}

int
fwd_count(struct fwd_table *t)
{
	int	 n;

	pthread_mutex_lock(&t->lock);
	n = t->n;
	pthread_mutex_unlock(&t->lock);
	return (n);
}
