/*
 * audit — the console's audit log: every confirmed action, who, when, on
 * what, and how it ended (spec/console.md). One JSON object per line,
 * appended to $TARMAC_AUDIT_LOG, else $XDG_STATE_HOME/tarmac/audit.log
 * (~/.local/state when unset); the directory is made 0700, the file 0600.
 *
 * Each record is one write(2) on an O_APPEND descriptor, so records from
 * several threads or tarmac processes never interleave. Secrets are never
 * passed here. A log that cannot be written does not stop the action: the
 * caller gets the error to show.
 *
 * Threads: any thread.
 */
#ifndef TARMAC_TUI_AUDIT_H
#define TARMAC_TUI_AUDIT_H

#include "base/err.h"

/* Appends {"time","user","action","database","event","detail"}; detail may be NULL. */
enum err_code tui_audit_write(const char *action, const char *database, const char *event,
			      const char *detail, struct err *e);

#endif
