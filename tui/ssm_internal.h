/*
 * ssm_internal — what tui/ssm*.c share with each other and with
 * tests/unit/test_ssm.c: the handle's fields, the pieces of the Comment,
 * the shell quoting, and the follow position's state file.
 * Not for other modules: they use tui/ssm.h.
 */
#ifndef TARMAC_TUI_SSM_INTERNAL_H
#define TARMAC_TUI_SSM_INTERNAL_H

#include "aws/aws.h"
#include "tui/config.h"
#include "tui/ssm.h"

#define TUI_SSM_COMMENT_MAX 100        /* SendCommand's limit */
#define TUI_SSM_OPERATOR_MAX 32
/* CloudWatch Logs forgets a forward token after 24 hours: older positions
 * are not resumed from, and tui_ssm_send removes them. */
#define TUI_SSM_STATE_MAX_AGE_S (23L * 3600)

struct tui_ssm {
	struct tui_conf conf;
	struct aws_ctx *aws;
	atomic_bool *cancel;             /* the flag aws is bound to, or NULL */
	bool read_only;                  /* tui_ssm_open's flag or [console] read_only */
	char *target;                    /* [ssm] target as written */
	char *instance_id;               /* i-...; NULL for a tag target */
	char *tag_key, *tag_value;       /* "tag:Role", "flyway-host" */
	const char *document;            /* [ssm] document or AWS-RunShellScript */
	const char *log_group;           /* [ssm] log_group, or NULL: SSM's default */
	char *state_dir;                 /* NULL: no HOME, positions are not kept */
	char operator_name[TUI_SSM_OPERATOR_MAX + 1];
	char comment[TUI_SSM_COMMENT_MAX + 1];
};

/* Binds the handle's AWS context to cancel (may be NULL); returns the flag it
 * was bound to, for the caller to restore. */
atomic_bool *tui_ssm_bind_cancel(struct tui_ssm *s, atomic_bool *cancel);
/* Sleeps ms in 50 ms steps; false as soon as cancel (may be NULL) is set. */
bool tui_ssm_pause(long ms, atomic_bool *cancel);
/* Whole seconds between two ISO 8601 times (GetCommandInvocation's), or -1
 * when either is missing or they are out of order. */
long long tui_ssm_duration_s(const char *start, const char *end);
/* The database's section, or ERR_USAGE naming the file. */
enum err_code tui_ssm_find_db(const struct tui_ssm *s, const char *db,
			      struct tui_db_conf **out, struct err *e);

/* Appends s single-quoted for a POSIX shell ('' inside as '\''). */
void tui_ssm_shell_quote(struct buf *b, const char *s);
/* user (NULL or "" → "unknown") with characters outside A-Z a-z 0-9 . _ @ -
 * as '_', cut to TUI_SSM_OPERATOR_MAX, into out[TUI_SSM_OPERATOR_MAX + 1]. */
void tui_ssm_operator_clean(const char *user, char *out);
/* "tarmac db=DB run=XXXXXXXX by=OP" into out[TUI_SSM_COMMENT_MAX + 1], OP
 * cut to fit; ERR_USAGE when db leaves no room for an operator. */
enum err_code tui_ssm_comment_make(const char *db, unsigned int run, const char *op, char *out,
				   struct err *e);
/* The value of key ("db", "run", "by") in a tarmac Comment (caller frees),
 * or NULL: not a tarmac Comment, or no such key. */
char *tui_ssm_comment_get(const char *comment, const char *key);

/* True for what an SSM command id can be (a UUID: 1-64 of A-Z a-z 0-9 -),
 * so that it is safe as a file name. */
bool tui_ssm_id_ok(const char *id);

/* ---- follow positions: one state file per command id ---------------------- */

struct tui_ssm_pos {
	char *token[2];                  /* stdout, stderr forward tokens; NULL: from the start */
	unsigned long long lines;        /* lines delivered so far, both streams */
};
void tui_ssm_pos_release(struct tui_ssm_pos *p);

/* $XDG_STATE_HOME/tarmac/ssm (absolute values only), else
 * ~/.local/state/tarmac/ssm; NULL without either (caller frees). */
char *tui_ssm_state_dir(void);
/* Writes p for id to DIR/ID atomically (temp file, fsync, rename), the file
 * 0600, creating DIR and its missing parents 0700. ERR_IO says what failed. */
enum err_code tui_ssm_state_save(const char *dir, const char *id, const struct tui_ssm_pos *p,
				 struct err *e);
/* The file's text for id and p, appended to out. */
void tui_ssm_state_format(struct buf *out, const char *id, const struct tui_ssm_pos *p);
/* Parses text[0..len) (a file called name, for messages) as the position of
 * id: ERR_PARSE, p left empty, for anything tui_ssm_state_format cannot
 * have written for id (other lines, another id, a token with spaces or
 * control bytes, NUL bytes, more than 8 KiB). */
enum err_code tui_ssm_state_parse(const char *name, const char *text, size_t len,
				  const char *id, struct tui_ssm_pos *p, struct err *e);
/* Reads DIR/ID into p: *found false (ERR_OK) when there is none; ERR_PARSE
 * for a file that is not one of ours, names another id, or is older than
 * TUI_SSM_STATE_MAX_AGE_S (p is then empty). */
enum err_code tui_ssm_state_load(const char *dir, const char *id, struct tui_ssm_pos *p,
				 bool *found, struct err *e);
/* Removes DIR/ID; a missing file is fine. */
void tui_ssm_state_remove(const char *dir, const char *id);
/* Removes the state files in dir older than max_age_s seconds. */
void tui_ssm_state_prune(const char *dir, long max_age_s);

#endif
