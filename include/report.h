/*
 * report.h -- one snapshot of the running daemon, taken at once, that the
 * control tool's status and stats and the metrics page render: the
 * workers' counters summed, the cache, the forwarders' health and the
 * facts of the daemon's life that main.c keeps (start, reloads).  Both
 * render the same snapshot, so the two never disagree.  Only the main
 * thread calls these.
 */
#ifndef REPORT_H
#define REPORT_H

#include <sys/types.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"
#include "fwd.h"
#include "stats.h"

struct server;

/* What main.c knows of the daemon's life; it owns and updates it. */
struct runstate {
	struct server	*srv;
	const char	*file;		/* the configuration file */
	time_t		 started;	/* wall clock */
	uint64_t	 started_ms;	/* monotonic (mono.h) */
	time_t		 last_reload_ok;	/* wall clock; the start at
						   first */
	uint64_t	 reloads_ok;
	uint64_t	 reloads_failed;
};

struct report_fwd {
	struct fwd_info	 info;
	int		 configured;	/* a forwarder of the running conf */
};

struct report {
	struct stats		 stats;		/* every worker's, summed */
	struct cache_stats	 cache;
	int			 cache_on;
	/* Every forwarder known since the start, in table order. */
	struct report_fwd	 fwd[FWD_MAX];
	int			 nfwd;
	unsigned int		 generation;
	unsigned int		 nworkers;
	pid_t			 pid;
	struct timespec		 now;		/* wall clock */
	uint64_t		 uptime_ms;
	time_t			 started;
	time_t			 last_reload_ok;
	uint64_t		 reloads_ok;
	uint64_t		 reloads_failed;
};

/* Fill r (a large struct: allocate it). */
void		 report_collect(const struct runstate *, struct report *);
/* The IANA name of stats.rcode[i] ("NOERROR", ..., "BADVERS"). */
const char	*report_rcode_name(int);
const char	*report_qtype_name(enum stats_qtype);
const char	*report_group_name(enum fwd_group);
/*
 * The upper bound of histogram bucket i in microseconds; 0 for the last
 * one, which has none (+Inf).
 */
uint64_t	 report_bucket_us(int);
/* The sum of a histogram's buckets: its count, consistent with them. */
uint64_t	 report_hist_count(const struct stats_histogram *);

#endif /* REPORT_H */
