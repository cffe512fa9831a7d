/*
 * log.c -- logging to stderr or syslog.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

#include "mono.h"

#define LOG_RATE_MS	10000	/* identical errors: one line per 10 s */
#define LOG_RATE_SLOTS	8	/* distinct errors remembered */

/*
 * The logging settings are the program's only file-scope state: the mode
 * is set at startup before any worker exists, the verbosity may change at
 * run time (dns64proxy-control verbosity), so every thread reads it
 * atomically.
 */
static int		log_debug_mode = 1;
static atomic_int	log_verbose;

/*
 * Rate limiting: an error of the workers repeated for every query (out of descriptors,
 * say) would flood the log.  The first of a kind is logged, the rest are
 * counted and summed up once per interval: "N more like this".
 */
struct log_rate {
	char		 msg[1024];
	uint64_t	 start;		/* ms */
	unsigned int	 more;
};
static struct log_rate	log_rates[LOG_RATE_SLOTS];
/* The main thread's errors (config, reload, control) are never limited. */
static pthread_t	log_main_thread;
static pthread_mutex_t	log_rate_mtx = PTHREAD_MUTEX_INITIALIZER;

void
log_init(int debug, int facility)
{
	log_debug_mode = debug;
	log_main_thread = pthread_self();
	if (!debug)
		openlog("dns64proxy", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_setverbose(int verbose)
{
	atomic_store_explicit(&log_verbose, verbose, memory_order_relaxed);
}

int
log_getverbose(void)
{
	return (atomic_load_explicit(&log_verbose, memory_order_relaxed));
}

static void
emit(int pri, const char *msg)
{
	if (log_debug_mode)
		/* One write per line: threads do not mix their lines. */
		fprintf(stderr, "%s\n", msg);
	else
		syslog(pri, "%s", msg);
}

/* Summaries of the intervals that are over; log_rate_mtx held. */
static void
rate_flush(uint64_t now, int all)
{
	struct log_rate	*r;
	char		 line[1100];
	int		 i;

	for (i = 0; i < LOG_RATE_SLOTS; i++) {
		r = &log_rates[i];
		if (r->msg[0] == '\0' || (!all && now - r->start < LOG_RATE_MS))
			continue;
		if (r->more > 0 && now - r->start >= LOG_RATE_MS)
			snprintf(line, sizeof(line), "%u more like this in %d s: "
			    "%.1023s", r->more, LOG_RATE_MS / 1000, r->msg);
		else if (r->more > 0)
			snprintf(line, sizeof(line), "%u more like this: %.1023s",
			    r->more, r->msg);
		if (r->more > 0)
			emit(LOG_ERR, line);
		r->msg[0] = '\0';
	}
}

/* 1 if msg was logged lately and is only counted now. */
static int
rate_limited(const char *msg)
{
	struct log_rate	*r, *slot = NULL;
	uint64_t	 now = mono_ms();
	int		 i, limited = 0;

	pthread_mutex_lock(&log_rate_mtx);
	rate_flush(now, 0);
	for (i = 0; i < LOG_RATE_SLOTS; i++) {
		r = &log_rates[i];
		if (strcmp(r->msg, msg) == 0) {
			r->more++;
			limited = 1;
			break;
		}
		if (slot == NULL || (slot->msg[0] != '\0' &&
		    (r->msg[0] == '\0' || r->start < slot->start)))
			slot = r;
	}
	if (!limited) {
		/* Evicting one means its summary now. */
		if (slot->msg[0] != '\0' && slot->more > 0) {
			char	 line[1100];

			snprintf(line, sizeof(line), "%u more like this: %.1023s",
			    slot->more, slot->msg);
			emit(LOG_ERR, line);
		}
		snprintf(slot->msg, sizeof(slot->msg), "%s", msg);
		slot->start = now;
		slot->more = 0;
	}
	pthread_mutex_unlock(&log_rate_mtx);
	return (limited);
}

void
log_flush(int all)
{
	pthread_mutex_lock(&log_rate_mtx);
	rate_flush(mono_ms(), all);
	pthread_mutex_unlock(&log_rate_mtx);
}

static void
vlog_pri(int pri, int limit, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!limit || !rate_limited(msg))
		emit(pri, msg);
	errno = saved_errno;
}

static void
vlog(int pri, const char *fmt, va_list ap)
{
	vlog_pri(pri, pri == LOG_ERR &&
	    !pthread_equal(pthread_self(), log_main_thread), fmt, ap);
}

static void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int pri, const char *fmt, va_list ap)
{
	char	 buf[1024];
	int	 saved_errno = errno;

	if (fmt == NULL)
		logit(pri, "%s", strerror(saved_errno));
	else {
		vsnprintf(buf, sizeof(buf), fmt, ap);
		logit(pri, "%s: %s", buf, strerror(saved_errno));
	}
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
