/*
 * rds — the Aurora clusters and DB instances the console lists
 * (DescribeDBClusters / DescribeDBInstances over the query protocol, spec
 * /aws.md §6) and the IAM auth token a database login can use instead of
 * a password (§1.5).
 *
 * Invariants: members are taken by their full path from the document
 * root, never by name alone — a DBCluster nests VpcSecurityGroupMembership
 * and option group entries with their own <Status>, and a DBInstance has
 * <Endpoint><Port> beside <DbInstancePort> — so nested look-alikes never
 * overwrite the record. Every record has its identifier (else ERR_PARSE);
 * other members absent from the XML are "" (port 0). Pages follow Marker
 * until AWS sends none; a Marker repeated stops the walk instead of
 * looping. The IAM token is a secret: it is the caller's to wipe, and the
 * credentials copied to sign it are released (wiped) here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/internal.h"

#define RDS_VERSION "2014-10-31"
#define PAGE_RECORDS "100"      /* MaxRecords: 20..100 */
#define PAGES_MAX 1000

enum xkind { X_STR, X_PORT };

struct xfield {
	const char *rel;        /* path below the record element */
	enum xkind kind;
	size_t off;
};

/* What one Describe call returns: its paths and the record's members. */
struct rds_shape {
	const char *action;
	const char *what;          /* "DB cluster", for messages */
	const char *root, *item, *marker;
	const char *id_name;
	const struct xfield *fields;
	size_t nfields;
};

#define OFF(m) offsetof(struct aws_rds_cluster, m)

static const struct xfield cluster_fields[] = {
	{ "DBClusterIdentifier", X_STR, OFF(id) },
	{ "Engine", X_STR, OFF(engine) },
	{ "EngineVersion", X_STR, OFF(engine_version) },
	{ "Endpoint", X_STR, OFF(endpoint) },
	{ "ReaderEndpoint", X_STR, OFF(reader_endpoint) },
	{ "Port", X_PORT, OFF(port) },
	{ "Status", X_STR, OFF(status) },
};

static const struct xfield instance_fields[] = {
	{ "DBInstanceIdentifier", X_STR, OFF(id) },
	{ "Engine", X_STR, OFF(engine) },
	{ "EngineVersion", X_STR, OFF(engine_version) },
	{ "Endpoint/Address", X_STR, OFF(endpoint) },
	{ "Endpoint/Port", X_PORT, OFF(port) },
	{ "DBInstanceStatus", X_STR, OFF(status) },
};

static const struct rds_shape clusters_shape = {
	"DescribeDBClusters", "DB cluster",
	"DescribeDBClustersResponse",
	"DescribeDBClustersResponse/DescribeDBClustersResult/DBClusters/DBCluster",
	"DescribeDBClustersResponse/DescribeDBClustersResult/Marker",
	"DBClusterIdentifier", cluster_fields, sizeof cluster_fields / sizeof cluster_fields[0],
};

static const struct rds_shape instances_shape = {
	"DescribeDBInstances", "DB instance",
	"DescribeDBInstancesResponse",
	"DescribeDBInstancesResponse/DescribeDBInstancesResult/DBInstances/DBInstance",
	"DescribeDBInstancesResponse/DescribeDBInstancesResult/Marker",
	"DBInstanceIdentifier", instance_fields, sizeof instance_fields / sizeof instance_fields[0],
};

void aws_rds_cluster_free(void *p)
{
	struct aws_rds_cluster *c = p;
	if (!c)
		return;
	free(c->id);
	free(c->engine);
	free(c->engine_version);
	free(c->endpoint);
	free(c->reader_endpoint);
	free(c->status);
	free(c);
}

/* ---- parsing ------------------------------------------------------------ */

struct rds_walk {
	const struct rds_shape *shape;
	struct aws_rds_cluster *cur;   /* members seen since the last record closed */
	struct vec got;
	char *marker;
	bool root_seen;
	bool failed;                   /* on_elem set e itself */
};

static void trim(const char **text, size_t *len)
{
	while (*len && isspace((unsigned char)**text))
		(*text)++, (*len)--;
	while (*len && isspace((unsigned char)(*text)[*len - 1]))
		(*len)--;
}

static enum err_code field_set(struct rds_walk *w, const struct xfield *f, const char *text,
			       size_t len, struct err *e)
{
	if (!w->cur)
		w->cur = xcalloc(1, sizeof *w->cur);
	char *dst = (char *)w->cur + f->off;
	if (f->kind == X_STR) {
		free(*(char **)(void *)dst);
		*(char **)(void *)dst = xstrndup(text, len);
		return ERR_OK;
	}
	int port = 0;
	for (size_t i = 0; i < len && port <= 65535; i++)
		port = isdigit((unsigned char)text[i]) ? port * 10 + (text[i] - '0') : 65536;
	if (!len || port > 65535)
		return err_set(e, ERR_PARSE, "RDS %s: %s \"%.*s\" is not a port number",
			       w->shape->action, f->rel, (int)(len > 16 ? 16 : len), text);
	*(int *)(void *)dst = port;
	return ERR_OK;
}

static void fill_absent(struct aws_rds_cluster *c)
{
	char **s[] = { &c->id, &c->engine, &c->engine_version, &c->endpoint,
		       &c->reader_endpoint, &c->status };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if (!*s[i])
			*s[i] = xstrdup("");
}

static enum err_code record_close(struct rds_walk *w, struct err *e)
{
	struct aws_rds_cluster *c = w->cur ? w->cur : xcalloc(1, sizeof *c);
	w->cur = NULL;
	fill_absent(c);
	if (!*c->id) {
		aws_rds_cluster_free(c);
		return err_set(e, ERR_PARSE, "RDS %s: a %s has no %s", w->shape->action,
			       w->shape->what, w->shape->id_name);
	}
	vec_push(&w->got, c);
	return ERR_OK;
}

static enum err_code on_elem(const char *path, const char *text, size_t len, void *arg,
			     struct err *e)
{
	struct rds_walk *w = arg;
	const struct rds_shape *s = w->shape;
	size_t n = strlen(s->item);
	enum err_code c = ERR_OK;
	trim(&text, &len);
	if (!strncmp(path, s->item, n) && path[n] == '/') {
		for (size_t i = 0; !c && i < s->nfields; i++)
			if (!strcmp(path + n + 1, s->fields[i].rel))
				c = field_set(w, &s->fields[i], text, len, e);
		w->failed = c != ERR_OK;
		return c;
	}
	if (!strcmp(path, s->item)) {
		c = record_close(w, e);
		w->failed = c != ERR_OK;
		return c;
	}
	if (!strcmp(path, s->marker)) {
		free(w->marker);
		w->marker = len ? xstrndup(text, len) : NULL;
	} else if (!strcmp(path, s->root)) {
		w->root_seen = true;
	}
	return ERR_OK;
}

static enum err_code describe_parse(const struct rds_shape *s, const char *body, size_t len,
				    struct vec *out, char **marker, struct err *e)
{
	struct rds_walk w = { .shape = s };
	enum err_code c = aws_xml_walk(body, len, on_elem, &w, e);
	if (c && !w.failed)
		err_prefix(e, "RDS %s", s->action);
	else if (!c && !w.root_seen)
		c = err_set(e, ERR_PARSE, "RDS %s: the response is not a %s document", s->action,
			    s->root);
	aws_rds_cluster_free(w.cur);
	for (size_t i = 0; !c && i < w.got.len; i++)
		vec_push(out, w.got.items[i]);
	vec_release(&w.got, c ? aws_rds_cluster_free : NULL);
	if (c)
		free(w.marker);
	else
		*marker = w.marker;
	return c;
}

enum err_code aws_rds_clusters_parse(const char *body, size_t len, struct vec *out,
				     char **marker, struct err *e)
{
	return describe_parse(&clusters_shape, body, len, out, marker, e);
}

enum err_code aws_rds_instances_parse(const char *body, size_t len, struct vec *out,
				      char **marker, struct err *e)
{
	return describe_parse(&instances_shape, body, len, out, marker, e);
}

/* ---- the calls ---------------------------------------------------------- */

static enum err_code describe_all(struct aws_ctx *ctx, const struct rds_shape *s,
				  struct vec *out, struct err *e)
{
	struct vec got = VEC_INIT;
	struct buf resp = BUF_INIT;
	char *marker = NULL, *next = NULL;
	enum err_code c = ERR_OK;
	for (int page = 0; !c && page < PAGES_MAX; page++) {
		const char *kv[] = { "MaxRecords", PAGE_RECORDS, "Marker", marker };
		buf_reset(&resp);
		c = aws_query_call(ctx, "RDS", "rds", s->action, RDS_VERSION, kv, marker ? 4 : 2,
				   NULL, NULL, &resp, e);
		if (!c)
			c = describe_parse(s, resp.ptr, resp.len, &got, &next, e);
		bool same = next && marker && !strcmp(next, marker);
		free(marker);
		marker = next;
		next = NULL;
		if (!marker || same)
			break;
	}
	for (size_t i = 0; !c && i < got.len; i++)
		vec_push(out, got.items[i]);
	vec_release(&got, c ? aws_rds_cluster_free : NULL);
	free(marker);
	buf_release(&resp);
	return c;
}

enum err_code aws_rds_describe_clusters(struct aws_ctx *ctx, struct vec *out, struct err *e)
{
	return describe_all(ctx, &clusters_shape, out, e);
}

enum err_code aws_rds_describe_instances(struct aws_ctx *ctx, struct vec *out, struct err *e)
{
	return describe_all(ctx, &instances_shape, out, e);
}

/* The region in an RDS host name ("x.cluster-abc.eu-central-1.rds.amazonaws.com"):
 * the token must be signed for the database's region, which need not be
 * the context's. */
static bool host_region(const char *host, char *out, size_t n)
{
	static const char suffix[] = ".rds.amazonaws.com";
	size_t hl = strlen(host), sl = sizeof suffix - 1;
	if (hl <= sl || strcasecmp(host + hl - sl, suffix))
		return false;
	const char *end = host + hl - sl, *start = end;
	while (start > host && start[-1] != '.')
		start--;
	if (start == host || end - start < 4 || (size_t)(end - start) >= n)
		return false;
	memcpy(out, start, (size_t)(end - start));
	out[end - start] = 0;
	return true;
}

enum err_code aws_rds_auth_token(struct aws_ctx *ctx, const char *host, int port,
				 const char *user, char **token, struct err *e)
{
	struct aws_creds cr = { 0 };
	char region[64];
	*token = NULL;
	if (!host || !*host || !user || !*user || port < 1 || port > 65535)
		return err_set(e, ERR_USAGE, "RDS IAM auth token: need a host, a port (1-65535) "
			       "and a user name");
	if (!host_region(host, region, sizeof region))
		snprintf(region, sizeof region, "%s", aws_ctx_region(ctx));
	if (!*region)
		return err_set(e, ERR_USAGE, "RDS IAM auth token for %s: no AWS region; set "
			       "AWS_REGION or region in the [aws] section or profile", host);
	enum err_code c = aws_creds_get(ctx, &cr, e);
	if (!c)
		c = aws_sigv4_rds_token(&cr, region, host, port, user, aws_ctx_now(ctx), token, e);
	aws_creds_release(&cr);
	return c;
}
