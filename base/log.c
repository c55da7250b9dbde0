/* log — one process-wide sink guarded by a mutex (workers log too). */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_sink_fn *log_sink;
static void *log_ctx;
static enum log_level log_min = LOG_INFO;

void log_set_sink(log_sink_fn *fn, void *ctx, enum log_level min)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_ctx = ctx;
	log_min = min;
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	pthread_mutex_lock(&log_lock);
	if (log_sink && level >= log_min) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		log_sink(level, msg, log_ctx);
	}
	pthread_mutex_unlock(&log_lock);
}
