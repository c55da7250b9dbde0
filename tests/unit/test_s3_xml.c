/*
 * test_s3_xml — S3's XML as tarmac reads it (spec/aws.md §3, §7): the
 * namespace-blind walk, ListObjectsV2 pages (encoding-type=url decoded only
 * when the page says so, '+' a space, %2B a plus; continuation tokens;
 * s3rver's other xmlns), ListAllMyBucketsResult, error bodies (S3's and the
 * query protocol's, PermanentRedirect's Endpoint) and their messages;
 * addressing; "s3:bucket[/prefix]" locations (spec/flyway.md §9); and the
 * checksum cache file, written and read back under a temporary
 * XDG_CACHE_HOME. Table-driven: every row is checked, every mismatch shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/internal.h"
#include "engine/engine.h"

#define NS_AWS "http://s3.amazonaws.com/doc/2006-03-01/"
#define NS_S3RVER "http://doc.s3.amazonaws.com/2006-03-01/"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static const char *show(const char *s)
{
	return s ? s : "(null)";
}

/* ---- the walk --------------------------------------------------------- */

static enum err_code collect(const char *path, const char *text, size_t len, void *arg,
			     struct err *e)
{
	(void)e;
	buf_addf(arg, "%s=%.*s|", path, (int)len, text);
	return ERR_OK;
}

struct walk_case {
	const char *xml;
	enum err_code code;
	const char *want;   /* the callbacks, "path=text|" each (ERR_OK only) */
};

static const struct walk_case walk_cases[] = {
	{ "<a><b>x</b><c>y</c></a>", ERR_OK, "a/b=x|a/c=y|a=|" },
	/* the namespace is dropped, default or prefixed */
	{ "<a xmlns=\"" NS_AWS "\"><b>x</b></a>", ERR_OK, "a/b=x|a=|" },
	{ "<s:a xmlns:s=\"" NS_S3RVER "\"><s:b>x</s:b></s:a>", ERR_OK, "a/b=x|a=|" },
	/* entities and character references decoded, CDATA kept */
	{ "<e>&quot;6f&quot; &amp; &lt;&gt; &apos; &#x41;&#66;</e>", ERR_OK,
	  "e=\"6f\" & <> ' AB|" },
	{ "<e><![CDATA[a<b]]></e>", ERR_OK, "e=a<b|" },
	{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<e>\xc3\xbc</e>", ERR_OK,
	  "e=\xc3\xbc|" },
	{ "<a><b/><b></b></a>", ERR_OK, "a/b=|a/b=|a=|" },
	/* refused */
	{ "", ERR_PARSE, NULL },
	{ "<a><b></a>", ERR_PARSE, NULL },
	{ "<html><body>502 Bad Gateway", ERR_PARSE, NULL },
	{ "<a>x</a><b/>", ERR_PARSE, NULL },
	{ "<s:a><s:b/></s:a>", ERR_PARSE, NULL },   /* unbound prefix */
	{ "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", ERR_PARSE, NULL },
	{ "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>"
	  "<lolz>&lol2;</lolz>", ERR_PARSE, NULL },
	{ "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>", ERR_PARSE, NULL },
	{ "<a>&undefined;</a>", ERR_PARSE, NULL },
};

static void test_walk(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof walk_cases / sizeof walk_cases[0]; i++) {
		const struct walk_case *c = &walk_cases[i];
		struct buf got = BUF_INIT;
		struct err e = ERR_INIT;
		enum err_code code = aws_xml_walk(c->xml, strlen(c->xml), collect, &got, &e);
		if (code != c->code || (c->want && strcmp(got.ptr, c->want)) ||
		    (code && !e.msg[0])) {
			print_error("walk case %zu: code %d (%s), calls '%s'; want %d, '%s'\n", i,
				    code, e.msg, got.ptr, c->code, show(c->want));
			fails++;
		}
		buf_release(&got);
	}
	assert_int_equal(fails, 0);
}

static void test_walk_limits(void **state)
{
	(void)state;
	struct buf deep = BUF_INIT, ok = BUF_INIT, got = BUF_INIT;
	struct err e = ERR_INIT;
	for (int i = 0; i < 33; i++)
		buf_adds(&deep, "<a>");
	for (int i = 0; i < 33; i++)
		buf_adds(&deep, "</a>");
	assert_int_equal(aws_xml_walk(deep.ptr, deep.len, collect, &got, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, "nested"));
	for (int i = 0; i < 32; i++)
		buf_adds(&ok, "<a>");
	for (int i = 0; i < 32; i++)
		buf_adds(&ok, "</a>");
	buf_reset(&got);
	assert_int_equal(aws_xml_walk(ok.ptr, ok.len, collect, &got, &e), ERR_OK);
	/* an element's text is capped at 1 MiB */
	struct buf big = BUF_INIT;
	buf_adds(&big, "<a>");
	for (int i = 0; i < (1 << 20) / 16 + 1; i++)
		buf_adds(&big, "0123456789abcdef");
	buf_adds(&big, "</a>");
	buf_reset(&got);
	assert_int_equal(aws_xml_walk(big.ptr, big.len, collect, &got, &e), ERR_TOO_LARGE);
	buf_release(&deep);
	buf_release(&ok);
	buf_release(&big);
	buf_release(&got);
}

static enum err_code stop_at_c(const char *path, const char *text, size_t len, void *arg,
			       struct err *e)
{
	(void)text, (void)len;
	(*(int *)arg)++;
	return strcmp(path, "a/c") ? ERR_OK : err_set(e, ERR_VALIDATE, "stop at %s", path);
}

static void test_walk_callback_stops(void **state)
{
	(void)state;
	static const char xml[] = "<a><b/><c/><d/></a>";
	int calls = 0;
	struct err e = ERR_INIT;
	assert_int_equal(aws_xml_walk(xml, strlen(xml), stop_at_c, &calls, &e), ERR_VALIDATE);
	assert_int_equal(calls, 2);
	assert_string_equal(e.msg, "stop at a/c");
}

struct tail_case {
	const char *path, *tail;
	bool want;
};

static void test_path_is(void **state)
{
	(void)state;
	static const struct tail_case cases[] = {
		{ "Error/Code", "Error/Code", true },
		{ "ErrorResponse/Error/Code", "Error/Code", true },
		{ "XError/Code", "Error/Code", false },
		{ "Error/Codes", "Error/Code", false },
		{ "Code", "Error/Code", false },
	};
	int fails = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (aws_xml_path_is(cases[i].path, cases[i].tail) != cases[i].want) {
			print_error("path_is case %zu: %s ~ %s\n", i, cases[i].path, cases[i].tail);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* ---- ListObjectsV2 ---------------------------------------------------- */

struct want_obj {
	const char *key, *etag;
	int64_t size;
};

struct list_case {
	const char *name;
	const char *xml;
	enum err_code code;
	bool truncated, url;
	const char *token;
	size_t n;
	struct want_obj objs[4];
};

static const struct list_case list_cases[] = {
	{ "spec §3 literal (AWS, encoding-type=url)",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	  "<ListBucketResult xmlns=\"" NS_AWS "\"><Name>examplebucket</Name>"
	  "<Prefix>photos%2F2024+summer%2F</Prefix>"
	  "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	  "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><Delimiter>%2F</Delimiter>"
	  "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
	  "<Contents><Key>photos%2F2024+summer%2Fa%2Bb.jpg</Key>"
	  "<LastModified>2024-05-17T08:09:10.000Z</LastModified>"
	  "<ETag>&quot;6f5902ac237024bdd0c176cb93063dc4&quot;</ETag><Size>12</Size>"
	  "<StorageClass>STANDARD</StorageClass></Contents>"
	  "<CommonPrefixes><Prefix>photos%2F2024+summer%2Fraw%2F</Prefix></CommonPrefixes>"
	  "</ListBucketResult>",
	  ERR_OK, true, true, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", 1,
	  { { "photos/2024 summer/a+b.jpg", "\"6f5902ac237024bdd0c176cb93063dc4\"", 12 } } },
	{ "s3rver: its xmlns, no EncodingType, so keys stay raw",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	  "<ListBucketResult xmlns=\"" NS_S3RVER "\"><IsTruncated>false</IsTruncated>"
	  "<Contents><Key>pct/100%25 done+.txt</Key><LastModified>2026-11-27T21:19:39.000Z</LastModified>"
	  "<ETag>\"9a0364b9e99bb480dd25e1f0284c8555\"</ETag><Size>7</Size>"
	  "<StorageClass>STANDARD</StorageClass></Contents>"
	  "<Contents><Key>V1__x.sql</Key><ETag>\"e\"</ETag><Size>0</Size></Contents>"
	  "<Name>test-bucket</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><KeyCount>2</KeyCount>"
	  "</ListBucketResult>",
	  ERR_OK, false, false, NULL, 2,
	  { { "pct/100%25 done+.txt", "\"9a0364b9e99bb480dd25e1f0284c8555\"", 7 },
	    { "V1__x.sql", "\"e\"", 0 } } },
	{ "decoding: %2B/%2b plus, + space, UTF-8, bad escapes and %00 kept",
	  "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
	  "<Contents><Key>a%2Bb%2bc+d</Key><Size>1</Size></Contents>"
	  "<Contents><Key>r%C3%A9sum%C3%A9%20%CE%A9</Key><Size>2</Size></Contents>"
	  "<Contents><Key>100%25%zz%4%</Key><Size>3</Size></Contents>"
	  "<Contents><Key>nul%00x</Key><Size>4</Size></Contents>"
	  "</ListBucketResult>",
	  ERR_OK, false, true, NULL, 4,
	  { { "a+b+c d", NULL, 1 }, { "r\xc3\xa9sum\xc3\xa9 \xce\xa9", NULL, 2 },
	    { "100%%zz%4%", NULL, 3 }, { "nul%00x", NULL, 4 } } },
	{ "a page 2 with a continuation token echoed, not truncated",
	  "<ListBucketResult xmlns=\"" NS_AWS "\"><ContinuationToken>abc+/=</ContinuationToken>"
	  "<IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>",
	  ERR_OK, false, false, NULL, 0, { { NULL, NULL, 0 } } },
	{ "only EncodingType url decodes (other values do not)",
	  "<ListBucketResult><EncodingType>URL</EncodingType><Contents><Key>a+b</Key></Contents>"
	  "</ListBucketResult>",
	  ERR_OK, false, false, NULL, 1, { { "a+b", NULL, -1 } } },
	{ "Contents without a Key", "<ListBucketResult><Contents><Size>1</Size></Contents>"
	  "</ListBucketResult>", ERR_PARSE, false, false, NULL, 0, { { NULL, NULL, 0 } } },
	{ "a Size that is not a number", "<ListBucketResult><Contents><Key>k</Key>"
	  "<Size>-1</Size></Contents></ListBucketResult>", ERR_PARSE, false, false, NULL, 0,
	  { { NULL, NULL, 0 } } },
	{ "an error body is not a listing", "<Error><Code>NoSuchBucket</Code></Error>",
	  ERR_PARSE, false, false, NULL, 0, { { NULL, NULL, 0 } } },
	{ "HTML", "<html><body>hi</body></html>", ERR_PARSE, false, false, NULL, 0,
	  { { NULL, NULL, 0 } } },
};

static int check_list_case(const struct list_case *c)
{
	struct aws_s3_list_page p;
	struct err e = ERR_INIT;
	enum err_code code = aws_s3_list_page_parse(c->xml, strlen(c->xml), &p, &e);
	int fails = 0;
	if (code != c->code) {
		print_error("list '%s': code %d (%s), want %d\n", c->name, code, e.msg, c->code);
		return 1;
	}
	if (code) {
		fails += p.objects.len != 0 || p.next_token != NULL || !e.msg[0];
		return fails;
	}
	if (p.truncated != c->truncated || p.url_encoded != c->url ||
	    !str_eq(p.next_token, c->token) || p.objects.len != c->n) {
		print_error("list '%s': truncated %d url %d token %s n %zu\n", c->name, p.truncated,
			    p.url_encoded, show(p.next_token), p.objects.len);
		fails++;
	}
	for (size_t i = 0; !fails && i < c->n; i++) {
		const struct aws_s3_object *o = p.objects.items[i];
		const struct want_obj *w = &c->objs[i];
		if (!str_eq(o->key, w->key) || (w->etag && !str_eq(o->etag, w->etag)) ||
		    o->size != w->size) {
			print_error("list '%s' object %zu: '%s' %s %lld, want '%s' %s %lld\n", c->name,
				    i, o->key, show(o->etag), (long long)o->size, w->key, show(w->etag),
				    (long long)w->size);
			fails++;
		}
	}
	aws_s3_list_page_release(&p);
	return fails;
}

static void test_list_pages(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof list_cases / sizeof list_cases[0]; i++)
		fails += check_list_case(&list_cases[i]);
	assert_int_equal(fails, 0);
}

static void test_list_page_many(void **state)
{
	(void)state;
	struct buf xml = BUF_INIT;
	buf_adds(&xml, "<ListBucketResult xmlns=\"" NS_AWS "\"><IsTruncated>true</IsTruncated>"
		 "<EncodingType>url</EncodingType><NextContinuationToken>t</NextContinuationToken>");
	for (int i = 0; i < 1000; i++)
		buf_addf(&xml, "<Contents><Key>m%%2FV%d__x.sql</Key><ETag>&quot;%d&quot;</ETag>"
			 "<Size>%d</Size></Contents>", i + 1, i, i * 3);
	buf_adds(&xml, "</ListBucketResult>");
	struct aws_s3_list_page p;
	struct err e = ERR_INIT;
	assert_int_equal(aws_s3_list_page_parse(xml.ptr, xml.len, &p, &e), ERR_OK);
	assert_int_equal(p.objects.len, 1000);
	const struct aws_s3_object *last = p.objects.items[999];
	assert_string_equal(last->key, "m/V1000__x.sql");
	assert_string_equal(last->etag, "\"999\"");
	assert_int_equal(last->size, 2997);
	assert_string_equal(p.next_token, "t");
	aws_s3_list_page_release(&p);
	buf_release(&xml);
}

/* ---- ListBuckets ------------------------------------------------------ */

static void test_buckets(void **state)
{
	(void)state;
	static const char aws[] =
		"<ListAllMyBucketsResult xmlns=\"" NS_AWS "\"><Owner><ID>75aa57f0</ID>"
		"<DisplayName>owner</DisplayName></Owner><Buckets><Bucket><Name>examplebucket</Name>"
		"<CreationDate>2019-12-11T23:32:47.000Z</CreationDate>"
		"<BucketRegion>eu-west-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>";
	static const char s3rver[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\""
		NS_S3RVER "\"><Owner><ID>123456789000</ID><DisplayName>S3rver</DisplayName></Owner>"
		"<Buckets><Bucket><Name>acme-products-migrations</Name><CreationDate>"
		"2026-11-27T21:19:39.000Z</CreationDate></Bucket><Bucket><Name>acme-users-migrations"
		"</Name></Bucket></Buckets><ContinuationToken>next/page=</ContinuationToken>"
		"</ListAllMyBucketsResult>";
	struct vec v = VEC_INIT;
	char *token = (char *)1;
	struct err e = ERR_INIT;
	assert_int_equal(aws_s3_buckets_parse(aws, strlen(aws), &v, &token, &e), ERR_OK);
	assert_null(token);
	assert_int_equal(v.len, 1);
	struct aws_s3_bucket *b = v.items[0];
	assert_string_equal(b->name, "examplebucket");
	assert_string_equal(b->created, "2019-12-11T23:32:47.000Z");
	assert_int_equal(aws_s3_buckets_parse(s3rver, strlen(s3rver), &v, &token, &e), ERR_OK);
	assert_int_equal(v.len, 3);
	assert_string_equal(((struct aws_s3_bucket *)v.items[1])->name, "acme-products-migrations");
	b = v.items[2];
	assert_string_equal(b->name, "acme-users-migrations");
	assert_string_equal(b->created, "");
	assert_string_equal(token, "next/page=");
	free(token);
	static const char nameless[] = "<ListAllMyBucketsResult><Buckets><Bucket><CreationDate>x"
				       "</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>";
	assert_int_equal(aws_s3_buckets_parse(nameless, strlen(nameless), &v, &token, &e),
			 ERR_PARSE);
	static const char other[] = "<ListBucketResult/>";
	assert_int_equal(aws_s3_buckets_parse(other, strlen(other), &v, &token, &e), ERR_PARSE);
	assert_int_equal(v.len, 3); /* nothing appended on failure */
	assert_null(token);
	vec_release(&v, aws_s3_bucket_free);
}

/* ---- errors ----------------------------------------------------------- */

struct error_case {
	const char *xml;
	enum err_code code;
	const char *c, *message, *region, *endpoint, *bucket, *key;
};

static const struct error_case error_cases[] = {
	{ "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
	  "<Key>nope.txt</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>",
	  ERR_OK, "NoSuchKey", "The specified key does not exist.", NULL, NULL, NULL, "nope.txt" },
	{ "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access "
	  "must be addressed using the specified endpoint. Please send all future requests to this "
	  "endpoint.</Message><Endpoint>examplebucket.s3.eu-west-1.amazonaws.com</Endpoint>"
	  "<Bucket>examplebucket</Bucket><RequestId>r</RequestId><HostId>h</HostId></Error>",
	  ERR_OK, "PermanentRedirect",
	  "The bucket you are attempting to access must be addressed using the specified endpoint. "
	  "Please send all future requests to this endpoint.", NULL,
	  "examplebucket.s3.eu-west-1.amazonaws.com", "examplebucket", NULL },
	{ "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
	  "<BucketName>nobucket</BucketName></Error>",
	  ERR_OK, "NoSuchBucket", "The specified bucket does not exist", NULL, NULL, "nobucket",
	  NULL },
	{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed"
	  "</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-central-1'</Message>"
	  "<Region>eu-central-1</Region></Error>",
	  ERR_OK, "AuthorizationHeaderMalformed",
	  "the region 'us-east-1' is wrong; expecting 'eu-central-1'", "eu-central-1", NULL, NULL,
	  NULL },
	{ "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
	  "<Type>Sender</Type><Code>DBClusterNotFoundFault</Code><Message>DBCluster nope not "
	  "found.</Message></Error><RequestId>r</RequestId></ErrorResponse>",
	  ERR_OK, "DBClusterNotFoundFault", "DBCluster nope not found.", NULL, NULL, NULL, NULL },
	{ "<Error><Message>no code</Message></Error>", ERR_PARSE, NULL, NULL, NULL, NULL, NULL,
	  NULL },
	{ "<Error><Code></Code></Error>", ERR_PARSE, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "", ERR_PARSE, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "{\"__type\":\"x\"}", ERR_PARSE, NULL, NULL, NULL, NULL, NULL, NULL },
};

static void test_error_bodies(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct error_case *c = &error_cases[i];
		struct aws_xml_error x;
		struct err e = ERR_INIT;
		enum err_code code = aws_xml_error_parse(c->xml, strlen(c->xml), &x, &e);
		if (code != c->code) {
			print_error("error case %zu: code %d (%s)\n", i, code, e.msg);
			fails++;
			continue;
		}
		if (code) {
			fails += x.code != NULL;
			continue;
		}
		if (!str_eq(x.code, c->c) || !str_eq(x.message, c->message) ||
		    !str_eq(x.region, c->region) || !str_eq(x.endpoint, c->endpoint) ||
		    !str_eq(x.bucket, c->bucket) || !str_eq(x.key, c->key)) {
			print_error("error case %zu: %s / %s / %s / %s / %s / %s\n", i, show(x.code),
				    show(x.message), show(x.region), show(x.endpoint), show(x.bucket),
				    show(x.key));
			fails++;
		}
		aws_xml_error_release(&x);
	}
	assert_int_equal(fails, 0);
}

struct map_case {
	long status;
	const char *body;
	enum err_code code;
	const char *has[3];   /* substrings the message must contain */
	const char *hasnt;    /* one it must not */
};

static const struct map_case map_cases[] = {
	{ 404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
	  "</Error>", ERR_HTTP, { "GetObject", "s3://acme/V1__x.sql", "NoSuchKey" }, NULL },
	{ 403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
	  ERR_AUTH, { "GetObject", "AccessDenied", "s3://acme/V1__x.sql" }, NULL },
	{ 403, "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
	  "calculated does not match</Message><AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId>"
	  "<StringToSign>AWS4-HMAC-SHA256 secretish</StringToSign></Error>",
	  ERR_AUTH, { "SignatureDoesNotMatch", NULL, NULL }, "secretish" },
	{ 403, "", ERR_AUTH, { "403", "GetObject", NULL }, NULL },
	{ 500, "<html>oops</html>", ERR_HTTP, { "500", NULL, NULL }, NULL },
	{ 301, "<Error><Code>PermanentRedirect</Code><Message>m</Message><Endpoint>"
	  "acme.s3.eu-west-1.amazonaws.com</Endpoint></Error>", ERR_HTTP,
	  { "PermanentRedirect", NULL, NULL }, NULL },
};

static void test_error_mapping(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof map_cases / sizeof map_cases[0]; i++) {
		const struct map_case *c = &map_cases[i];
		struct aws_request req = { .service_id = "S3", .signing_name = "s3",
					   .operation = "GetObject",
					   .resource = "s3://acme/V1__x.sql", .method = "GET" };
		struct aws_response r = { .status = c->status, .body = BUF_INIT,
					  .headers = VEC_INIT };
		struct err e = ERR_INIT;
		buf_adds(&r.body, c->body);
		enum err_code code = aws_error_from_xml(&req, &r, &e);
		bool ok = code == c->code && e.code == c->code;
		for (int k = 0; k < 3; k++)
			ok = ok && (!c->has[k] || strstr(e.msg, c->has[k]));
		ok = ok && (!c->hasnt || !strstr(e.msg, c->hasnt));
		if (!ok) {
			print_error("mapping case %zu: %d '%s'\n", i, code, e.msg);
			fails++;
		}
		buf_release(&r.body);
	}
	assert_int_equal(fails, 0);
}

/* ---- addressing ------------------------------------------------------- */

struct dns_case {
	const char *bucket;
	bool ok;
};

static void test_bucket_dns(void **state)
{
	(void)state;
	static const struct dns_case cases[] = {
		{ "examplebucket", true }, { "acme-users-migrations", true }, { "abc", true },
		{ "a1-2", true }, { "ab", false }, { "my.dotted.bucket", false },
		{ "Upper_Case_Bucket", false }, { "-abc", false }, { "abc-", false },
		{ "ab c", false }, { "", false },
		{ "a23456789012345678901234567890123456789012345678901234567890123", true },
		{ "a234567890123456789012345678901234567890123456789012345678901234", false },
	};
	int fails = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (aws_s3_bucket_dns_ok(cases[i].bucket) != cases[i].ok) {
			print_error("dns case %zu: %s\n", i, cases[i].bucket);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

struct addr_case {
	const char *endpoint_env;  /* AWS_ENDPOINT_URL_S3, NULL: AWS's */
	const char *bucket, *key;
	const char *endpoint, *path;
};

static const struct addr_case addr_cases[] = {
	{ NULL, "examplebucket", "dir one/a+b=c d.txt",
	  "https://examplebucket.s3.eu-west-1.amazonaws.com", "/dir%20one/a%2Bb%3Dc%20d.txt" },
	{ NULL, "examplebucket", NULL, "https://examplebucket.s3.eu-west-1.amazonaws.com", "/" },
	{ NULL, "examplebucket", "(final)~!*'@:,&$;", "https://examplebucket.s3.eu-west-1.amazonaws.com",
	  "/%28final%29~%21%2A%27%40%3A%2C%26%24%3B" },
	{ NULL, "my.dotted.bucket", "a/b", "https://s3.eu-west-1.amazonaws.com",
	  "/my.dotted.bucket/a/b" },
	{ NULL, "Upper_Case_Bucket", NULL, "https://s3.eu-west-1.amazonaws.com",
	  "/Upper_Case_Bucket" },
	{ "http://127.0.0.1:4568", "test-bucket", "dir one/a+b=c d.txt", "http://127.0.0.1:4568",
	  "/test-bucket/dir%20one/a%2Bb%3Dc%20d.txt" },
	{ "http://127.0.0.1:4568", "test-bucket", NULL, "http://127.0.0.1:4568", "/test-bucket" },
	{ "http://127.0.0.1:4568", "test-bucket", "my-object//example//photo.user",
	  "http://127.0.0.1:4568", "/test-bucket/my-object//example//photo.user" },
	{ "https://s3.local/base", "b", "k", "https://s3.local", "/base/b/k" },
};

static void test_address(void **state)
{
	(void)state;
	int fails = 0;
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	unsetenv("AWS_ENDPOINT_URL");
	for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
		const struct addr_case *c = &addr_cases[i];
		if (c->endpoint_env)
			setenv("AWS_ENDPOINT_URL_S3", c->endpoint_env, 1);
		else
			unsetenv("AWS_ENDPOINT_URL_S3");
		struct aws_ctx_options o = { .region = "eu-west-1" };
		struct aws_ctx *ctx = NULL;
		struct aws_s3_where w = { BUF_INIT, BUF_INIT };
		struct err e = ERR_INIT;
		assert_int_equal(aws_ctx_new(&o, &ctx, &e), ERR_OK);
		enum err_code code = aws_s3_address(ctx, c->bucket, c->key, "eu-west-1", &w, &e);
		if (code || strcmp(w.endpoint.ptr, c->endpoint) || strcmp(w.path.ptr, c->path)) {
			print_error("address case %zu: %d %s %s (%s)\n", i, code, w.endpoint.ptr,
				    w.path.ptr, e.msg);
			fails++;
		}
		aws_s3_where_release(&w);
		aws_ctx_free(ctx);
	}
	unsetenv("AWS_ENDPOINT_URL_S3");
	assert_int_equal(fails, 0);
}

static void test_bucket_region_default(void **state)
{
	(void)state;
	struct aws_ctx_options o = { .region = "ap-southeast-2" };
	struct aws_ctx *ctx = NULL;
	struct err e = ERR_INIT;
	char r[64];
	assert_int_equal(aws_ctx_new(&o, &ctx, &e), ERR_OK);
	aws_s3_bucket_region(ctx, "acme", r, sizeof r);
	assert_string_equal(r, "ap-southeast-2");
	/* a region learnt from a redirect wins */
	pthread_mutex_lock(&ctx->lock);
	vec_push_str(&ctx->bucket_regions, "acme\teu-central-1");
	pthread_mutex_unlock(&ctx->lock);
	aws_s3_bucket_region(ctx, "acme", r, sizeof r);
	assert_string_equal(r, "eu-central-1");
	aws_s3_bucket_region(ctx, "acm", r, sizeof r);
	assert_string_equal(r, "ap-southeast-2");
	aws_ctx_free(ctx);
}

/* ---- locations -------------------------------------------------------- */

struct loc_case {
	const char *location;
	enum err_code code;
	const char *bucket, *prefix;
};

static const struct loc_case loc_cases[] = {
	{ "s3:bucket", ERR_OK, "bucket", NULL },
	{ "s3:bucket/", ERR_OK, "bucket", NULL },
	{ "s3:bucket/a/b", ERR_OK, "bucket", "a/b" },
	{ "s3:bucket/a/b/", ERR_OK, "bucket", "a/b/" },
	{ "s3:bucket//x", ERR_OK, "bucket", "/x" },
	{ "s3:acme-users-migrations/migrations", ERR_OK, "acme-users-migrations", "migrations" },
	{ "s3:my.dotted.bucket/sql", ERR_OK, "my.dotted.bucket", "sql" },
	{ "s3:b/dir one/V1__x", ERR_OK, "b", "dir one/V1__x" },
	{ "s3:", ERR_USAGE, NULL, NULL },
	{ "s3:/prefix", ERR_USAGE, NULL, NULL },
	{ "s3://bucket/prefix", ERR_USAGE, NULL, NULL },
	{ "s3:bucket/*.sql", ERR_USAGE, NULL, NULL },
	{ "s3:buck?t", ERR_USAGE, NULL, NULL },
	{ "s3:bad bucket/x", ERR_USAGE, NULL, NULL },
	{ "filesystem:sql", ERR_USAGE, NULL, NULL },
	{ "S3:bucket", ERR_USAGE, NULL, NULL },
	{ "", ERR_USAGE, NULL, NULL },
};

static void test_locations(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof loc_cases / sizeof loc_cases[0]; i++) {
		const struct loc_case *c = &loc_cases[i];
		char *bucket = NULL, *prefix = NULL;
		struct err e = ERR_INIT;
		enum err_code code = aws_s3_location_parse(c->location, &bucket, &prefix, &e);
		if (code != c->code || !str_eq(bucket, c->bucket) || !str_eq(prefix, c->prefix) ||
		    (code && !strstr(e.msg, c->location))) {
			print_error("location case %zu '%s': %d '%s' '%s' (%s)\n", i, c->location, code,
				    show(bucket), show(prefix), e.msg);
			fails++;
		}
		free(bucket);
		free(prefix);
	}
	assert_int_equal(fails, 0);
}

static void test_source_new(void **state)
{
	(void)state;
	struct eng_source *s = (struct eng_source *)1;
	struct err e = ERR_INIT;
	assert_int_equal(aws_s3_source_new(NULL, "s3:", &s, &e), ERR_USAGE);
	assert_null(s);
	assert_non_null(strstr(e.msg, "s3:"));
	/* a source that never listed needs no context and writes no cache */
	assert_int_equal(aws_s3_source_new(NULL, "s3:acme/sql", &s, &e), ERR_OK);
	assert_non_null(s);
	assert_string_equal(s->location, "s3:acme/sql");
	assert_non_null(s->ops->list);
	assert_non_null(s->ops->open);
	assert_non_null(s->ops->remember);
	eng_source_free(s);
	struct stat st;
	struct buf path = BUF_INIT;
	assert_true(aws_s3_cache_path(&path));
	assert_int_not_equal(stat(path.ptr, &st), 0);
	buf_release(&path);
}

/* ---- the checksum cache ----------------------------------------------- */

static char cache_home[] = "/tmp/tarmac-s3-cache.XXXXXX";

static int cache_setup(void **state)
{
	(void)state;
	if (!mkdtemp(cache_home))
		return -1;
	setenv("XDG_CACHE_HOME", cache_home, 1);
	return 0;
}

static int cache_teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_home);
	return system(cmd) == 0 ? 0 : -1;
}

static struct aws_s3_cache_entry *entry(const char *bucket, const char *key, const char *etag,
					int32_t sum)
{
	struct aws_s3_cache_entry *c = calloc(1, sizeof *c);
	c->bucket = strdup(bucket);
	c->key = strdup(key);
	c->etag = strdup(etag);
	c->checksum = sum;
	return c;
}

static void test_cache_round_trip(void **state)
{
	(void)state;
	struct buf path = BUF_INIT, want = BUF_INIT;
	struct vec out = VEC_INIT, in = VEC_INIT;
	struct err e = ERR_INIT;
	assert_true(aws_s3_cache_path(&path));
	buf_addf(&want, "%s/tarmac/s3-checksums", cache_home);
	assert_string_equal(path.ptr, want.ptr);
	/* no file yet: empty, not an error */
	assert_int_equal(aws_s3_cache_read(path.ptr, &in, &e), ERR_OK);
	assert_int_equal(in.len, 0);
	vec_push(&out, entry("zeta", "V1__x.sql", "\"abc\"", 1));
	vec_push(&out, entry("acme", "dir one/V2__a b+c%.sql", "\"d41d8cd9-2\"", INT32_MIN));
	vec_push(&out, entry("acme", "new\nline\ttab r\xc3\xa9sum\xc3\xa9.sql", "", INT32_MAX));
	vec_push(&out, entry("acme", "V1__x.sql", "W/\"x y\"", -42));
	vec_push(&out, entry("acme", "V1__x.sql", "\"newer\"", 7)); /* same key: one line */
	assert_int_equal(aws_s3_cache_write(path.ptr, &out, &e), ERR_OK);
	struct stat st;
	assert_int_equal(stat(path.ptr, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(aws_s3_cache_read(path.ptr, &in, &e), ERR_OK);
	assert_int_equal(in.len, 4);
	const struct aws_s3_cache_entry *c = aws_s3_cache_find(&in, "acme", "dir one/V2__a b+c%.sql");
	assert_non_null(c);
	assert_string_equal(c->etag, "\"d41d8cd9-2\"");
	assert_int_equal(c->checksum, INT32_MIN);
	c = aws_s3_cache_find(&in, "acme", "new\nline\ttab r\xc3\xa9sum\xc3\xa9.sql");
	assert_non_null(c);
	assert_string_equal(c->etag, "");
	assert_int_equal(c->checksum, INT32_MAX);
	c = aws_s3_cache_find(&in, "acme", "V1__x.sql");
	assert_non_null(c);
	assert_int_equal(c->checksum == -42 || c->checksum == 7, 1);
	c = aws_s3_cache_find(&in, "zeta", "V1__x.sql");
	assert_non_null(c);
	assert_int_equal(c->checksum, 1);
	assert_null(aws_s3_cache_find(&in, "acme", "V9__x.sql"));
	assert_null(aws_s3_cache_find(&in, "zeta2", "V1__x.sql"));
	/* sorted by bucket, then key */
	assert_string_equal(((struct aws_s3_cache_entry *)in.items[0])->bucket, "acme");
	assert_string_equal(((struct aws_s3_cache_entry *)in.items[3])->bucket, "zeta");
	vec_release(&in, aws_s3_cache_entry_free);
	vec_release(&out, aws_s3_cache_entry_free);
	/* no temporary file left behind */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s/tarmac' | wc -l) -eq 1", cache_home);
	assert_int_equal(system(cmd), 0);
	buf_release(&path);
	buf_release(&want);
}

struct corrupt_case {
	const char *text;
	enum err_code code;
	size_t n;
};

static const struct corrupt_case corrupt_cases[] = {
	{ "tarmac-s3-checksums 1\n", ERR_OK, 0 },
	{ "tarmac-s3-checksums 1\nb k %22e%22 12\n", ERR_OK, 1 },
	{ "tarmac-s3-checksums 1\nb k  -12\n", ERR_OK, 1 },
	{ "", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 2\nb k e 1\n", ERR_PARSE, 0 },
	{ "garbage\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k e 1", ERR_PARSE, 0 },          /* cut short */
	{ "tarmac-s3-checksums 1\nb k e\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k e 1 x\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k e 2147483648\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k e 1x\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k e +1\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\n k e 1\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k%2 e 1\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k%00 e 1\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k\"raw e 1\n", ERR_PARSE, 0 },
	{ "tarmac-s3-checksums 1\nb k e 1\n\n", ERR_PARSE, 0 },
};

static void test_cache_corrupt(void **state)
{
	(void)state;
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/corrupt", cache_home);
	int fails = 0;
	for (size_t i = 0; i < sizeof corrupt_cases / sizeof corrupt_cases[0]; i++) {
		const struct corrupt_case *c = &corrupt_cases[i];
		FILE *f = fopen(path.ptr, "w");
		assert_non_null(f);
		fputs(c->text, f);
		fclose(f);
		struct vec in = VEC_INIT;
		struct err e = ERR_INIT;
		enum err_code code = aws_s3_cache_read(path.ptr, &in, &e);
		if (code != c->code || in.len != c->n || (code && !strstr(e.msg, path.ptr))) {
			print_error("cache case %zu: %d, %zu entries (%s)\n", i, code, in.len, e.msg);
			fails++;
		}
		vec_release(&in, aws_s3_cache_entry_free);
	}
	unlink(path.ptr);
	buf_release(&path);
	assert_int_equal(fails, 0);
}

static void test_cache_path_env(void **state)
{
	(void)state;
	struct buf p = BUF_INIT;
	const char *home = getenv("HOME");
	char *saved_home = home ? strdup(home) : NULL;
	setenv("XDG_CACHE_HOME", "relative/dir", 1); /* invalid: ignored */
	setenv("HOME", "/home/dba", 1);
	assert_true(aws_s3_cache_path(&p));
	assert_string_equal(p.ptr, "/home/dba/.cache/tarmac/s3-checksums");
	unsetenv("XDG_CACHE_HOME");
	assert_true(aws_s3_cache_path(&p));
	assert_string_equal(p.ptr, "/home/dba/.cache/tarmac/s3-checksums");
	unsetenv("HOME");
	assert_false(aws_s3_cache_path(&p));
	if (saved_home)
		setenv("HOME", saved_home, 1);
	free(saved_home);
	setenv("XDG_CACHE_HOME", cache_home, 1);
	buf_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_limits),
		cmocka_unit_test(test_walk_callback_stops),
		cmocka_unit_test(test_path_is),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_list_page_many),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_error_bodies),
		cmocka_unit_test(test_error_mapping),
		cmocka_unit_test(test_bucket_dns),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_bucket_region_default),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_source_new),
		cmocka_unit_test(test_cache_round_trip),
		cmocka_unit_test(test_cache_corrupt),
		cmocka_unit_test(test_cache_path_env),
	};
	return cmocka_run_group_tests(tests, cache_setup, cache_teardown);
}
