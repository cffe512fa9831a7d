/*
 * log.h -- logging to stderr (foreground) or syslog, OpenBSD style.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

/* Log to stderr when debug is set, else to syslog with facility. */
void	log_init(int debug, int facility);
/* Set verbosity: 0 quiet, 1 one line per query, 2 packet dumps. */
void	log_setverbose(int verbose);
int	log_getverbose(void);
/* Error with strerror(errno) appended; errno is preserved. */
void	log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
/* Only printed at verbosity >= 1. */
void	log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
/*
 * Errors (log_warn, log_warnx) repeated within an interval are counted,
 * not logged; log_flush(0) logs the "N more like this" of the intervals
 * that ended (call it periodically), log_flush(1) those of every interval
 * (at exit, so that nothing counted is lost).
 */
void	log_flush(int);
/* Startup failures only: log and exit(1). */
__attribute__((__noreturn__)) void fatal(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
__attribute__((__noreturn__)) void fatalx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));

#endif /* LOG_H */
