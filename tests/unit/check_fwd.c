/*
 * check_fwd.c -- unit tests of the forwarder health table: the RTT
 * estimator, timeouts and their backoff, going down and coming back, the
 * probe schedule, selection by each policy, the table itself, and the log
 * lines of state changes.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "fwd.h"
#include "fwd_test.h"

#define MAXMS	1500

static int
add4(struct fwd_table *t, const char *addr, uint16_t port)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return (fwd_table_add(t, (struct sockaddr *)&sin, sizeof(sin)));
}

static int
add6(struct fwd_table *t, const char *addr, uint16_t port)
{
	struct sockaddr_in6	 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	return (fwd_table_add(t, (struct sockaddr *)&sin6, sizeof(sin6)));
}

/* A table of n forwarders 192.0.2.1@53, 192.0.2.2@53 ..., indexes 0.. */
static struct fwd_table *
table(int n)
{
	struct fwd_table	*t = fwd_table_new();
	char			 a[32];
	int			 i;

	ck_assert_ptr_nonnull(t);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "192.0.2.%d", i + 1);
		ck_assert_int_eq(add4(t, a, 53), i);
	}
	return (t);
}

static struct fwd_info
info(struct fwd_table *t, int idx)
{
	struct fwd_info	 fi;

	ck_assert_int_eq(fwd_get_info(t, idx, &fi), 0);
	return (fi);
}

/* A scripted random source: returns script[i++], records the bounds. */
struct script {
	uint32_t	 val[8];
	uint32_t	 bound[8];
	int		 n;
	int		 i;
};

static uint32_t
script_rng(void *arg, uint32_t bound)
{
	struct script	*s = arg;
	uint32_t	 v;

	ck_assert_int_lt(s->i, 8);
	v = s->i < s->n ? s->val[s->i] : 1;
	s->bound[s->i++] = bound;
	ck_assert_uint_lt(v, bound);
	return (v);
}

/* Never explore. */
static uint32_t
rng_one(void *arg, uint32_t bound)
{
	(void)arg;
	return (bound > 1 ? 1 : 0);
}

static int
sel(struct fwd_table *t, const int *cand, int n, uint64_t tried,
    enum fwd_selection how, enum fwd_group g, uint64_t now,
    unsigned int *timeout, int *all_down)
{
	unsigned int	 tmo;
	int		 ad;

	return (fwd_select(t, cand, n, tried, how, g, now, MAXMS,
	    timeout != NULL ? timeout : &tmo, all_down != NULL ? all_down : &ad));
}

/* Take idx's group down at now: four timeouts of 800 ms. */
static void
take_down(struct fwd_table *t, int idx, enum fwd_group g, uint64_t now)
{
	int	 i;

	for (i = 0; i < FWD_DOWN_TIMEOUTS; i++)
		fwd_timeout(t, idx, g, 800, MAXMS, now);
	ck_assert_int_eq(info(t, idx).up[g], 0);
	ck_assert_uint_eq(info(t, idx).next_probe[g], now + FWD_PROBE_FIRST);
}

/*
 * The estimator: RFC 6298 arithmetic in microseconds, reported rounded to
 * milliseconds; rto = srtt + 4 rttvar within [50, 120000].
 */
static const struct {
	unsigned int	 samples[32];
	int		 n;
	uint32_t	 srtt, rttvar, rto;
} rtt_cases[] = {
	{ { 100 }, 1, 100, 50, 300 },
	{ { 100, 100 }, 2, 100, 38, 250 },
	{ { 100, 100, 20 }, 3, 90, 48, 283 },
	{ { 100, 100, 20, 20 }, 4, 81, 54, 296 },
	{ { 40, 60 }, 2, 43, 20, 123 },
	{ { 40, 60, 40 }, 3, 42, 16, 105 },
	{ { 40, 60, 40, 60 }, 4, 44, 16, 109 },
	{ { 40, 60, 40, 60, 500, 40 }, 6, 94, 110, 533 },
	/* Below the floor. */
	{ { 10 }, 1, 10, 5, 50 },
	{ { 0 }, 1, 0, 0, 50 },
	/* Beyond the ceiling. */
	{ { 200000 }, 1, 120000, 60000, 120000 },
	/* In whole ms, (7 * 3 + 10) / 8 would stay at 3 forever. */
	{ { 2, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
	    10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10 }, 31,
	    10, 0, 50 },
};

START_TEST(test_rtt)
{
	struct fwd_table	*t = table(1);
	struct fwd_info		 fi;
	int			 i;

	fi = info(t, 0);
	ck_assert_int_eq(fi.known, 0);
	ck_assert_uint_eq(fi.rto, FWD_RTO_UNKNOWN);
	for (i = 0; i < rtt_cases[_i].n; i++)
		fwd_reply(t, 0, FWD_GROUP_A, rtt_cases[_i].samples[i], 0);
	fi = info(t, 0);
	ck_assert_int_eq(fi.known, 1);
	ck_assert_uint_eq(fi.srtt, rtt_cases[_i].srtt);
	ck_assert_uint_eq(fi.rttvar, rtt_cases[_i].rttvar);
	ck_assert_uint_eq(fi.rto, rtt_cases[_i].rto);
	ck_assert_uint_eq(fi.replies, (uint64_t)rtt_cases[_i].n);
	fwd_table_free(t);
}
END_TEST

/* The try's timeout: rto doubled per consecutive timeout, capped. */
static const struct {
	unsigned int	 sample;	/* 0: no reply yet */
	unsigned int	 timeouts;
	unsigned int	 max_ms;
	unsigned int	 expect;
} tmo_cases[] = {
	{ 0, 0, 1500, 376 },
	{ 0, 1, 1500, 752 },
	/* Doubled no further than FWD_DOWN_WAITED, or the RTO if longer. */
	{ 0, 2, 1500, 800 },
	{ 0, 10, 1500, 800 },
	{ 10, 0, 1500, 50 },
	{ 10, 1, 1500, 100 },
	{ 10, 3, 1500, 400 },
	{ 10, 4, 5000, 800 },
	{ 10, 5, 1500, 800 },
	{ 1000, 1, 10000, 3000 },
	{ 100, 0, 200, 200 },
	{ 100, 1, 500, 500 },
	{ 0, 40, 4000000000U, 800 },
};

START_TEST(test_timeout_backoff)
{
	struct fwd_table	*t = table(1);
	unsigned int		 i, tmo = 0;
	int			 cand[] = { 0 }, ad;

	if (tmo_cases[_i].sample > 0)
		fwd_reply(t, 0, FWD_GROUP_AAAA, tmo_cases[_i].sample, 0);
	/* Short ones, so that the group stays up. */
	for (i = 0; i < tmo_cases[_i].timeouts; i++)
		fwd_timeout(t, 0, FWD_GROUP_AAAA, 1, MAXMS, 0);
	ck_assert_int_eq(info(t, 0).up[FWD_GROUP_AAAA], 1);
	ck_assert_uint_eq(info(t, 0).timeouts[FWD_GROUP_AAAA],
	    tmo_cases[_i].timeouts);
	ck_assert_int_eq(fwd_select(t, cand, 1, 0, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 0, tmo_cases[_i].max_ms, &tmo, &ad), 0);
	ck_assert_uint_eq(tmo, tmo_cases[_i].expect);
	/* The other groups have their own count. */
	ck_assert_int_eq(fwd_select(t, cand, 1, 0, FWD_SELECT_FASTEST,
	    FWD_GROUP_A, 0, tmo_cases[_i].max_ms, &tmo, &ad), 0);
	ck_assert_uint_eq(tmo, tmo_cases[_i].sample == 0 ? 376 :
	    info(t, 0).rto < tmo_cases[_i].max_ms ? info(t, 0).rto :
	    tmo_cases[_i].max_ms);
	fwd_table_free(t);
}
END_TEST

/*
 * Going down: 4 consecutive timeouts, one of them >= min(800, max_ms), or
 * the last reply FWD_DOWN_SILENT (500 ms) or more before.  down_at is the
 * timeout (0-based) that takes the group down, -1 none.  The forwarder
 * answered at 1000 ms; the timeouts come at 1000 ms plus silent.
 */
static const struct {
	unsigned int	 max_ms;
	unsigned int	 waited[8];
	int		 n;
	int		 down_at;
	unsigned int	 silent;
} down_cases[] = {
	{ 1500, { 100, 100, 100, 100, 100, 100, 100, 100 }, 8, -1, 0 },
	{ 1500, { 100, 100, 100, 800 }, 4, 3, 0 },
	{ 1500, { 800, 100, 100, 100 }, 4, 3, 0 },
	{ 1500, { 800, 800, 800 }, 3, -1, 0 },
	{ 1500, { 100, 100, 100, 100, 799, 800 }, 6, 5, 0 },
	{ 1500, { 1500, 1500, 1500, 1500, 1500 }, 5, 3, 0 },
	/* max_ms below 800: a try that waited max_ms counts. */
	{ 500, { 50, 100, 200, 400, 400, 500 }, 6, 5, 0 },
	{ 500, { 500, 50, 50 }, 3, -1, 0 },
	{ 500, { 500, 50, 50, 50 }, 4, 3, 0 },
	/* Silent for 500 ms or more: short timeouts are enough. */
	{ 1500, { 100, 100, 100, 100, 100 }, 5, 3, 500 },
	{ 1500, { 100, 100, 100, 100, 100 }, 5, -1, 499 },
	{ 1500, { 100, 100, 100 }, 3, -1, 10000 },
};

/*
 * fwd_nearest_ms: the shortest RTT of any forwarder over the last 10 to
 * 20 s.  Replies (forwarder, at ms, RTT ms) up to n, then the question at
 * "at"; UINT_MAX when nothing recent is known.
 */
static const struct {
	struct { int idx; uint64_t at; unsigned int rtt; } r[4];
	int		 n;
	uint64_t	 at;
	unsigned int	 expect;
} near_cases[] = {
	{ { { 0, 0, 0 } }, 0, 5000, UINT_MAX },
	{ { { 0, 1000, 20 } }, 1, 1000, 20 },
	{ { { 0, 1000, 20 }, { 0, 2000, 7 }, { 0, 3000, 30 } }, 3, 3000, 7 },
	/* Two forwarders: the nearer counts. */
	{ { { 0, 1000, 20 }, { 1, 1000, 3 } }, 2, 1000, 3 },
	/* The last window still counts in a new one... */
	{ { { 0, 1000, 2 }, { 0, 11000, 20 } }, 2, 12000, 2 },
	/* ...but not once that one is over too. */
	{ { { 0, 1000, 2 }, { 0, 11000, 20 } }, 2, 21000, 20 },
	/* Nothing for 20 s: unknown again. */
	{ { { 0, 1000, 2 } }, 1, 21000, UINT_MAX },
	{ { { 0, 1000, 0 } }, 1, 1500, 0 },
};

START_TEST(test_nearest)
{
	struct fwd_table	*t = table(2);
	int			 i;

	for (i = 0; i < near_cases[_i].n; i++)
		fwd_reply(t, near_cases[_i].r[i].idx, FWD_GROUP_AAAA,
		    near_cases[_i].r[i].rtt, near_cases[_i].r[i].at);
	ck_assert_uint_eq(fwd_nearest_ms(t, near_cases[_i].at),
	    near_cases[_i].expect);
	fwd_table_free(t);
}
END_TEST

START_TEST(test_going_down)
{
	struct fwd_table	*t = table(1);
	int			 i;

	/* A reply in another group: the forwarder was alive at 1000 ms. */
	fwd_reply(t, 0, FWD_GROUP_OTHER, 1, 1000);
	for (i = 0; i < down_cases[_i].n; i++) {
		fwd_timeout(t, 0, FWD_GROUP_AAAA, down_cases[_i].waited[i],
		    down_cases[_i].max_ms, 1000 + down_cases[_i].silent);
		ck_assert_msg(info(t, 0).up[FWD_GROUP_AAAA] ==
		    (down_cases[_i].down_at == -1 || i < down_cases[_i].down_at),
		    "timeout %d", i);
	}
	ck_assert_uint_eq(info(t, 0).timeouts_total,
	    (uint64_t)down_cases[_i].n);
	/* Only that group. */
	ck_assert_int_eq(info(t, 0).up[FWD_GROUP_A], 1);
	ck_assert_int_eq(info(t, 0).up[FWD_GROUP_OTHER], 1);
	ck_assert_uint_eq(info(t, 0).timeouts[FWD_GROUP_A], 0);
	fwd_table_free(t);
}
END_TEST

/* A reply in between starts the count (and the long wait) again. */
START_TEST(test_reply_resets)
{
	struct fwd_table	*t = table(1);

	fwd_timeout(t, 0, FWD_GROUP_A, 800, MAXMS, 0);
	fwd_timeout(t, 0, FWD_GROUP_A, 100, MAXMS, 0);
	fwd_timeout(t, 0, FWD_GROUP_A, 100, MAXMS, 0);
	fwd_reply(t, 0, FWD_GROUP_A, 20, 0);
	ck_assert_uint_eq(info(t, 0).timeouts[FWD_GROUP_A], 0);
	fwd_timeout(t, 0, FWD_GROUP_A, 100, MAXMS, 0);
	fwd_timeout(t, 0, FWD_GROUP_A, 100, MAXMS, 0);
	fwd_timeout(t, 0, FWD_GROUP_A, 100, MAXMS, 0);
	fwd_timeout(t, 0, FWD_GROUP_A, 100, MAXMS, 0);
	ck_assert_int_eq(info(t, 0).up[FWD_GROUP_A], 1);
	ck_assert_uint_eq(info(t, 0).timeouts[FWD_GROUP_A], 4);
	/* A reply in another group does not. */
	fwd_reply(t, 0, FWD_GROUP_AAAA, 20, 0);
	fwd_timeout(t, 0, FWD_GROUP_A, 800, MAXMS, 0);
	ck_assert_int_eq(info(t, 0).up[FWD_GROUP_A], 0);
	ck_assert_int_eq(info(t, 0).up[FWD_GROUP_AAAA], 1);
	fwd_table_free(t);
}
END_TEST

/* AAAA down, A up: each group chooses on its own. */
START_TEST(test_groups)
{
	struct fwd_table	*t = table(2);
	int			 cand[] = { 0, 1 }, ad;

	take_down(t, 0, FWD_GROUP_AAAA, 0);
	ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_ORDERED, FWD_GROUP_A,
	    10, NULL, &ad), 0);
	ck_assert_int_eq(ad, 0);
	ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_ORDERED,
	    FWD_GROUP_AAAA, 10, NULL, &ad), 1);
	ck_assert_int_eq(ad, 0);
	ck_assert_int_eq(sel(t, cand, 1, 0, FWD_SELECT_ORDERED, FWD_GROUP_A,
	    10, NULL, &ad), 0);
	ck_assert_int_eq(ad, 0);
	ck_assert_int_eq(sel(t, cand, 1, 0, FWD_SELECT_ORDERED,
	    FWD_GROUP_AAAA, 10, NULL, &ad), 0);
	ck_assert_int_eq(ad, 1);
	fwd_table_free(t);
}
END_TEST

/*
 * Probes: the first 1 s after going down, then each failed probe doubles
 * the wait, up to 15 s.  One probe in flight per group; other queries use
 * the forwarders that are up meanwhile.
 */
START_TEST(test_probe_schedule)
{
	static const uint64_t	 ivl[] = { 1000, 2000, 4000, 8000, 15000,
				    15000, 15000 };
	struct fwd_table	*t = table(2);
	int			 cand[] = { 0, 1 }, ad, i;
	uint64_t		 now = 10000, due;

	take_down(t, 0, FWD_GROUP_AAAA, now);
	for (i = 0; i < (int)(sizeof(ivl) / sizeof(ivl[0])); i++) {
		due = info(t, 0).next_probe[FWD_GROUP_AAAA];
		ck_assert_uint_eq(due, now + ivl[i]);
		/* Not yet due: the one up is chosen. */
		ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_ORDERED,
		    FWD_GROUP_AAAA, due - 1, NULL, &ad), 1);
		ck_assert_int_eq(ad, 0);
		/* Due: this try is the probe, even before the one up. */
		ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_ORDERED,
		    FWD_GROUP_AAAA, due, NULL, &ad), 0);
		ck_assert_int_eq(ad, 0);
		/* In flight: nobody else probes. */
		ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_ORDERED,
		    FWD_GROUP_AAAA, due + 1, NULL, &ad), 1);
		ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_FASTEST,
		    FWD_GROUP_AAAA, due + 100000, NULL, &ad), 1);
		/* The probe times out 500 ms later: the next is scheduled. */
		now = due + 500;
		fwd_timeout(t, 0, FWD_GROUP_AAAA, 500, MAXMS, now);
		ck_assert_int_eq(info(t, 0).up[FWD_GROUP_AAAA], 0);
	}
	fwd_table_free(t);
}
END_TEST

/* A timeout while no probe is in flight schedules nothing. */
START_TEST(test_timeout_not_probe)
{
	struct fwd_table	*t = table(1);

	take_down(t, 0, FWD_GROUP_OTHER, 0);
	fwd_timeout(t, 0, FWD_GROUP_OTHER, 1500, MAXMS, 700);
	ck_assert_uint_eq(info(t, 0).next_probe[FWD_GROUP_OTHER],
	    FWD_PROBE_FIRST);
	ck_assert_uint_eq(info(t, 0).timeouts[FWD_GROUP_OTHER], 5);
	fwd_table_free(t);
}
END_TEST

/* Reads back what log_info() wrote to stderr. */
struct logcap {
	FILE	*f;
	int	 saved;
};

static void
logcap_start(struct logcap *lc)
{
	fflush(stderr);
	ck_assert_ptr_nonnull(lc->f = tmpfile());
	ck_assert_int_ge(lc->saved = dup(STDERR_FILENO), 0);
	ck_assert_int_ge(dup2(fileno(lc->f), STDERR_FILENO), 0);
}

static char *
logcap_end(struct logcap *lc, char *buf, size_t len)
{
	size_t	 n;

	fflush(stderr);
	ck_assert_int_ge(dup2(lc->saved, STDERR_FILENO), 0);
	close(lc->saved);
	rewind(lc->f);
	n = fread(buf, 1, len - 1, lc->f);
	buf[n] = '\0';
	fclose(lc->f);
	return (buf);
}

START_TEST(test_up_again)
{
	struct fwd_table	*t = table(2);
	struct logcap		 lc;
	struct fwd_info		 fi;
	char			 log[1024];
	int			 cand[] = { 0, 1 }, ad;

	logcap_start(&lc);
	fwd_reply(t, 0, FWD_GROUP_AAAA, 10, 0);
	take_down(t, 0, FWD_GROUP_AAAA, 0);
	ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_ORDERED,
	    FWD_GROUP_AAAA, 1000, NULL, &ad), 0);
	fwd_reply(t, 0, FWD_GROUP_AAAA, 30, 1030);
	fwd_reply(t, 0, FWD_GROUP_AAAA, 30, 1040);
	logcap_end(&lc, log, sizeof(log));
	ck_assert_str_eq(log,
	    "forwarder 192.0.2.1@53 down for AAAA: 4 timeouts\n"
	    "forwarder 192.0.2.1@53 up for AAAA\n");
	fi = info(t, 0);
	ck_assert_int_eq(fi.up[FWD_GROUP_AAAA], 1);
	ck_assert_uint_eq(fi.timeouts[FWD_GROUP_AAAA], 0);
	ck_assert_uint_eq(fi.next_probe[FWD_GROUP_AAAA], 0);
	ck_assert_uint_eq(fi.replies, 3);
	/* Back to the first in order, with a fresh backoff. */
	ck_assert_int_eq(sel(t, cand, 2, 0, FWD_SELECT_ORDERED,
	    FWD_GROUP_AAAA, 1100, NULL, &ad), 0);
	ck_assert_int_eq(ad, 0);
	/* Going down again starts the schedule from 1 s. */
	take_down(t, 0, FWD_GROUP_AAAA, 5000);
	fwd_table_free(t);
}
END_TEST

START_TEST(test_abandon)
{
	struct fwd_table	*t = table(1);
	int			 cand[] = { 0 }, ad;

	take_down(t, 0, FWD_GROUP_A, 0);
	/* The only one, down: the probe is the question's last try. */
	ck_assert_int_eq(sel(t, cand, 1, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    1000, NULL, &ad), 0);
	ck_assert_int_eq(ad, 1);
	ck_assert_int_eq(sel(t, cand, 1, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    1001, NULL, &ad), 0);
	ck_assert_int_eq(ad, 1);
	fwd_abandon(t, 0, FWD_GROUP_A);
	/* Nothing counted, and the probe is due again at once. */
	ck_assert_uint_eq(info(t, 0).timeouts[FWD_GROUP_A], 4);
	ck_assert_uint_eq(info(t, 0).next_probe[FWD_GROUP_A], 1000);
	ck_assert_int_eq(sel(t, cand, 1, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    1002, NULL, &ad), 0);
	ck_assert_int_eq(ad, 1);
	fwd_table_free(t);
}
END_TEST

/*
 * Selection by policy.  down: bit i = forwarder i is down (probe not
 * due); tried: bits by position in cand.  expect is a position, -1 none.
 */
static const struct {
	enum fwd_selection	 how;
	int			 cand[4];
	int			 n;
	unsigned int		 down;
	uint64_t		 tried;
	int			 expect;
	int			 all_down;
} sel_cases[] = {
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 0, 0, 0, 0 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 0, 1, 1, 0 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 0, 3, 2, 0 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 0, 7, -1, 0 },
	{ FWD_SELECT_ORDERED, { 2, 0, 1 }, 3, 0, 0, 0, 0 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 1, 0, 1, 0 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 3, 0, 2, 0 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 3, 4, 0, 1 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 7, 0, 0, 1 },
	{ FWD_SELECT_ORDERED, { 0, 1, 2 }, 3, 7, 7, -1, 0 },
	/* An index the table does not know is skipped. */
	{ FWD_SELECT_ORDERED, { 9, 1 }, 2, 0, 0, 1, 0 },
	{ FWD_SELECT_ORDERED, { -1 }, 1, 0, 0, -1, 0 },
	/* srtt: 0 is 30 ms, 1 is 10 ms, 2 unknown (376), 3 is 500 ms. */
	{ FWD_SELECT_FASTEST, { 0, 1, 2, 3 }, 4, 0, 0, 1, 0 },
	{ FWD_SELECT_FASTEST, { 0, 1, 2, 3 }, 4, 0, 2, 0, 0 },
	{ FWD_SELECT_FASTEST, { 0, 1, 2, 3 }, 4, 0, 3, 2, 0 },
	{ FWD_SELECT_FASTEST, { 3, 2 }, 2, 0, 0, 1, 0 },
	{ FWD_SELECT_FASTEST, { 0, 1, 2, 3 }, 4, 2, 0, 0, 0 },
	{ FWD_SELECT_FASTEST, { 0, 1, 2, 3 }, 4, 3, 0, 2, 0 },
	{ FWD_SELECT_FASTEST, { 0, 1, 2, 3 }, 4, 7, 0, 3, 0 },
	{ FWD_SELECT_FASTEST, { 0, 1, 2, 3 }, 4, 7, 8, 0, 1 },
};

START_TEST(test_select)
{
	struct fwd_table	*t = table(4);
	unsigned int		 tmo;
	int			 i, ad = -1, pos;

	fwd_table_set_rng(t, rng_one, NULL);
	fwd_reply(t, 0, FWD_GROUP_A, 30, 0);
	fwd_reply(t, 1, FWD_GROUP_A, 10, 0);
	fwd_reply(t, 3, FWD_GROUP_A, 500, 0);
	/* Down at 0, so due at 1 s; the selections run at 500 ms. */
	for (i = 0; i < 4; i++)
		if (sel_cases[_i].down & (1U << i))
			take_down(t, i, FWD_GROUP_A, 0);
	pos = sel(t, sel_cases[_i].cand, sel_cases[_i].n, sel_cases[_i].tried,
	    sel_cases[_i].how, FWD_GROUP_A, 500, &tmo, &ad);
	ck_assert_int_eq(pos, sel_cases[_i].expect);
	ck_assert_int_eq(ad, sel_cases[_i].all_down);
	if (pos >= 0)
		ck_assert_uint_eq(info(t, sel_cases[_i].cand[pos]).tries, 1);
	fwd_table_free(t);
}
END_TEST

/* Two tie at unknown: config order. */
START_TEST(test_fastest_ties)
{
	struct fwd_table	*t = table(3);
	int			 cand[] = { 2, 0, 1 };

	fwd_table_set_rng(t, rng_one, NULL);
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 0);
	fwd_reply(t, 0, FWD_GROUP_A, 100, 0);
	fwd_reply(t, 1, FWD_GROUP_A, 100, 0);
	fwd_reply(t, 2, FWD_GROUP_A, 100, 0);
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 0);
	ck_assert_int_eq(sel(t, cand, 3, 1, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 1);
	fwd_table_free(t);
}
END_TEST

/* Exploration: 1 in FWD_EXPLORE, to the n-th other forwarder up. */
START_TEST(test_explore)
{
	struct fwd_table	*t = table(3);
	struct script		 s;
	int			 cand[] = { 0, 1, 2 };

	fwd_reply(t, 0, FWD_GROUP_A, 30, 0);
	fwd_reply(t, 1, FWD_GROUP_A, 10, 0);
	fwd_reply(t, 2, FWD_GROUP_A, 50, 0);
	memset(&s, 0, sizeof(s));
	fwd_table_set_rng(t, script_rng, &s);
	s.n = 2;
	s.val[0] = 0;
	s.val[1] = 0;
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 0);
	ck_assert_int_eq(s.i, 2);
	ck_assert_uint_eq(s.bound[0], FWD_EXPLORE);
	ck_assert_uint_eq(s.bound[1], 2);
	memset(&s, 0, sizeof(s));
	s.n = 2;
	s.val[0] = 0;
	s.val[1] = 1;
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 2);
	/* Not exploring: one draw. */
	memset(&s, 0, sizeof(s));
	s.n = 1;
	s.val[0] = 19;
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 1);
	ck_assert_int_eq(s.i, 1);
	/* Only one up and untried: no draw at all. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sel(t, cand, 3, 6, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 0);
	ck_assert_int_eq(sel(t, cand, 3, 3, FWD_SELECT_FASTEST, FWD_GROUP_A,
	    0, NULL, NULL), 2);
	ck_assert_int_eq(s.i, 0);
	/* The other policies never draw. */
	memset(&s, 0, sizeof(s));
	(void)sel(t, cand, 3, 0, FWD_SELECT_ORDERED, FWD_GROUP_A, 0, NULL,
	    NULL);
	(void)sel(t, cand, 3, 0, FWD_SELECT_ROUNDROBIN, FWD_GROUP_A, 0, NULL,
	    NULL);
	ck_assert_int_eq(s.i, 0);
	fwd_table_free(t);
}
END_TEST

/* The real source: about 1 in 20 goes elsewhere (p < 1e-9 to fail). */
START_TEST(test_explore_random)
{
	struct fwd_table	*t = table(2);
	int			 cand[] = { 0, 1 }, i, other = 0;

	fwd_reply(t, 0, FWD_GROUP_A, 30, 0);
	fwd_reply(t, 1, FWD_GROUP_A, 10, 0);
	for (i = 0; i < 2000; i++)
		if (sel(t, cand, 2, 0, FWD_SELECT_FASTEST, FWD_GROUP_A, 0,
		    NULL, NULL) == 0)
			other++;
	ck_assert_int_ge(other, 40);
	ck_assert_int_le(other, 180);
	fwd_table_free(t);
}
END_TEST

START_TEST(test_roundrobin)
{
	static const int	 all_up[] = { 0, 1, 2, 0, 1, 2, 0 };
	static const int	 one_down[] = { 2, 0, 2, 0, 2 };
	struct fwd_table	*t = table(3);
	int			 cand[] = { 0, 1, 2 }, i;

	for (i = 0; i < 7; i++)
		ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_ROUNDROBIN,
		    FWD_GROUP_A, 0, NULL, NULL), all_up[i]);
	take_down(t, 1, FWD_GROUP_A, 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_ROUNDROBIN,
		    FWD_GROUP_A, 10, NULL, NULL), one_down[i]);
	/* A retry goes on to the next one up that is untried. */
	ck_assert_int_eq(sel(t, cand, 3, 1, FWD_SELECT_ROUNDROBIN,
	    FWD_GROUP_A, 10, NULL, NULL), 2);
	ck_assert_int_eq(sel(t, cand, 3, 4, FWD_SELECT_ROUNDROBIN,
	    FWD_GROUP_A, 10, NULL, NULL), 0);
	fwd_table_free(t);
}
END_TEST

/* All down, none due: the soonest due goes, marked last. */
START_TEST(test_all_down)
{
	struct fwd_table	*t = table(3);
	int			 cand[] = { 0, 1, 2 }, ad;

	take_down(t, 0, FWD_GROUP_AAAA, 1000);	/* due 2000 */
	take_down(t, 1, FWD_GROUP_AAAA, 500);	/* due 1500 */
	take_down(t, 2, FWD_GROUP_AAAA, 1200);	/* due 2200 */
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 1400, NULL, &ad), 1);
	ck_assert_int_eq(ad, 1);
	ck_assert_int_eq(sel(t, cand, 3, 2, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 1400, NULL, &ad), 0);
	ck_assert_int_eq(ad, 1);
	ck_assert_int_eq(sel(t, cand, 3, 3, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 1400, NULL, &ad), 2);
	ck_assert_int_eq(ad, 1);
	ck_assert_int_eq(sel(t, cand, 3, 7, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 1400, NULL, &ad), -1);
	/* Not a probe: nothing in flight, and the schedule is unchanged. */
	ck_assert_uint_eq(info(t, 1).next_probe[FWD_GROUP_AAAA], 1500);
	/*
	 * Due: a probe; with none up it is the last try too, so that a
	 * question with every forwarder down fails within one timeout.
	 */
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 1500, NULL, &ad), 1);
	ck_assert_int_eq(ad, 1);
	/* 1 is probing: of the others, 0 is due sooner. */
	ck_assert_int_eq(sel(t, cand, 3, 0, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 1600, NULL, &ad), 0);
	ck_assert_int_eq(ad, 1);
	/* Only the one probing is left. */
	ck_assert_int_eq(sel(t, cand, 3, 5, FWD_SELECT_FASTEST,
	    FWD_GROUP_AAAA, 1600, NULL, &ad), 1);
	ck_assert_int_eq(ad, 1);
	fwd_table_free(t);
}
END_TEST

START_TEST(test_table_add)
{
	struct fwd_table	*t = fwd_table_new();
	struct sockaddr_un	 sun;
	struct sockaddr_in	 sin;
	struct fwd_info		 fi;
	char			 a[32];
	int			 i;

	ck_assert_int_eq(fwd_count(t), 0);
	ck_assert_int_eq(add4(t, "192.0.2.1", 53), 0);
	ck_assert_int_eq(add4(t, "192.0.2.1", 53), 0);
	ck_assert_int_eq(add4(t, "192.0.2.1", 5353), 1);
	ck_assert_int_eq(add6(t, "::1", 53), 2);
	ck_assert_int_eq(add6(t, "::1", 53), 2);
	ck_assert_int_eq(add6(t, "::ffff:192.0.2.1", 53), 3);
	ck_assert_int_eq(fwd_count(t), 4);
	fi = info(t, 0);
	ck_assert_str_eq(fi.name, "192.0.2.1@53");
	ck_assert_int_eq(fi.ss.ss_family, AF_INET);
	ck_assert_uint_eq(fi.sslen, sizeof(struct sockaddr_in));
	ck_assert_str_eq(info(t, 1).name, "192.0.2.1@5353");
	ck_assert_str_eq(info(t, 2).name, "::1@53");
	ck_assert_uint_eq(info(t, 2).sslen, sizeof(struct sockaddr_in6));
	/* Not an address of ours, or too short to be one. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(fwd_table_add(t, (struct sockaddr *)&sun,
	    sizeof(sun)), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(fwd_table_add(t, (struct sockaddr *)&sin, 4), -1);
	ck_assert_int_eq(fwd_table_add(t, NULL, 0), -1);
	/* Full at FWD_MAX; known ones are still found. */
	for (i = 4; i < FWD_MAX; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i);
		ck_assert_int_eq(add4(t, a, 53), i);
	}
	ck_assert_int_eq(fwd_count(t), FWD_MAX);
	ck_assert_int_eq(add4(t, "203.0.113.1", 53), -1);
	ck_assert_int_eq(add6(t, "::1", 53), 2);
	ck_assert_int_eq(fwd_count(t), FWD_MAX);
	ck_assert_int_eq(fwd_get_info(t, FWD_MAX, &fi), -1);
	ck_assert_int_eq(fwd_get_info(t, -1, &fi), -1);
	fwd_table_free(t);
}
END_TEST

START_TEST(test_info_counters)
{
	struct fwd_table	*t = table(2);
	struct fwd_info		 fi;
	int			 cand[] = { 0, 1 };

	(void)sel(t, cand, 2, 0, FWD_SELECT_ORDERED, FWD_GROUP_A, 0, NULL,
	    NULL);
	(void)sel(t, cand, 2, 0, FWD_SELECT_ORDERED, FWD_GROUP_A, 0, NULL,
	    NULL);
	(void)sel(t, cand, 2, 1, FWD_SELECT_ORDERED, FWD_GROUP_A, 0, NULL,
	    NULL);
	fwd_reply(t, 0, FWD_GROUP_A, 20, 0);
	fwd_timeout(t, 0, FWD_GROUP_OTHER, 100, MAXMS, 0);
	fwd_timeout(t, 0, FWD_GROUP_AAAA, 100, MAXMS, 0);
	fwd_error(t, 0);
	fwd_error(t, 0);
	fwd_error(t, 0);
	fwd_broken(t, 0);
	/* Unknown indexes are ignored. */
	fwd_error(t, 5);
	fwd_broken(t, -1);
	fwd_reply(t, 7, FWD_GROUP_A, 20, 0);
	fwd_timeout(t, 7, FWD_GROUP_A, 100, MAXMS, 0);
	fwd_abandon(t, 7, FWD_GROUP_A);
	fi = info(t, 0);
	ck_assert_uint_eq(fi.tries, 2);
	ck_assert_uint_eq(fi.replies, 1);
	ck_assert_uint_eq(fi.timeouts_total, 2);
	ck_assert_uint_eq(fi.timeouts[FWD_GROUP_A], 0);
	ck_assert_uint_eq(fi.timeouts[FWD_GROUP_AAAA], 1);
	ck_assert_uint_eq(fi.timeouts[FWD_GROUP_OTHER], 1);
	ck_assert_uint_eq(fi.errors, 3);
	ck_assert_uint_eq(fi.broken, 1);
	ck_assert_uint_eq(fi.srtt, 20);
	ck_assert_uint_eq(fi.rttvar, 10);
	ck_assert_uint_eq(fi.rto, 60);
	fi = info(t, 1);
	ck_assert_uint_eq(fi.tries, 1);
	ck_assert_uint_eq(fi.errors + fi.broken + fi.replies, 0);
	fwd_table_free(t);
}
END_TEST

/*
 * Threads sharing the table: every successful select counts one try, and
 * the state stays within its bounds.
 */
#define MT_THREADS	4
#define MT_ITER		20000

struct mt_arg {
	struct fwd_table	*t;
	unsigned int		 seed;
	unsigned long		 picks;
	unsigned long		 bad;
};

static void *
mt_run(void *p)
{
	struct mt_arg	*a = p;
	int		 cand[] = { 0, 1, 2, 3 }, i, pos, ad;
	unsigned int	 r, tmo;
	enum fwd_group	 g;

	for (i = 0; i < MT_ITER; i++) {
		a->seed ^= a->seed << 13;
		a->seed ^= a->seed >> 17;
		a->seed ^= a->seed << 5;
		r = a->seed;
		g = (enum fwd_group)(r % FWD_NGROUPS);
		pos = fwd_select(a->t, cand, 4, (r >> 4) & 0xf,
		    (enum fwd_selection)((r >> 8) % 3), g, (uint64_t)i * 10,
		    MAXMS, &tmo, &ad);
		if (pos == -1) {
			if (((r >> 4) & 0xf) != 0xf)
				a->bad++;
			continue;
		}
		a->picks++;
		if (tmo < FWD_RTO_MIN || tmo > MAXMS)
			a->bad++;
		switch ((r >> 12) % 4) {
		case 0:
			fwd_reply(a->t, cand[pos], g, (r >> 16) % 200,
			    (uint64_t)i * 10);
			break;
		case 1:
			fwd_abandon(a->t, cand[pos], g);
			break;
		default:
			fwd_timeout(a->t, cand[pos], g, tmo, MAXMS,
			    (uint64_t)i * 10);
			break;
		}
	}
	return (NULL);
}

START_TEST(test_threads)
{
	struct fwd_table	*t = table(4);
	struct mt_arg		 a[MT_THREADS];
	struct logcap		 lc;
	pthread_t		 th[MT_THREADS];
	uint64_t		 tries = 0;
	unsigned long		 picks = 0;
	char			 log[64];
	int			 i;

	/* Thousands of state changes: keep them out of the test log. */
	logcap_start(&lc);
	for (i = 0; i < MT_THREADS; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].t = t;
		a[i].seed = 2463534242U + (unsigned int)i * 7919;
		ck_assert_int_eq(pthread_create(&th[i], NULL, mt_run, &a[i]),
		    0);
	}
	for (i = 0; i < MT_THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_uint_eq(a[i].bad, 0);
		picks += a[i].picks;
	}
	logcap_end(&lc, log, sizeof(log));
	ck_assert_msg(strncmp(log, "forwarder 192.0.2.", 18) == 0, "%s", log);
	for (i = 0; i < 4; i++)
		tries += info(t, i).tries;
	ck_assert_uint_eq(tries, picks);
	ck_assert_uint_gt(picks, 0);
	fwd_table_free(t);
}
END_TEST

static Suite *
fwd_suite(void)
{
	Suite	*s = suite_create("fwd");
	TCase	*tc;

	tc = tcase_create("rtt");
	tcase_add_loop_test(tc, test_rtt, 0,
	    sizeof(rtt_cases) / sizeof(rtt_cases[0]));
	tcase_add_loop_test(tc, test_timeout_backoff, 0,
	    sizeof(tmo_cases) / sizeof(tmo_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("health");
	tcase_add_loop_test(tc, test_going_down, 0,
	    sizeof(down_cases) / sizeof(down_cases[0]));
	tcase_add_loop_test(tc, test_nearest, 0,
	    sizeof(near_cases) / sizeof(near_cases[0]));
	tcase_add_test(tc, test_reply_resets);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_probe_schedule);
	tcase_add_test(tc, test_timeout_not_probe);
	tcase_add_test(tc, test_up_again);
	tcase_add_test(tc, test_abandon);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_add_loop_test(tc, test_select, 0,
	    sizeof(sel_cases) / sizeof(sel_cases[0]));
	tcase_add_test(tc, test_fastest_ties);
	tcase_add_test(tc, test_explore);
	tcase_add_test(tc, test_explore_random);
	tcase_add_test(tc, test_roundrobin);
	tcase_add_test(tc, test_all_down);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_test(tc, test_table_add);
	tcase_add_test(tc, test_info_counters);
	suite_add_tcase(s, tc);

	/* Generous: sanitizer builds run this several times slower. */
	tc = tcase_create("threads");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(fwd_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
