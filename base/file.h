/*
 * file — private files written whole: the S3 checksum cache, the SSM
 * follow positions and the audit log's directory. Directories this makes
 * are 0700 and files 0600, since they may name buckets, databases and
 * commands; a replaced file is never seen half-written.
 */
#ifndef TARMAC_BASE_FILE_H
#define TARMAC_BASE_FILE_H

#include <stddef.h>

#include "base/err.h"

/* mkdir -p for every directory above path's last component (0700 for the
 * ones it creates; existing ones are left as they are). ERR_IO names the
 * directory that could not be made. */
enum err_code file_make_parents(const char *path, struct err *e);

/*
 * Replaces path with data[0..len): its parents made as above, a temporary
 * file beside it (mode 0600) written and fsynced, then renamed over path.
 * On error path is unchanged and the temporary is removed; ERR_IO says
 * which step failed on which file.
 */
enum err_code file_replace_private(const char *path, const void *data, size_t len,
				   struct err *e);

#endif
