/*
 * log — leveled diagnostics. Lower layers log through here and never write
 * to stdout/stderr themselves; the program installs a sink (stderr in line
 * mode, the output pane in the console). Never pass secrets to log_msg.
 */
#ifndef TARMAC_BASE_LOG_H
#define TARMAC_BASE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef void log_sink_fn(enum log_level level, const char *msg, void *ctx);

/* Installs the sink (NULL drops everything) and the lowest level passed on. */
void log_set_sink(log_sink_fn *fn, void *ctx, enum log_level min);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
