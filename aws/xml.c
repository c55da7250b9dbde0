/*
 * xml — walking AWS XML responses (S3's restXml, the query protocol's
 * errors) with expat, without depending on their xmlns: s3rver answers
 * with another namespace than AWS (spec/aws.md §7), so elements are
 * matched on local names only. Also the XML error mapping every XML
 * service shares (aws_error_from_xml).
 *
 * Invariants: the walk never follows or defines entities beyond XML's five
 * (a DOCTYPE stops it), keeps at most 32 levels, a 512-byte path and 1 MiB
 * of text per element; callers cap the document itself. Error messages
 * quote AWS's Code and Message only — never StringToSign, CanonicalRequest
 * or AWSAccessKeyId, which some error bodies echo.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "aws/internal.h"

enum { XML_MAX_DEPTH = 32, XML_MAX_PATH = 512, XML_MAX_TEXT = 1 << 20 };

/* Expat joins "namespace URI" and local name with this byte; it cannot
 * occur in a well-formed document, so what follows it is the local name. */
#define NS_SEP '\x01'

struct walk {
	XML_Parser parser;
	aws_xml_fn *fn;
	void *arg;
	struct err *e;
	enum err_code code;          /* first failure; ERR_OK while walking */
	struct buf path, text;
	size_t marks[XML_MAX_DEPTH]; /* path length before each open element */
	int depth;
};

static void walk_fail(struct walk *w, enum err_code code, const char *what)
{
	if (w->code)
		return;
	w->code = code;
	if (what)
		err_set(w->e, code, "XML response: %s (line %lu)", what,
			(unsigned long)XML_GetCurrentLineNumber(w->parser));
	XML_StopParser(w->parser, XML_FALSE);
}

static const char *local_name(const char *name)
{
	const char *sep = strrchr(name, NS_SEP);
	return sep ? sep + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct walk *w = ud;
	(void)attrs;
	if (w->code)
		return;
	const char *local = local_name(name);
	if (w->depth >= XML_MAX_DEPTH) {
		walk_fail(w, ERR_PARSE, "elements nested too deeply");
		return;
	}
	if (w->path.len + strlen(local) + 1 > XML_MAX_PATH) {
		walk_fail(w, ERR_PARSE, "element path too long");
		return;
	}
	w->marks[w->depth++] = w->path.len;
	if (w->path.len)
		buf_addc(&w->path, '/');
	buf_adds(&w->path, local);
	buf_reset(&w->text);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct walk *w = ud;
	(void)name;
	if (w->code || w->depth <= 0)
		return;
	enum err_code c = w->fn(w->path.ptr, w->text.ptr, w->text.len, w->arg, w->e);
	if (c) {
		walk_fail(w, c, NULL);
		return;
	}
	buf_setlen(&w->path, w->marks[--w->depth]);
	buf_reset(&w->text);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct walk *w = ud;
	if (w->code || len <= 0)
		return;
	if (w->text.len + (size_t)len > XML_MAX_TEXT) {
		walk_fail(w, ERR_TOO_LARGE, "element text longer than 1 MiB");
		return;
	}
	buf_add(&w->text, s, (size_t)len);
}

/* No AWS response carries a DTD; refusing it rules out entity expansion
 * attacks whatever expat's own limits are. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	walk_fail(ud, ERR_PARSE, "a DOCTYPE is not allowed");
}

enum err_code aws_xml_walk(const char *xml, size_t len, aws_xml_fn *fn, void *arg,
			   struct err *e)
{
	if (len > INT_MAX)
		return err_set(e, ERR_TOO_LARGE, "XML response larger than %d bytes", INT_MAX);
	struct walk w = { .fn = fn, .arg = arg, .e = e, .path = BUF_INIT, .text = BUF_INIT };
	w.parser = XML_ParserCreateNS("UTF-8", NS_SEP);
	if (!w.parser)
		return err_set(e, ERR_PARSE, "XML response: cannot create a parser");
	XML_SetUserData(w.parser, &w);
	XML_SetElementHandler(w.parser, on_start, on_end);
	XML_SetCharacterDataHandler(w.parser, on_text);
	XML_SetStartDoctypeDeclHandler(w.parser, on_doctype);
	XML_SetParamEntityParsing(w.parser, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(w.parser, xml ? xml : "", (int)len, XML_TRUE) == XML_STATUS_ERROR &&
	    !w.code) {
		w.code = err_set(e, ERR_PARSE, "XML response: %s (line %lu, column %lu)",
				 XML_ErrorString(XML_GetErrorCode(w.parser)),
				 (unsigned long)XML_GetCurrentLineNumber(w.parser),
				 (unsigned long)XML_GetCurrentColumnNumber(w.parser));
	}
	XML_ParserFree(w.parser);
	buf_release(&w.path);
	buf_release(&w.text);
	return w.code;
}

bool aws_xml_path_is(const char *path, const char *tail)
{
	size_t pl = strlen(path), tl = strlen(tail);
	if (pl < tl || strcmp(path + pl - tl, tail) != 0)
		return false;
	return pl == tl || path[pl - tl - 1] == '/';
}

/* ---- error bodies ------------------------------------------------------- */

static void set_once(char **slot, const char *text, size_t len)
{
	if (!*slot)
		*slot = xstrndup(text, len);
}

static enum err_code on_error_elem(const char *path, const char *text, size_t len, void *arg,
				   struct err *e)
{
	static const struct {
		const char *tail;
		size_t off;
	} fields[] = {
		{ "Error/Code", offsetof(struct aws_xml_error, code) },
		{ "Error/Message", offsetof(struct aws_xml_error, message) },
		{ "Error/Region", offsetof(struct aws_xml_error, region) },
		{ "Error/Endpoint", offsetof(struct aws_xml_error, endpoint) },
		{ "Error/Bucket", offsetof(struct aws_xml_error, bucket) },
		{ "Error/BucketName", offsetof(struct aws_xml_error, bucket) },
		{ "Error/Key", offsetof(struct aws_xml_error, key) },
		{ "Error/RequestId", offsetof(struct aws_xml_error, request_id) },
		{ "ErrorResponse/RequestId", offsetof(struct aws_xml_error, request_id) },
	};
	(void)e;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (aws_xml_path_is(path, fields[i].tail)) {
			set_once((char **)((char *)arg + fields[i].off), text, len);
			break;
		}
	}
	return ERR_OK;
}

void aws_xml_error_release(struct aws_xml_error *x)
{
	if (!x)
		return;
	free(x->code);
	free(x->message);
	free(x->region);
	free(x->endpoint);
	free(x->bucket);
	free(x->key);
	free(x->request_id);
	memset(x, 0, sizeof *x);
}

enum err_code aws_xml_error_parse(const char *xml, size_t len, struct aws_xml_error *out,
				  struct err *e)
{
	memset(out, 0, sizeof *out);
	enum err_code c = aws_xml_walk(xml, len, on_error_elem, out, e);
	if (!c && (!out->code || !*out->code))
		c = err_set(e, ERR_PARSE, "XML error response without an Error/Code");
	if (c)
		aws_xml_error_release(out);
	return c;
}

/* Codes that mean "your credentials or permissions", across the XML and
 * JSON services tarmac calls. */
static bool code_is_auth(const char *code)
{
	static const char *const auth[] = {
		"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "AccountProblem",
		"AuthFailure", "AuthorizationError", "ExpiredToken", "ExpiredTokenException",
		"IncompleteSignature", "InvalidAccessKeyId", "InvalidClientTokenId",
		"InvalidSignatureException", "InvalidToken", "MissingAuthenticationToken",
		"MissingAuthenticationTokenException", "NotAuthorized", "RequestExpired",
		"SignatureDoesNotMatch", "TokenRefreshRequired", "UnauthorizedOperation",
		"UnauthorizedException", "UnrecognizedClientException",
	};
	for (size_t i = 0; i < sizeof auth / sizeof auth[0]; i++)
		if (!strcmp(code, auth[i]))
			return true;
	return false;
}

/* AWS messages are shown on one console line: control bytes become spaces
 * and a runaway message is cut. */
static void add_clean(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;
	for (; s && *s && n < max; s++, n++)
		buf_addc(b, iscntrl((unsigned char)*s) ? ' ' : *s);
	if (s && *s)
		buf_adds(b, "...");
}

static void add_context(struct buf *b, const struct aws_request *req)
{
	buf_addf(b, "%s %s", req->service_id ? req->service_id : "AWS",
		 req->operation ? req->operation : req->method ? req->method : "request");
	if (req->resource && *req->resource)
		buf_addf(b, " on %s", req->resource);
	buf_adds(b, ": ");
}

enum err_code aws_error_from_xml(const struct aws_request *req, const struct aws_response *r,
				 struct err *e)
{
	struct aws_xml_error x;
	struct buf msg = BUF_INIT;
	enum err_code code = ERR_HTTP;
	add_context(&msg, req);
	if (r->body.len && aws_xml_error_parse(r->body.ptr, r->body.len, &x, NULL) == ERR_OK) {
		add_clean(&msg, x.code, 64);
		if (x.message && *x.message) {
			buf_adds(&msg, ": ");
			add_clean(&msg, x.message, 240);
		}
		if (x.endpoint && *x.endpoint) {
			buf_adds(&msg, " (endpoint ");
			add_clean(&msg, x.endpoint, 128);
			buf_adds(&msg, ")");
		}
		if (code_is_auth(x.code))
			code = ERR_AUTH;
		aws_xml_error_release(&x);
	} else {
		buf_addf(&msg, "HTTP %ld", r->status);
		if (r->status == 401 || r->status == 403) {
			buf_adds(&msg, " (access denied)");
			code = ERR_AUTH;
		}
	}
	err_set(e, code, "%s", msg.ptr);
	buf_release(&msg);
	return code;
}
