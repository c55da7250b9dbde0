/*
 * sql_split — the restartable statement scanner behind sql_split.h.
 *
 * Each call scans one statement from the front of the caller's window and
 * keeps nothing between calls except struct sql_splitter (the MariaDB
 * delimiter and the file position of the window's first byte). When the
 * window ends before the statement does, the call answers NEED_MORE and
 * the next call rescans the statement from its start with more bytes.
 *
 * Invariants:
 *  - Without `final`, a statement is returned only once its delimiter has
 *    been seen, so every look-ahead taken before the delimiter had its
 *    bytes; running off the window end is always NEED_MORE. That is what
 *    makes any windowing give the same statements as one final window.
 *  - *consumed on NEED_MORE covers only whitespace, complete comments,
 *    empty statements and DELIMITER directives, and never ends between a
 *    \r and a \n, so line counting needs no memory of the previous window.
 *  - Reads stay inside in[0..len); nothing recurses; depths are size_t
 *    counters that cannot exceed len.
 * A leading BOM is the reader's business (it drops one, as Flyway does).
 */
#include "engine/sql_split.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Byte classes that steer the scanner; C_DELIM marks the delimiter's first byte. */
enum cclass {
	C_OTHER, C_SPACE, C_WORD, C_DOLLAR, C_SQUOTE, C_DQUOTE, C_BTICK,
	C_DASH, C_SLASH, C_HASH, C_LPAREN, C_RPAREN, C_COLON, C_DELIM,
};

#define IS_ALNUM_(c) ((((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z') || \
		      ((c) >= '0' && (c) <= '9') || (c) == '_' || (c) >= 0x80)
#define IS_SPACE_(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))
/* The class of byte c, PostgreSQL (my = 0) or MariaDB (my = 1). */
#define CLS(c, my) (IS_ALNUM_(c) ? C_WORD : IS_SPACE_(c) ? C_SPACE : \
	(c) == ';' ? C_DELIM : (c) == '\'' ? C_SQUOTE : (c) == '"' ? C_DQUOTE : \
	(c) == '-' ? C_DASH : (c) == '/' ? C_SLASH : (c) == '(' ? C_LPAREN : \
	(c) == ')' ? C_RPAREN : (c) == '$' ? ((my) ? C_WORD : C_DOLLAR) : \
	(my) && (c) == '`' ? C_BTICK : (my) && (c) == '#' ? C_HASH : \
	(my) && (c) == ':' ? C_COLON : C_OTHER)
#define R4(b, my) CLS((b), my), CLS((b) + 1, my), CLS((b) + 2, my), CLS((b) + 3, my)
#define R16(b, my) R4((b), my), R4((b) + 4, my), R4((b) + 8, my), R4((b) + 12, my)
#define R256(my) R16(0x00, my), R16(0x10, my), R16(0x20, my), R16(0x30, my), \
	R16(0x40, my), R16(0x50, my), R16(0x60, my), R16(0x70, my), \
	R16(0x80, my), R16(0x90, my), R16(0xa0, my), R16(0xb0, my), \
	R16(0xc0, my), R16(0xd0, my), R16(0xe0, my), R16(0xf0, my)

static const unsigned char cls_pg[256] = { R256(0) };
static const unsigned char cls_my[256] = { R256(1) };

/* Keywords the scanner reacts to, and pseudo-keywords for punctuation. */
enum kw {
	KW_NONE, KW_OTHER, KW_SEMI, KW_COLON, KW_RPAREN,
	KW_ATOMIC, KW_BEGIN, KW_CASE, KW_COPY, KW_END, KW_FROM, KW_STDIN,
	KW_AGGREGATE, KW_CREATE, KW_DEFINER, KW_DO, KW_ELSE, KW_EVENT,
	KW_FUNCTION, KW_IF, KW_LOOP, KW_OR, KW_PROCEDURE, KW_REPEAT,
	KW_REPLACE, KW_ROW, KW_THEN, KW_TRIGGER, KW_WHILE,
};

struct keyword {
	char name[10];
	unsigned char len, id;
};

static const struct keyword kw_pg[] = {
	{ "END", 3, KW_END }, { "CASE", 4, KW_CASE }, { "COPY", 4, KW_COPY },
	{ "FROM", 4, KW_FROM }, { "BEGIN", 5, KW_BEGIN },
	{ "STDIN", 5, KW_STDIN }, { "ATOMIC", 6, KW_ATOMIC },
};

static const struct keyword kw_my[] = {
	{ "DO", 2, KW_DO }, { "IF", 2, KW_IF }, { "OR", 2, KW_OR },
	{ "END", 3, KW_END }, { "ROW", 3, KW_ROW }, { "CASE", 4, KW_CASE },
	{ "ELSE", 4, KW_ELSE }, { "LOOP", 4, KW_LOOP }, { "THEN", 4, KW_THEN },
	{ "BEGIN", 5, KW_BEGIN }, { "EVENT", 5, KW_EVENT },
	{ "WHILE", 5, KW_WHILE }, { "CREATE", 6, KW_CREATE },
	{ "REPEAT", 6, KW_REPEAT }, { "DEFINER", 7, KW_DEFINER },
	{ "REPLACE", 7, KW_REPLACE }, { "TRIGGER", 7, KW_TRIGGER },
	{ "FUNCTION", 8, KW_FUNCTION }, { "AGGREGATE", 9, KW_AGGREGATE },
	{ "PROCEDURE", 9, KW_PROCEDURE },
};

/* Where MariaDB's CREATE ... PROCEDURE|FUNCTION|TRIGGER|EVENT detection is. */
enum create_state { CS_NONE, CS_CREATE, CS_DEFINER };

/* What an unterminated construct was, for the error message. */
enum bad_kind { BAD_NONE, BAD_STRING, BAD_IDENT, BAD_COMMENT, BAD_DOLLAR };

/* Comment openers as seen at a byte. */
enum cmt { CMT_NONE, CMT_LINE, CMT_BLOCK, CMT_EXEC, CMT_MAYBE };

/* What the blank-skipping phase ran into. */
enum skip { SKIP_TOKEN, SKIP_END, SKIP_MORE, SKIP_ERROR };

/* One call's scanner state; nothing here outlives sql_split_next(). */
struct scan {
	struct sql_splitter *s;
	const unsigned char *in, *end;
	bool final, my, track;      /* track: count parens and blocks */
	const unsigned char *cls;   /* cls_pg, cls_my or own_cls */
	const unsigned char *delim;
	size_t dlen;
	unsigned char d_fallback;   /* class of the delimiter's first byte when it does not match */
	/* the statement being scanned */
	const unsigned char *start;
	size_t parens, blocks;
	unsigned char prev;         /* enum kw of the previous significant token */
	unsigned char create, create_n;
	bool seen, routine, copy_first, is_copy;
	/* the first construct found unterminated */
	const unsigned char *bad;
	enum bad_kind bad_kind;
	size_t bad_len;
	unsigned char own_cls[256]; /* cls_my with a custom delimiter's first byte marked; last, not zeroed */
};

void sql_splitter_init(struct sql_splitter *s, enum db_dialect d, int server_version)
{
	memset(s, 0, sizeof *s);
	s->dialect = d;
	s->delim[0] = ';';
	s->line = 1;
	s->col = 1;
	s->server_version = server_version;
}

static bool is_space(unsigned char c)
{
	return IS_SPACE_(c);
}

static int clamp_int(size_t v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

/*
 * Moves (line, col) over in[from..to). \n, \r and \r\n are one line break
 * each; a \n whose \r is in[from - 1] was counted with that \r.
 */
static void pos_advance(int *line, int *col, const unsigned char *in, size_t from, size_t to)
{
	const unsigned char *p = in + from, *end = in + to, *q, *last = NULL;
	size_t breaks = 0;

	if (to <= from)
		return;
	for (q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++) {
		bool paired = q > p ? q[-1] == '\r' : from > 0 && in[from - 1] == '\r';
		breaks += !paired;
		last = q;
	}
	for (q = p; q < end && (q = memchr(q, '\r', (size_t)(end - q))); q++) {
		breaks++;
		if (!last || q > last)
			last = q;
	}
	if (!last) {
		*col = clamp_int((size_t)*col + (size_t)(end - p));
		return;
	}
	*line = clamp_int((size_t)*line + breaks);
	*col = clamp_int((size_t)(end - last));
}

/* The file position of in[off]. */
static void pos_of(const struct scan *sc, const unsigned char *at, int *line, int *col)
{
	*line = sc->s->line;
	*col = sc->s->col;
	pos_advance(line, col, sc->in, 0, (size_t)(at - sc->in));
}

/*
 * Reports r after dropping n bytes. Non-statement results never leave a
 * \r as the last consumed byte: its \n may be in the next window.
 */
static enum sql_split_result leave(struct scan *sc, size_t n, enum sql_split_result r,
				   size_t *consumed)
{
	if (r != SQL_SPLIT_STMT && !sc->final && n > 0 && sc->in[n - 1] == '\r')
		n--;
	pos_advance(&sc->s->line, &sc->s->col, sc->in, 0, n);
	*consumed = n;
	return r;
}

/* Fails with "line L col C: <msg>" where L/C is the position of `at`. */
static enum sql_split_result fail(struct scan *sc, size_t pos, size_t *consumed, struct err *e,
				  const unsigned char *at, const char *msg)
{
	int line, col;

	pos_of(sc, at, &line, &col);
	err_set(e, ERR_PARSE, "line %d col %d: %s", line, col, msg);
	return leave(sc, pos, SQL_SPLIT_ERROR, consumed);
}

/* Points the scanner at s->delim; a custom MariaDB delimiter gets its own class table. */
static void scan_set_delim(struct scan *sc)
{
	const char *d = sc->my ? sc->s->delim : ";";

	sc->delim = (const unsigned char *)d;
	sc->dlen = strnlen(d, sizeof sc->s->delim - 1);
	if (sc->dlen == 0) {
		sc->delim = (const unsigned char *)";";
		sc->dlen = 1;
	}
	sc->d_fallback = C_OTHER;
	sc->cls = sc->my ? cls_my : cls_pg;
	sc->track = sc->dlen == 1 && sc->delim[0] == ';';
	if (sc->track)
		return;
	/* A custom delimiter is searched for at every byte outside quotes and
	 * comments, even inside words (`END$$`), as the mysql client does. */
	memcpy(sc->own_cls, cls_my, sizeof sc->own_cls);
	sc->d_fallback = cls_my[sc->delim[0]];
	if (sc->d_fallback == C_HASH || sc->d_fallback == C_DELIM)
		sc->d_fallback = C_OTHER;
	sc->own_cls[';'] = C_OTHER;
	sc->own_cls[sc->delim[0]] = C_DELIM;
	sc->cls = sc->own_cls;
}

static bool delim_at(const struct scan *sc, const unsigned char *p)
{
	return (size_t)(sc->end - p) >= sc->dlen && memcmp(p, sc->delim, sc->dlen) == 0;
}

/* ---- tokens ---------------------------------------------------------- */

/* Records an unterminated construct; returns NULL for the scanners' convenience. */
static const unsigned char *unterminated(struct scan *sc, const unsigned char *at,
					 enum bad_kind kind, size_t len)
{
	if (!sc->bad) {
		sc->bad = at;
		sc->bad_kind = kind;
		sc->bad_len = len;
	}
	return NULL;
}

/* What kind of comment starts at p; CMT_MAYBE when the window ends too soon to tell. */
static enum cmt comment_at(const struct scan *sc, const unsigned char *p)
{
	size_t avail = (size_t)(sc->end - p);
	unsigned char k = (sc->my ? cls_my : cls_pg)[*p];

	/* The delimiter was tried first; `#` opens no comment when it begins the delimiter. */
	if (k == C_HASH)
		return sc->delim[0] == '#' ? CMT_NONE : CMT_LINE;
	if (k != C_DASH && k != C_SLASH)
		return CMT_NONE;
	if (avail < 2)
		return sc->final ? CMT_NONE : CMT_MAYBE;
	if (k == C_DASH) {
		if (p[1] != '-')
			return CMT_NONE;
		if (!sc->my || avail < 3)  /* MariaDB's -- needs a space or control byte after it */
			return !sc->my || sc->final ? CMT_LINE : CMT_MAYBE;
		return p[2] <= ' ' ? CMT_LINE : CMT_NONE;
	}
	if (p[1] != '*')
		return CMT_NONE;
	if (!sc->my)
		return CMT_BLOCK;
	/* Slash-star-bang and slash-star-M-bang open MariaDB executable
	 * comments: statement text, not comments. */
	if (avail > 2 && p[2] == '!')
		return CMT_EXEC;
	if (avail > 3 && p[2] == 'M' && p[3] == '!')
		return CMT_EXEC;
	if (!sc->final && (avail == 2 || (avail == 3 && p[2] == 'M')))
		return CMT_MAYBE;
	return CMT_BLOCK;
}

/* A line comment runs to its line break (not included) or the window end. */
static const unsigned char *skip_line_comment(const struct scan *sc, const unsigned char *p)
{
	const unsigned char *nl = memchr(p, '\n', (size_t)(sc->end - p));
	const unsigned char *lim = nl ? nl : sc->end;
	const unsigned char *cr = memchr(p, '\r', (size_t)(lim - p));

	return cr ? cr : lim;
}

/* PostgreSQL block comments nest; MariaDB's end at the first star-slash. */
static const unsigned char *skip_block_comment(struct scan *sc, const unsigned char *p)
{
	const unsigned char *q = p + 2, *end = sc->end;
	size_t depth = 1;

	if (sc->my) {
		q = memmem(q, (size_t)(end - q), "*/", 2);
		return q ? q + 2 : unterminated(sc, p, BAD_COMMENT, 0);
	}
	while (end - q >= 2) {
		if (q[0] == '*' && q[1] == '/') {
			q += 2;
			if (--depth == 0)
				return q;
		} else if (q[0] == '/' && q[1] == '*') {
			q += 2;
			depth++;
		} else {
			q++;
		}
	}
	return unterminated(sc, p, BAD_COMMENT, 0);
}

/* '...', "..." or `...` without backslash escapes: a doubled quote reads
 * the same as two adjacent quoted tokens, so the first closing quote will do. */
static const unsigned char *skip_plain_quote(struct scan *sc, const unsigned char *p,
					     enum bad_kind kind)
{
	const unsigned char *q = memchr(p + 1, *p, (size_t)(sc->end - p - 1));

	return q ? q + 1 : unterminated(sc, p, kind, 0);
}

/*
 * A string with backslash escapes and doubled quotes (PostgreSQL E'',
 * MariaDB '' and ""): quote at p, construct opened at `open` (the E of
 * E''). `hit` caches the next quote so that strings full of escapes are
 * still scanned in linear time.
 */
static const unsigned char *skip_escaped_quote(struct scan *sc, const unsigned char *open,
					       const unsigned char *p)
{
	const unsigned char *q = p + 1, *end = sc->end, *hit = NULL, *bs;

	for (;;) {
		if (!hit || hit < q) {
			hit = memchr(q, *p, (size_t)(end - q));
			if (!hit)
				return unterminated(sc, open, BAD_STRING, 0);
		}
		bs = memchr(q, '\\', (size_t)(hit - q));
		if (bs) {
			if (end - bs < 2)
				return unterminated(sc, open, BAD_STRING, 0);
			q = bs + 2;
		} else if (end - hit > 1 && hit[1] == *p) {
			q = hit + 2;
		} else {
			return hit + 1;
		}
	}
}

/*
 * PostgreSQL $tag$...$tag$ (the tag an identifier without `$`, maybe
 * empty). Returns p itself when `$` opens no dollar quote ($1, a$, `$`
 * at the window end), NULL when the quote is unterminated.
 */
static const unsigned char *skip_dollar_quote(struct scan *sc, const unsigned char *p)
{
	const unsigned char *t = p + 1, *end = sc->end, *close;
	size_t tlen;

	if (t < end && *t >= '0' && *t <= '9')
		return p;
	while (t < end && cls_pg[*t] == C_WORD)
		t++;
	if (t == end || *t != '$')
		return p;
	tlen = (size_t)(t + 1 - p);
	close = memmem(t + 1, (size_t)(end - t - 1), p, tlen);
	return close ? close + tlen : unterminated(sc, p, BAD_DOLLAR, tlen);
}

/* ---- keywords ------------------------------------------------------- */

static unsigned char kw_find(const struct keyword *tab, size_t n_tab, const unsigned char *w,
			     size_t n)
{
	size_t i, j;

	if (n == 0)
		return KW_NONE;
	/* &0xDF upper-cases letters and maps no other word byte onto one. */
	for (i = 0; i < n_tab; i++) {
		if (tab[i].len != n || tab[i].name[0] != (w[0] & 0xDF))
			continue;
		for (j = 1; j < n && tab[i].name[j] == (w[j] & 0xDF); j++)
			;
		if (j == n)
			return tab[i].id;
	}
	return KW_NONE;
}

static bool is_routine_kw(unsigned char kw)
{
	return kw == KW_PROCEDURE || kw == KW_FUNCTION || kw == KW_TRIGGER || kw == KW_EVENT;
}

/*
 * MariaDB: after CREATE, accept OR REPLACE, AGGREGATE and DEFINER=<user>
 * (a few tokens: = `u`@`h`, = CURRENT_USER()) before the routine keyword.
 */
static void create_step(struct scan *sc, unsigned char tok)
{
	if (sc->create == CS_CREATE) {
		if (tok == KW_OR || tok == KW_REPLACE || tok == KW_AGGREGATE)
			return;
		if (tok == KW_DEFINER) {
			sc->create = CS_DEFINER;
			sc->create_n = 0;
			return;
		}
	} else if (!is_routine_kw(tok) && ++sc->create_n <= 6) {
		return;
	}
	sc->routine = is_routine_kw(tok);
	sc->create = CS_NONE;
}

/*
 * IF and REPEAT are also functions; as statements they follow a statement
 * boundary. After THEN/ELSE, `IF(` is taken as the function (CASE ... THEN
 * IF(a, b, c)), `IF (` as the statement.
 */
static bool my_at_statement(unsigned char prev, const unsigned char *after,
			    const unsigned char *end)
{
	switch (prev) {
	case KW_SEMI: case KW_COLON: case KW_RPAREN: case KW_BEGIN: case KW_DO:
	case KW_LOOP: case KW_REPEAT: case KW_ROW:
		return true;
	case KW_THEN: case KW_ELSE:
		return !(after < end && *after == '(');
	default:
		return false;
	}
}

/* Block depth inside a MariaDB stored program with the `;` delimiter. */
static void my_block(struct scan *sc, unsigned char kw, const unsigned char *after)
{
	switch (kw) {
	case KW_BEGIN:
		sc->blocks++;
		break;
	case KW_CASE: case KW_LOOP: case KW_WHILE:
		if (sc->prev != KW_END)  /* END CASE closes, it does not open */
			sc->blocks++;
		break;
	case KW_IF: case KW_REPEAT:
		if (sc->prev != KW_END && my_at_statement(sc->prev, after, sc->end))
			sc->blocks++;
		break;
	case KW_END:
		if (sc->blocks > 0)
			sc->blocks--;
		break;
	default:
		break;
	}
}

static void my_word(struct scan *sc, const unsigned char *w, size_t n, const unsigned char *after)
{
	unsigned char kw = KW_NONE;

	/* Plain statements need no keywords past the first word. */
	if (!sc->seen || sc->create != CS_NONE || sc->routine)
		kw = kw_find(kw_my, sizeof kw_my / sizeof kw_my[0], w, n);
	if (!sc->seen) {
		if (kw == KW_CREATE && sc->track)
			sc->create = CS_CREATE;
	} else if (sc->create != CS_NONE) {
		create_step(sc, kw);
	} else if (sc->routine) {
		my_block(sc, kw, after);
	}
	sc->prev = kw;
}

/* PostgreSQL: COPY ... FROM STDIN, BEGIN ATOMIC ... END with CASE ... END inside. */
static void pg_word(struct scan *sc, const unsigned char *w, size_t n)
{
	unsigned char kw = KW_NONE;

	if (n >= 3 && n <= 6)
		kw = kw_find(kw_pg, sizeof kw_pg / sizeof kw_pg[0], w, n);
	if (!sc->seen && kw == KW_COPY)
		sc->copy_first = true;
	else if (sc->copy_first && kw == KW_STDIN && sc->prev == KW_FROM)
		sc->is_copy = true;
	if ((kw == KW_ATOMIC && sc->prev == KW_BEGIN) || (sc->blocks > 0 && kw == KW_CASE))
		sc->blocks++;
	else if (sc->blocks > 0 && kw == KW_END)
		sc->blocks--;
	sc->prev = kw;
}

/* A significant token that is not a word. */
static void note_punct(struct scan *sc, unsigned char tok)
{
	if (sc->create != CS_NONE)
		create_step(sc, tok);
	sc->prev = tok;
	sc->seen = true;
}

/* A run of word bytes; PostgreSQL's E'', B'' and X'' strings start as one-letter words. */
static const unsigned char *scan_word(struct scan *sc, const unsigned char *p)
{
	const unsigned char *w = p, *end = sc->end, *cls = sc->cls;
	size_t n;

	for (p++; p < end && (cls[*p] == C_WORD || cls[*p] == C_DOLLAR); p++)
		;
	if (!sc->my && p - w == 1 && p < end && *p == '\'' && strchr("EeBbXx", *w)) {
		note_punct(sc, KW_OTHER);
		return skip_escaped_quote(sc, w, p);
	}
	/* t.end and t.case are column names, never keywords. */
	n = w > sc->start && w[-1] == '.' ? 0 : (size_t)(p - w);
	if (sc->my)
		my_word(sc, w, n, p);
	else
		pg_word(sc, w, n);
	sc->seen = true;
	return p;
}

static const unsigned char *scan_quote(struct scan *sc, const unsigned char *p, unsigned char k)
{
	note_punct(sc, KW_OTHER);
	if (k == C_BTICK)
		return skip_plain_quote(sc, p, BAD_IDENT);
	if (sc->my)
		return skip_escaped_quote(sc, p, p);
	return skip_plain_quote(sc, p, k == C_SQUOTE ? BAD_STRING : BAD_IDENT);
}

/* Comments inside a statement stay in its text (the executable ones are tokens). */
static const unsigned char *scan_maybe_comment(struct scan *sc, const unsigned char *p)
{
	switch (comment_at(sc, p)) {
	case CMT_LINE:
		return skip_line_comment(sc, p);
	case CMT_EXEC:
		note_punct(sc, KW_OTHER);
		return skip_block_comment(sc, p);
	case CMT_BLOCK:
		return skip_block_comment(sc, p);
	case CMT_MAYBE:
		/* Deciding takes bytes past the window (and the delimiter may
		 * hide in them: `/` `*` with delimiter `*`): wait for them. */
		return NULL;
	default:
		note_punct(sc, KW_OTHER);
		return p + 1;
	}
}

/* One token of class k at p; NULL if it is unterminated or needs bytes past the window. */
static const unsigned char *scan_token(struct scan *sc, const unsigned char *p, unsigned char k)
{
	const unsigned char *q;

	switch (k) {
	case C_WORD:
		return scan_word(sc, p);
	case C_SQUOTE: case C_DQUOTE: case C_BTICK:
		return scan_quote(sc, p, k);
	case C_DASH: case C_SLASH: case C_HASH:
		return scan_maybe_comment(sc, p);
	case C_DOLLAR:
		q = skip_dollar_quote(sc, p);
		note_punct(sc, KW_OTHER);
		return q == p ? p + 1 : q;
	case C_LPAREN:
		sc->parens += sc->track;
		note_punct(sc, KW_OTHER);
		return p + 1;
	case C_RPAREN:
		if (sc->parens > 0)
			sc->parens--;
		note_punct(sc, KW_RPAREN);
		return p + 1;
	case C_COLON:
		note_punct(sc, KW_COLON);
		return p + 1;
	default:
		note_punct(sc, KW_OTHER);
		return p + 1;
	}
}

/*
 * Scans the statement at sc->start up to its delimiter and returns the
 * delimiter's position, or NULL at the window end (sc->bad says whether a
 * construct was left open). Whitespace and plain punctuation are skipped
 * in tight loops: they are most of a multi-row INSERT.
 */
static const unsigned char *scan_body(struct scan *sc)
{
	const unsigned char *p = sc->start, *end = sc->end, *cls = sc->cls;

	while (p < end) {
		unsigned char k = cls[*p];

		if (k == C_SPACE || k == C_OTHER) {
			while (++p < end && cls[*p] == k)
				;
			if (k == C_OTHER)
				note_punct(sc, KW_OTHER);
			continue;
		}
		if (k == C_DELIM) {
			if (delim_at(sc, p)) {
				if (sc->parens == 0 && sc->blocks == 0)
					return p;
				note_punct(sc, KW_SEMI);
				p += sc->dlen;
				continue;
			}
			k = sc->d_fallback;
		}
		p = scan_token(sc, p, k);
		if (!p)
			return NULL;
	}
	return NULL;
}

/* ---- between statements ---------------------------------------------- */

/*
 * Skips whitespace, comments and empty statements from *pos. *pos ends at
 * the first byte not certainly passed: the statement start (SKIP_TOKEN),
 * the window end (SKIP_END), or a comment still open (SKIP_MORE, or
 * SKIP_ERROR when final).
 */
static enum skip skip_blank(struct scan *sc, size_t *pos)
{
	const unsigned char *p = sc->in + *pos, *end = sc->end, *q;
	enum cmt c;

	for (;;) {
		while (p < end && sc->cls[*p] == C_SPACE)
			p++;
		*pos = (size_t)(p - sc->in);
		if (p == end)
			return SKIP_END;
		if (sc->cls[*p] == C_DELIM && delim_at(sc, p)) {
			p += sc->dlen;
			continue;
		}
		c = comment_at(sc, p);
		if (c == CMT_MAYBE)
			return SKIP_MORE;
		if (c != CMT_LINE && c != CMT_BLOCK)
			return SKIP_TOKEN;
		q = c == CMT_LINE ? skip_line_comment(sc, p) : skip_block_comment(sc, p);
		if (!q)
			return sc->final ? SKIP_ERROR : SKIP_MORE;
		if (c == CMT_LINE && q == end && !sc->final)  /* it may go on */
			return SKIP_MORE;
		p = q;
	}
}

enum directive { DIR_NONE, DIR_DONE, DIR_MORE, DIR_ERROR };

/* Validates and stores the delimiter of a DELIMITER line (trimmed in [a, b)). */
static enum directive set_delim(struct scan *sc, const unsigned char *at, const unsigned char *a,
				const unsigned char *b, struct err *e)
{
	const unsigned char *q;
	const char *why = NULL;
	int line, col;

	for (q = a; q < b && !why; q++)
		if (*q < ' ' || *q == '\\' || *q == 0x7f)
			why = "must not contain a backslash or control characters";
	if (a == b)
		why = "needs a delimiter on the same line, e.g. DELIMITER $$";
	else if ((size_t)(b - a) >= sizeof sc->s->delim)
		why = "is too long: a delimiter has at most 31 bytes";
	if (why) {
		pos_of(sc, at, &line, &col);
		err_set(e, ERR_PARSE, "line %d col %d: DELIMITER %s", line, col, why);
		return DIR_ERROR;
	}
	memcpy(sc->s->delim, a, (size_t)(b - a));
	sc->s->delim[b - a] = 0;
	scan_set_delim(sc);
	return DIR_DONE;
}

/*
 * MariaDB `DELIMITER xx` at a statement start: the rest of the line,
 * trimmed, is the new delimiter. *pos moves to the line break.
 */
static enum directive my_directive(struct scan *sc, size_t *pos, struct err *e)
{
	static const char kw[] = "DELIMITER";
	const unsigned char *p = sc->in + *pos, *end = sc->end, *a, *eol;
	size_t avail = (size_t)(end - p), i;

	for (i = 0; i < sizeof kw - 1; i++) {
		if (i == avail)
			return sc->final ? DIR_NONE : DIR_MORE;
		if ((p[i] & 0xDF) != kw[i])
			return DIR_NONE;
	}
	if (avail == i && !sc->final)
		return DIR_MORE;
	/* DELIMITERS is a word; DELIMITER$$ is the directive. */
	if (avail > i && p[i] != '$' && IS_ALNUM_(p[i]))
		return DIR_NONE;
	for (eol = p + i; eol < end && *eol != '\n' && *eol != '\r'; eol++)
		;
	if (eol == end && !sc->final)
		return DIR_MORE;
	for (a = p + i; a < eol && is_space(*a); a++)
		;
	while (eol > a && is_space(eol[-1]))
		eol--;
	if (set_delim(sc, p, a, eol, e) != DIR_DONE)
		return DIR_ERROR;
	*pos = (size_t)(eol - sc->in);
	return DIR_DONE;
}

/* ---- statements ------------------------------------------------------ */

/* The end of the whitespace run or comment at p, or p when there is none. */
static const unsigned char *skip_gap(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;

	if (is_space(*p)) {
		while (q < end && is_space(*q))
			q++;
	} else if (end - p > 1 && p[0] == '-' && p[1] == '-') {
		q = memchr(p, '\n', (size_t)(end - p));
		q = q ? q : end;
	} else if (end - p > 1 && p[0] == '/' && p[1] == '*') {
		q = memmem(p + 2, (size_t)(end - p - 2), "*/", 2);
		q = q ? q + 2 : end;
	}
	return q;
}

/*
 * Upper-cases the statement start into out, whitespace runs and comments
 * collapsed to one space, as Flyway's keyword-simplified statement.
 */
static size_t simplify(const unsigned char *t, size_t n, char *out, size_t cap)
{
	const unsigned char *p = t, *end = t + n, *q;
	size_t m = 0;

	while (p < end && m + 1 < cap) {
		q = skip_gap(p, end);
		if (q == p) {
			out[m++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			p++;
			continue;
		}
		if (m > 0 && out[m - 1] != ' ')
			out[m++] = ' ';
		p = q;
	}
	out[m] = 0;
	return m;
}

/* PostgreSQL statements that cannot run in a transaction (spec §4.3). */
static bool pg_non_tx(int server_version, const unsigned char *t, size_t n)
{
	static const char *const prefixes[] = {
		"CREATE DATABASE", "CREATE TABLESPACE", "CREATE SUBSCRIPTION",
		"DROP DATABASE", "DROP TABLESPACE", "DROP SUBSCRIPTION",
		"ALTER SYSTEM", "CREATE INDEX CONCURRENTLY",
		"CREATE UNIQUE INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY",
		"DROP UNIQUE INDEX CONCURRENTLY", "REINDEX SCHEMA", "REINDEX DATABASE",
		"REINDEX SYSTEM", "REINDEX VERBOSE SCHEMA", "REINDEX VERBOSE DATABASE",
		"REINDEX VERBOSE SYSTEM", "VACUUM", "DISCARD ALL",
	};
	char buf[512];
	size_t i, m;

	if (n == 0 || !strchr("AaCcDdRrVv", t[0]))
		return false;
	m = simplify(t, n, buf, sizeof buf);
	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(buf, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	/* ^ALTER TYPE( .*)? ADD VALUE: PostgreSQL 12 runs it in a transaction. */
	return server_version > 0 && server_version < 120000 && m > 10 &&
	       strncmp(buf, "ALTER TYPE ", 11) == 0 && strstr(buf + 10, " ADD VALUE");
}

/* Fills st with the statement from sc->start to stop (trimmed). */
static void fill_stmt(const struct scan *sc, struct sql_stmt *st, const unsigned char *stop)
{
	const unsigned char *a = sc->start;

	while (stop > a && is_space(stop[-1]))
		stop--;
	st->text = (const char *)a;
	st->len = (size_t)(stop - a);
	pos_of(sc, a, &st->line, &st->col);
	st->is_copy = sc->is_copy;
	st->non_transactional = !sc->my && pg_non_tx(sc->s->server_version, a, st->len);
}

/* A COPY data terminator: a line whose trim() is `\.`. */
static bool is_copy_end(const unsigned char *a, const unsigned char *b)
{
	while (a < b && *a <= ' ')
		a++;
	while (b > a && b[-1] <= ' ')
		b--;
	return b - a == 2 && a[0] == '\\' && a[1] == '.';
}

/*
 * COPY ... FROM STDIN;<rest of line skipped>\n<data lines>\.\n — the data
 * begins after the delimiter's line. Data lines end at \n only (a \r before
 * it stays in the data, as psql sends it).
 */
static enum sql_split_result take_copy(struct scan *sc, size_t pos, size_t used,
				       struct sql_stmt *st, size_t *consumed, struct err *e)
{
	const unsigned char *p = sc->in + used, *end = sc->end, *data, *nl;

	nl = memchr(p, '\n', (size_t)(end - p));
	data = p = nl ? nl + 1 : end;
	while (nl) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl && !sc->final)
			break;
		if (is_copy_end(p, nl ? nl : end)) {
			st->copy_data = (const char *)data;
			st->copy_len = (size_t)(p - data);
			return leave(sc, nl ? (size_t)(nl + 1 - sc->in) : (size_t)(end - sc->in),
				     SQL_SPLIT_STMT, consumed);
		}
		if (nl)
			p = nl + 1;
	}
	memset(st, 0, sizeof *st);
	if (!sc->final)
		return leave(sc, pos, SQL_SPLIT_NEED_MORE, consumed);
	return fail(sc, pos, consumed, e, sc->start, "COPY data not terminated by a \\. line");
}

/* "unterminated ... starting here" for the construct in sc->bad. */
static enum sql_split_result fail_open(struct scan *sc, size_t pos, size_t *consumed,
				       struct err *e)
{
	char msg[128];

	switch (sc->bad_kind) {
	case BAD_DOLLAR:
		snprintf(msg, sizeof msg, "unterminated dollar-quoted string %.*s%s starting here",
			 (int)(sc->bad_len > 40 ? 40 : sc->bad_len), (const char *)sc->bad,
			 sc->bad_len > 40 ? "..." : "");
		break;
	case BAD_COMMENT:
		snprintf(msg, sizeof msg, "unterminated comment starting here");
		break;
	case BAD_IDENT:
		snprintf(msg, sizeof msg, "unterminated quoted identifier starting here");
		break;
	default:
		snprintf(msg, sizeof msg, "unterminated string literal starting here");
		break;
	}
	return fail(sc, pos, consumed, e, sc->bad, msg);
}

/* Open parentheses or blocks at the end of the file. */
static enum sql_split_result fail_incomplete(struct scan *sc, size_t pos, size_t *consumed,
					     struct err *e)
{
	char head[61], msg[160];
	size_t i, n = (size_t)(sc->end - sc->start);
	int line, col;

	n = n < sizeof head - 1 ? n : sizeof head - 1;
	for (i = 0; i < n; i++)
		head[i] = (char)(sc->start[i] < ' ' ? ' ' : sc->start[i]);
	head[n] = 0;
	pos_of(sc, sc->start, &line, &col);
	snprintf(msg, sizeof msg, "Incomplete statement at line %d col %d: %s", line, col, head);
	return fail(sc, pos, consumed, e, sc->start, msg);
}

/* The window ended before a delimiter. */
static enum sql_split_result at_end(struct scan *sc, size_t pos, struct sql_stmt *st,
				    size_t *consumed, struct err *e)
{
	if (!sc->final)
		return leave(sc, pos, SQL_SPLIT_NEED_MORE, consumed);
	if (sc->bad)
		return fail_open(sc, pos, consumed, e);
	if (sc->parens > 0 || sc->blocks > 0)
		return fail_incomplete(sc, pos, consumed, e);
	if (sc->is_copy)
		return fail(sc, pos, consumed, e, sc->start, "COPY data not terminated by a \\. line");
	/* As Flyway does, the last statement needs no delimiter. */
	fill_stmt(sc, st, sc->end);
	return leave(sc, (size_t)(sc->end - sc->in), SQL_SPLIT_STMT, consumed);
}

static enum sql_split_result split_stmt(struct scan *sc, size_t pos, struct sql_stmt *st,
					size_t *consumed, struct err *e)
{
	const unsigned char *d;
	size_t used;

	sc->start = sc->in + pos;
	d = scan_body(sc);
	if (!d)
		return at_end(sc, pos, st, consumed, e);
	fill_stmt(sc, st, d);
	used = (size_t)(d - sc->in) + sc->dlen;
	if (sc->is_copy)
		return take_copy(sc, pos, used, st, consumed, e);
	return leave(sc, used, SQL_SPLIT_STMT, consumed);
}

enum sql_split_result sql_split_next(struct sql_splitter *s, struct sql_input input,
				     struct sql_stmt *st, size_t *consumed, struct err *e)
{
	const char *in = input.text;
	size_t len = input.len;
	bool final = input.final;
	struct scan sc;
	size_t pos;

	memset(&sc, 0, offsetof(struct scan, own_cls));
	sc.s = s;
	sc.in = (const unsigned char *)(in ? in : ""); /* no arithmetic on NULL, even + 0 */
	len = in ? len : 0;
	sc.end = sc.in + len;
	sc.final = final;
	sc.my = s->dialect == DB_MY;
	scan_set_delim(&sc);
	memset(st, 0, sizeof *st);
	*consumed = 0;
	for (pos = 0;;) {
		switch (skip_blank(&sc, &pos)) {
		case SKIP_END:
			return leave(&sc, pos, final ? SQL_SPLIT_END : SQL_SPLIT_NEED_MORE, consumed);
		case SKIP_MORE:
			return leave(&sc, pos, SQL_SPLIT_NEED_MORE, consumed);
		case SKIP_ERROR:
			return fail_open(&sc, pos, consumed, e);
		case SKIP_TOKEN:
			break;
		}
		switch (sc.my ? my_directive(&sc, &pos, e) : DIR_NONE) {
		case DIR_NONE:
			return split_stmt(&sc, pos, st, consumed, e);
		case DIR_MORE:
			return leave(&sc, pos, SQL_SPLIT_NEED_MORE, consumed);
		case DIR_ERROR:
			return leave(&sc, pos, SQL_SPLIT_ERROR, consumed);
		case DIR_DONE:
			break;
		}
	}
}
