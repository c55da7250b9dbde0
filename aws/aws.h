/*
 * aws — AWS without an SDK: SigV4, the standard credential chain, endpoint
 * and region resolution, HTTP with the standard retry mode (libcurl +
 * OpenSSL), and the few calls tarmac makes to S3, SSM, CloudWatch Logs,
 * STS, Secrets Manager and RDS. spec/aws.md is the reference.
 *
 * Threads: one struct aws_ctx may be shared by every thread; it guards its
 * credential cache, bucket-region cache, clock-skew offset and retry quota
 * with a mutex, and lends each call a curl handle from a small pool (so
 * connections are reused). Calls block; cancel them by setting the atomic
 * flag passed in aws_ctx_options.cancel (checked by curl's progress
 * callback and between retries).
 * Read-only: a context opened read_only refuses every mutating operation
 * (PutObject, SendCommand, CancelCommand) with ERR_READ_ONLY, before
 * anything is sent.
 * Secrets: keys, tokens, passwords and signatures are never put in error
 * messages or logs; buffers that held them are wiped.
 * Errors: ERR_AUTH (no/expired/denied credentials), ERR_NET (unreachable,
 * TLS), ERR_HTTP (an AWS error: the message names the service, operation,
 * resource and AWS's code, e.g. "S3 ListObjectsV2 on bucket acme-users:
 * NoSuchBucket: The specified bucket does not exist"), ERR_TOO_LARGE,
 * ERR_CANCELLED, ERR_READ_ONLY, ERR_PARSE (a response that is not what the
 * service model says).
 */
#ifndef TARMAC_AWS_AWS_H
#define TARMAC_AWS_AWS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vec.h"

struct eng_source;

/* ---- context ------------------------------------------------------------ */

struct aws_ctx_options {
	const char *profile;      /* NULL: AWS_PROFILE / AWS_DEFAULT_PROFILE / "default" */
	const char *region;       /* NULL: AWS_REGION, AWS_DEFAULT_REGION, profile, IMDS */
	bool read_only;
	atomic_bool *cancel;      /* may be NULL */
	/* Tests only: a fixed clock (0: the real one). */
	time_t (*clock)(void);
};

struct aws_ctx;

/* Never fails for lack of credentials: those are looked up at the first
 * call (and that call reports ERR_AUTH). ERR_PARSE for a broken config file. */
enum err_code aws_ctx_new(const struct aws_ctx_options *o, struct aws_ctx **out, struct err *e);
void aws_ctx_free(struct aws_ctx *ctx);
/* Points the context at another cancel flag (NULL: none). Only while no
 * call is in progress on the context, by any thread: meant for a context
 * that one thread owns and whose calls each belong to a different job. */
void aws_ctx_set_cancel(struct aws_ctx *ctx, atomic_bool *cancel);
/* The region in use ("" when none could be found). */
const char *aws_ctx_region(const struct aws_ctx *ctx);
const char *aws_ctx_profile(const struct aws_ctx *ctx);

/* What the header shows: where credentials came from ("env", "profile ops",
 * "assume-role", "process", "container", "imds") and when they expire
 * (0: never). Resolves them if needed. */
enum err_code aws_creds_describe(struct aws_ctx *ctx, char *source, size_t n, time_t *expires,
				 struct err *e);

/* ---- S3 ----------------------------------------------------------------- */

struct aws_s3_bucket {
	char *name;
	char *created;            /* ISO 8601 */
};

struct aws_s3_object {
	char *key;
	char *etag;               /* with its quotes, as S3 sends it */
	int64_t size;
	char *last_modified;
};

void aws_s3_bucket_free(void *b);
void aws_s3_object_free(void *o);

enum err_code aws_s3_list_buckets(struct aws_ctx *ctx, struct vec *out, struct err *e);
/* Every object under prefix (every page, continuation tokens followed). */
enum err_code aws_s3_list_objects(struct aws_ctx *ctx, const char *bucket, const char *prefix,
				  struct vec *out, struct err *e);
/* The object's body (at most cap bytes: ERR_TOO_LARGE past it); etag may be NULL. */
enum err_code aws_s3_get_object(struct aws_ctx *ctx, const char *bucket, const char *key,
				size_t cap, struct buf *body, char **etag, struct err *e);
/* *exists false (and ERR_OK) for a missing key. */
enum err_code aws_s3_head_object(struct aws_ctx *ctx, const char *bucket, const char *key,
				 bool *exists, char **etag, int64_t *size, struct err *e);
enum err_code aws_s3_put_object(struct aws_ctx *ctx, const char *bucket, const char *key,
				const void *data, size_t len, char **etag, struct err *e);

/*
 * A migration source for "s3:bucket[/prefix]" (spec/flyway.md §9): lists
 * every key under the prefix, names scripts "bucket/key" as Flyway does,
 * fetches objects in parallel over reused connections, and keeps a
 * checksum cache keyed by bucket, key and ETag under
 * $XDG_CACHE_HOME/tarmac/ (~/.cache/tarmac/) so that a second diff
 * downloads only what changed. ERR_USAGE for a malformed location.
 */
enum err_code aws_s3_source_new(struct aws_ctx *ctx, const char *location,
				struct eng_source **out, struct err *e);

/* ---- STS ---------------------------------------------------------------- */

struct aws_identity {
	char *account, *arn, *user_id;
};
void aws_identity_release(struct aws_identity *id);
enum err_code aws_sts_get_caller_identity(struct aws_ctx *ctx, struct aws_identity *out,
					  struct err *e);

/* ---- Secrets Manager and RDS -------------------------------------------- */

/* The RDS secret JSON (username, password, host, port, dbname, engine). */
struct aws_db_secret {
	char *username, *password, *host, *port, *dbname, *engine;
};
void aws_db_secret_release(struct aws_db_secret *s);   /* wipes the password */
enum err_code aws_secrets_get_db(struct aws_ctx *ctx, const char *secret_id,
				 struct aws_db_secret *out, struct err *e);

/* An RDS IAM auth token for user@host:port (valid 15 minutes; the caller
 * must require TLS). Caller frees (wipe it). Signed for the region in an
 * RDS host name ("….<region>.rds.amazonaws.com"), else the context's;
 * ERR_USAGE without host, user, a port 1-65535 or any region. */
enum err_code aws_rds_auth_token(struct aws_ctx *ctx, const char *host, int port,
				 const char *user, char **token, struct err *e);

struct aws_rds_cluster {
	char *id, *engine, *engine_version, *endpoint, *reader_endpoint, *status;
	int port;
};
void aws_rds_cluster_free(void *c);
enum err_code aws_rds_describe_clusters(struct aws_ctx *ctx, struct vec *out, struct err *e);
/* DescribeDBInstances: same shape (id, engine, version, endpoint, status, port). */
enum err_code aws_rds_describe_instances(struct aws_ctx *ctx, struct vec *out, struct err *e);

/* ---- SSM and CloudWatch Logs -------------------------------------------- */

struct aws_ssm_send {
	const char *document;        /* "AWS-RunShellScript" */
	const char *instance_id;     /* or: */
	const char *target_key;      /* "tag:Role" */
	const char *target_value;    /* "flyway-host" */
	const char *const *commands; /* the script lines */
	size_t ncommands;
	const char *comment;         /* <= 100 characters */
	const char *log_group;       /* CloudWatch output; NULL: SSM's default group */
	int timeout_s;               /* delivery timeout; 0: default */
	const char *max_concurrency, *max_errors; /* NULL: default */
};

struct aws_ssm_command {
	char *command_id, *status, *comment, *document, *requested, *instance_id;
	int64_t target_count, completed_count, error_count;
};
/* Frees the strings of an embedded command (one SendCommand filled in). */
void aws_ssm_command_release(struct aws_ssm_command *c);
/* Frees a heap command (vectors of them from List*); NULL is a no-op. */
void aws_ssm_command_free(void *c);

struct aws_ssm_invocation {
	char *status, *status_details;  /* Pending, InProgress, Success, Failed, Cancelled, TimedOut, ... */
	int response_code;              /* -1 while running */
	char *stdout_text, *stderr_text;/* the first 24,000 characters, when finished */
	char *start, *end;              /* ISO 8601 or "" */
	char *log_group;
};
void aws_ssm_invocation_release(struct aws_ssm_invocation *i);

struct aws_ssm_instance {
	char *instance_id, *ping_status, *agent_version, *platform, *last_ping;
	bool found;
};
void aws_ssm_instance_release(struct aws_ssm_instance *i);

enum err_code aws_ssm_send_command(struct aws_ctx *ctx, const struct aws_ssm_send *req,
				   struct aws_ssm_command *out, struct err *e);
enum err_code aws_ssm_get_invocation(struct aws_ctx *ctx, const char *command_id,
				     const char *instance_id, struct aws_ssm_invocation *out,
				     struct err *e);
/* Recent commands (newest first), optionally only those whose instance is given. */
enum err_code aws_ssm_list_commands(struct aws_ctx *ctx, const char *instance_id, int max,
				    struct vec *out, struct err *e);
enum err_code aws_ssm_list_invocations(struct aws_ctx *ctx, const char *command_id,
				       struct vec *out /* struct aws_ssm_command* per instance */,
				       struct err *e);
/* DescribeInstanceInformation for one instance; found=false (ERR_OK) when
 * SSM does not know it. */
enum err_code aws_ssm_describe_instance(struct aws_ctx *ctx, const char *instance_id,
					struct aws_ssm_instance *out, struct err *e);
/* The same for the first instance SSM knows with a tag: tag_key is
 * "tag:Role", value "flyway-host"; found=false when there is none. */
enum err_code aws_ssm_describe_tagged(struct aws_ctx *ctx, const char *tag_key,
				      const char *value, struct aws_ssm_instance *out,
				      struct err *e);
enum err_code aws_ssm_cancel_command(struct aws_ctx *ctx, const char *command_id,
				     struct err *e);
/* Where the agent streams a command's output (spec §4), for
 * aws_logs_get_events. The group: log_group when set, else
 * "/aws/ssm/<document>" with characters outside [A-Za-z0-9_/.#-] as '.'.
 * The stream: "<command>/<instance>/<plugin>/<stdout|stderr>" with ':' and
 * '*' in the plugin as '-' ("aws:runShellScript" for AWS-RunShellScript).
 * Both return a string the caller frees. */
char *aws_ssm_log_group(const char *document, const char *log_group);
char *aws_ssm_log_stream(const char *command_id, const char *instance_id, const char *plugin,
			 const char *which);
/* True once an invocation's Status will not change: Success, Failed,
 * Cancelled, TimedOut (Pending, InProgress, Delayed, Cancelling go on). */
bool aws_ssm_status_final(const char *status);

struct aws_log_event {
	int64_t timestamp_ms;
	char *message;
};
void aws_log_event_free(void *ev);
/* GetLogEvents from the start (token NULL) or a forward token; appends
 * events and replaces *next_token. ERR_OK with no events when the stream
 * does not exist yet (*missing set). */
enum err_code aws_logs_get_events(struct aws_ctx *ctx, const char *group, const char *stream,
				  char **next_token, struct vec *events, bool *missing,
				  struct err *e);

#endif
