#!/usr/bin/python3
"""tarmac's AWS emulator: one loopback HTTP server that plays S3 (in front of
s3rver), SSM Run Command, CloudWatch Logs, STS, Secrets Manager and RDS, plus
a second listener that plays EC2 IMDSv2.

Invariants it keeps (see /work/shared/spec/aws.md §1-§8):
  * Every API request's SigV4 signature (Authorization header or presigned
    query) is recomputed with botocore's own signer from the bytes received
    and rejected the way AWS rejects it; nothing reaches a service handler or
    s3rver unverified. Every request is recorded in the admin log with its
    verdict.
  * Every awsJson1.1 body is validated against botocore's service model
    (ParamValidator plus max/pattern/enum); awsQuery forms are parsed by the
    model and validated the same way.
  * SSM commands run here, as the "Flyway host", under /bin/sh in their own
    process group; their output lines reach CloudWatch Logs while they run.
  * Faults and clock skew are injected only through /__admin, which needs no
    signature and is never recorded in the request log.

Only the Python standard library and Debian's python3-botocore are used.
Run with --help for the options; tests/aws/start.sh starts it with s3rver.
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import quote, quote_plus, unquote, urlsplit

import botocore.auth
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from botocore.validate import ParamValidator

ACCOUNT = "123456789012"
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
SKEW_LIMIT_S = 15 * 60
MAX_BODY = 256 * 1024 * 1024
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
S3RVER_NS = "http://doc.s3.amazonaws.com/2006-03-01/"
S3RVER_SUFFIX = "._S3rver_object"
STDOUT_MAX, STDERR_MAX, PLUGIN_OUTPUT_MAX = 24000, 8000, 2500
TRUNCATED_SUFFIX = "--output truncated--"
KILLED_EXIT = 137  # the SSM agent's CommandStoppedPreemptivelyExitCode on Linux
PLUGIN = "aws:runShellScript"

# Long-term keys every emulator knows. The read-only one plays the auditor:
# anything that is not a read is refused with AccessDenied.
STATIC_CREDENTIALS = {
    "AKIDTARMACTEST": {"secret": "tarmac-test-secret",
                       "arn": f"arn:aws:iam::{ACCOUNT}:user/tarmac-test",
                       "user_id": "AIDATARMACTEST0000001", "readonly": False},
    "AKIDTARMACREADONLY": {"secret": "tarmac-readonly-secret",
                           "arn": f"arn:aws:iam::{ACCOUNT}:user/tarmac-auditor",
                           "user_id": "AIDATARMACAUDIT000002", "readonly": True},
}

JSON_TARGETS = {"AmazonSSM": "ssm", "Logs_20140328": "logs",
                "secretsmanager": "secretsmanager"}
QUERY_SERVICES = {"sts": ("2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/"),
                  "rds": ("2014-10-31", "http://rds.amazonaws.com/doc/2014-10-31/")}
READ_PREFIXES = ("Get", "List", "Describe", "Filter", "Head", "BatchGet")
READONLY_ALLOWED = {"AssumeRole"}


class ApiError(Exception):
    """An AWS-shaped error. `extra` holds S3's code-specific XML children."""

    def __init__(self, status, code, message="", extra=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.extra = extra or []
        self.headers = headers or []


class AuthFailure(Exception):
    """A signature check failed; `verdict` names why (it goes to the log)."""

    def __init__(self, verdict, message="", **info):
        super().__init__(message)
        self.verdict, self.message, self.info = verdict, message, info


class ResetConnection(Exception):
    pass


# --------------------------------------------------------------------------
# small helpers

def iso8601(epoch, millis=True):
    d = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    if millis:
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def amz_date(epoch):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def parse_amz_date(s):
    try:
        d = datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError):
        return None
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def xml_escape(s):
    s = str(s)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def xml_text(tag, value):
    return f"<{tag}>{xml_escape(value)}</{tag}>"


def b64(data):
    return base64.b64encode(data).decode("ascii")


def random_id(prefix, n, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def encode_page_token(offset):
    return b64(json.dumps({"o": offset}).encode())


def decode_page_token(token, code="InvalidNextToken"):
    if not token:
        return 0
    try:
        return int(json.loads(base64.b64decode(token, validate=True))["o"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, code, "The specified token is invalid.")


def utf8(s):
    return s.encode("utf-8", "surrogateescape")


def header_value_utf8(v):
    """http.server decodes header bytes as Latin-1; signers hash UTF-8."""
    try:
        return v.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return v


def canonical_query(raw_query, drop=()):
    """The query as AWS canonicalises it: each key and value decoded, then
    encoded with the unreserved set only, so `a b`, `a%20b` all become
    `a%20b`. Pairs keep their order; botocore sorts them."""
    out = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        k, v = unquote(k), unquote(v)
        if k in drop:
            continue
        out.append(quote(k, safe="-_.~") + "=" + quote(v, safe="-_.~"))
    return "&".join(out)


def query_pairs(raw_query):
    out = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        out.append((unquote(k), unquote(v)))
    return out


# --------------------------------------------------------------------------
# botocore: signing oracle and model validation

def _exact_signer(base):
    """A botocore signer whose header set is exactly what the client named in
    SignedHeaders (botocore would otherwise drop e.g. user-agent and add
    host), so every other step is botocore's own canonicalisation."""

    class Exact(base):
        signed = ()

        def headers_to_sign(self, request):
            hm = HTTPHeaders()
            for name, value in self.signed:
                hm[name] = value
            return hm

    return Exact


SIGNERS = {
    ("header", True): _exact_signer(botocore.auth.S3SigV4Auth),
    ("header", False): _exact_signer(botocore.auth.SigV4Auth),
    ("query", True): _exact_signer(botocore.auth.S3SigV4QueryAuth),
    ("query", False): _exact_signer(botocore.auth.SigV4QueryAuth),
}


def botocore_signature(mode, is_s3, method, path, cquery, signed, body,
                       timestamp, akid, secret, region, service):
    """Returns (signature, canonical request, string to sign)."""
    url = "http://emulator" + path + ("?" + cquery if cquery else "")
    req = AWSRequest(method=method, url=url, data=body)
    for name, value in signed:
        if name == "x-amz-content-sha256":
            req.headers["X-Amz-Content-SHA256"] = value
    req.context["timestamp"] = timestamp
    cls = SIGNERS[(mode, is_s3)]
    s = cls(Credentials(akid, secret), service, region) if mode == "header" \
        else cls(Credentials(akid, secret), service, region, expires=3600)
    s.signed = signed
    creq = s.canonical_request(req)
    sts = s.string_to_sign(req, creq)
    return s.signature(sts, req), creq, sts


class Models:
    """botocore service models, loaded once."""

    def __init__(self):
        sess = botocore.session.get_session()
        self.models = {name: sess.get_service_model(name)
                       for name in ("ssm", "logs", "secretsmanager", "sts", "rds")}
        self.validator = ParamValidator()
        self._patterns = {}

    def operation(self, service, name):
        m = self.models[service]
        if name not in m.operation_names:
            return None
        return m.operation_model(name)

    def validate(self, op, params):
        """Every problem botocore's ParamValidator finds, then the max,
        pattern and enum constraints it leaves out (AWS checks those too)."""
        if op.input_shape is None:
            return []
        report = self.validator.validate(params, op.input_shape)
        errs = []
        if report.has_errors():
            errs.extend(report.generate_report().splitlines())
        self._strict(op.input_shape, params, "", errs)
        return errs

    def _pattern(self, pat):
        if pat not in self._patterns:
            py = (pat.replace(r"\p{L}", r"\w").replace(r"\p{Z}", r"\s")
                  .replace(r"\p{N}", r"\d").replace(r"\p{M}", "")
                  .replace(r"\p{P}", r"!-/:-@\[-`{-~").replace(r"\p{S}", "")
                  .replace(r"\p{Cntrl}", r"\x00-\x1f").replace(r"\p{Alnum}", r"a-zA-Z0-9"))
            try:
                self._patterns[pat] = re.compile(py, re.S)
            except re.error:
                self._patterns[pat] = None
        return self._patterns[pat]

    def _strict(self, shape, value, path, errs):
        t, md = shape.type_name, shape.metadata
        where = path or "input"
        if t == "structure" and isinstance(value, dict):
            for name, member in shape.members.items():
                if name in value:
                    sub = name[:1].lower() + name[1:]
                    self._strict(member, value[name], f"{path}.{sub}" if path else sub, errs)
        elif t == "list" and isinstance(value, (list, tuple)):
            if "max" in md and len(value) > md["max"]:
                errs.append(f"Value at '{where}' failed to satisfy constraint: "
                            f"Member must have length less than or equal to {md['max']}")
            for i, v in enumerate(value):
                self._strict(shape.member, v, f"{where}.{i + 1}.member", errs)
        elif t == "map" and isinstance(value, dict):
            if "max" in md and len(value) > md["max"]:
                errs.append(f"Value at '{where}' failed to satisfy constraint: "
                            f"Member must have length less than or equal to {md['max']}")
            for k, v in value.items():
                self._strict(shape.key, k, f"{where}.key", errs)
                self._strict(shape.value, v, f"{where}.{k}", errs)
        elif t == "string" and isinstance(value, str):
            if shape.enum and value not in shape.enum:
                errs.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                            f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
            if "max" in md and len(value) > md["max"]:
                errs.append(f"Value '{value[:64]}' at '{where}' failed to satisfy constraint: "
                            f"Member must have length less than or equal to {md['max']}")
            rx = self._pattern(md["pattern"]) if "pattern" in md else None
            if rx is not None and not rx.search(value):
                errs.append(f"Value '{value[:64]}' at '{where}' failed to satisfy constraint: "
                            f"Member must satisfy regular expression pattern: {md['pattern']}")
        elif t in ("integer", "long", "float", "double"):
            if isinstance(value, bool):
                errs.append(f"Invalid type for parameter {where}, value: {value}, "
                            f"type: <class 'bool'>, valid types: <class 'int'>")
            elif isinstance(value, (int, float)) and "max" in md and value > md["max"]:
                errs.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                            f"Member must have value less than or equal to {md['max']}")


_MISSING = object()


def query_to_params(shape, flat, prefix=""):
    """awsQuery form fields (Filters.Filter.1.Name=…) → nested params."""
    out = {}
    for name, member in shape.members.items():
        key = member.serialization.get("name", name)
        v = _query_value(member, flat, prefix + key)
        if v is not _MISSING:
            out[name] = v
    return out


def _query_value(shape, flat, full):
    t = shape.type_name
    if t == "structure":
        if not any(k.startswith(full + ".") for k in flat):
            return _MISSING
        return query_to_params(shape, flat, full + ".")
    if t == "list":
        if shape.serialization.get("flattened"):
            base = full
        else:
            base = full + "." + shape.member.serialization.get("name", "member")
        items, i = [], 1
        while True:
            v = _query_value(shape.member, flat, f"{base}.{i}")
            if v is _MISSING:
                break
            items.append(v)
            i += 1
        if items:
            return items
        return [] if flat.get(full) == "" else _MISSING
    if t == "map":
        out, i = {}, 1
        while f"{full}.entry.{i}.key" in flat:
            out[flat[f"{full}.entry.{i}.key"]] = _query_value(shape.value, flat, f"{full}.entry.{i}.value")
            i += 1
        return out if out else _MISSING
    if full not in flat:
        return _MISSING
    s = flat[full]
    try:
        if t in ("integer", "long"):
            return int(s)
        if t in ("float", "double"):
            return float(s)
    except ValueError:
        return s
    if t == "boolean":
        return {"true": True, "false": False}.get(s, s)
    return s


def to_xml(shape, value, tag):
    """Serialises `value` the way an awsQuery/restXml service would, driven
    by the output shape (list member names, booleans, timestamps)."""
    t = shape.type_name
    if value is None:
        return ""
    if t == "structure":
        inner = []
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                inner.append(to_xml(member, value[name], member.serialization.get("name", name)))
        return f"<{tag}>{''.join(inner)}</{tag}>"
    if t == "list":
        mtag = shape.member.serialization.get("name", "member")
        items = "".join(to_xml(shape.member, v, mtag) for v in value)
        if shape.serialization.get("flattened"):
            return "".join(to_xml(shape.member, v, tag) for v in value)
        return f"<{tag}>{items}</{tag}>"
    if t == "map":
        entries = "".join(f"<entry>{xml_text('key', k)}{to_xml(shape.value, v, 'value')}</entry>"
                          for k, v in value.items())
        return f"<{tag}>{entries}</{tag}>"
    if t == "boolean":
        return xml_text(tag, "true" if value else "false")
    if t == "timestamp":
        if isinstance(value, (int, float)):
            value = iso8601(value)
        return xml_text(tag, value)
    return xml_text(tag, value)


# --------------------------------------------------------------------------
# state shared by both listeners

class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.models = Models()
        self.region = args.region
        self.credentials = {}        # access key id -> principal dict
        for akid, c in STATIC_CREDENTIALS.items():
            self.credentials[akid] = dict(c, token=None, expires=None, kind="user")
        self.faults = []
        self.clock_offsets = {}      # service or "*" -> seconds
        self.requests = []
        self.seq = 0
        self.secrets = {}            # arn -> secret record
        self.db_clusters, self.db_instances = [], []
        self.instances = {}          # instance id -> record
        self.commands = {}           # command id -> Command
        self.log_groups = {}         # name -> {"created": ms, "streams": {name: Stream}}
        self.imds_tokens = {}        # token -> expiry epoch
        self.imds_creds = None
        self.add_instance({"InstanceId": args.instance, "Tags": {"Role": "flyway-host",
                                                               "Name": "flyway-host"}})
        for extra in args.extra_instance:
            self.add_instance({"InstanceId": extra, "Tags": {}})
        if args.seed:
            with open(args.seed, encoding="utf-8") as f:
                self.apply_seed(json.load(f))

    # clock -----------------------------------------------------------------
    def now(self, service="*"):
        with self.lock:
            off = self.clock_offsets.get(service, self.clock_offsets.get("*", 0))
        return time.time() + off

    # seed ------------------------------------------------------------------
    def apply_seed(self, seed):
        with self.lock:
            for key, value in (seed.get("secrets") or {}).items():
                self.add_secret(key, value)
            for c in seed.get("db_clusters") or []:
                self.db_clusters = [x for x in self.db_clusters
                                    if x["DBClusterIdentifier"] != c["DBClusterIdentifier"]]
                self.db_clusters.append(self.cluster_defaults(c))
            for i in seed.get("db_instances") or []:
                self.db_instances = [x for x in self.db_instances
                                     if x["DBInstanceIdentifier"] != i["DBInstanceIdentifier"]]
                self.db_instances.append(self.instance_defaults(i))
            for inst in seed.get("instances") or []:
                self.add_instance(inst)
            for c in seed.get("credentials") or []:
                self.credentials[c["AccessKeyId"]] = {
                    "secret": c["SecretAccessKey"],
                    "arn": c.get("Arn", f"arn:aws:iam::{ACCOUNT}:user/{c['AccessKeyId'].lower()}"),
                    "user_id": c.get("UserId", "AIDA" + c["AccessKeyId"][-16:]),
                    "readonly": bool(c.get("ReadOnly")), "token": None, "expires": None,
                    "kind": "user"}

    def add_instance(self, inst):
        iid = inst["InstanceId"]
        tags = inst.get("Tags") or {}
        if isinstance(tags, list):
            tags = {t["Key"]: t["Value"] for t in tags}
        self.instances[iid] = {"InstanceId": iid, "Tags": tags,
                               "PingStatus": inst.get("PingStatus", "Online"),
                               "PlatformName": inst.get("PlatformName"),
                               "PlatformVersion": inst.get("PlatformVersion")}

    def add_secret(self, key, value):
        # A seeded ARN is taken as given, its name being everything after
        # "secret:" (a record may say {"Name": …} when the ARN carries AWS's
        # random 6-character suffix); a bare name gets a suffixed ARN.
        m = re.match(r"^arn:aws:secretsmanager:([^:]+):(\d{12}):secret:(.+)$", key)
        if m:
            arn, name = key, m.group(3)
            if isinstance(value, dict) and isinstance(value.get("Name"), str) and \
                    ("SecretString" in value or "SecretBinary" in value):
                name = value["Name"]
        else:
            name = key
            suffix = hashlib.sha1(name.encode()).hexdigest()[:6]
            arn = f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{name}-{suffix}"
        if isinstance(value, dict) and ("SecretString" in value or "SecretBinary" in value):
            rec = {"SecretString": value.get("SecretString"), "SecretBinary": value.get("SecretBinary")}
        elif isinstance(value, str):
            rec = {"SecretString": value, "SecretBinary": None}
        else:
            rec = {"SecretString": json.dumps(value), "SecretBinary": None}
        rec.update(ARN=arn, Name=name, VersionId=str(uuid.uuid5(uuid.NAMESPACE_URL, arn)),
                   CreatedDate=time.time())
        self.secrets = {a: s for a, s in self.secrets.items() if s["Name"] != name}
        self.secrets[arn] = rec

    def find_secret(self, secret_id):
        """By ARN, by name, or by partial ARN (the ARN less its 6-character suffix)."""
        for arn, s in self.secrets.items():
            if secret_id in (arn, s["Name"]):
                return s
        for arn, s in self.secrets.items():
            if secret_id.startswith("arn:") and re.fullmatch(re.escape(secret_id) + r"-[A-Za-z0-9]{6}", arn):
                return s
        return None

    def cluster_defaults(self, c):
        c = dict(c)
        cid = c["DBClusterIdentifier"]
        engine = c.setdefault("Engine", "aurora-postgresql")
        pg = "postgres" in engine
        c.setdefault("EngineVersion", "15.4" if pg else "8.0.mysql_aurora.3.05.2")
        c.setdefault("Status", "available")
        c.setdefault("Port", 5432 if pg else 3306)
        c.setdefault("Endpoint", f"{cid}.cluster-c0tarmac0000.{self.region}.rds.amazonaws.com")
        c.setdefault("ReaderEndpoint", f"{cid}.cluster-ro-c0tarmac0000.{self.region}.rds.amazonaws.com")
        c.setdefault("MasterUsername", "postgres" if pg else "admin")
        c.setdefault("DBClusterArn", f"arn:aws:rds:{self.region}:{ACCOUNT}:cluster:{cid}")
        c.setdefault("DbClusterResourceId", "cluster-" + hashlib.sha1(cid.encode()).hexdigest()[:26].upper())
        c.setdefault("IAMDatabaseAuthenticationEnabled", False)
        c.setdefault("MultiAZ", False)
        c.setdefault("EngineMode", "provisioned")
        c.setdefault("StorageEncrypted", True)
        c.setdefault("ClusterCreateTime", time.time())
        c.setdefault("DBClusterMembers", [])
        return c

    def instance_defaults(self, i):
        i = dict(i)
        iid = i["DBInstanceIdentifier"]
        engine = i.setdefault("Engine", "aurora-postgresql")
        pg = "postgres" in engine
        i.setdefault("DBInstanceClass", "db.r6g.large")
        i.setdefault("DBInstanceStatus", "available")
        i.setdefault("Endpoint", {"Address": f"{iid}.c0tarmac0000.{self.region}.rds.amazonaws.com",
                                  "Port": 5432 if pg else 3306, "HostedZoneId": "Z1RLNUO7B9Q6NB"})
        i.setdefault("DBInstanceArn", f"arn:aws:rds:{self.region}:{ACCOUNT}:db:{iid}")
        i.setdefault("DbiResourceId", "db-" + hashlib.sha1(iid.encode()).hexdigest()[:26].upper())
        i.setdefault("IAMDatabaseAuthenticationEnabled", False)
        i.setdefault("AvailabilityZone", self.region + "a")
        i.setdefault("InstanceCreateTime", time.time())
        return i

    # sessions --------------------------------------------------------------
    def mint_session(self, arn, user_id, seconds, readonly):
        while True:
            token = b64(os.urandom(150))
            if "/" in token and "+" in token:
                break
        akid = random_id("ASIA", 16)
        rec = {"secret": b64(os.urandom(30)), "token": token, "arn": arn,
               "user_id": user_id, "readonly": readonly, "kind": "session",
               "expires": time.time() + seconds}
        with self.lock:
            self.credentials[akid] = rec
        return akid, rec

    # request log -----------------------------------------------------------
    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.requests.append(entry)
            if len(self.requests) > 200000:
                del self.requests[:50000]
        return entry

    # faults ----------------------------------------------------------------
    def take_fault(self, service, operation):
        with self.lock:
            for f in self.faults:
                if f["service"] not in ("*", service):
                    continue
                if f.get("operation") and f["operation"] != operation:
                    continue
                f["count"] -= 1
                if f["count"] <= 0:
                    self.faults.remove(f)
                return dict(f)
        return None

    def add_fault(self, spec):
        kind = spec.get("kind")
        if kind not in ("500", "503-slowdown", "throttle", "expired-token", "skew",
                        "reset", "error", "delay"):
            raise ValueError(f"unknown fault kind {kind!r}")
        service = spec.get("service", "*")
        if kind == "skew":
            with self.lock:
                self.clock_offsets[service] = float(spec.get("seconds", 3600))
            return {"service": service, "kind": "skew", "seconds": self.clock_offsets[service]}
        f = {"service": service, "kind": kind, "count": int(spec.get("count", 1)),
             "operation": spec.get("operation")}
        for k in ("status", "code", "message", "seconds"):
            if k in spec:
                f[k] = spec[k]
        if f["count"] > 0:
            with self.lock:
                self.faults.append(f)
        return f

    def reset(self):
        with self.lock:
            self.faults.clear()
            self.clock_offsets.clear()
            self.requests.clear()

    # CloudWatch Logs storage ------------------------------------------------
    def log_append(self, group, stream, message, ts_ms=None):
        now_ms = int(time.time() * 1000)
        with self.lock:
            g = self.log_groups.setdefault(group, {"created": now_ms, "streams": {}})
            s = g["streams"].setdefault(stream, {"created": now_ms, "events": [],
                                                 "lastIngestion": None})
            s["events"].append({"timestamp": ts_ms or now_ms, "message": message,
                                "ingestionTime": now_ms})
            s["lastIngestion"] = now_ms


# --------------------------------------------------------------------------
# SigV4 verification

class Principal:
    def __init__(self, akid, rec):
        self.akid, self.arn, self.user_id = akid, rec["arn"], rec["user_id"]
        self.readonly, self.kind = rec["readonly"], rec["kind"]


def authenticate(state, req, service, is_s3):
    """Checks the request's SigV4 signature; returns (Principal, scope
    region). Raises AuthFailure with a verdict on any problem."""
    auth = req.header("authorization")
    pairs = query_pairs(req.query)
    qmap = dict(pairs)
    presigned = "X-Amz-Algorithm" in qmap
    if auth and presigned:
        raise AuthFailure("malformed", "Only one auth mechanism allowed; only the X-Amz-Algorithm "
                          "query parameter, Signature query string parameter or the "
                          "Authorization header should be specified")
    if not auth and not presigned:
        raise AuthFailure("unsigned")
    if auth:
        mode = "header"
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            raise AuthFailure("malformed", "Unsupported Authorization Type (only AWS4-HMAC-SHA256 "
                              "is accepted by this emulator)")
        fields = {}
        for part in re.split(r",\s*", auth[len("AWS4-HMAC-SHA256 "):].strip()):
            k, _, v = part.partition("=")
            fields[k.strip()] = v.strip()
        for need in ("Credential", "SignedHeaders", "Signature"):
            if need not in fields:
                raise AuthFailure("malformed", f"Authorization header requires '{need}' parameter. "
                                  f"Authorization={auth}")
        credential, signed_list, got = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
        stamp = req.header("x-amz-date")
        if not stamp and req.header("date"):
            try:
                stamp = amz_date(email.utils.parsedate_to_datetime(req.header("date")).timestamp())
            except (TypeError, ValueError):
                stamp = None
        token = req.header("x-amz-security-token")
    else:
        mode = "query"
        if qmap.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise AuthFailure("malformed", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        for need in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature",
                     "X-Amz-Expires"):
            if need not in qmap:
                raise AuthFailure("malformed", f"Query-string authentication requires the {need} "
                                  "parameter")
        credential, signed_list, got = qmap["X-Amz-Credential"], qmap["X-Amz-SignedHeaders"], \
            qmap["X-Amz-Signature"]
        stamp, token = qmap["X-Amz-Date"], qmap.get("X-Amz-Security-Token")

    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthFailure("malformed", f"Credential should be of the form "
                          f"'<AKID>/<date>/<region>/<service>/aws4_request'; got '{credential}'")
    akid, scope_date, region, scope_service, _ = parts
    info = {"akid": akid}
    if scope_service != service:
        raise AuthFailure("wrong-service", f"Credential should be scoped to correct service: "
                          f"'{service}'. ", **info)
    allowed = {state.region} | ({"us-east-1"} if service == "sts" else set())
    if region not in allowed:
        raise AuthFailure("wrong-region", f"the region '{region}' is wrong; expecting "
                          f"'{state.region}'", region=region, **info)
    if not stamp or parse_amz_date(stamp) is None:
        raise AuthFailure("malformed", "Authorization header requires existence of either a "
                          "'X-Amz-Date' or a 'Date' header.", **info)
    signed_names = signed_list.split(";")
    if "host" not in signed_names:
        raise AuthFailure("malformed", "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                          "Authorization.", **info)

    with state.lock:
        rec = state.credentials.get(akid)
        rec = dict(rec) if rec else None
    if rec is None:
        raise AuthFailure("unknown-key", akid=akid)
    if rec["token"] is None and token:
        raise AuthFailure("invalid-token", **info)
    if rec["token"] is not None and token != rec["token"]:
        raise AuthFailure("invalid-token" if token else "unknown-key", **info)
    if rec["expires"] is not None and time.time() >= rec["expires"]:
        raise AuthFailure("expired-token", **info)

    t = parse_amz_date(stamp)
    now = state.now(service)
    if mode == "header":
        if abs(t - now) > SKEW_LIMIT_S:
            raise AuthFailure("skewed", stamp=stamp, now=now, **info)
    else:
        try:
            expires = int(qmap["X-Amz-Expires"])
        except ValueError:
            expires = -1
        if not 1 <= expires <= 604800:
            raise AuthFailure("malformed", "X-Amz-Expires must be between 1 and 604800 seconds",
                              **info)
        if now > t + expires:
            raise AuthFailure("presign-expired", stamp=stamp, now=now, expires=expires, **info)
        if t > now + SKEW_LIMIT_S:
            raise AuthFailure("presign-future", stamp=stamp, now=now, **info)

    signed = []
    for name in signed_names:
        values = req.header_all(name)
        if not values:
            raise AuthFailure("mismatch", f"signed header '{name}' is missing from the request",
                              **info)
        for v in values:
            signed.append((name, v))
    if is_s3 and mode == "header":
        declared = req.header("x-amz-content-sha256")
        if declared is None:
            raise AuthFailure("missing-sha256", **info)
        actual = hashlib.sha256(req.body).hexdigest()
        if declared.startswith("STREAMING-"):
            raise AuthFailure("malformed", f"x-amz-content-sha256 '{declared}' (aws-chunked "
                              "uploads) is not supported by this emulator; send a plain body",
                              **info)
        if declared != "UNSIGNED-PAYLOAD" and declared != actual:
            raise AuthFailure("sha256-mismatch", declared=declared, actual=actual, **info)
    elif not is_s3 and req.header("x-amz-content-sha256") not in (None, "UNSIGNED-PAYLOAD"):
        if req.header("x-amz-content-sha256") != hashlib.sha256(req.body).hexdigest():
            raise AuthFailure("sha256-mismatch", declared=req.header("x-amz-content-sha256"),
                              actual=hashlib.sha256(req.body).hexdigest(), **info)

    cquery = canonical_query(req.query, drop=("X-Amz-Signature",) if mode == "query" else ())
    want, creq, sts = botocore_signature(mode, is_s3, req.method, req.path_raw or "/", cquery,
                                         signed, req.body, stamp, akid, rec["secret"],
                                         region, service)
    if not hmac.compare_digest(want, got):
        raise AuthFailure("mismatch", canonical=creq, string_to_sign=sts, provided=got, **info)
    return Principal(akid, rec), region


# --------------------------------------------------------------------------
# SSM commands

class Invocation:
    def __init__(self, command, instance_id):
        self.command, self.instance_id = command, instance_id
        self.status, self.details = "Pending", "Pending"
        self.response_code = -1
        self.start = self.end = None
        self.stdout, self.stderr = bytearray(), bytearray()
        self.proc = None
        self.cancel_requested = False
        self.timed_out = False

    @property
    def terminal(self):
        return self.status in ("Success", "Failed", "Cancelled", "TimedOut")


class Command:
    def __init__(self, cid, params, requested, instance_ids, log_group):
        self.id, self.params, self.requested = cid, params, requested
        self.instance_ids, self.log_group = instance_ids, log_group
        self.invocations = {iid: Invocation(self, iid) for iid in instance_ids}


class SsmRunner:
    """Runs AWS-RunShellScript invocations locally and streams output."""

    def __init__(self, state):
        self.state = state
        self.base = os.path.join(state.args.state_dir, "ssm")
        os.makedirs(self.base, exist_ok=True)

    def start(self, cmd):
        for inv in cmd.invocations.values():
            threading.Thread(target=self._run, args=(cmd, inv), daemon=True).start()

    def _env(self, inv):
        env = {k: v for k, v in os.environ.items()
               if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                            "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")}
        a = self.state.args
        env.update(AWS_SSM_INSTANCE_ID=inv.instance_id, AWS_SSM_REGION_NAME=self.state.region,
                   AWS_REGION=self.state.region, AWS_DEFAULT_REGION=self.state.region,
                   AWS_ENDPOINT_URL=f"http://127.0.0.1:{a.bound_port}",
                   AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{a.bound_imds_port}")
        return env

    def _run(self, cmd, inv):
        st = self.state
        p = cmd.params.get("Parameters") or {}
        try:
            exec_timeout = int((p.get("executionTimeout") or ["3600"])[0])
        except ValueError:
            exec_timeout = 3600
        online = st.instances.get(inv.instance_id, {}).get("PingStatus") == "Online"
        deadline = time.time() + (st.args.ssm_delay if online else cmd.params.get("TimeoutSeconds", 3600))
        while time.time() < deadline:
            with st.lock:
                if inv.cancel_requested:
                    break
            time.sleep(0.02)
        with st.lock:
            if inv.cancel_requested:
                self._finish(inv, "Cancelled", "Cancelled", -1)
                return
            if not online:
                self._finish(inv, "TimedOut", "DeliveryTimedOut", -1)
                return
        wd = os.path.join(self.base, cmd.id, inv.instance_id)
        os.makedirs(wd, exist_ok=True)
        script = os.path.join(wd, "_script.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write("\n".join(p.get("commands") or []) + "\n")
        cwd = (p.get("workingDirectory") or [""])[0] or wd
        try:
            proc = subprocess.Popen(["/bin/sh", script], cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True, env=self._env(inv))
        except OSError as e:
            with st.lock:
                inv.start = time.time()
                inv.stderr += f"failed to run commands: {e}\n".encode()
                self._finish(inv, "Failed", "Failed", 1)
            return
        with st.lock:
            inv.proc, inv.start = proc, time.time()
            inv.status, inv.details = "InProgress", "InProgress"
            if inv.cancel_requested:
                self._kill(inv)
        pumps = [threading.Thread(target=self._pump, args=(inv, proc.stdout, "stdout"), daemon=True),
                 threading.Thread(target=self._pump, args=(inv, proc.stderr, "stderr"), daemon=True)]
        for t in pumps:
            t.start()
        try:
            proc.wait(timeout=exec_timeout)
        except subprocess.TimeoutExpired:
            with st.lock:
                inv.timed_out = True
                self._kill(inv)
            proc.wait()
        for t in pumps:
            t.join()
        rc = proc.returncode
        with st.lock:
            if inv.cancel_requested:
                self._finish(inv, "Cancelled", "Cancelled", KILLED_EXIT)
            elif inv.timed_out:
                self._finish(inv, "TimedOut", "ExecutionTimedOut", KILLED_EXIT)
            elif rc == 0:
                self._finish(inv, "Success", "Success", 0)
            else:
                self._finish(inv, "Failed", "Failed", rc if rc > 0 else 128 - rc)

    def _pump(self, inv, pipe, which):
        fd = pipe.fileno()
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self._emit(inv, which, line + b"\n")
        if pending:
            self._emit(inv, which, pending)
        pipe.close()

    def _emit(self, inv, which, raw):
        st = self.state
        with st.lock:
            (inv.stdout if which == "stdout" else inv.stderr).extend(raw)
            group = inv.command.log_group
        if group:
            stream = f"{inv.command.id}/{inv.instance_id}/{PLUGIN.replace(':', '-')}/{which}"
            msg = raw[:-1] if raw.endswith(b"\n") else raw
            st.log_append(group, stream, msg.decode("utf-8", "replace"))

    def _kill(self, inv):
        if inv.proc is not None and inv.proc.poll() is None:
            try:
                os.killpg(inv.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _finish(self, inv, status, details, code):
        inv.status, inv.details, inv.response_code = status, details, code
        inv.end = time.time()
        if inv.start is None and status not in ("Cancelled", "TimedOut"):
            inv.start = inv.end

    def cancel(self, inv):
        with self.state.lock:
            if inv.terminal:
                return
            inv.cancel_requested = True
            if inv.proc is not None:
                inv.status, inv.details = "Cancelling", "Cancelling"
                self._kill(inv)

    def kill_all(self):
        with self.state.lock:
            for cmd in self.state.commands.values():
                for inv in cmd.invocations.values():
                    inv.cancel_requested = True
                    self._kill(inv)


def cut(text, limit):
    return text if len(text) <= limit else text[:limit] + TRUNCATED_SUFFIX


def plugin_output(stdout, stderr, capacity=PLUGIN_OUTPUT_MAX):
    """ListCommandInvocations' CommandPlugins[].Output: stdout, an error
    banner and stderr, squeezed into 2,500 characters the agent's way."""
    title = "\n----------ERROR-------\n" if stderr else ""
    room = capacity - len(title)
    t_out, t_err = "\n---Output truncated---", "\n---Error truncated----"
    if len(stdout) + len(stderr) < room:
        return stdout + title + stderr
    if len(stdout) > room // 2 and len(stderr) > room // 2:
        n = (room - len(t_err) - len(t_out)) // 2
        return stdout[:n] + t_out + title + stderr[:n] + t_err
    if len(stdout) < room // 2:
        return stdout + title + stderr[:room - len(t_err) - len(stdout)] + t_err
    return stdout[:room - len(t_out) - len(stderr)] + t_out + title + stderr


# --------------------------------------------------------------------------
# service implementations (JSON protocol)

class Services:
    def __init__(self, state):
        self.state = state
        self.ssm_runner = SsmRunner(state)

    # --- SSM ---------------------------------------------------------------
    def _instance_ids_for(self, params):
        st = self.state
        ids = list(params.get("InstanceIds") or [])
        for t in params.get("Targets") or []:
            key, values = t.get("Key", ""), t.get("Values") or []
            if key == "InstanceIds":
                ids.extend(values)
            elif key.startswith("tag:"):
                tag = key[4:]
                ids.extend(i for i, r in sorted(st.instances.items())
                           if r["Tags"].get(tag) in values)
            elif key == "tag-key":
                ids.extend(i for i, r in sorted(st.instances.items())
                           if any(v in r["Tags"] for v in values))
            else:
                raise ApiError(400, "InvalidParameters", f"Target key {key} is not supported by "
                               "the tarmac emulator (use InstanceIds, tag:<key> or tag-key).")
        seen, out = set(), []
        for i in ids:
            if i not in seen:
                seen.add(i)
                out.append(i)
        return out

    def ssm_SendCommand(self, p, principal):
        st = self.state
        if p["DocumentName"] != "AWS-RunShellScript":
            raise ApiError(400, "InvalidDocument", f"Document with name {p['DocumentName']} "
                           "does not exist (the tarmac emulator runs AWS-RunShellScript only).")
        if p.get("InstanceIds") and p.get("Targets"):
            raise ApiError(400, "InvalidParameters", "Either InstanceIds or Targets can be "
                           "specified, not both.")
        if not p.get("InstanceIds") and not p.get("Targets"):
            raise ApiError(400, "InvalidParameters", "Either InstanceIds or Targets must be "
                           "specified.")
        params = p.get("Parameters") or {}
        if not params.get("commands"):
            raise ApiError(400, "InvalidParameters", "Parameter \"commands\" is required.")
        unknown = set(params) - {"commands", "workingDirectory", "executionTimeout"}
        if unknown:
            raise ApiError(400, "InvalidParameters", "Parameter(s) " + ", ".join(sorted(unknown)) +
                           " are not defined in the document AWS-RunShellScript.")
        ids = self._instance_ids_for(p)
        bad = [i for i in ids if i not in st.instances]
        if bad:
            raise ApiError(400, "InvalidInstanceId", f"Instances [[{', '.join(bad)}]] not in a "
                           f"valid state for account {ACCOUNT}")
        cw = p.get("CloudWatchOutputConfig") or {}
        group = None
        if cw.get("CloudWatchOutputEnabled"):
            group = cw.get("CloudWatchLogGroupName") or \
                "/aws/ssm/" + re.sub(r"[^a-zA-Z0-9_\-/.#]", ".", p["DocumentName"])
        cid = str(uuid.uuid4())
        cmd = Command(cid, p, time.time(), ids, group)
        with st.lock:
            st.commands[cid] = cmd
        self.ssm_runner.start(cmd)
        return {"Command": self._command_view(cmd)}

    def _command_status(self, cmd):
        invs = list(cmd.invocations.values())
        if not invs:
            return "Success", "Success"
        if any(i.status == "Cancelling" for i in invs):
            return "Cancelling", "Cancelling"
        if all(i.status == "Pending" for i in invs):
            return "Pending", "Pending"
        if any(not i.terminal for i in invs):
            return "InProgress", "InProgress"
        for s in ("Cancelled", "TimedOut", "Failed"):
            if any(i.status == s for i in invs):
                detail = {"TimedOut": "ExecutionTimedOut"}.get(s, s)
                if s == "TimedOut" and all(i.details == "DeliveryTimedOut" for i in invs
                                           if i.status == "TimedOut"):
                    detail = "DeliveryTimedOut"
                return s, detail
        return "Success", "Success"

    def _command_view(self, cmd):
        p = cmd.params
        status, details = self._command_status(cmd)
        invs = cmd.invocations.values()
        cw = p.get("CloudWatchOutputConfig") or {}
        return {
            "CommandId": cmd.id, "DocumentName": p["DocumentName"],
            "DocumentVersion": p.get("DocumentVersion", "$DEFAULT"),
            "Comment": p.get("Comment", ""),
            "ExpiresAfter": cmd.requested + p.get("TimeoutSeconds", 3600),
            "Parameters": p.get("Parameters") or {},
            "InstanceIds": list(p.get("InstanceIds") or []),
            "Targets": list(p.get("Targets") or []),
            "RequestedDateTime": cmd.requested, "Status": status, "StatusDetails": details,
            "OutputS3Region": self.state.region,
            "OutputS3BucketName": p.get("OutputS3BucketName", ""),
            "OutputS3KeyPrefix": p.get("OutputS3KeyPrefix", ""),
            "MaxConcurrency": p.get("MaxConcurrency", "50"), "MaxErrors": p.get("MaxErrors", "0"),
            "TargetCount": len(cmd.invocations),
            "CompletedCount": sum(1 for i in invs if i.terminal),
            "ErrorCount": sum(1 for i in invs if i.status in ("Failed",)),
            "DeliveryTimedOutCount": sum(1 for i in invs if i.details == "DeliveryTimedOut"),
            "ServiceRole": p.get("ServiceRoleArn", ""),
            "NotificationConfig": p.get("NotificationConfig") or
            {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
            "CloudWatchOutputConfig": {
                "CloudWatchLogGroupName": cw.get("CloudWatchLogGroupName", "") if cmd.log_group else "",
                "CloudWatchOutputEnabled": bool(cmd.log_group)},
            "TimeoutSeconds": p.get("TimeoutSeconds", 3600),
        }

    def _command(self, cid, code="InvalidCommandId"):
        cmd = self.state.commands.get(cid)
        if cmd is None:
            raise ApiError(400, code, "")
        return cmd

    def ssm_GetCommandInvocation(self, p, principal):
        st = self.state
        with st.lock:
            cmd = st.commands.get(p["CommandId"])
            inv = cmd.invocations.get(p["InstanceId"]) if cmd else None
            if inv is None:
                raise ApiError(400, "InvocationDoesNotExist", "")
            if p.get("PluginName") not in (None, PLUGIN):
                raise ApiError(400, "InvalidPluginName", "")
            done = inv.terminal
            out = inv.stdout.decode("utf-8", "replace") if done else ""
            err = inv.stderr.decode("utf-8", "replace") if done else ""
            elapsed = ""
            if inv.start is not None:
                elapsed = "PT%.3fS" % ((inv.end or time.time()) - inv.start)
            cw = self._command_view(cmd)["CloudWatchOutputConfig"]
            return {
                "CommandId": cmd.id, "InstanceId": inv.instance_id,
                "Comment": cmd.params.get("Comment", ""),
                "DocumentName": cmd.params["DocumentName"],
                "DocumentVersion": cmd.params.get("DocumentVersion", "$DEFAULT"),
                "PluginName": PLUGIN, "ResponseCode": inv.response_code,
                "ExecutionStartDateTime": iso8601(inv.start) if inv.start else "",
                "ExecutionElapsedTime": elapsed,
                "ExecutionEndDateTime": iso8601(inv.end) if inv.end and inv.start else "",
                "Status": inv.status, "StatusDetails": inv.details,
                "StandardOutputContent": cut(out, STDOUT_MAX),
                "StandardOutputUrl": "",
                "StandardErrorContent": cut(err, STDERR_MAX),
                "StandardErrorUrl": "",
                "CloudWatchOutputConfig": cw,
            }

    def _filter_commands(self, p):
        st = self.state
        with st.lock:
            cmds = sorted(st.commands.values(), key=lambda c: c.requested, reverse=True)
        if p.get("CommandId"):
            cmds = [c for c in cmds if c.id == p["CommandId"]]
            if not cmds:
                raise ApiError(400, "InvalidCommandId", "")
        if p.get("InstanceId"):
            cmds = [c for c in cmds if p["InstanceId"] in c.invocations]
        for f in p.get("Filters") or []:
            key, value = f["key"], f["value"]
            if key == "InvokedAfter":
                after = _parse_filter_time(value)
                cmds = [c for c in cmds if c.requested >= after]
            elif key == "InvokedBefore":
                before = _parse_filter_time(value)
                cmds = [c for c in cmds if c.requested <= before]
            elif key == "Status":
                cmds = [c for c in cmds if self._command_status(c)[0] == value]
            elif key == "DocumentName":
                cmds = [c for c in cmds if c.params["DocumentName"] == value]
            elif key == "ExecutionStage":
                running = value == "Executing"
                cmds = [c for c in cmds if (self._command_status(c)[0] in
                                            ("Pending", "InProgress", "Cancelling")) == running]
        return cmds

    def ssm_ListCommands(self, p, principal):
        cmds = self._filter_commands(p)
        start = decode_page_token(p.get("NextToken"))
        n = p.get("MaxResults", 50)
        with self.state.lock:
            page = [self._command_view(c) for c in cmds[start:start + n]]
        out = {"Commands": page}
        if start + n < len(cmds):
            out["NextToken"] = encode_page_token(start + n)
        return out

    def ssm_ListCommandInvocations(self, p, principal):
        cmds = self._filter_commands(p)
        rows = []
        with self.state.lock:
            for c in cmds:
                for iid, inv in c.invocations.items():
                    if p.get("InstanceId") and iid != p["InstanceId"]:
                        continue
                    rows.append(self._invocation_view(c, inv, p.get("Details", False)))
        start = decode_page_token(p.get("NextToken"))
        n = p.get("MaxResults", 50)
        out = {"CommandInvocations": rows[start:start + n]}
        if start + n < len(rows):
            out["NextToken"] = encode_page_token(start + n)
        return out

    def _invocation_view(self, cmd, inv, details):
        cv = self._command_view(cmd)
        v = {"CommandId": cmd.id, "InstanceId": inv.instance_id, "InstanceName": "",
             "Comment": cv["Comment"], "DocumentName": cv["DocumentName"],
             "DocumentVersion": cv["DocumentVersion"], "RequestedDateTime": cmd.requested,
             "Status": inv.status, "StatusDetails": inv.details, "TraceOutput": "",
             "StandardOutputUrl": "", "StandardErrorUrl": "", "CommandPlugins": [],
             "ServiceRole": "", "NotificationConfig": cv["NotificationConfig"],
             "CloudWatchOutputConfig": cv["CloudWatchOutputConfig"]}
        if details:
            plug = {"Name": PLUGIN, "Status": inv.status, "StatusDetails": inv.details,
                    "ResponseCode": inv.response_code,
                    "Output": plugin_output(inv.stdout.decode("utf-8", "replace"),
                                            inv.stderr.decode("utf-8", "replace"))
                    if inv.terminal else "",
                    "StandardOutputUrl": "", "StandardErrorUrl": "",
                    "OutputS3Region": self.state.region, "OutputS3BucketName": "",
                    "OutputS3KeyPrefix": ""}
            if inv.start:
                plug["ResponseStartDateTime"] = inv.start
            if inv.end and inv.start:
                plug["ResponseFinishDateTime"] = inv.end
            v["CommandPlugins"] = [plug]
        return v

    def ssm_CancelCommand(self, p, principal):
        st = self.state
        with st.lock:
            cmd = self._command(p["CommandId"])
            targets = p.get("InstanceIds") or list(cmd.invocations)
            invs = [cmd.invocations[i] for i in targets if i in cmd.invocations]
        for inv in invs:
            self.ssm_runner.cancel(inv)
        return {}

    def ssm_DescribeInstanceInformation(self, p, principal):
        st = self.state
        if p.get("InstanceInformationFilterList") and p.get("Filters"):
            raise ApiError(400, "InvalidFilterKey", "InstanceInformationFilterList and Filters "
                           "cannot be used together.")
        filters = [(f["key"], f["valueSet"]) for f in p.get("InstanceInformationFilterList") or []]
        filters += [(f["Key"], f["Values"]) for f in p.get("Filters") or []]
        rows = []
        osr = _os_release()
        with st.lock:
            for iid, r in sorted(st.instances.items()):
                info = {"InstanceId": iid, "PingStatus": r["PingStatus"],
                        "LastPingDateTime": time.time(), "AgentVersion": "3.3.987.0",
                        "IsLatestVersion": False, "PlatformType": "Linux",
                        "PlatformName": r["PlatformName"] or osr.get("NAME", "Linux"),
                        "PlatformVersion": r["PlatformVersion"] or osr.get("VERSION_ID", ""),
                        "ResourceType": "EC2Instance", "IPAddress": "127.0.0.1",
                        "ComputerName": socket.gethostname(), "AssociationStatus": "Success",
                        "SourceId": iid, "SourceType": "AWS::EC2::Instance"}
                if _instance_matches(info, r["Tags"], filters):
                    rows.append(info)
        start = decode_page_token(p.get("NextToken"))
        n = p.get("MaxResults", 50)
        out = {"InstanceInformationList": rows[start:start + n]}
        if start + n < len(rows):
            out["NextToken"] = encode_page_token(start + n)
        return out

    # --- CloudWatch Logs -----------------------------------------------------
    def _group(self, name):
        g = self.state.log_groups.get(name)
        if g is None:
            raise ApiError(400, "ResourceNotFoundException", "The specified log group does not exist.")
        return g

    def _stream(self, group, stream):
        s = self._group(group)["streams"].get(stream)
        if s is None:
            raise ApiError(400, "ResourceNotFoundException", "The specified log stream does not exist.")
        return s

    @staticmethod
    def _group_name(p):
        name = p.get("logGroupName") or p.get("logGroupIdentifier")
        if not name:
            raise ApiError(400, "InvalidParameterException",
                           "Either logGroupName or logGroupIdentifier must be specified.")
        if name.startswith("arn:"):
            name = name.split(":log-group:", 1)[-1].removesuffix(":*")
        return name

    def logs_CreateLogGroup(self, p, principal):
        with self.state.lock:
            if p["logGroupName"] in self.state.log_groups:
                raise ApiError(400, "ResourceAlreadyExistsException",
                               "The specified log group already exists")
            self.state.log_groups[p["logGroupName"]] = {"created": int(time.time() * 1000),
                                                        "streams": {}}
        return {}

    def logs_CreateLogStream(self, p, principal):
        with self.state.lock:
            g = self._group(p["logGroupName"])
            if p["logStreamName"] in g["streams"]:
                raise ApiError(400, "ResourceAlreadyExistsException",
                               "The specified log stream already exists")
            g["streams"][p["logStreamName"]] = {"created": int(time.time() * 1000), "events": [],
                                                "lastIngestion": None}
        return {}

    def logs_PutLogEvents(self, p, principal):
        with self.state.lock:
            s = self._stream(p["logGroupName"], p["logStreamName"])
            ts = [e["timestamp"] for e in p["logEvents"]]
            if ts != sorted(ts):
                raise ApiError(400, "InvalidParameterException", "Log events in a single "
                               "PutLogEvents request must be in chronological order.")
            now_ms = int(time.time() * 1000)
            for e in p["logEvents"]:
                s["events"].append({"timestamp": e["timestamp"], "message": e["message"],
                                    "ingestionTime": now_ms})
            s["lastIngestion"] = now_ms
            return {"nextSequenceToken": "%056d" % len(s["events"])}

    def logs_GetLogEvents(self, p, principal):
        limit = p.get("limit", 10000)
        token = p.get("nextToken")
        with self.state.lock:
            events = list(self._stream(self._group_name(p), p["logStreamName"])["events"])
        n = len(events)
        t0, t1 = p.get("startTime"), p.get("endTime")

        def in_range(e):
            return (t0 is None or e["timestamp"] >= t0) and (t1 is None or e["timestamp"] < t1)

        if token:
            m = re.fullmatch(r"([fb])/(\d{56})/s", token)
            if not m:
                raise ApiError(400, "InvalidParameterException", "The specified nextToken is invalid.")
            direction, pos = m.group(1), min(int(m.group(2)), n)
        else:
            direction, pos = ("f", 0) if p.get("startFromHead", False) else ("b", n)
        picked = []
        if direction == "f":
            i = pos
            while i < n and len(picked) < limit:
                if in_range(events[i]):
                    picked.append(events[i])
                i += 1
            first, end = pos, i
        else:
            i = pos
            while i > 0 and len(picked) < limit:
                i -= 1
                if in_range(events[i]):
                    picked.insert(0, events[i])
            first, end = i, pos
        fwd = f"f/{end:056d}/s"
        bwd = f"b/{first:056d}/s"
        if token and not picked:  # at the end: AWS hands the same token back
            if direction == "f":
                fwd = token
            else:
                bwd = token
        return {"events": [{"timestamp": e["timestamp"], "message": e["message"],
                            "ingestionTime": e["ingestionTime"]} for e in picked],
                "nextForwardToken": fwd, "nextBackwardToken": bwd}

    def logs_DescribeLogGroups(self, p, principal):
        with self.state.lock:
            names = sorted(n for n in self.state.log_groups
                           if n.startswith(p.get("logGroupNamePrefix", "")))
            rows = [{"logGroupName": n, "creationTime": self.state.log_groups[n]["created"],
                     "metricFilterCount": 0, "storedBytes": 0,
                     "arn": f"arn:aws:logs:{self.state.region}:{ACCOUNT}:log-group:{n}:*"}
                    for n in names]
        start = decode_page_token(p.get("nextToken"), "InvalidParameterException")
        k = p.get("limit", 50)
        out = {"logGroups": rows[start:start + k]}
        if start + k < len(rows):
            out["nextToken"] = encode_page_token(start + k)
        return out

    def logs_DescribeLogStreams(self, p, principal):
        with self.state.lock:
            g = self._group(self._group_name(p))
            rows = []
            for name, s in g["streams"].items():
                if not name.startswith(p.get("logStreamNamePrefix", "")):
                    continue
                r = {"logStreamName": name, "creationTime": s["created"], "storedBytes": 0,
                     "arn": f"arn:aws:logs:{self.state.region}:{ACCOUNT}:log-group:"
                            f"{self._group_name(p)}:log-stream:{name}"}
                if s["events"]:
                    r.update(firstEventTimestamp=s["events"][0]["timestamp"],
                             lastEventTimestamp=s["events"][-1]["timestamp"],
                             lastIngestionTime=s["lastIngestion"],
                             uploadSequenceToken="%056d" % len(s["events"]))
                rows.append(r)
        if p.get("orderBy") == "LastEventTime":
            rows.sort(key=lambda r: r.get("lastEventTimestamp", 0))
        else:
            rows.sort(key=lambda r: r["logStreamName"])
        if p.get("descending"):
            rows.reverse()
        start = decode_page_token(p.get("nextToken"), "InvalidParameterException")
        k = p.get("limit", 50)
        out = {"logStreams": rows[start:start + k]}
        if start + k < len(rows):
            out["nextToken"] = encode_page_token(start + k)
        return out

    def logs_FilterLogEvents(self, p, principal):
        pattern = (p.get("filterPattern") or "").strip().strip('"')
        with self.state.lock:
            g = self._group(self._group_name(p))
            rows = []
            for name, s in g["streams"].items():
                if p.get("logStreamNames") and name not in p["logStreamNames"]:
                    continue
                if not name.startswith(p.get("logStreamNamePrefix", "")):
                    continue
                for idx, e in enumerate(s["events"]):
                    if p.get("startTime") is not None and e["timestamp"] < p["startTime"]:
                        continue
                    if p.get("endTime") is not None and e["timestamp"] > p["endTime"]:
                        continue
                    if pattern and pattern not in e["message"]:
                        continue
                    rows.append(dict(e, logStreamName=name,
                                     eventId="%056d" % (hash((name, idx)) & (10 ** 56 - 1))))
        rows.sort(key=lambda r: (r["timestamp"], r["ingestionTime"]))
        start = decode_page_token(p.get("nextToken"), "InvalidParameterException")
        k = p.get("limit", 10000)
        out = {"events": rows[start:start + k], "searchedLogStreams": []}
        if start + k < len(rows):
            out["nextToken"] = encode_page_token(start + k)
        return out

    # --- Secrets Manager -----------------------------------------------------
    def _secret(self, sid):
        s = self.state.find_secret(sid)
        if s is None:
            raise ApiError(400, "ResourceNotFoundException",
                           "Secrets Manager can't find the specified secret.")
        return s

    def secretsmanager_GetSecretValue(self, p, principal):
        with self.state.lock:
            s = dict(self._secret(p["SecretId"]))
        stage = p.get("VersionStage", "AWSCURRENT")
        if stage != "AWSCURRENT" or p.get("VersionId") not in (None, s["VersionId"]):
            raise ApiError(400, "ResourceNotFoundException", "Secrets Manager can't find the "
                           f"specified secret value for staging label: {stage}")
        out = {"ARN": s["ARN"], "Name": s["Name"], "VersionId": s["VersionId"],
               "VersionStages": ["AWSCURRENT"], "CreatedDate": s["CreatedDate"]}
        if s["SecretString"] is not None:
            out["SecretString"] = s["SecretString"]
        if s["SecretBinary"] is not None:
            out["SecretBinary"] = s["SecretBinary"]
        return out

    def secretsmanager_DescribeSecret(self, p, principal):
        with self.state.lock:
            s = dict(self._secret(p["SecretId"]))
        return {"ARN": s["ARN"], "Name": s["Name"], "CreatedDate": s["CreatedDate"],
                "LastChangedDate": s["CreatedDate"],
                "VersionIdsToStages": {s["VersionId"]: ["AWSCURRENT"]}}

    # --- STS (query) -----------------------------------------------------------
    def sts_GetCallerIdentity(self, p, principal):
        return {"UserId": principal.user_id, "Account": ACCOUNT, "Arn": principal.arn}

    def sts_AssumeRole(self, p, principal):
        m = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)", p["RoleArn"])
        if not m:
            raise ApiError(400, "ValidationError", f"{p['RoleArn']} is invalid")
        role = m.group(2)
        duration = p.get("DurationSeconds", 3600)
        if principal.kind == "session" and duration > 3600:
            raise ApiError(400, "ValidationError", "The requested DurationSeconds exceeds the 1 "
                           "hour session limit for roles assumed by role chaining.")
        if not 900 <= duration <= 43200:
            raise ApiError(400, "ValidationError", "The requested DurationSeconds exceeds the "
                           "MaxSessionDuration set for this role.")
        session = p["RoleSessionName"]
        role_id = "AROA" + hashlib.sha1(role.encode()).hexdigest()[:17].upper()
        arn = f"arn:aws:sts::{m.group(1)}:assumed-role/{role}/{session}"
        readonly = principal.readonly or bool(re.search(r"readonly|audit", role, re.I))
        akid, rec = self.state.mint_session(arn, f"{role_id}:{session}", duration, readonly)
        return {"Credentials": {"AccessKeyId": akid, "SecretAccessKey": rec["secret"],
                                "SessionToken": rec["token"],
                                "Expiration": iso8601(rec["expires"], millis=False)},
                "AssumedRoleUser": {"AssumedRoleId": f"{role_id}:{session}", "Arn": arn}}

    # --- RDS (query) -------------------------------------------------------------
    @staticmethod
    def _page_records(p, rows):
        n = p.get("MaxRecords", 100)
        if not 20 <= n <= 100:
            raise ApiError(400, "InvalidParameterValue",
                           f"Invalid value {n} for MaxRecords. Must be between 20 and 100")
        start = decode_page_token(p.get("Marker"), "InvalidParameterValue")
        out = {}
        if start + n < len(rows):
            out["Marker"] = encode_page_token(start + n)
        return rows[start:start + n], out

    @staticmethod
    def _rds_filter(rows, filters, fields):
        for f in filters or []:
            field = fields.get(f["Name"])
            if field is None:
                raise ApiError(400, "InvalidParameterValue", f"Unrecognized filter name: {f['Name']}")
            rows = [r for r in rows if any(str(r.get(x)) in f["Values"] for x in field)]
        return rows

    def rds_DescribeDBClusters(self, p, principal):
        with self.state.lock:
            rows = list(self.state.db_clusters)
        cid = p.get("DBClusterIdentifier")
        if cid:
            rows = [r for r in rows if cid in (r["DBClusterIdentifier"], r["DBClusterArn"])]
            if not rows:
                raise ApiError(404, "DBClusterNotFoundFault", f"DBCluster {cid} not found.")
        rows = self._rds_filter(rows, p.get("Filters"), {
            "db-cluster-id": ("DBClusterIdentifier", "DBClusterArn"), "engine": ("Engine",),
            "db-cluster-resource-id": ("DbClusterResourceId",)})
        page, out = self._page_records(p, rows)
        out["DBClusters"] = page
        return out

    def rds_DescribeDBInstances(self, p, principal):
        with self.state.lock:
            rows = list(self.state.db_instances)
        iid = p.get("DBInstanceIdentifier")
        if iid:
            rows = [r for r in rows if iid in (r["DBInstanceIdentifier"], r["DBInstanceArn"])]
            if not rows:
                raise ApiError(404, "DBInstanceNotFound", f"DBInstance {iid} not found.")
        rows = self._rds_filter(rows, p.get("Filters"), {
            "db-instance-id": ("DBInstanceIdentifier", "DBInstanceArn"),
            "db-cluster-id": ("DBClusterIdentifier",), "engine": ("Engine",),
            "dbi-resource-id": ("DbiResourceId",)})
        page, out = self._page_records(p, rows)
        out["DBInstances"] = page
        return out


def _parse_filter_time(value):
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ApiError(400, "InvalidFilterValue", f"{value} is not a valid date")


def _instance_matches(info, tags, filters):
    for key, values in filters:
        if key == "InstanceIds" and info["InstanceId"] not in values:
            return False
        if key == "PingStatus" and info["PingStatus"] not in values:
            return False
        if key == "PlatformTypes" and info["PlatformType"] not in values:
            return False
        if key == "ResourceType" and info["ResourceType"] not in values:
            return False
        if key == "AgentVersion" and info["AgentVersion"] not in values:
            return False
        if key.startswith("tag:") and tags.get(key[4:]) not in values:
            return False
        if key == "tag-key" and not any(v in tags for v in values):
            return False
    return True


_OS_RELEASE = None


def _os_release():
    global _OS_RELEASE
    if _OS_RELEASE is None:
        _OS_RELEASE = {}
        try:
            with open("/etc/os-release", encoding="utf-8") as f:
                for line in f:
                    k, _, v = line.strip().partition("=")
                    _OS_RELEASE[k] = v.strip('"')
        except OSError:
            pass
    return _OS_RELEASE


# --------------------------------------------------------------------------
# error rendering per protocol

AUTH_ERRORS = {
    # verdict: {protocol: (status, code, message)}
    "unsigned": {"s3": (403, "AccessDenied", "Access Denied"),
                 "json": (400, "MissingAuthenticationTokenException", "Missing Authentication Token"),
                 "query": (403, "MissingAuthenticationToken", "Request is missing Authentication Token")},
    "malformed": {"s3": (400, "AuthorizationHeaderMalformed", None),
                  "json": (400, "IncompleteSignatureException", None),
                  "query": (400, "IncompleteSignature", None)},
    "wrong-service": {"s3": (400, "AuthorizationHeaderMalformed", None),
                      "json": (400, "InvalidSignatureException", None),
                      "query": (403, "SignatureDoesNotMatch", None)},
    "wrong-region": {"s3": (400, "AuthorizationHeaderMalformed", None),
                     "json": (400, "InvalidSignatureException",
                              "Credential should be scoped to a valid region. "),
                     "query": (403, "SignatureDoesNotMatch",
                               "Credential should be scoped to a valid region. ")},
    "unknown-key": {"s3": (403, "InvalidAccessKeyId",
                           "The AWS Access Key Id you provided does not exist in our records."),
                    "json": (400, "UnrecognizedClientException",
                             "The security token included in the request is invalid."),
                    "query": (403, "InvalidClientTokenId",
                              "The security token included in the request is invalid.")},
    "invalid-token": {"s3": (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
                      "json": (400, "UnrecognizedClientException",
                               "The security token included in the request is invalid."),
                      "query": (403, "InvalidClientTokenId",
                                "The security token included in the request is invalid.")},
    "expired-token": {"s3": (400, "ExpiredToken", "The provided token has expired."),
                      "json": (400, "ExpiredTokenException",
                               "The security token included in the request is expired"),
                      "query": (400, "ExpiredToken",
                                "The security token included in the request is expired")},
    "skewed": {"s3": (403, "RequestTimeTooSkewed",
                      "The difference between the request time and the current time is too large."),
               "json": (400, "InvalidSignatureException", None),
               "query": (400, "SignatureDoesNotMatch", None)},
    "presign-expired": {"s3": (403, "AccessDenied", "Request has expired"),
                        "json": (400, "InvalidSignatureException", "Signature expired"),
                        "query": (403, "SignatureDoesNotMatch", "Signature expired")},
    "presign-future": {"s3": (403, "AccessDenied", "Request is not valid yet"),
                       "json": (400, "InvalidSignatureException", "Signature not yet current"),
                       "query": (403, "SignatureDoesNotMatch", "Signature not yet current")},
    "missing-sha256": {"s3": (400, "InvalidRequest",
                              "Missing required header for this request: x-amz-content-sha256")},
    "sha256-mismatch": {"s3": (400, "XAmzContentSHA256Mismatch",
                               "The provided 'x-amz-content-sha256' header does not match what "
                               "was computed."),
                        "json": (400, "InvalidSignatureException",
                                 "The provided 'x-amz-content-sha256' header does not match the body."),
                        "query": (403, "SignatureDoesNotMatch",
                                  "The provided 'x-amz-content-sha256' header does not match the body.")},
    "mismatch": {"s3": (403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your key and signing method."),
                 "json": (400, "InvalidSignatureException", None),
                 "query": (403, "SignatureDoesNotMatch", None)},
}

MISMATCH_TEXT = ("The request signature we calculated does not match the signature you provided. "
                 "Check your AWS Secret Access Key and signing method. Consult the service "
                 "documentation for details.")


def auth_error(fail, proto, region):
    status, code, message = AUTH_ERRORS[fail.verdict].get(proto) or AUTH_ERRORS["mismatch"][proto]
    info, extra, headers = fail.info, [], []
    if fail.verdict in ("skewed",):
        t = parse_amz_date(info["stamp"])
        when = "earlier" if t < info["now"] else "later"
        bound = amz_date(info["now"] - SKEW_LIMIT_S if when == "earlier" else info["now"] + SKEW_LIMIT_S)
        text = ("Signature expired: %s is now earlier than %s (%s - 15 min.)" if when == "earlier"
                else "Signature not yet current: %s is still later than %s (%s + 15 min.)")
        message = message or text % (info["stamp"], bound, amz_date(info["now"]))
        extra = [("RequestTime", info["stamp"]), ("ServerTime", iso8601(info["now"], millis=False)),
                 ("MaxAllowedSkewMilliseconds", "900000")]
    elif fail.verdict == "mismatch" and "canonical" in info:
        if message is None:
            message = (MISMATCH_TEXT + "\n\nThe Canonical String for this request should have been\n'"
                       + info["canonical"] + "'\n\nThe String-to-Sign should have been\n'"
                       + info["string_to_sign"] + "'\n")
        extra = [("AWSAccessKeyId", info["akid"]), ("StringToSign", info["string_to_sign"]),
                 ("SignatureProvided", info["provided"]), ("CanonicalRequest", info["canonical"])]
    elif fail.verdict == "wrong-region":
        if proto == "s3":
            message = f"The authorization header is malformed; {fail.message}"
            extra = [("Region", region)]
        headers = [("x-amz-bucket-region", region)] if proto == "s3" else []
    elif fail.verdict == "unknown-key":
        extra = [("AWSAccessKeyId", info.get("akid", ""))]
    elif fail.verdict == "sha256-mismatch":
        extra = [("ClientComputedContentSHA256", info["declared"]),
                 ("S3ComputedContentSHA256", info["actual"])]
    elif fail.verdict == "presign-expired":
        extra = [("X-Amz-Expires", str(info["expires"])), ("Expires", iso8601(
            parse_amz_date(info["stamp"]) + info["expires"], millis=False)),
            ("ServerTime", iso8601(info["now"], millis=False))]
    if message is None:
        message = fail.message or MISMATCH_TEXT
    return ApiError(status, code, message, extra, headers)


FAULT_ERRORS = {
    "500": {"s3": (500, "InternalError", "We encountered an internal error. Please try again."),
            "ssm": (500, "InternalServerError", "An internal error occurred."),
            "logs": (500, "ServiceUnavailableException", "The service cannot complete the request."),
            "secretsmanager": (500, "InternalServiceError", "An error occurred on the server side."),
            "query": (500, "InternalFailure", "The request processing has failed because of an "
                      "unknown error, exception or failure.")},
    "503-slowdown": {"s3": (503, "SlowDown", "Please reduce your request rate."),
                     "json": (503, "ThrottlingException", "Rate exceeded"),
                     "query": (503, "Throttling", "Rate exceeded")},
    "throttle": {"s3": (503, "SlowDown", "Please reduce your request rate."),
                 "json": (400, "ThrottlingException", "Rate exceeded"),
                 "query": (400, "Throttling", "Rate exceeded")},
}


def fault_error(fault, service, proto):
    kind = fault["kind"]
    if kind == "expired-token":
        return auth_error(AuthFailure("expired-token"), proto, None)
    if kind == "error":
        return ApiError(int(fault.get("status", 400)), fault.get("code", "InternalError"),
                        fault.get("message", ""))
    table = FAULT_ERRORS[kind]
    status, code, message = table.get(service) or table.get(proto) or table["query"]
    return ApiError(status, code, message)


# --------------------------------------------------------------------------
# HTTP plumbing

class Request:
    def __init__(self, handler, body):
        self.method = handler.command
        target = handler.path
        if target.startswith("http://") or target.startswith("https://"):
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        self.path_raw, _, self.query = target.partition("?")
        self.raw_headers = [(k.lower(), v) for k, v in handler.headers.items()]  # Latin-1 as read
        self.headers = [(k, header_value_utf8(v)) for k, v in self.raw_headers]
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k == name]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""
    clock_service = "*"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms to every call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("emulator: %s - %s\n" % (self.address_string(), fmt % args))

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.state.now(self.clock_service), usegmt=True)

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(3)
                if len(out) > MAX_BODY:
                    raise ApiError(413, "EntityTooLarge", "request body too large")
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ApiError(413, "EntityTooLarge", "request body too large")
        return self.rfile.read(n) if n else b""

    def respond(self, status, body=b"", headers=(), content_type=None, head_length=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        names = set()
        for k, v in headers:
            self.send_header(k, v)
            names.add(k.lower())
        if content_type and "content-type" not in names:
            self.send_header("Content-Type", content_type)
        if "content-length" not in names:
            n = head_length if (self.command == "HEAD" and head_length is not None) else len(body)
            self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def reset_connection(self):
        """Abort with a TCP RST: no status line, no FIN first."""
        self.close_connection = True
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(sock.detach())
        except OSError:
            pass

    def admin_json(self, status, obj):
        self.respond(status, json.dumps(obj, indent=1, default=str), content_type="application/json")


class ApiHandler(Handler):
    def dispatch(self):
        st = self.server.state
        self.clock_service = "*"
        if self.path.startswith("/__admin"):
            return self.admin()
        entry = {"time": time.time(), "listener": "api", "method": self.command,
                 "path": self.path.split("?", 1)[0], "query": self.path.partition("?")[2],
                 "service": None, "operation": None, "access_key_id": None,
                 "verdict": None, "status": None, "fault": None, "error": None}
        proto = "json" if self.headers.get("X-Amz-Target") else "s3"
        service = "s3"
        try:
            body = self.read_body()
            req = Request(self, body)
            service, proto, operation, extra = classify(req)
            self.clock_service = service
            entry.update(service=service, operation=operation)
            self.server_version = "AmazonS3" if proto == "s3" else "Server"
            try:
                principal, _region = authenticate(st, req, service, proto == "s3")
            except AuthFailure as fail:
                entry["verdict"] = fail.verdict
                entry["access_key_id"] = fail.info.get("akid")
                raise auth_error(fail, proto, st.region)
            entry["verdict"] = "ok"
            entry["access_key_id"] = principal.akid
            fault = st.take_fault(service, operation)
            if fault:
                entry["fault"] = fault["kind"]
                if fault["kind"] == "reset":
                    raise ResetConnection()
                if fault["kind"] == "delay":
                    time.sleep(float(fault.get("seconds", 1)))
                else:
                    raise fault_error(fault, service, proto)
            if principal.readonly and not is_read(service, operation, req):
                raise denied(principal, service, operation, proto)
            if proto == "s3":
                status = S3Front(self, st).handle(req, operation)
            elif proto == "json":
                status = self.handle_json(req, service, operation, principal)
            else:
                status = self.handle_query(req, service, operation, extra, principal)
            entry["status"] = status
        except ResetConnection:
            entry["status"] = "reset"
            self.reset_connection()
        except ApiError as e:
            entry["status"], entry["error"] = e.status, e.code
            self.send_api_error(e, proto, service)
        except (ConnectionError, BrokenPipeError):
            entry["status"] = "client-gone"
            self.close_connection = True
        except Exception as e:  # a bug here must still answer, like AWS's 500
            traceback.print_exc()
            entry["status"], entry["error"] = 500, f"emulator bug: {e!r}"
            self.send_api_error(ApiError(500, "InternalError", f"tarmac emulator bug: {e!r}"),
                                proto, service)
        finally:
            st.record(entry)

    def send_api_error(self, e, proto, service):
        rid = str(uuid.uuid4())
        if proto == "s3":
            rid = uuid.uuid4().hex[:16].upper()
            host_id = b64(hashlib.sha256(rid.encode()).digest())
            body = "" if self.command == "HEAD" else (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + xml_text("Code", e.code) +
                xml_text("Message", e.message) + "".join(xml_text(k, v) for k, v in e.extra) +
                xml_text("RequestId", rid) + xml_text("HostId", host_id) + "</Error>")
            self.respond(e.status, body, e.headers + [("x-amz-request-id", rid),
                                                      ("x-amz-id-2", host_id)], "application/xml")
        elif proto == "json":
            self.respond(e.status, json.dumps({"__type": e.code, "message": e.message}),
                         e.headers + [("x-amzn-RequestId", rid), ("x-amzn-ErrorType", e.code)],
                         "application/x-amz-json-1.1")
        else:
            ns = QUERY_SERVICES.get(service, QUERY_SERVICES["sts"])[1]
            kind = "Receiver" if e.status >= 500 else "Sender"
            body = (f'<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type>' +
                    xml_text("Code", e.code) + xml_text("Message", e.message) +
                    "</Error>" + xml_text("RequestId", rid) + "</ErrorResponse>")
            self.respond(e.status, body, e.headers + [("x-amzn-RequestId", rid)], "text/xml")

    def handle_json(self, req, service, operation, principal):
        st = self.server.state
        op = st.models.operation(service, operation)
        if op is None:
            raise ApiError(400, "UnknownOperationException", "")
        ctype = (req.header("content-type") or "").split(";")[0].strip()
        if ctype != "application/x-amz-json-1.1":
            raise ApiError(400, "SerializationException",
                           f"Content-Type must be application/x-amz-json-1.1, got '{ctype}'")
        try:
            params = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
        except (UnicodeDecodeError, ValueError) as e:
            raise ApiError(400, "SerializationException", f"body is not valid JSON: {e}")
        if not isinstance(params, dict):
            raise ApiError(400, "SerializationException",
                           "Start of list found where not expected")
        errs = st.models.validate(op, params)
        if errs:
            raise ApiError(400, "ValidationException", "%d validation error%s detected: %s" % (
                len(errs), "" if len(errs) == 1 else "s", "; ".join(errs)))
        fn = getattr(self.server.services, f"{service}_{operation}", None)
        if fn is None:
            raise ApiError(400, "UnknownOperationException",
                           f"the tarmac emulator does not implement {service}:{operation}")
        result = fn(params, principal)
        self.respond(200, json.dumps(result), [("x-amzn-RequestId", str(uuid.uuid4()))],
                     "application/x-amz-json-1.1")
        return 200

    def handle_query(self, req, service, operation, flat, principal):
        st = self.server.state
        version, ns = QUERY_SERVICES[service]
        if flat.get("Version") != version:
            raise ApiError(400, "InvalidParameterValue" if "Version" in flat else "MissingParameter",
                           f"Version must be {version}")
        op = st.models.operation(service, operation)
        if op is None:
            raise ApiError(400, "InvalidAction",
                           f"Could not find operation {operation} for version {version}")
        params = query_to_params(op.input_shape, flat) if op.input_shape else {}
        errs = st.models.validate(op, params)
        if errs:
            code = "ValidationError" if service == "sts" else "InvalidParameterValue"
            missing = [e for e in errs if e.startswith("Missing required parameter")]
            if missing and service == "rds":
                code = "MissingParameter"
            raise ApiError(400, code, "%d validation error%s detected: %s" % (
                len(errs), "" if len(errs) == 1 else "s", "; ".join(errs)))
        fn = getattr(self.server.services, f"{service}_{operation}", None)
        if fn is None:
            raise ApiError(400, "InvalidAction",
                           f"the tarmac emulator does not implement {service}:{operation}")
        result = fn(params, principal)
        rid = str(uuid.uuid4())
        inner = to_xml(op.output_shape, result, f"{operation}Result") if op.output_shape else ""
        body = (f'<{operation}Response xmlns="{ns}">{inner}<ResponseMetadata>' +
                xml_text("RequestId", rid) + f"</ResponseMetadata></{operation}Response>")
        self.respond(200, body, [("x-amzn-RequestId", rid)], "text/xml")
        return 200

    # --- admin --------------------------------------------------------------
    def admin(self):
        st = self.server.state
        path, _, query = self.path.partition("?")
        try:
            body = self.read_body()
            data = json.loads(body) if body.strip() else {}
        except (ValueError, ApiError) as e:
            return self.admin_json(400, {"error": f"bad JSON: {e}"})
        m = self.command
        try:
            if path == "/__admin/health" and m == "GET":
                return self.admin_json(200, {"ok": True, "region": st.region,
                                             "s3rver": S3Front(self, st).upstream_ok()})
            if path == "/__admin/log" and m == "GET":
                since = int(dict(query_pairs(query)).get("since", 0))
                with st.lock:
                    rows = [r for r in st.requests if r["seq"] > since]
                return self.admin_json(200, {"requests": rows})
            if path == "/__admin/fault" and m == "POST":
                specs = data if isinstance(data, list) else [data]
                added = [st.add_fault(s) for s in specs]
                return self.admin_json(200, {"ok": True, "added": added})
            if path == "/__admin/faults" and m == "GET":
                with st.lock:
                    return self.admin_json(200, {"faults": st.faults, "clock": st.clock_offsets})
            if path == "/__admin/reset" and m == "POST":
                st.reset()
                return self.admin_json(200, {"ok": True})
            if path == "/__admin/seed" and m == "POST":
                st.apply_seed(data)
                return self.admin_json(200, {"ok": True})
            if path == "/__admin/bucket" and m == "POST":
                status = S3Front(self, st).admin_create_bucket(data["name"])
                return self.admin_json(200 if status in (200, 409) else 502,
                                       {"ok": status in (200, 409), "s3rver_status": status})
            if path == "/__admin/expire" and m == "POST":
                with st.lock:
                    rec = st.credentials.get(data.get("access_key_id", ""))
                    if rec is None or rec["kind"] != "session":
                        return self.admin_json(404, {"error": "no such session key"})
                    rec["expires"] = time.time() - 1
                return self.admin_json(200, {"ok": True})
            if path == "/__admin/ping" and m == "POST":
                # the SSM agent's PingStatus of a managed instance
                status = data.get("status", "Online")
                if status not in ("Online", "ConnectionLost", "Inactive"):
                    raise ValueError(f"unknown PingStatus {status!r}")
                with st.lock:
                    inst = st.instances.get(data.get("instance", st.args.instance))
                    if inst is None:
                        return self.admin_json(404, {"error": "no such instance"})
                    inst["PingStatus"] = status
                return self.admin_json(200, {"ok": True})
            if path == "/__admin/state" and m == "GET":
                return self.admin_json(200, self.admin_state())
        except (KeyError, ValueError, TypeError) as e:
            return self.admin_json(400, {"error": repr(e)})
        return self.admin_json(404, {"error": f"no admin route {m} {path}"})

    def admin_state(self):
        st = self.server.state
        svc = self.server.services
        with st.lock:
            return {
                "commands": [svc._command_view(c) for c in st.commands.values()],
                "log_groups": {g: {s: len(v["events"]) for s, v in d["streams"].items()}
                               for g, d in st.log_groups.items()},
                "sessions": [{"access_key_id": k, "arn": v["arn"], "expires": v["expires"]}
                             for k, v in st.credentials.items() if v["kind"] == "session"],
                "secrets": sorted(st.secrets), "instances": st.instances,
                "db_clusters": [c["DBClusterIdentifier"] for c in st.db_clusters],
                "db_instances": [i["DBInstanceIdentifier"] for i in st.db_instances],
            }


def classify(req):
    """(service, protocol, operation, extra) for an API request."""
    target = req.header("x-amz-target")
    if target:
        prefix, _, op = target.partition(".")
        service = JSON_TARGETS.get(prefix)
        if service is None:
            raise ApiError(400, "UnknownOperationException", f"unknown X-Amz-Target {target}")
        return service, "json", op, None
    ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
    flat = {}
    if req.path_raw in ("", "/"):
        if req.method == "POST" and ctype == "application/x-www-form-urlencoded":
            flat = dict(query_pairs(req.body.decode("utf-8", "replace").replace("+", "%20")))
        flat.update({k: v for k, v in query_pairs(req.query) if not k.startswith("X-Amz-")})
    if "Action" in flat:
        version = flat.get("Version")
        for service, (v, _ns) in QUERY_SERVICES.items():
            if v == version:
                return service, "query", flat["Action"], flat
        service = "rds" if flat["Action"].startswith(("DescribeDB", "CreateDB", "ModifyDB",
                                                      "DeleteDB")) else "sts"
        return service, "query", flat["Action"], flat
    return "s3", "s3", s3_operation(req), None


def s3_operation(req):
    path = req.path_raw.lstrip("/")
    bucket, _, key = path.partition("/")
    q = dict(query_pairs(req.query))
    m = req.method
    if not bucket:
        return "ListBuckets" if m == "GET" else "UnknownS3Operation"
    if not key:
        if m == "GET":
            if q.get("list-type") == "2":
                return "ListObjectsV2"
            for sub in ("location", "versioning", "policy", "acl", "tagging", "cors", "uploads",
                        "versions", "lifecycle", "encryption", "website", "notification"):
                if sub in q:
                    return {"location": "GetBucketLocation", "uploads": "ListMultipartUploads",
                            "versions": "ListObjectVersions"}.get(sub, "GetBucket" + sub.capitalize())
            return "ListObjects"
        if m == "HEAD":
            return "HeadBucket"
        if m == "PUT":
            return "CreateBucket" if not q else "PutBucketSubresource"
        if m == "DELETE":
            return "DeleteBucket" if not q else "DeleteBucketSubresource"
        if m == "POST" and "delete" in q:
            return "DeleteObjects"
        return "UnknownS3Operation"
    if m == "GET":
        return "GetObjectTagging" if "tagging" in q else "GetObject"
    if m == "HEAD":
        return "HeadObject"
    if m == "PUT":
        if "partNumber" in q:
            return "UploadPart"
        return "CopyObject" if req.header("x-amz-copy-source") else "PutObject"
    if m == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
    if m == "POST":
        return "CreateMultipartUpload" if "uploads" in q else "CompleteMultipartUpload"
    return "UnknownS3Operation"


def is_read(service, operation, req):
    if service == "s3":
        return req.method in ("GET", "HEAD")
    return operation.startswith(READ_PREFIXES) or operation in READONLY_ALLOWED or \
        operation == "GetCallerIdentity"


def denied(principal, service, operation, proto):
    action = f"{service}:{operation}"
    msg = (f"User: {principal.arn} is not authorized to perform: {action} because no "
           f"identity-based policy allows the {action} action")
    if proto == "s3":
        return ApiError(403, "AccessDenied", "Access Denied")
    if proto == "json":
        return ApiError(400, "AccessDeniedException", msg)
    return ApiError(403, "AccessDenied", msg)


# --------------------------------------------------------------------------
# S3 in front of s3rver

class S3Front:
    HOP = {"connection", "keep-alive", "transfer-encoding", "date", "server", "content-length",
           "vary", "proxy-connection", "te", "trailer", "upgrade"}
    STRIP_UP = HOP | {"authorization", "x-amz-security-token", "host", "expect"}

    def __init__(self, handler, state):
        self.h, self.st = handler, state
        u = urlsplit(state.args.s3_upstream)
        self.up_host, self.up_port = u.hostname, u.port or 80
        self.data_dir = state.args.s3_data

    def upstream(self, method, target, headers, body):
        conn = http.client.HTTPConnection(self.up_host, self.up_port, timeout=120)
        try:
            hdrs = dict(headers)
            hdrs["Host"] = f"{self.up_host}:{self.up_port}"
            hdrs["Content-Length"] = str(len(body))
            conn.request(method, target, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.getheaders(), data
        finally:
            conn.close()

    def upstream_ok(self):
        try:
            self.upstream("GET", "/", {}, b"")
            return True
        except OSError:
            return False

    def admin_create_bucket(self, name):
        return self.upstream("PUT", "/" + quote(name), {}, b"")[0]

    def handle(self, req, operation):
        bucket, _, key = req.path_raw.lstrip("/").partition("/")
        bucket = unquote(bucket)
        q = dict(query_pairs(req.query))
        if operation in ("ListObjectsV2", "ListObjects"):
            return self.list_objects(bucket, q, operation == "ListObjectsV2")
        if operation == "GetBucketLocation":
            self.require_bucket(bucket)
            loc = "" if self.st.region == "us-east-1" else self.st.region
            return self.send(200, '<?xml version="1.0" encoding="UTF-8"?>\n'
                             f'<LocationConstraint xmlns="{S3_NS}">{loc}</LocationConstraint>')
        if operation == "HeadBucket":
            self.require_bucket(bucket)
            return self.send(200, b"", [("x-amz-bucket-region", self.st.region),
                                        ("x-amz-access-point-alias", "false")])
        if operation == "CreateBucket":
            self.check_location(req.body)
        return self.forward(req, operation)

    # -- pass-through ---------------------------------------------------------
    def forward(self, req, operation):
        target = req.path_raw
        q = [p for p in req.query.split("&") if p and not unquote(p.partition("=")[0]).startswith("X-Amz-")]
        if q:
            target += "?" + "&".join(q)
        hdrs = [(k, v) for k, v in req.raw_headers if k not in self.STRIP_UP]
        body = b"" if operation == "CreateBucket" else req.body
        try:
            status, headers, data = self.upstream(req.method, target, hdrs, body)
        except OSError as e:
            raise ApiError(503, "ServiceUnavailable", f"s3rver is not reachable: {e}")
        out, length = [], None
        ctype = ""
        for k, v in headers:
            lk = k.lower()
            if lk == "content-length":
                length = int(v)
            if lk in self.HOP or lk.startswith("access-control-"):
                continue
            if lk == "content-type":
                ctype = v
            out.append((k, v))
        if status >= 300 and b"<Error>" in data:
            code = re.search(rb"<Code>([^<]*)</Code>", data)
            msg = re.search(rb"<Message>([^<]*)</Message>", data)
            code = code.group(1).decode() if code else "InternalError"
            if code == "BucketAlreadyExists":  # every bucket here is the caller's own
                code = "BucketAlreadyOwnedByYou"
                msg = None
                raise ApiError(409, code, "Your previous request to create the named bucket "
                               "succeeded and you already own it.", [("BucketName", unquote(target.lstrip("/")))])
            extra = re.findall(rb"<(Key|BucketName|Resource|ArgumentName|ArgumentValue|Condition)>([^<]*)</\1>", data)
            raise ApiError(status, code, msg.group(1).decode() if msg else "",
                           [(k.decode(), _xml_unescape(v.decode())) for k, v in extra])
        if status >= 400 and req.method == "HEAD":
            raise ApiError(status, "NotFound" if status == 404 else str(status), "")
        if data and ("xml" in ctype or data.lstrip().startswith(b"<?xml")):
            data = data.replace(S3RVER_NS.encode(), S3_NS.encode())
            data = re.sub(rb"<Owner><ID>[^<]*</ID><DisplayName>S3rver</DisplayName></Owner>",
                          f"<Owner><ID>{OWNER_ID}</ID><DisplayName>tarmac</DisplayName></Owner>"
                          .encode(), data)
        if operation in ("PutObject", "CreateBucket", "DeleteObject") and not data:
            out = [(k, v) for k, v in out if k.lower() != "content-type"]
        if operation == "CreateBucket" and status == 200:
            out = [(k, v) for k, v in out if k.lower() != "location"] + \
                  [("Location", "/" + req.path_raw.lstrip("/"))]
        return self.send(status, data, out, head_length=length)

    def send(self, status, body, headers=(), head_length=None, content_type=None):
        rid = uuid.uuid4().hex[:16].upper()
        hdrs = list(headers) + [("x-amz-request-id", rid),
                                ("x-amz-id-2", b64(hashlib.sha256(rid.encode()).digest()))]
        if content_type is None and body and not any(k.lower() == "content-type" for k, _ in hdrs):
            content_type = "application/xml"
        self.h.respond(status, body, hdrs, content_type, head_length=head_length)
        return status

    def check_location(self, body):
        region = self.st.region
        m = re.search(rb"<LocationConstraint>\s*([^<]*?)\s*</LocationConstraint>", body or b"")
        loc = m.group(1).decode() if m else ""
        if region == "us-east-1" and loc in ("", "us-east-1"):
            return
        if not loc:
            raise ApiError(400, "IllegalLocationConstraintException",
                           "The unspecified location constraint is incompatible for the region "
                           "specific endpoint this request was sent to.")
        if loc != region:
            raise ApiError(400, "IllegalLocationConstraintException",
                           f"The {loc} location constraint is incompatible for the region "
                           "specific endpoint this request was sent to.")

    # -- listing, done here because s3rver's own listing walks its directory
    #    tree (not key order) and so pages wrongly past 1,000 keys -------------
    def bucket_dir(self, bucket):
        if not bucket or "/" in bucket or bucket in (".", ".."):
            return None
        d = os.path.join(self.data_dir, bucket)
        return d if os.path.isdir(d) else None

    def require_bucket(self, bucket):
        if self.bucket_dir(bucket) is None:
            raise ApiError(404, "NoSuchBucket", "The specified bucket does not exist",
                           [("BucketName", bucket)])

    def all_keys(self, bdir):
        keys = []
        for root, _dirs, files in os.walk(bdir):
            rel = os.path.relpath(root, bdir)
            rel = "" if rel == "." else rel + "/"
            for f in files:
                if f.endswith(S3RVER_SUFFIX):
                    keys.append(rel + f[:-len(S3RVER_SUFFIX)])
        keys.sort(key=utf8)
        return keys

    def object_info(self, bdir, key):
        path = os.path.join(bdir, key + S3RVER_SUFFIX)
        st = os.stat(path)
        try:
            with open(path + ".md5", encoding="ascii") as f:
                md5 = f.read().strip()
        except OSError:
            h = hashlib.md5()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            md5 = h.hexdigest()
        return st.st_size, st.st_mtime, f'"{md5}"'

    def list_objects(self, bucket, q, v2):
        bdir = self.bucket_dir(bucket)
        if bdir is None:
            self.require_bucket(bucket)
        prefix, delim = q.get("prefix", ""), q.get("delimiter", "")
        enc = q.get("encoding-type")
        if enc not in (None, "url"):
            raise ApiError(400, "InvalidArgument", "Invalid Encoding Method specified in Request",
                           [("ArgumentName", "encoding-type"), ("ArgumentValue", enc)])
        raw_max = q.get("max-keys", "1000")
        if not re.fullmatch(r"\d+", raw_max):
            raise ApiError(400, "InvalidArgument", "Provided max-keys not an integer or within "
                           "integer range", [("ArgumentName", "max-keys"), ("ArgumentValue", raw_max)])
        max_keys = min(int(raw_max), 1000)
        skip_prefix = None
        token = q.get("continuation-token") if v2 else None
        if token is not None:
            start, skip_prefix = self.decode_token(bucket, token)
        else:
            start = q.get("start-after", "") if v2 else q.get("marker", "")
        start_b = utf8(start)
        items, truncated, seen = [], False, set()
        for k in self.all_keys(bdir):
            if utf8(k) <= start_b or not k.startswith(prefix):
                continue
            if skip_prefix and k.startswith(skip_prefix):
                continue
            entry = ("k", k)
            if delim:
                i = k.find(delim, len(prefix))
                if i >= 0:
                    cp = k[:i + len(delim)]
                    if cp in seen:
                        continue
                    entry = ("p", cp)
            if len(items) >= max_keys:
                truncated = True
                break
            items.append(entry)
            if entry[0] == "p":
                seen.add(entry[1])
        e = (lambda s: quote_plus(s, safe="")) if enc == "url" else (lambda s: s)
        x = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<ListBucketResult xmlns="{S3_NS}">',
             xml_text("Name", bucket), xml_text("Prefix", e(prefix))]
        if v2:
            if token is not None:
                x.append(xml_text("ContinuationToken", token))
            if q.get("start-after") is not None:
                x.append(xml_text("StartAfter", e(q["start-after"])))
            if truncated:
                x.append(xml_text("NextContinuationToken", self.encode_token(bucket, items[-1])))
            x.append(xml_text("KeyCount", len(items)))
        else:
            x.append(xml_text("Marker", e(start)))
            if truncated and delim:
                x.append(xml_text("NextMarker", e(items[-1][1])))
        x.append(xml_text("MaxKeys", max_keys))
        if delim:
            x.append(xml_text("Delimiter", e(delim)))
        if enc:
            x.append(xml_text("EncodingType", enc))
        x.append(xml_text("IsTruncated", "true" if truncated else "false"))
        owner = f"<Owner><ID>{OWNER_ID}</ID><DisplayName>tarmac</DisplayName></Owner>"
        fetch_owner = (not v2) or q.get("fetch-owner") == "true"
        for kind, k in items:
            if kind != "k":
                continue
            try:
                size, mtime, etag = self.object_info(bdir, k)
            except OSError:
                continue
            x.append("<Contents>" + xml_text("Key", e(k)) +
                     xml_text("LastModified", iso8601(mtime)) + xml_text("ETag", etag) +
                     xml_text("Size", size) + (owner if fetch_owner else "") +
                     xml_text("StorageClass", "STANDARD") + "</Contents>")
        for kind, k in items:
            if kind == "p":
                x.append("<CommonPrefixes>" + xml_text("Prefix", e(k)) + "</CommonPrefixes>")
        x.append("</ListBucketResult>")
        return self.send(200, "".join(x))

    @staticmethod
    def encode_token(bucket, item):
        kind, value = item
        raw = b"\x01" + kind.encode() + utf8(bucket) + b"\x00" + utf8(value)
        return b64(hashlib.sha1(raw).digest()[:3] + raw)

    @staticmethod
    def decode_token(bucket, token):
        bad = ApiError(400, "InvalidArgument", "The continuation token provided is incorrect",
                       [("ArgumentName", "continuation-token"), ("ArgumentValue", token)])
        try:
            blob = base64.b64decode(token, validate=True)
        except ValueError:
            raise bad
        check, raw = blob[:3], blob[3:]
        if len(raw) < 3 or hashlib.sha1(raw).digest()[:3] != check or raw[0] != 1:
            raise bad
        kind = chr(raw[1])
        b, _, value = raw[2:].partition(b"\x00")
        if b != utf8(bucket):
            raise bad
        value = value.decode("utf-8", "surrogateescape")
        return (value, value) if kind == "p" else (value, None)


def _xml_unescape(s):
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


# --------------------------------------------------------------------------
# IMDSv2

class ImdsHandler(Handler):
    server_version = "EC2ws"

    def dispatch(self):
        st = self.server.state
        entry = {"time": time.time(), "listener": "imds", "method": self.command,
                 "path": self.path, "query": "", "service": "imds", "operation": None,
                 "access_key_id": None, "verdict": None, "status": None, "fault": None,
                 "error": None}
        try:
            self.read_body()
            status = self.route(entry)
            entry["status"] = status
        except ResetConnection:
            entry["status"] = "reset"
            self.reset_connection()
        except ApiError as e:
            entry["status"] = e.status
            self.text(e.status, e.message or http.client.responses.get(e.status, ""))
        finally:
            st.record(entry)

    def text(self, status, body, headers=(), ctype="text/plain"):
        self.respond(status, body, list(headers), ctype)
        return status

    def route(self, entry):
        st = self.server.state
        path = self.path.split("?", 1)[0]
        entry["operation"] = "GetToken" if path == "/latest/api/token" else "GetMetadata"
        fault = st.take_fault("imds", entry["operation"])
        if fault:
            entry["fault"] = fault["kind"]
            if fault["kind"] == "reset":
                raise ResetConnection()
            if fault["kind"] == "delay":
                time.sleep(float(fault.get("seconds", 1)))
            elif fault["kind"] == "expired-token":
                raise ApiError(401, "", "")
            else:
                status = {"500": 500, "503-slowdown": 503, "throttle": 429}.get(
                    fault["kind"], int(fault.get("status", 500)))
                raise ApiError(status, "", "")
        if path == "/latest/api/token":
            if self.command != "PUT":
                raise ApiError(405, "", "")
            if self.headers.get("X-Forwarded-For"):
                raise ApiError(403, "", "")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                raise ApiError(400, "", "")
            token = b64(os.urandom(42))
            with st.lock:
                st.imds_tokens[token] = time.time() + int(ttl)
            entry["verdict"] = "token-issued"
            return self.text(200, token, [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])
        if self.command not in ("GET", "HEAD"):
            raise ApiError(405, "", "")
        token = self.headers.get("X-aws-ec2-metadata-token")
        with st.lock:
            exp = st.imds_tokens.get(token or "")
        if exp is None or exp < time.time():
            entry["verdict"] = "no-token" if not token else "bad-token"
            raise ApiError(401, "", "")
        entry["verdict"] = "token-ok"
        return self.metadata(path)

    def metadata(self, path):
        st = self.server.state
        a = st.args
        iid = a.instance
        simple = {
            "/latest/meta-data/instance-id": iid,
            "/latest/meta-data/placement/region": st.region,
            "/latest/meta-data/placement/availability-zone": st.region + "a",
            "/latest/meta-data/placement/availability-zone/": st.region + "a",
            "/latest/meta-data/local-ipv4": "127.0.0.1",
            "/latest/meta-data/hostname": socket.gethostname(),
            "/latest/meta-data/iam/security-credentials": a.imds_role,
            "/latest/meta-data/iam/security-credentials/": a.imds_role,
            "/latest/meta-data/": "ami-id\nhostname\niam/\ninstance-id\nlocal-ipv4\nplacement/\n",
            "/latest/meta-data/placement/": "availability-zone\nregion\n",
            "/latest/meta-data/iam/": "info\nsecurity-credentials/\n",
            "/latest/meta-data/ami-id": "ami-0tarmac000000000",
        }
        if path in simple:
            return self.text(200, simple[path])
        if path == "/latest/meta-data/iam/info":
            return self.text(200, json.dumps({
                "Code": "Success", "LastUpdated": iso8601(time.time(), millis=False),
                "InstanceProfileArn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{a.imds_role}",
                "InstanceProfileId": "AIPATARMAC0000000001"}, indent=2))
        if path.rstrip("/") == f"/latest/meta-data/iam/security-credentials/{a.imds_role}":
            return self.text(200, json.dumps(self.credentials(), indent=2))
        if path == "/latest/dynamic/instance-identity/document":
            return self.text(200, json.dumps({
                "accountId": ACCOUNT, "instanceId": iid, "region": st.region,
                "availabilityZone": st.region + "a", "architecture": "x86_64",
                "imageId": "ami-0tarmac000000000", "instanceType": "t3.small",
                "privateIp": "127.0.0.1", "pendingTime": iso8601(time.time(), millis=False),
                "version": "2017-09-30"}, indent=2))
        raise ApiError(404, "", "Not Found")

    def credentials(self):
        st = self.server.state
        a = st.args
        with st.lock:
            cur = st.imds_creds
            rec = st.credentials.get(cur[0]) if cur else None
            left = rec["expires"] - time.time() if rec else -1
            if left < min(300, a.imds_expiry / 2):
                arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{a.imds_role}/{a.instance}"
                role_id = "AROA" + hashlib.sha1(a.imds_role.encode()).hexdigest()[:17].upper()
                akid, rec = st.mint_session(arn, f"{role_id}:{a.instance}", a.imds_expiry, False)
                st.imds_creds = (akid, time.time())
            akid, updated = st.imds_creds
            rec = st.credentials[akid]
        return {"Code": "Success", "LastUpdated": iso8601(updated, millis=False),
                "Type": "AWS-HMAC", "AccessKeyId": akid, "SecretAccessKey": rec["secret"],
                "Token": rec["token"], "Expiration": iso8601(rec["expires"], millis=False)}


# --------------------------------------------------------------------------

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    ap.add_argument("--imds-port", type=int, default=0, help="IMDS port (0: any free port)")
    ap.add_argument("--port-file", help="write {\"port\", \"imds_port\", \"pid\"} JSON here once listening")
    ap.add_argument("--region", default="eu-central-1")
    ap.add_argument("--s3-upstream", required=True, help="s3rver base URL, e.g. http://127.0.0.1:4568")
    ap.add_argument("--s3-data", required=True, help="s3rver's data directory (-d)")
    ap.add_argument("--state-dir", required=True, help="where SSM command scripts run")
    ap.add_argument("--seed", help="JSON: secrets, db_clusters, db_instances, instances, credentials")
    ap.add_argument("--instance", default="i-0123456789abcdef0",
                    help="the Flyway host's instance id (tag Role=flyway-host)")
    ap.add_argument("--extra-instance", action="append", default=[], help="another managed instance")
    ap.add_argument("--imds-role", default="tarmac-flyway-host")
    ap.add_argument("--imds-expiry", type=int, default=3600,
                    help="seconds until IMDS credentials expire")
    ap.add_argument("--ssm-delay", type=float, default=0.3,
                    help="seconds an invocation stays Pending before it runs")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)

    state = State(args)
    api = Server(("127.0.0.1", args.port), ApiHandler)
    imds = Server(("127.0.0.1", args.imds_port), ImdsHandler)
    args.bound_port, args.bound_imds_port = api.server_address[1], imds.server_address[1]
    services = Services(state)
    for srv in (api, imds):
        srv.state, srv.services = state, services
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    def stop(_sig, _frm):
        services.ssm_runner.kill_all()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"port": args.bound_port, "imds_port": args.bound_imds_port,
                       "pid": os.getpid()}, f)
        os.replace(tmp, args.port_file)
    print(f"emulator: api 127.0.0.1:{args.bound_port} imds 127.0.0.1:{args.bound_imds_port} "
          f"s3rver {args.s3_upstream}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
