/*
 * aws/internal.h — what the files of aws/ share (and their tests use):
 * the context, the signed HTTP call, SigV4, credentials, endpoints.
 * Nothing here is part of aws.h.
 *
 * Who writes what:
 *   sigv4.c     aws_sigv4_* (header and query signing, RDS token)
 *   http.c      aws_http_do / aws_http_plain, retries, clock skew, pool
 *   creds.c     the credential chain, aws_creds_get, profile files
 *   endpoint.c  aws_endpoint_for, region resolution, aws_ctx_new/free
 *   s3.c, s3_source.c, ssm.c, logs.c, sts.c, secrets.c, rds.c: the calls
 *   xml.c, json_call.c: response parsing helpers
 *   call.c      aws_json_call / aws_query_call, aws_error_from_json,
 *               aws_error_parse, aws_response_* (aws_error_from_xml: xml.c)
 */
#ifndef TARMAC_AWS_INTERNAL_H
#define TARMAC_AWS_INTERNAL_H

#include <pthread.h>

#include "aws/aws.h"

/* ---- credentials -------------------------------------------------------- */

struct aws_creds {
	char *access_key;
	char *secret_key;       /* secret: wiped on release */
	char *session_token;    /* NULL when none; wiped on release */
	time_t expires;         /* 0: does not expire */
	char source[48];        /* "env", "profile NAME", "assume-role", "process", "container", "imds" */
};

void aws_creds_release(struct aws_creds *c);
/* dst is overwritten (not released first). */
void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src);
/*
 * Current credentials (a copy for the caller; out need not be initialised
 * and is safe to release on failure), resolved through the chain on first
 * use and refreshed when they expire within 15 minutes — still used if
 * that refresh fails while more than 10 remain (botocore's advisory and
 * mandatory windows, spec §2.4). ERR_AUTH naming every provider tried
 * when none has credentials.
 */
enum err_code aws_creds_get(struct aws_ctx *ctx, struct aws_creds *out, struct err *e);
/* Forgets cached credentials (after ExpiredToken from a service). */
void aws_creds_invalidate(struct aws_ctx *ctx);

/* ---- SigV4 (spec §1) ---------------------------------------------------- */

struct aws_sigv4_request {
	const char *method;
	const char *host;          /* Host header value (with :port when non-default) */
	const char *path;          /* already percent-encoded once, e.g. "/bucket/a%20b" */
	const char *query;         /* raw query string ("a=b&c=d"), may be NULL */
	const char *const *headers;/* "Name: value" to sign, besides host and x-amz-* added here */
	size_t nheaders;
	const char *payload_sha256;/* hex, or "UNSIGNED-PAYLOAD"; NULL: sha256 of "" */
	const char *region, *service;
	time_t now;
	bool s3;                   /* S3 rules: no path normalisation or double encoding, sign x-amz-content-sha256 */
	/* The two halves of the S3 rules on their own, for the aws-c-auth
	 * suite ("normalize": false / "sign_body": true); false otherwise. */
	bool no_normalize;         /* single encoding, no dot-segment removal */
	bool sign_body;            /* add and sign x-amz-content-sha256 */
	/* Optional (tests, diagnostics): receive the canonical request and
	 * the string to sign. Never logged: they carry the session token. */
	struct buf *creq_out, *sts_out;
};

/* Headers to add to the request: x-amz-date, [x-amz-security-token],
 * [x-amz-content-sha256], authorization — as "Name: value" strings. */
enum err_code aws_sigv4_sign(const struct aws_sigv4_request *r, const struct aws_creds *c,
			     struct vec *add_headers, struct err *e);
/* Query (presigned) form: appends the X-Amz-* parameters to *query (which
 * the function replaces with the full signed query string). The operation's
 * parameters are *query's, or r->query's when *query is NULL; the result is
 * in canonical (sorted) order, so what is sent is byte for byte what was
 * signed. Signs host and r->headers; payload UNSIGNED-PAYLOAD for S3. */
enum err_code aws_sigv4_presign(const struct aws_sigv4_request *r, const struct aws_creds *c,
				int expires_s, char **query, struct err *e);
/* Hex SHA-256 of data (65 bytes with NUL). */
void aws_sha256_hex(const void *data, size_t len, char out[65]);
/* AWS percent-encoding (unreserved A-Z a-z 0-9 - _ . ~ kept); slash kept when keep_slash. */
void aws_uri_encode(struct buf *out, const char *s, bool keep_slash);
/*
 * An RDS IAM auth token (spec §1.5): the presigned GET of
 * "host:port/?Action=connect&DBUser=user" for service rds-db, valid 900 s,
 * without the scheme. *token is the caller's (a secret: wipe it).
 */
enum err_code aws_sigv4_rds_token(const struct aws_creds *c, const char *region, const char *host,
				  int port, const char *user, time_t now, char **token,
				  struct err *e);

/* ---- HTTP --------------------------------------------------------------- */

struct aws_request {
	const char *service_id;    /* endpoint key: "S3", "SSM", "CloudWatch Logs", "STS",
				    * "Secrets Manager", "RDS" */
	const char *signing_name;  /* "s3", "ssm", "logs", "sts", "secretsmanager", "rds" */
	const char *operation;     /* for messages: "ListObjectsV2" */
	const char *resource;      /* for messages: "bucket acme-users", may be NULL */
	const char *method;
	const char *path;          /* encoded, starts with "/" */
	const char *query;         /* encoded, may be NULL */
	const char *const *headers;/* extra "Name: value" */
	size_t nheaders;
	const void *body;
	size_t body_len;
	bool mutating;             /* refused on a read-only context */
	size_t max_response;       /* 0: 16 MiB */
	const char *region;        /* NULL: the context's */
	const struct aws_creds *creds; /* NULL: aws_creds_get (STS AssumeRole passes its own) */
	const char *endpoint;      /* NULL: aws_endpoint_for(service_id) */
};

struct aws_response {
	long status;
	struct buf body;
	struct vec headers;        /* "name: value", names lower-cased; aws_http_do
				    * adds "x-tarmac-attempts: N" when it sent N > 1 */
};

void aws_response_release(struct aws_response *r);
/* A header's value (name lower-case), or NULL. */
const char *aws_response_header(const struct aws_response *r, const char *name);

/*
 * Sends a signed request with the standard retry mode (spec §5): up to 3
 * attempts, retryable statuses/codes, jittered exponential backoff, the
 * retry quota, re-signing on each attempt, clock-skew correction from the
 * Date header. Returns ERR_OK for any HTTP status (the caller maps AWS
 * errors with aws_error_from_*), ERR_NET/ERR_CANCELLED/ERR_TOO_LARGE/
 * ERR_READ_ONLY/ERR_AUTH otherwise.
 */
enum err_code aws_http_do(struct aws_ctx *ctx, const struct aws_request *req,
			  struct aws_response *resp, struct err *e);
/* Unsigned HTTP for IMDS and container credentials (short timeouts, no
 * retries beyond one). */
enum err_code aws_http_plain(struct aws_ctx *ctx, const char *method, const char *url,
			     const char *const *headers, size_t nheaders, const char *body,
			     long timeout_ms, struct aws_response *resp, struct err *e);
/* Closes the pooled curl handles, so that aws_ctx_free need not know curl. */
void aws_http_pool_free(struct aws_ctx *ctx);

/* Standard-mode classification of a failed response (spec §5) by HTTP
 * status and AWS error code ("" when none). */
enum aws_retry_class {
	AWS_RETRY_NO,          /* final: hand the error to the caller */
	AWS_RETRY_TRANSIENT,   /* 500/502/503/504, RequestTimeout...: backoff, cost 5 */
	AWS_RETRY_THROTTLE,    /* Throttling, SlowDown...: backoff, cost 5 */
	AWS_RETRY_SKEW,        /* RequestTimeTooSkewed...: fix the clock from Date, once */
	AWS_RETRY_CREDS,       /* ExpiredToken...: refresh the credentials, once */
};
enum aws_retry_class aws_retry_classify(long status, const char *code);

/* ---- endpoints and region (spec §2.5, §2.6) ----------------------------- */

/* "https://ssm.eu-central-1.amazonaws.com", or the AWS_ENDPOINT_URL_<SVC> /
 * AWS_ENDPOINT_URL / profile endpoint_url override (no trailing slash). */
enum err_code aws_endpoint_for(struct aws_ctx *ctx, const char *service_id, const char *region,
			       struct buf *out, bool *custom, struct err *e);

/* ---- error mapping ------------------------------------------------------ */

/* From an XML error body (S3) or a JSON one (awsJson 1.1); both fill e with
 * "<Service> <Operation> on <resource>: <Code>: <Message>" and return
 * ERR_HTTP (ERR_AUTH for AccessDenied/ExpiredToken/InvalidClientTokenId/...). */
enum err_code aws_error_from_xml(const struct aws_request *req, const struct aws_response *r,
				 struct err *e);
enum err_code aws_error_from_json(const struct aws_request *req, const struct aws_response *r,
				  struct err *e);
/* The AWS error code and message of an error body, JSON (botocore's
 * __type rules) or XML (<Error><Code>), told apart by the first byte;
 * "" when absent. Never fails. */
void aws_error_parse(const struct aws_response *r, char *code, size_t ncode, char *msg,
		     size_t nmsg);

/* Whether e holds AWS error `code` (the messages above read
 * "... on <resource>: <Code>[: <Message>][ (advice)]"). */
bool aws_error_has_code(const struct err *e, const char *code);

/* awsJson1.1 call: POST / with X-Amz-Target "<target_prefix>.<operation>",
 * body a JSON text; the response body on 200, else the mapped error. */
enum err_code aws_json_call(struct aws_ctx *ctx, const char *service_id, const char *signing_name,
			    const char *target_prefix, const char *operation, const char *resource,
			    const char *body, bool mutating, struct buf *out, struct err *e);
/* Query-protocol call (STS, RDS): POST / form-encoded "Action=..&Version=..&k=v";
 * the XML response body on 200, else the mapped error. kv holds nkv
 * strings, key and raw value alternating (nkv = 2 x pairs), e.g.
 * {"RoleArn", arn, "RoleSessionName", name}, 4; values are encoded here. */
enum err_code aws_query_call(struct aws_ctx *ctx, const char *service_id, const char *signing_name,
			     const char *action, const char *version, const char *const *kv, size_t nkv,
			     const char *resource, const struct aws_creds *creds, struct buf *out,
			     struct err *e);

/* ---- the context (shared; fields behind `lock` where noted) ------------- */

struct aws_ctx {
	char *profile;
	char *region;
	bool read_only;
	atomic_bool *cancel;
	time_t (*clock)(void);
	pthread_mutex_t lock;
	/* behind lock: */
	struct aws_creds creds;      /* cached; access_key NULL when none yet */
	bool have_creds;
	long skew_s;                 /* server time - local time, from Date headers */
	int retry_tokens;            /* standard mode quota (500) */
	struct vec bucket_regions;   /* char* "bucket\tregion" */
	struct vec curl_pool;        /* CURL* idle handles */
	/* profile/config data read at new(): */
	struct vec config_kv;        /* char* "section\tkey\tvalue" from ~/.aws/config */
	struct vec creds_kv;         /* char* "section\tkey\tvalue" from ~/.aws/credentials */
	/* endpoint.c and creds.c only: */
	pthread_mutex_t refresh_lock;/* one credential resolution at a time; held across
				      * network calls, so never taken while holding lock */
	pthread_mutex_t region_lock; /* the one lazy IMDS region lookup */
	atomic_bool region_pending;  /* no region configured: aws_ctx_region asks IMDS once
				      * (read the region through aws_ctx_region, not ->region) */
	bool profile_explicit;       /* the options named the profile: env keys are ignored */
	const char *profile_from;    /* static text: "AWS_PROFILE", "the options", ... */
	const char *region_from;     /* static text: "AWS_REGION", "the profile's region", ... */
	char *config_path;           /* the files read (NULL: HOME unset and no variable) */
	char *creds_path;
};

/* The context's now() with the clock skew applied. */
time_t aws_ctx_now(struct aws_ctx *ctx);
/* A value from the active profile in the config file, or NULL. */
const char *aws_profile_get(const struct aws_ctx *ctx, const char *profile, const char *key);

/* ==== profile files, IMDS, STS helpers (endpoint.c, creds.c, sts.c) ======
 * aws_profile_get: profile NULL is the context's; the credentials file's
 * value wins over the config file's (botocore merges them so); empty
 * values are NULL. A nested sub-section ("s3 =" then indented
 * "addressing_style = path") is the key "s3.addressing_style". */

/*
 * Parses an AWS config (config true) or shared credentials file's text,
 * appending "section\tkey\tvalue" strings to kv. A profile's section is
 * "profile NAME" in both ("[default]"/"[profile NAME]" in the config,
 * "[NAME]" in the credentials file); other config sections keep their
 * header ("services local"). Keys are lower-cased; later lines win. Each
 * header also adds "section\t\t" (empty key and value), so that a
 * section without keys exists.
 * `#`/`;` comment lines, `=` or `:`, indented continuation lines and
 * sub-sections as botocore's configloader. ERR_PARSE "FILE line N: ..."
 * (never quoting the line, which may hold a secret). file names the text
 * in messages. Pure: the fuzz target's entry point.
 */
enum err_code aws_config_parse(const char *text, size_t len, const char *file, bool config,
			       struct vec *kv, struct err *e);
/* The value of key in section of a kv vector ("" for an empty one), or NULL. */
const char *aws_config_get(const struct vec *kv, const char *section, const char *key);
/* Whether either file has a section for profile. */
bool aws_profile_exists(const struct aws_ctx *ctx, const char *profile);
/* Reads a whole file of at most cap bytes (ERR_TOO_LARGE past it) into out;
 * *missing (and ERR_OK) when it does not exist. */
enum err_code aws_file_read(const char *path, size_t cap, struct buf *out, bool *missing,
			    struct err *e);

/* GET <IMDS>/latest/<path> (spec §2.4): an IMDSv2 token first, IMDSv1
 * only when the token PUT is refused with 403/404/405 and
 * AWS_EC2_METADATA_V1_DISABLED is not true. ERR_OK with *found false when
 * IMDS is disabled, unreachable or has nothing there; *why (static text)
 * then says which. ERR_CANCELLED when the context is cancelled. */
enum err_code aws_imds_get(struct aws_ctx *ctx, const char *path, struct buf *out, bool *found,
			   const char **why, struct err *e);
/* Runs a credential_process command line: split as Python's shlex.split
 * (no shell), stdin and stderr /dev/null, stdout captured into out (at
 * most 64 KiB). ERR_AUTH for a bad command line, a program that cannot
 * run, a non-zero exit or signal, or timeout_ms passing (the process
 * group is killed); ERR_CANCELLED when the context is cancelled. */
enum err_code aws_process_run(const struct aws_ctx *ctx, const char *cmdline, int timeout_ms,
			      struct buf *out, struct err *e);
/* Whether AWS_CONTAINER_CREDENTIALS_FULL_URI may be used: https, or http to
 * a loopback address, localhost, 169.254.170.2, 169.254.170.23 or
 * fd00:ec2::23 (botocore's list); never with user info. */
bool aws_container_uri_allowed(const char *url);

/* "2024-05-17T09:09:10Z" (fraction, "+HH:MM"/"-HHMM" offsets, 't' or ' '
 * accepted; no zone is UTC) to a UTC time_t. ERR_PARSE otherwise; e may
 * be NULL. */
enum err_code aws_iso8601_parse(const char *s, time_t *out, struct err *e);

struct aws_sts_assume {
	const char *role_arn, *session_name;
	const char *external_id;     /* NULL: none */
	int duration_s;              /* 0: STS's default (1 hour) */
};
/* STS AssumeRole signed with source; out gets the role's credentials
 * (source "assume-role", expires set). */
enum err_code aws_sts_assume_role(struct aws_ctx *ctx, const struct aws_sts_assume *req,
				  const struct aws_creds *source, struct aws_creds *out,
				  struct err *e);
/* The pure halves of the two STS calls: AssumeRoleResponse's Credentials
 * (ERR_PARSE unless all four members are there) and GetCallerIdentity's
 * Account/Arn/UserId (ERR_PARSE without Account or Arn; UserId "" when
 * absent). out is filled only on success. */
enum err_code aws_sts_credentials_parse(const char *xml, size_t len, struct aws_creds *out,
					struct err *e);
enum err_code aws_sts_identity_parse(const char *xml, size_t len, struct aws_identity *out,
				     struct err *e);
/* ==== end of profile files, IMDS, STS helpers ============================ */

/* ==== response parsers and request builders: ssm.c, logs.c, secrets.c, rds.c ====
 * Pure functions over the body text (len bytes, need not be NUL-terminated)
 * so unit tests and fuzzers reach them without a network. Each returns
 * ERR_PARSE naming the service and operation when the body is not what the
 * service model says, fills its output only on success and leaves it empty
 * (safe to release) otherwise. String members they fill are never NULL: ""
 * when AWS sent none (aws_db_secret excepted, see below); awsJson epoch
 * seconds become ISO 8601 UTC ("2024-05-17T08:09:10Z"). A *next_token or
 * *marker receives a new string (caller frees) or NULL on the last page;
 * its old value is not freed. */

/* The SendCommand body (spec §4). ERR_USAGE, before anything is sent, for
 * what AWS would refuse: no document or commands, both or neither of
 * instance and target, Comment over 100 characters, TimeoutSeconds outside
 * 30..2592000, malformed MaxConcurrency/MaxErrors/log group. */
enum err_code aws_ssm_send_body_build(const struct aws_ssm_send *req, struct buf *out,
				      struct err *e);
/* SendCommand's {"Command": {...}}. */
enum err_code aws_ssm_command_parse(const char *body, size_t len, struct aws_ssm_command *out,
				    struct err *e);
/* GetCommandInvocation. log_group is the group the output streams to: the
 * configured one, else "/aws/ssm/<DocumentName>" when CloudWatch output is
 * on, else "". */
enum err_code aws_ssm_invocation_parse(const char *body, size_t len,
				       struct aws_ssm_invocation *out, struct err *e);
/* ListCommands: appends struct aws_ssm_command * (instance_id = the first
 * of InstanceIds, "" for tag targets). */
enum err_code aws_ssm_commands_parse(const char *body, size_t len, struct vec *out,
				     char **next_token, struct err *e);
/* ListCommandInvocations: appends one struct aws_ssm_command * per
 * instance; its counts are 1 or 0 from that instance's Status (target 1,
 * completed when final, error when Failed or TimedOut). */
enum err_code aws_ssm_invocations_parse(const char *body, size_t len, struct vec *out,
					char **next_token, struct err *e);
/* DescribeInstanceInformation: the entry for instance_id, or the first
 * entry when instance_id is NULL (found=false when this page has none). */
enum err_code aws_ssm_instance_parse(const char *body, size_t len, const char *instance_id,
				     struct aws_ssm_instance *out, char **next_token,
				     struct err *e);
/* GetLogEvents: appends struct aws_log_event *. */
enum err_code aws_logs_events_parse(const char *body, size_t len, struct vec *events,
				    char **next_token, struct err *e);
/* GetSecretValue's SecretString as the RDS secret JSON. Members absent
 * from the secret stay NULL (RDS-managed secrets hold only username and
 * password); port is text whether the JSON had a number or a string
 * (either way 0-65535, else ERR_PARSE).
 * ERR_PARSE without password, for a SecretBinary-only secret, or for a
 * SecretString that is not a JSON object; messages never quote the
 * secret. Every string the parse made is wiped; the caller wipes body. */
enum err_code aws_secrets_db_parse(const char *body, size_t len, const char *secret_id,
				   struct aws_db_secret *out, struct err *e);
/* DescribeDBClusters / DescribeDBInstances XML: appends struct
 * aws_rds_cluster * (for instances: Endpoint/Address, Endpoint/Port,
 * DBInstanceStatus; reader_endpoint ""). */
enum err_code aws_rds_clusters_parse(const char *body, size_t len, struct vec *out,
				     char **marker, struct err *e);
enum err_code aws_rds_instances_parse(const char *body, size_t len, struct vec *out,
				      char **marker, struct err *e);
/* ==== end of ssm.c, logs.c, secrets.c, rds.c parsers ==================== */

/* ==== S3 and XML helpers (xml.c, s3.c, s3_source.c) ===================== */

/*
 * aws_xml_walk parses one complete XML document with expat and calls fn
 * once per element, when it closes, with the element's path from the root
 * made of local names joined by '/' ("ListBucketResult/Contents/Key") and
 * the element's own character data, entities decoded ("&quot;" -> '"').
 * Namespaces (xmlns, prefixes) are dropped, so AWS's documents and s3rver's
 * (another xmlns) walk the same. A container's text is whatever follows
 * its last child (whitespace, in practice). A DOCTYPE (and so any entity
 * declaration) is refused. Limits: depth 32, path 512 bytes, 1 MiB of text
 * per element; the caller caps len. ERR_PARSE (naming line and column) on
 * malformed XML; a callback stops the walk by returning anything but
 * ERR_OK, and that code and e are returned.
 */
typedef enum err_code aws_xml_fn(const char *path, const char *text, size_t len, void *arg,
				 struct err *e);
enum err_code aws_xml_walk(const char *xml, size_t len, aws_xml_fn *fn, void *arg,
			   struct err *e);
/* Whether path is `tail` or ends with "/" tail ("ListBucketResult/Contents/Key"
 * matches "Contents/Key"). */
bool aws_xml_path_is(const char *path, const char *tail);

/* An AWS XML error body: S3's <Error>, or the query protocol's
 * <ErrorResponse><Error>. Absent members are NULL. */
struct aws_xml_error {
	char *code, *message, *region, *endpoint, *bucket, *key, *request_id;
};
/* ERR_PARSE when the body is not XML or has no Error/Code. */
enum err_code aws_xml_error_parse(const char *xml, size_t len, struct aws_xml_error *out,
				  struct err *e);
void aws_xml_error_release(struct aws_xml_error *x);
/* (aws_error_from_xml, declared above, is implemented in xml.c.) */

/* One ListObjectsV2 page. Keys are decoded already when the page said
 * <EncodingType>url</EncodingType> (botocore's unquote_plus: '+' is a
 * space, %XX a byte; %00 and malformed escapes are kept as they are). */
struct aws_s3_list_page {
	struct vec objects;          /* struct aws_s3_object* */
	char *next_token;            /* NextContinuationToken, or NULL */
	bool truncated;
	bool url_encoded;
};
enum err_code aws_s3_list_page_parse(const char *xml, size_t len, struct aws_s3_list_page *out,
				     struct err *e);
void aws_s3_list_page_release(struct aws_s3_list_page *p);
/* ListAllMyBucketsResult: appends struct aws_s3_bucket*; *next_token gets
 * the ContinuationToken (NULL when none; caller frees). */
enum err_code aws_s3_buckets_parse(const char *xml, size_t len, struct vec *buckets,
				   char **next_token, struct err *e);

/* Where requests for bucket go (spec §3): virtual-hosted
 * ("https://bucket.s3.<region>.amazonaws.com", path "/key") for a
 * DNS-compatible name on an AWS endpoint, else path-style ("/bucket/key").
 * key NULL: the bucket itself. endpoint gets scheme://host[:port] and path
 * the encoded path (key encoded once, '/' kept) with any base path of a
 * custom endpoint in front. */
struct aws_s3_where {
	struct buf endpoint, path;
};
enum err_code aws_s3_address(struct aws_ctx *ctx, const char *bucket, const char *key,
			     const char *region, struct aws_s3_where *out, struct err *e);
void aws_s3_where_release(struct aws_s3_where *w);
/* The region bucket's requests are signed for: the one learnt from a
 * redirect (cached in ctx->bucket_regions), else the context's, else
 * us-east-1. */
void aws_s3_bucket_region(struct aws_ctx *ctx, const char *bucket, char *out, size_t n);
/* Whether a bucket name can be a DNS label under s3.amazonaws.com
 * (3-63 of a-z 0-9 '-', alphanumeric at both ends, no dots). */
bool aws_s3_bucket_dns_ok(const char *bucket);

/* "s3:bucket[/prefix]" (spec/flyway.md §9): bucket up to the first '/',
 * prefix the rest with one leading '/' stripped (NULL when empty). No
 * wildcards. ERR_USAGE naming the location when malformed. */
enum err_code aws_s3_location_parse(const char *location, char **bucket, char **prefix,
				    struct err *e);

/* The S3 checksum cache, $XDG_CACHE_HOME/tarmac/s3-checksums (~/.cache
 * when unset): one percent-encoded "bucket key etag checksum" line per
 * object after a header line. Holds no secrets. */
struct aws_s3_cache_entry {
	char *bucket, *key, *etag;
	int32_t checksum;
};
void aws_s3_cache_entry_free(void *entry);
/* The cache file's path; false when neither XDG_CACHE_HOME (absolute) nor
 * HOME is set. */
bool aws_s3_cache_path(struct buf *out);
/* Appends the entries of the file at path, sorted by bucket then key. A
 * missing file is ERR_OK with none; a corrupt one is ERR_PARSE (callers
 * log it and go on without a cache). */
enum err_code aws_s3_cache_read(const char *path, struct vec *entries, struct err *e);
/* Writes entries (sorted here) atomically: a temporary file in the same
 * directory (0600, directory created 0700), then rename. */
enum err_code aws_s3_cache_write(const char *path, struct vec *entries, struct err *e);
/* The entry for (bucket, key) in entries sorted as above, or NULL. */
struct aws_s3_cache_entry *aws_s3_cache_find(const struct vec *entries, const char *bucket,
					     const char *key);

/* ==== end of S3 and XML helpers ========================================= */

#endif
