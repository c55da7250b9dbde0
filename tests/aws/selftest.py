#!/usr/bin/python3
"""Self-test of tests/aws/emulator.py, driven by botocore clients (Debian's
python3-botocore) the way any SDK would drive AWS. Prints TAP lines and exits
non-zero when any check fails.

    python3 tests/aws/selftest.py [DIR]

DIR is a directory tests/aws/start.sh started (its aws-env is read). Without
DIR it uses $TARMAC_EMULATOR_DIR, and failing that starts its own emulator in
a temporary directory and stops it at the end.
"""

import os
import sys

# botocore must be Debian's (the one the emulator verifies with); a pyenv or
# pip python3 first on PATH would bring a different botocore.
if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
        os.path.exists("/usr/bin/python3") and not os.environ.get("TARMAC_SELFTEST_REEXEC"):
    os.environ["TARMAC_SELFTEST_REEXEC"] = "1"
    os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])

import atexit
import json
import shutil
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_env(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, _, v = line[len("export "):].partition("=")
                os.environ[k] = v
            elif line.startswith("unset "):
                for k in line.split()[1:]:
                    os.environ.pop(k, None)


IMDS_EXPIRY = 8  # seconds, when this run starts its own emulator


def bootstrap(args):
    """Finds the emulator to test, or starts one (start.sh also installs
    python3-botocore when missing, hence before botocore is imported).
    Returns the directory this run owns, or None."""
    if args:
        load_env(os.path.join(args[0], "aws-env"))
        return None
    d = os.environ.get("TARMAC_EMULATOR_DIR")
    if d and os.path.exists(os.path.join(d, "aws-env")):
        load_env(os.path.join(d, "aws-env"))
        return None
    own = tempfile.mkdtemp(prefix="tarmac-aws-")

    def cleanup():
        subprocess.run([os.path.join(HERE, "stop.sh"), own], stdout=subprocess.DEVNULL)
        shutil.rmtree(own, ignore_errors=True)

    atexit.register(cleanup)
    seed = os.path.join(own, "seed.json")
    with open(seed, "w") as f:
        json.dump({"secrets": {"seeded-by-file": {"username": "from-seed-file", "password": "x"}}}, f)
    t0 = time.time()
    subprocess.run([os.path.join(HERE, "start.sh"), own, "--imds-expiry", str(IMDS_EXPIRY)],
                   check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, TARMAC_EMULATOR_SEED=seed))
    print("# started emulator in %s in %.1fs" % (own, time.time() - t0), flush=True)
    load_env(os.path.join(own, "aws-env"))
    return own


OWN = bootstrap(sys.argv[1:]) if __name__ == "__main__" else None

import concurrent.futures
import datetime
import email.utils
import hashlib
import re
import traceback
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode, quote

import botocore.auth
import botocore.exceptions
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials, InstanceMetadataProvider
from botocore.utils import InstanceMetadataFetcher

REGION = "eu-central-1"
IID = "i-0123456789abcdef0"
BUCKET = "tarmac-selftest-%d" % (int(time.time() * 1000) % 10 ** 9)
ClientError = botocore.exceptions.ClientError


# -- TAP -----------------------------------------------------------------------

class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def ok(self, cond, what, diag=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, what), flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag)[:3000].splitlines()[:30]:
                    print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, what, f"got:  {got!r}\nwant: {want!r}")

    def run(self, name, fn):
        print(f"# {name}", flush=True)
        t0 = time.time()
        try:
            fn()
        except Exception:  # a crashed group is one failure, the rest still run
            self.ok(False, f"{name}: raised", traceback.format_exc())
        print(f"# {name}: {time.time() - t0:.1f}s", flush=True)


T = Tap()


def code_of(fn, *a, **kw):
    """Calls fn; returns the AWS error code it raised (None on success)."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


# -- environment -------------------------------------------------------------------

def admin(method, path, body=None):
    url = os.environ["TARMAC_EMULATOR_ADMIN"] + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def fault(service, kind, count=1, **kw):
    admin("POST", "/fault", dict(service=service, kind=kind, count=count, **kw))


SESSION = botocore.session.get_session()
ONE_TRY = Config(retries={"mode": "standard", "total_max_attempts": 1},
                 connect_timeout=5, read_timeout=30)


def client(service, akid=None, secret=None, token=None, region=REGION, config=ONE_TRY):
    return SESSION.create_client(
        service, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region,
        aws_access_key_id=akid or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=token, config=config)


def raw(method, path, service, body=b"", headers=None, when=None, secret=None, query=""):
    """A request signed by botocore's SigV4 signer at time `when` (epoch),
    sent with urllib: (status, headers, body). Lets tests sign at a chosen
    clock, or send bodies the SDK's serializer would never produce."""
    url = os.environ["AWS_ENDPOINT_URL"] + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    cls = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    signer = cls(Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                             secret or os.environ["AWS_SECRET_ACCESS_KEY"]), service, REGION)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when if when is not None else time.time()))
    req.context["timestamp"] = stamp
    signer._modify_request_before_signing(req)
    creq = signer.canonical_request(req)
    sig = signer.signature(signer.string_to_sign(req, creq), req)
    signer._inject_signature_to_request(req, sig)
    p = req.prepare()
    return send_raw(method, p.url, dict(p.headers.items()), p.body or b"")


def send_raw(method, url, headers, body=b""):
    r = urllib.request.Request(url, data=body if body else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def xml_code(body):
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else None


def json_type(body):
    try:
        return json.loads(body)["__type"]
    except (ValueError, KeyError):
        return None


# -- S3 ----------------------------------------------------------------------------------

SPECIAL_KEYS = ["dir one/a+b=c d.txt", "reports/Q1 résumé.txt", "unicode/ünïcödé Ω 日本語.sql",
                "plus+and=equals.sql", "pct/100% done+.txt", "tilde~star*paren(1)!'@,;$&.sql",
                "a", "a-b", "a/b", "V1__create_table_persons.sql"]


def s3_tests():
    s3 = client("s3")
    T.eq(code_of(s3.create_bucket, Bucket=BUCKET), "IllegalLocationConstraintException",
         "CreateBucket without LocationConstraint outside us-east-1 is refused like AWS")
    r = s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    T.eq(r["ResponseMetadata"]["HTTPStatusCode"], 200, "CreateBucket (signed PUT /bucket)")
    T.eq(code_of(s3.create_bucket, Bucket=BUCKET,
                 CreateBucketConfiguration={"LocationConstraint": REGION}),
         "BucketAlreadyOwnedByYou", "CreateBucket again -> BucketAlreadyOwnedByYou")
    T.eq(s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"], REGION, "GetBucketLocation")
    T.eq(s3.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region"),
         REGION, "HeadBucket carries x-amz-bucket-region")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    T.ok(BUCKET in names, "ListBuckets lists the bucket", names)

    bodies = {}
    for i, k in enumerate(SPECIAL_KEYS):
        bodies[k] = f"-- {k}\nSELECT {i};\n".encode()
        s3.put_object(Bucket=BUCKET, Key=k, Body=bodies[k], Metadata={"n": str(i)},
                      ContentType="application/sql")
    got = {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in SPECIAL_KEYS}
    T.ok(got == bodies, "PutObject/GetObject round-trip keys with spaces, +, =, %, unicode, "
         "sub-delims", {k: v for k, v in got.items() if bodies[k] != v})
    k = SPECIAL_KEYS[2]
    h = s3.head_object(Bucket=BUCKET, Key=k)
    T.eq((h["ContentLength"], h["ETag"], h["Metadata"]),
         (len(bodies[k]), '"%s"' % hashlib.md5(bodies[k]).hexdigest(), {"n": "2"}),
         "HeadObject: length, quoted ETag = MD5, user metadata")
    g = s3.get_object(Bucket=BUCKET, Key=k, Range="bytes=1-3")
    T.eq((g["ResponseMetadata"]["HTTPStatusCode"], g["ContentRange"], g["Body"].read()),
         (206, f"bytes 1-3/{len(bodies[k])}", bodies[k][1:4]), "GetObject with Range -> 206")
    T.eq(code_of(s3.get_object, Bucket=BUCKET, Key="nope.sql"), "NoSuchKey", "missing key -> NoSuchKey")
    T.eq(code_of(s3.head_object, Bucket=BUCKET, Key="nope.sql"), "404", "HeadObject missing -> 404")
    T.eq(code_of(s3.list_objects_v2, Bucket="no-such-bucket-here"), "NoSuchBucket",
         "ListObjectsV2 on a missing bucket -> NoSuchBucket")

    # 2,500 objects, listed in pages
    many = [f"many/V{i}__migration_{i:04d}.sql" for i in range(1, 2501)]
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode()), many))
    T.ok(True, "PutObject x 2,500 (%.1fs)" % (time.time() - t0))
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="many/"))
    keys = [c["Key"] for p in pages for c in p.get("Contents", [])]
    T.eq([p["KeyCount"] for p in pages], [1000, 1000, 500], "ListObjectsV2 pages 2,500 keys as 1000/1000/500")
    T.ok(keys == sorted(many, key=lambda s: s.encode()) and len(set(keys)) == 2500,
         "… every key once, in UTF-8 byte order, across continuation tokens")
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="many/", PaginationConfig={"PageSize": 700}))
    T.eq([p["KeyCount"] for p in pages], [700, 700, 700, 400], "MaxKeys=700 pages 700/700/700/400")
    v1 = [c["Key"] for p in s3.get_paginator("list_objects").paginate(Bucket=BUCKET, Prefix="many/")
          for c in p.get("Contents", [])]
    T.eq(len(v1), 2500, "ListObjects (v1) pages with Marker")

    one = [c["Key"] for p in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="a", PaginationConfig={"PageSize": 1}) for c in p.get("Contents", [])]
    T.eq(one, ["a", "a-b", "a/b"], "pages of 1 key walk 'a' < 'a-b' < 'a/b' (s3rver's own "
         "listing orders by directory walk and loses keys across pages)")
    every = [c["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
             for c in p.get("Contents", [])]
    T.eq(every, sorted(set(SPECIAL_KEYS) | set(many), key=lambda s: s.encode()),
         "the whole bucket lists in UTF-8 byte order (unicode keys last)")

    captured = {}

    def grab(http_response, **kw):
        captured["body"] = http_response.content

    s3.meta.events.register("after-call.s3.ListObjectsV2", grab)
    r = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/", MaxKeys=1000)
    s3.meta.events.unregister("after-call.s3.ListObjectsV2", grab)
    prefixes = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
    T.eq(prefixes, ["a/", "dir one/", "many/", "pct/", "reports/", "unicode/"],
         "Delimiter=/ rolls keys up into CommonPrefixes (decoded from encoding-type=url)")
    T.eq(sorted(c["Key"] for c in r["Contents"]),
         sorted(k for k in SPECIAL_KEYS if "/" not in k), "… and lists root keys")
    body = captured["body"]
    T.ok(b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' in body and
         b"<EncodingType>url</EncodingType>" in body and b"<Prefix>dir+one%2F</Prefix>" in body,
         "raw ListObjectsV2 XML: AWS xmlns, EncodingType=url, keys URL-encoded", body[:600])
    in_order = sorted(many, key=lambda s: s.encode())
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="many/", StartAfter=in_order[-3])
    T.eq([c["Key"] for c in r["Contents"]], in_order[-2:], "StartAfter")
    with_cp = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Delimiter="/", PaginationConfig={"PageSize": 2}))
    flat = [x for p in with_cp for x in [c["Key"] for c in p.get("Contents", [])] +
            [c["Prefix"] for c in p.get("CommonPrefixes", [])]]
    T.eq(sorted(flat), sorted(prefixes + [k for k in SPECIAL_KEYS if "/" not in k]),
         "pages of 2 with a delimiter: each prefix and key exactly once")
    st, _, b = send_raw("GET", os.environ["AWS_ENDPOINT_URL"] + f"/{BUCKET}?list-type=2&"
                        "continuation-token=bm90LWEtdG9rZW4%3D", {})
    T.ok(st in (400, 403), "a forged continuation token is refused", b)

    # presigned URLs
    k = SPECIAL_KEYS[0]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": k}, ExpiresIn=60)
    st, _, b = send_raw("GET", url, {})
    T.eq((st, b), (200, bodies[k]), "presigned GET URL (query SigV4) is verified and served")
    parts = urlsplit(url)
    q = [(a, (v[:-1] + ("0" if v[-1] != "0" else "1")) if a == "X-Amz-Signature" else v)
         for a, v in parse_qsl(parts.query)]
    bad = urlunsplit(parts._replace(query=urlencode(q, quote_via=quote)))
    st, _, b = send_raw("GET", bad, {})
    T.eq((st, xml_code(b)), (403, "SignatureDoesNotMatch"), "tampered presigned URL -> 403 SignatureDoesNotMatch")

    s3.delete_object(Bucket=BUCKET, Key="a")
    T.eq(code_of(s3.get_object, Bucket=BUCKET, Key="a"), "NoSuchKey", "DeleteObject")


# -- signatures --------------------------------------------------------------------------

def signature_tests():
    E = os.environ["AWS_ENDPOINT_URL"]
    bad = dict(akid=os.environ["AWS_ACCESS_KEY_ID"], secret="not-the-secret")
    T.eq(code_of(client("s3", **bad).list_objects_v2, Bucket=BUCKET), "SignatureDoesNotMatch",
         "S3 with a tampered secret -> SignatureDoesNotMatch")
    T.eq(code_of(client("s3", **bad).put_object, Bucket=BUCKET, Key="x", Body=b"x"),
         "SignatureDoesNotMatch", "S3 PUT with a tampered secret -> SignatureDoesNotMatch")
    T.eq(code_of(client("ssm", **bad).describe_instance_information), "InvalidSignatureException",
         "SSM with a tampered secret -> InvalidSignatureException")
    T.eq(code_of(client("sts", **bad).get_caller_identity), "SignatureDoesNotMatch",
         "STS with a tampered secret -> SignatureDoesNotMatch")
    T.eq(code_of(client("logs", **bad).describe_log_groups), "InvalidSignatureException",
         "Logs with a tampered secret -> InvalidSignatureException")
    nokey = dict(akid="AKIDNOSUCHKEY0000000", secret="x")
    T.eq(code_of(client("s3", **nokey).list_objects_v2, Bucket=BUCKET), "InvalidAccessKeyId",
         "S3 with an unknown key -> InvalidAccessKeyId")
    T.eq(code_of(client("sts", **nokey).get_caller_identity), "InvalidClientTokenId",
         "STS with an unknown key -> InvalidClientTokenId")
    T.eq(code_of(client("ssm", **nokey).describe_instance_information), "UnrecognizedClientException",
         "SSM with an unknown key -> UnrecognizedClientException")

    # The body is covered: change it after signing.
    ssm = client("ssm")

    def tamper(request, **kw):
        request.body = request.body.replace(b'"MaxResults": 5', b'"MaxResults": 6')

    ssm.meta.events.register("before-send.ssm.DescribeInstanceInformation", tamper)
    T.eq(code_of(ssm.describe_instance_information, MaxResults=5), "InvalidSignatureException",
         "JSON body changed after signing -> InvalidSignatureException")
    st, _, b = raw("PUT", f"/{BUCKET}/tamper.txt", "s3", body=b"original")
    T.eq(st, 200, "raw signed PUT accepted")
    s3 = client("s3")

    def tamper_s3(request, **kw):
        request.body = b"tampered"

    s3.meta.events.register("before-send.s3.PutObject", tamper_s3)
    T.eq(code_of(s3.put_object, Bucket=BUCKET, Key="tamper.txt", Body=b"original"),
         "XAmzContentSHA256Mismatch", "S3 body changed after signing -> XAmzContentSHA256Mismatch")

    st, _, b = send_raw("GET", f"{E}/{BUCKET}?list-type=2", {})
    T.eq((st, xml_code(b)), (403, "AccessDenied"), "unsigned S3 request -> 403 AccessDenied")
    st, _, b = send_raw("POST", E + "/", {"X-Amz-Target": "AmazonSSM.ListCommands",
                                          "Content-Type": "application/x-amz-json-1.1"}, b"{}")
    T.eq((st, json_type(b)), (400, "MissingAuthenticationTokenException"),
         "unsigned SSM request -> MissingAuthenticationTokenException")
    code = code_of(client("ssm", region="us-west-2").describe_instance_information)
    T.eq(code, "InvalidSignatureException", "SSM signed for another region -> InvalidSignatureException")
    T.eq(code_of(client("s3", region="us-west-2", config=Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        s3={"addressing_style": "path"})).list_objects_v2, Bucket=BUCKET, MaxKeys=1), None,
        "S3 signed for us-west-2: AuthorizationHeaderMalformed + region, botocore re-signs and succeeds")
    log = admin("GET", "/log")["requests"]
    T.ok(any(r["verdict"] == "wrong-region" and r["service"] == "s3" for r in log),
         "… the wrong-region attempt is in the request log")


# -- JSON model validation -----------------------------------------------------------

def validation_tests():
    loose = client("ssm", config=Config(parameter_validation=False,
                                        retries={"mode": "standard", "total_max_attempts": 1}))
    try:
        loose.send_command(InstanceIds=[IID], DocumentName="AWS-RunShellScript",
                           Parameters={"commands": ["true"]}, TimeoutSeconds=5)
        T.ok(False, "TimeoutSeconds=5 rejected")
    except ClientError as e:
        T.ok(e.response["Error"]["Code"] == "ValidationException" and
             "TimeoutSeconds" in e.response["Error"]["Message"],
             "SendCommand TimeoutSeconds=5 (< model min 30) -> ValidationException", e.response["Error"])
    T.eq(code_of(loose.get_command_invocation, CommandId="x", InstanceId=IID), "ValidationException",
         "GetCommandInvocation CommandId shorter than 36 -> ValidationException")
    T.eq(code_of(loose.send_command, InstanceIds=["i-123"], DocumentName="AWS-RunShellScript",
                 Parameters={"commands": ["true"]}), "ValidationException",
         "InstanceIds pattern checked (i-123) -> ValidationException")
    hdr = {"X-Amz-Target": "AmazonSSM.SendCommand", "Content-Type": "application/x-amz-json-1.1"}
    body = json.dumps({"InstanceIds": [IID], "Parameters": {"commands": "uname -a"}, "Bogus": 1}).encode()
    st, _, b = raw("POST", "/", "ssm", body=body, headers=hdr)
    msg = json.loads(b).get("message", "")
    T.ok(st == 400 and json_type(b) == "ValidationException" and "DocumentName" in msg and
         "Bogus" in msg and "Parameters.commands" in msg,
         "hand-made SendCommand body: missing, unknown and mistyped members all reported", b)
    st, _, b = raw("POST", "/", "ssm", body=b"{not json", headers=hdr)
    T.eq((st, json_type(b)), (400, "SerializationException"), "malformed JSON -> SerializationException")
    st, _, b = raw("POST", "/", "ssm", body=b"{}", headers=dict(hdr, **{"X-Amz-Target": "AmazonSSM.NoSuchOp"}))
    T.eq((st, json_type(b)), (400, "UnknownOperationException"), "unknown X-Amz-Target -> UnknownOperationException")
    sts = client("sts", config=Config(parameter_validation=False,
                                      retries={"mode": "standard", "total_max_attempts": 1}))
    T.eq(code_of(sts.assume_role, RoleArn="arn:aws:iam::123456789012:role/x"), "ValidationError",
         "STS AssumeRole without RoleSessionName (query form) -> ValidationError")


# -- SSM + CloudWatch Logs ---------------------------------------------------------------

TERMINAL = ("Success", "Failed", "Cancelled", "TimedOut")


def wait_invocation(ssm, cid, iid=IID, until=TERMINAL, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            inv = ssm.get_command_invocation(CommandId=cid, InstanceId=iid)
            if inv["Status"] in until:
                return inv
        except ClientError as e:
            if e.response["Error"]["Code"] != "InvocationDoesNotExist":
                raise
        time.sleep(0.1)
    raise AssertionError(f"command {cid} not {until} within {timeout}s")


def ssm_tests():
    ssm, logs = client("ssm"), client("logs")
    info = ssm.describe_instance_information()["InstanceInformationList"]
    mine = [i for i in info if i["InstanceId"] == IID]
    T.ok(mine and mine[0]["PingStatus"] == "Online" and mine[0]["AgentVersion"] and
         mine[0]["PlatformName"], "DescribeInstanceInformation: the Flyway host is Online", info)
    f = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [IID]}],
                                          MaxResults=5)["InstanceInformationList"]
    T.eq([i["InstanceId"] for i in f], [IID], "DescribeInstanceInformation filter by InstanceIds")

    script = "for i in 1 2 3; do echo line $i; sleep 1; done; echo err >&2; exit 3"
    cmd = ssm.send_command(InstanceIds=[IID], DocumentName="AWS-RunShellScript",
                           Parameters={"commands": [script]}, Comment="selftest stream",
                           CloudWatchOutputConfig={"CloudWatchOutputEnabled": True})["Command"]
    cid = cmd["CommandId"]
    T.eq((cmd["Status"], len(cid)), ("Pending", 36), "SendCommand -> Pending, 36-char CommandId")
    group = "/aws/ssm/AWS-RunShellScript"
    out_stream = f"{cid}/{IID}/aws-runShellScript/stdout"
    seen, token, statuses, early, running_empty = [], None, [], None, True
    end = time.time() + 30
    inv = None
    while time.time() < end:
        try:
            inv = ssm.get_command_invocation(CommandId=cid, InstanceId=IID)
        except ClientError as e:
            if e.response["Error"]["Code"] == "InvocationDoesNotExist":
                continue
            raise
        statuses.append(inv["Status"])
        if inv["Status"] == "InProgress" and inv["StandardOutputContent"]:
            running_empty = False
        kw = {"logGroupName": group, "logStreamName": out_stream, "startFromHead": True}
        if token:
            kw["nextToken"] = token
        try:
            r = logs.get_log_events(**kw)
            new = [e["message"] for e in r["events"]]
            if new and inv["Status"] == "InProgress" and early is None:
                early = list(seen + new)
            seen += new
            token = r["nextForwardToken"]
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        if inv["Status"] in TERMINAL:
            break
        time.sleep(0.2)
    r = logs.get_log_events(logGroupName=group, logStreamName=out_stream, startFromHead=True,
                            nextToken=token)
    seen += [e["message"] for e in r["events"]]
    T.ok(statuses and statuses[0] in ("Pending", "InProgress") and "InProgress" in statuses,
         "GetCommandInvocation goes Pending/InProgress while running", statuses[:5])
    T.ok(early is not None and "line 3" not in early,
         "stdout lines reach GetLogEvents while the command still runs", early)
    T.eq(seen, ["line 1", "line 2", "line 3"], "forward tokens resume without repeats or gaps")
    T.eq(r["nextForwardToken"], token, "at the end GetLogEvents hands the same forward token back")
    T.ok(running_empty, "StandardOutputContent stays empty until the invocation finishes")
    T.eq((inv["Status"], inv["StatusDetails"], inv["ResponseCode"]), ("Failed", "Failed", 3),
         "exit 3 -> Failed with ResponseCode 3")
    T.eq((inv["StandardOutputContent"], inv["StandardErrorContent"]), ("line 1\nline 2\nline 3\n", "err\n"),
         "StandardOutputContent / StandardErrorContent when finished")
    T.ok(inv["ExecutionStartDateTime"] and inv["ExecutionEndDateTime"] and
         inv["ExecutionElapsedTime"].startswith("PT"), "execution times reported", inv)
    err = logs.get_log_events(logGroupName=group, startFromHead=True,
                              logStreamName=f"{cid}/{IID}/aws-runShellScript/stderr")
    T.eq([e["message"] for e in err["events"]], ["err"], "stderr in its own stream")
    T.eq(code_of(logs.get_log_events, logGroupName=group, logStreamName=f"{cid}/nope/stdout"),
         "ResourceNotFoundException", "missing stream -> ResourceNotFoundException")
    T.eq(code_of(ssm.get_command_invocation, CommandId="00000000-0000-0000-0000-000000000000",
                 InstanceId=IID), "InvocationDoesNotExist", "unknown command -> InvocationDoesNotExist")

    # a big output is cut the way AWS cuts it
    big = ssm.send_command(InstanceIds=[IID], DocumentName="AWS-RunShellScript",
                           Parameters={"commands": ["head -c 30000 /dev/zero | tr '\\0' x",
                                                    "head -c 9000 /dev/zero | tr '\\0' y >&2"]})
    inv = wait_invocation(ssm, big["Command"]["CommandId"])
    T.eq((inv["Status"], len(inv["StandardOutputContent"]), len(inv["StandardErrorContent"])),
         ("Success", 24000 + len("--output truncated--"), 8000 + len("--output truncated--")),
         "stdout cut at 24,000 and stderr at 8,000 characters (+ the agent's marker)")
    T.eq(code_of(logs.get_log_events, logGroupName=group,
                 logStreamName=f"{big['Command']['CommandId']}/{IID}/aws-runShellScript/stdout"),
         "ResourceNotFoundException", "no CloudWatchOutputConfig -> no log stream (as on AWS)")

    # targets by tag, custom log group, ListCommands/ListCommandInvocations
    tag = ssm.send_command(Targets=[{"Key": "tag:Role", "Values": ["flyway-host"]}],
                           DocumentName="AWS-RunShellScript", Comment="selftest tag",
                           Parameters={"commands": ["echo via-tag"]},
                           CloudWatchOutputConfig={"CloudWatchOutputEnabled": True,
                                                   "CloudWatchLogGroupName": "/tarmac/ssm"})["Command"]
    inv = wait_invocation(ssm, tag["CommandId"])
    T.eq((inv["Status"], inv["ResponseCode"], inv["StandardOutputContent"]), ("Success", 0, "via-tag\n"),
         "Targets tag:Role=flyway-host runs on the Flyway host -> Success")
    ev = logs.get_log_events(logGroupName="/tarmac/ssm", startFromHead=True,
                             logStreamName=f"{tag['CommandId']}/{IID}/aws-runShellScript/stdout")
    T.eq([e["message"] for e in ev["events"]], ["via-tag"], "output in the requested log group")
    cmds = ssm.list_commands()["Commands"]
    T.eq(cmds[0]["CommandId"], tag["CommandId"], "ListCommands newest first")
    T.ok(isinstance(cmds[0]["RequestedDateTime"], datetime.datetime) and
         cmds[0]["Comment"] == "selftest tag" and cmds[0]["Status"] == "Success",
         "ListCommands: Comment, Status, RequestedDateTime", cmds[0])
    ours = {c["CommandId"] for c in ssm.list_commands(InstanceId=IID)["Commands"]}
    T.ok({cid, tag["CommandId"]} <= ours, "ListCommands filtered by InstanceId")
    T.eq(ssm.list_commands(InstanceId="i-0fedcba9876543210")["Commands"], [],
         "ListCommands for another instance is empty")
    T.eq([c["Status"] for c in ssm.list_commands(CommandId=cid)["Commands"]], ["Failed"],
         "ListCommands by CommandId")
    inv = ssm.list_command_invocations(CommandId=tag["CommandId"], Details=True)["CommandInvocations"]
    T.ok(len(inv) == 1 and inv[0]["InstanceId"] == IID and
         inv[0]["CommandPlugins"][0]["Output"] == "via-tag\n" and
         inv[0]["CommandPlugins"][0]["Name"] == "aws:runShellScript",
         "ListCommandInvocations Details=true", inv)
    T.eq(code_of(ssm.send_command, InstanceIds=["i-00000000000000000"], DocumentName="AWS-RunShellScript",
                 Parameters={"commands": ["true"]}), "InvalidInstanceId", "unknown instance -> InvalidInstanceId")

    # cancel kills the whole process group
    tmp = tempfile.mkdtemp(prefix="tarmac-selftest-")
    c = ssm.send_command(InstanceIds=[IID], DocumentName="AWS-RunShellScript",
                         Parameters={"commands": ["echo $$ > sh.pid", "sleep 60 & echo $! > sleep.pid",
                                                  "echo started", "wait"],
                                     "workingDirectory": [tmp]},
                         CloudWatchOutputConfig={"CloudWatchOutputEnabled": True})["Command"]
    wait_invocation(ssm, c["CommandId"], until=("InProgress",))
    end = time.time() + 10
    while time.time() < end and not os.path.exists(os.path.join(tmp, "sleep.pid")):
        time.sleep(0.05)
    time.sleep(0.1)
    pids = [int(open(os.path.join(tmp, n)).read()) for n in ("sh.pid", "sleep.pid")]
    t0 = time.time()
    ssm.cancel_command(CommandId=c["CommandId"])
    inv = wait_invocation(ssm, c["CommandId"], timeout=10)
    T.eq((inv["Status"], inv["ResponseCode"]), ("Cancelled", 137),
         "CancelCommand -> Cancelled (%.1fs)" % (time.time() - t0))
    alive = []
    time.sleep(0.2)
    for pid in pids:
        try:  # a killed orphan may linger as a zombie until init reaps it
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    alive.append(pid)
        except OSError:
            pass
    T.eq(alive, [], "… the shell and its background sleep are gone (process group killed)")
    shutil.rmtree(tmp, ignore_errors=True)
    T.eq(code_of(ssm.cancel_command, CommandId="00000000-0000-0000-0000-000000000000"),
         "InvalidCommandId", "CancelCommand unknown id -> InvalidCommandId")

    # CloudWatch Logs' own API
    g = "/selftest/logs-%d" % int(time.time() * 1000)
    logs.create_log_group(logGroupName=g)
    T.eq(code_of(logs.create_log_group, logGroupName=g), "ResourceAlreadyExistsException",
         "CreateLogGroup twice -> ResourceAlreadyExistsException")
    logs.create_log_stream(logGroupName=g, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=g, logStreamName="s",
                        logEvents=[{"timestamp": now + i, "message": f"m{i}"} for i in range(3)])
    r1 = logs.get_log_events(logGroupName=g, logStreamName="s", startFromHead=True, limit=2)
    r2 = logs.get_log_events(logGroupName=g, logStreamName="s", startFromHead=True,
                             nextToken=r1["nextForwardToken"])
    r3 = logs.get_log_events(logGroupName=g, logStreamName="s", startFromHead=True,
                             nextToken=r2["nextForwardToken"])
    T.eq(([e["message"] for e in r1["events"]], [e["message"] for e in r2["events"]], r3["events"],
          r3["nextForwardToken"] == r2["nextForwardToken"]),
         (["m0", "m1"], ["m2"], [], True), "PutLogEvents + GetLogEvents paging with limit")
    tail = logs.get_log_events(logGroupName=g, logStreamName="s", limit=1)
    T.eq([e["message"] for e in tail["events"]], ["m2"], "GetLogEvents without startFromHead reads the tail")
    T.eq(code_of(logs.get_log_events, logGroupName=g, logStreamName="s", nextToken="garbage"),
         "InvalidParameterException", "a malformed nextToken -> InvalidParameterException")
    fl = logs.filter_log_events(logGroupName=g, filterPattern="m1")
    T.eq([e["message"] for e in fl["events"]], ["m1"], "FilterLogEvents")
    T.eq([s["logStreamName"] for s in logs.describe_log_streams(logGroupName=g)["logStreams"]], ["s"],
         "DescribeLogStreams")


# -- Secrets Manager, RDS, STS, IMDS -----------------------------------------------------

def secrets_rds_tests(self_started):
    arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:selftest-users-flyway"
    secret = {"engine": "postgres", "host": "127.0.0.1", "username": "flyway",
              "password": "s3cr3t/+=", "dbname": "users", "port": 5432}
    admin("POST", "/seed", {"secrets": {arn: secret, "selftest-products": {"username": "u",
                                                                            "password": "p"}}})
    sm = client("secretsmanager")
    r = sm.get_secret_value(SecretId=arn)
    T.eq((r["ARN"], r["Name"], json.loads(r["SecretString"])), (arn, "selftest-users-flyway", secret),
         "GetSecretValue by ARN")
    r = sm.get_secret_value(SecretId="selftest-products")
    T.ok(r["ARN"].startswith("arn:aws:secretsmanager:eu-central-1:123456789012:secret:selftest-products-")
         and json.loads(r["SecretString"])["password"] == "p" and "AWSCURRENT" in r["VersionStages"],
         "GetSecretValue by name", r)
    T.eq(code_of(sm.get_secret_value, SecretId="nope"), "ResourceNotFoundException",
         "GetSecretValue unknown -> ResourceNotFoundException")
    if self_started:
        r = sm.get_secret_value(SecretId="seeded-by-file")
        T.eq(json.loads(r["SecretString"])["username"], "from-seed-file", "--seed FILE secrets are served")

    ids = [f"selftest-c{i:02d}" for i in range(25)]
    admin("POST", "/seed", {"db_clusters": [
        {"DBClusterIdentifier": c, "Engine": "aurora-postgresql" if i % 2 else "aurora-mysql",
         "DatabaseName": "appdb", "IAMDatabaseAuthenticationEnabled": True,
         "DBClusterMembers": [{"DBInstanceIdentifier": c + "-1", "IsClusterWriter": True}]}
        for i, c in enumerate(ids)],
        "db_instances": [{"DBInstanceIdentifier": ids[0] + "-1", "DBClusterIdentifier": ids[0],
                          "Engine": "aurora-mysql"}]})
    rds = client("rds")
    flt = [{"Name": "db-cluster-id", "Values": ids}]
    p1 = rds.describe_db_clusters(Filters=flt, MaxRecords=20)
    p2 = rds.describe_db_clusters(Filters=flt, MaxRecords=20, Marker=p1["Marker"])
    T.eq((len(p1["DBClusters"]), "Marker" in p1, len(p2["DBClusters"]), "Marker" in p2),
         (20, True, 5, False), "DescribeDBClusters Marker pagination 20 + 5")
    c = rds.describe_db_clusters(DBClusterIdentifier=ids[1])["DBClusters"][0]
    T.ok(c["Engine"] == "aurora-postgresql" and c["Port"] == 5432 and c["DatabaseName"] == "appdb" and
         c["Endpoint"].startswith(ids[1] + ".cluster-") and c["IAMDatabaseAuthenticationEnabled"] is True
         and c["DBClusterMembers"][0]["IsClusterWriter"] is True,
         "DescribeDBClusters by id (XML, 2014-10-31 namespace, parsed by botocore)", c)
    pg = rds.describe_db_clusters(Filters=flt + [{"Name": "engine", "Values": ["aurora-postgresql"]}])
    T.eq(len(pg["DBClusters"]), 12, "DescribeDBClusters engine filter")
    T.eq(code_of(rds.describe_db_clusters, DBClusterIdentifier="nope"), "DBClusterNotFoundFault",
         "unknown cluster -> DBClusterNotFoundFault")
    i = rds.describe_db_instances(DBInstanceIdentifier=ids[0] + "-1")["DBInstances"][0]
    T.ok(i["Endpoint"]["Port"] == 3306 and i["DBClusterIdentifier"] == ids[0],
         "DescribeDBInstances", i)


def sts_tests():
    sts = client("sts")
    me = sts.get_caller_identity()
    T.eq((me["Account"], me["Arn"]), ("123456789012", "arn:aws:iam::123456789012:user/tarmac-test"),
         "GetCallerIdentity with the static test key")
    r = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/tarmac-deployer",
                        RoleSessionName="selftest", DurationSeconds=900)
    c = r["Credentials"]
    left = (c["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    T.ok(c["AccessKeyId"].startswith("ASIA") and 880 < left <= 901 and
         any(ch in c["SessionToken"] for ch in "/+="), "AssumeRole -> session credentials, "
         "Expiration in DurationSeconds", c)
    sess = dict(akid=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
    me = client("sts", **sess).get_caller_identity()
    T.eq(me["Arn"], "arn:aws:sts::123456789012:assumed-role/tarmac-deployer/selftest",
         "GetCallerIdentity with the session credentials")
    T.eq(client("s3", **sess).list_objects_v2(Bucket=BUCKET, MaxKeys=1)["KeyCount"], 1,
         "S3 with session credentials (signed X-Amz-Security-Token)")
    url = client("s3", **sess).generate_presigned_url("get_object", ExpiresIn=60,
                                                      Params={"Bucket": BUCKET, "Key": "a-b"})
    T.eq(send_raw("GET", url, {})[0], 200, "presigned URL with a session token")
    wrong = dict(sess, token=c["SessionToken"][:-4] + "AAAA")
    T.eq(code_of(client("s3", **wrong).list_objects_v2, Bucket=BUCKET), "InvalidToken",
         "S3 with a wrong session token -> InvalidToken")
    T.eq(code_of(client("sts", **wrong).get_caller_identity), "InvalidClientTokenId",
         "STS with a wrong session token -> InvalidClientTokenId")
    admin("POST", "/expire", {"access_key_id": c["AccessKeyId"]})
    T.eq(code_of(client("s3", **sess).list_objects_v2, Bucket=BUCKET), "ExpiredToken",
         "S3 with expired session credentials -> ExpiredToken")
    T.eq(code_of(client("ssm", **sess).list_commands), "ExpiredTokenException",
         "SSM with expired session credentials -> ExpiredTokenException")

    ro = dict(akid="AKIDTARMACREADONLY", secret="tarmac-readonly-secret")
    T.eq(client("s3", **ro).list_objects_v2(Bucket=BUCKET, MaxKeys=1)["KeyCount"], 1,
         "read-only key may list")
    T.eq(code_of(client("s3", **ro).put_object, Bucket=BUCKET, Key="x", Body=b"x"), "AccessDenied",
         "read-only key PutObject -> AccessDenied")
    T.eq(code_of(client("ssm", **ro).send_command, InstanceIds=[IID], DocumentName="AWS-RunShellScript",
                 Parameters={"commands": ["true"]}), "AccessDeniedException",
         "read-only key SendCommand -> AccessDeniedException")


def imds_tests():
    base = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
    st, _, _ = send_raw("GET", base + "/latest/meta-data/iam/security-credentials/", {})
    T.eq(st, 401, "IMDS GET without a token -> 401")
    st, hdr, token = send_raw("PUT", base + "/latest/api/token",
                              {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, b"")
    T.ok(st == 200 and token and hdr.get("X-aws-ec2-metadata-token-ttl-seconds") == "21600",
         "IMDSv2 PUT /latest/api/token")
    st, _, _ = send_raw("PUT", base + "/latest/api/token", {}, b"")
    T.eq(st, 400, "token PUT without a TTL -> 400")
    h = {"X-aws-ec2-metadata-token": token.decode()}
    st, _, role = send_raw("GET", base + "/latest/meta-data/iam/security-credentials/", h)
    T.eq((st, role), (200, b"tarmac-flyway-host"), "role name")
    st, _, body = send_raw("GET", base + "/latest/meta-data/iam/security-credentials/tarmac-flyway-host", h)
    cred = json.loads(body)
    T.ok(st == 200 and cred["Code"] == "Success" and cred["Type"] == "AWS-HMAC" and
         re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cred["Expiration"]),
         "role credentials JSON", cred)
    T.eq(send_raw("GET", base + "/latest/meta-data/placement/region", h)[2], REGION.encode(),
         "placement/region")
    me = client("sts", cred["AccessKeyId"], cred["SecretAccessKey"], cred["Token"]).get_caller_identity()
    T.eq(me["Arn"], f"arn:aws:sts::123456789012:assumed-role/tarmac-flyway-host/{IID}",
         "IMDS credentials work for signed calls")
    fetcher = InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=base)
    creds = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
    T.ok(creds is not None and creds.access_key == cred["AccessKeyId"],
         "botocore's own InstanceMetadataProvider loads them")
    if OWN is None:
        return
    # --imds-expiry: credentials really expire, and IMDS hands out new ones
    # before they do, so a client that refreshes keeps working.
    url = base + "/latest/meta-data/iam/security-credentials/tarmac-flyway-host"
    exp = datetime.datetime.strptime(cred["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    T.ok(exp - time.time() <= IMDS_EXPIRY + 1, f"Expiration is --imds-expiry ({IMDS_EXPIRY}s) ahead",
         cred["Expiration"])
    # Expiration is cut to whole seconds: the true expiry lies in [exp, exp + 1).
    time.sleep(max(0.0, exp - IMDS_EXPIRY / 2 - time.time()) + 1.5)
    new = json.loads(send_raw("GET", url, h)[2])
    T.ok(new["AccessKeyId"] != cred["AccessKeyId"], "near expiry IMDS serves fresh credentials")
    time.sleep(max(0.0, exp - time.time()) + 1.1)
    T.eq(code_of(client("sts", cred["AccessKeyId"], cred["SecretAccessKey"], cred["Token"]).get_caller_identity),
         "ExpiredToken", "the old IMDS credentials are rejected once expired")
    T.eq(client("s3", new["AccessKeyId"], new["SecretAccessKey"], new["Token"]).list_objects_v2(
        Bucket=BUCKET, MaxKeys=1)["KeyCount"], 1, "the refreshed ones work")


# -- faults ----------------------------------------------------------------------------------

def fault_tests():
    s3, ssm, sts = client("s3"), client("ssm"), client("sts")
    fault("s3", "500")
    try:
        s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1)
        T.ok(False, "fault 500 on S3")
    except ClientError as e:
        T.eq((e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]),
             (500, "InternalError"), "fault 500 -> S3 500 InternalError")
    fault("s3", "500")
    retrying = client("s3", config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    r = retrying.list_objects_v2(Bucket=BUCKET, MaxKeys=1)
    T.eq(r["ResponseMetadata"]["RetryAttempts"], 1, "… a retrying client gets through on attempt 2")
    fault("s3", "503-slowdown")
    T.eq(code_of(s3.list_objects_v2, Bucket=BUCKET), "SlowDown", "fault 503-slowdown -> S3 503 SlowDown")
    fault("ssm", "503-slowdown")
    T.eq(code_of(ssm.list_commands), "ThrottlingException", "fault 503-slowdown -> SSM ThrottlingException")
    fault("ssm", "throttle")
    try:
        ssm.list_commands()
        T.ok(False, "fault throttle on SSM")
    except ClientError as e:
        T.eq((e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]),
             (400, "ThrottlingException"), "fault throttle -> SSM 400 ThrottlingException")
    fault("sts", "throttle")
    T.eq(code_of(sts.get_caller_identity), "Throttling", "fault throttle -> STS Throttling")
    fault("ssm", "expired-token")
    T.eq(code_of(ssm.list_commands), "ExpiredTokenException", "fault expired-token -> SSM ExpiredTokenException")
    fault("s3", "expired-token")
    T.eq(code_of(s3.list_objects_v2, Bucket=BUCKET), "ExpiredToken", "fault expired-token -> S3 ExpiredToken")
    fault("ssm", "error", operation="GetCommandInvocation", status=400, code="InvocationDoesNotExist")
    T.eq(code_of(ssm.list_commands), None, "an operation-scoped fault leaves other operations alone")
    T.eq(code_of(ssm.get_command_invocation, CommandId="00000000-0000-0000-0000-000000000001",
                 InstanceId=IID), "InvocationDoesNotExist", "fault error: any code on one operation")

    fault("ssm", "reset")
    try:
        ssm.list_commands()
        T.ok(False, "fault reset")
    except botocore.exceptions.ClientError as e:
        T.ok(False, "fault reset -> connection error", e)
    except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as e:
        T.ok(True, f"fault reset -> connection dropped without a response ({type(e).__name__})")
    T.eq(code_of(ssm.list_commands), None, "… and the next request is served")

    # skew: the server's clock jumps one hour; clients must correct from Date
    fault("s3", "skew")
    st, hdr, body = raw("GET", f"/{BUCKET}", "s3", query="list-type=2&max-keys=1")
    server = email.utils.parsedate_to_datetime(hdr["Date"]).timestamp()
    T.ok(st == 403 and xml_code(body) == "RequestTimeTooSkewed" and
         abs(server - time.time() - 3600) < 60 and b"<ServerTime>" in body,
         "fault skew -> S3 403 RequestTimeTooSkewed, Date an hour ahead", body)
    st, _, body = raw("GET", f"/{BUCKET}", "s3", query="list-type=2&max-keys=1",
                      when=time.time() + (server - time.time()))
    T.eq(st, 200, "… re-signed with the server's time it is accepted")
    fault("ssm", "skew")
    hdr_t = {"X-Amz-Target": "AmazonSSM.ListCommands", "Content-Type": "application/x-amz-json-1.1"}
    st, hdr, body = raw("POST", "/", "ssm", body=b"{}", headers=hdr_t)
    T.ok(st == 400 and json_type(body) == "InvalidSignatureException" and
         b"Signature expired" in body, "fault skew -> SSM InvalidSignatureException 'Signature expired'",
         body)
    off = email.utils.parsedate_to_datetime(hdr["Date"]).timestamp() - time.time()
    st, _, body = raw("POST", "/", "ssm", body=b"{}", headers=hdr_t, when=time.time() + off)
    T.eq(st, 200, "… re-signed with the server's time it is accepted")
    st, _, _ = raw("POST", "/", "ssm", body=b"{}", headers=hdr_t)
    T.eq(st, 400, "… and uncorrected requests stay rejected while the skew lasts")

    base = os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
    fault("imds", "500")
    T.eq(send_raw("PUT", base + "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})[0],
         500, "fault 500 on IMDS")


def log_tests():
    rows = admin("GET", "/log")["requests"]
    api = [r for r in rows if r["listener"] == "api"]
    T.ok(len(api) > 2700, f"request log holds every API call of this run ({len(api)})")
    unchecked = [r for r in api if r["verdict"] is None and r["error"] != "UnknownOperationException"]
    T.eq(unchecked, [], "every API request carries a signature verdict")
    served = [r for r in api if isinstance(r["status"], int) and r["status"] < 300]
    T.ok(served and all(r["verdict"] == "ok" for r in served),
         "every request that was served had a verified signature")
    verdicts = {r["verdict"] for r in api}
    want = {"ok", "mismatch", "unknown-key", "unsigned", "skewed", "expired-token", "invalid-token",
            "wrong-region", "sha256-mismatch"}
    T.ok(want <= verdicts, "rejections are logged with their verdicts", sorted(verdicts))
    bugs = [r for r in rows if str(r.get("error", "")).startswith("emulator bug")]
    T.eq(bugs, [], "no request hit an emulator bug")
    imds = [r for r in rows if r["listener"] == "imds"]
    T.ok(imds and {"token-issued", "token-ok", "no-token"} <= {r["verdict"] for r in imds},
         "IMDS calls are logged too")


# ------------------------------------------------------------------------------------------

def main():
    admin("POST", "/reset")
    T.run("S3", s3_tests)
    T.run("signatures", signature_tests)
    T.run("model validation", validation_tests)
    T.run("SSM and CloudWatch Logs", ssm_tests)
    T.run("Secrets Manager and RDS", lambda: secrets_rds_tests(OWN is not None))
    T.run("STS and credentials", sts_tests)
    T.run("IMDSv2", imds_tests)
    T.run("faults", fault_tests)
    T.run("request log", log_tests)
    admin("POST", "/reset")
    print("1..%d" % T.n)
    print("# %d passed, %d failed" % (T.n - T.failed, T.failed))
    return 1 if T.failed else 0


if __name__ == "__main__":
    sys.exit(main())
