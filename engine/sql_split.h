/*
 * sql_split — Flyway's statement splitter for PostgreSQL and MariaDB/MySQL,
 * written as a restartable scanner so that a large migration is executed
 * in bounded memory (the caller keeps a window of the file, not all of it).
 *
 * Rules (spec/flyway.md §7.4): statements end at the delimiter (`;`) outside
 * strings, comments, parentheses and blocks. PostgreSQL: `--` and nested
 * block comments, '' strings, E'' (and B'', X'') with backslash escapes,
 * U&'', "identifiers", $tag$ dollar quoting, BEGIN ATOMIC ... END, and
 * COPY ... FROM STDIN whose data follows up to a line `\.`.
 * MariaDB: `DELIMITER xx` (persists), `#` and `-- ` comments, backticks,
 * '' and "" with backslash escapes, executable comments (slash-star-bang) kept in the text, and
 * BEGIN...END bodies inside CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT.
 *
 * Internal to engine/ and its tests; not part of engine.h.
 */
#ifndef TARMAC_ENGINE_SQL_SPLIT_H
#define TARMAC_ENGINE_SQL_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "engine/db.h"

struct sql_stmt {
	const char *text;   /* trimmed statement text, without the delimiter; borrowed from the input */
	size_t len;
	int line, col;      /* 1-based position of the statement's first character in the file */
	bool non_transactional; /* PostgreSQL: CREATE INDEX CONCURRENTLY, VACUUM, ... (spec §4.3) */
	bool is_copy;       /* PostgreSQL COPY ... FROM STDIN */
	const char *copy_data; /* the data lines (each ending in \n), without the `\.` line */
	size_t copy_len;
};

struct sql_splitter {
	enum db_dialect dialect;
	char delim[32];     /* MariaDB: the current DELIMITER (";" at start) */
	int line, col;      /* file position of the first byte not yet consumed */
	int server_version; /* PostgreSQL < 12: ALTER TYPE ... ADD VALUE is non-transactional; 0 = unknown (treat as >= 12) */
};

enum sql_split_result {
	SQL_SPLIT_STMT,      /* *st filled; *consumed bytes of input are used up */
	SQL_SPLIT_NEED_MORE, /* no complete statement yet: call again with more input appended */
	SQL_SPLIT_END,       /* final input holds no further statement */
	SQL_SPLIT_ERROR,     /* e says "line L col C: ..." */
};

void sql_splitter_init(struct sql_splitter *s, enum db_dialect d, int server_version);

/*
 * Looks for the next statement in in.text[0..in.len), which starts at the first
 * byte not yet consumed. in.final says no more input follows (then an
 * unterminated last statement is returned as a statement, as Flyway does,
 * unless it is inside a string/comment/block/dollar quote, which is an error:
 * "Incomplete statement at line L col C: <first 60 chars>" or
 * "Unterminated dollar-quoted string starting at line L col C" etc.).
 * *consumed is always set: the caller drops that many bytes from the front
 * of its window before the next call, and the splitter has advanced its
 * line/col past them. On NEED_MORE it may be > 0 (whitespace, comments and
 * DELIMITER directives already passed). Directives and comment-only text
 * are consumed and never returned as statements.
 */
/* A window of the file: text[0..len), and whether more follows. */
struct sql_input {
	const char *text;
	size_t len;
	bool final;
};

enum sql_split_result sql_split_next(struct sql_splitter *s, struct sql_input in,
				     struct sql_stmt *st, size_t *consumed, struct err *e);

#endif
