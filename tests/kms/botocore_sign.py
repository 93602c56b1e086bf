"""The independent SigV4 signer for atrest's differential test: botocore's own SigV4Auth signs
COUNT generated requests (seeded, so a failure reproduces) and prints one JSON object per line:
the request as sent (method, host, path, query, headers, body), the credentials, region, service
and time, and botocore's canonical request and Authorization header.

    python botocore_sign.py SEED COUNT
"""
import json
import random
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from datetime import datetime, timezone

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
VALUE_CHARS = UNRESERVED + " !#$&'()*+,/:;=?@[]\"{}<>|^`\\%\t"


def word(rng, chars, lo, hi):
    return "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))


def encoded(rng, lo, hi):
    """Text as it appears in a URL: unreserved characters and %XX escapes."""
    out = []
    for _ in range(rng.randint(lo, hi)):
        if rng.random() < 0.2:
            out.append("%%%02X" % rng.randint(0, 255))
        else:
            out.append(rng.choice(UNRESERVED))
    return "".join(out)


def generate(rng):
    scheme = rng.choice(["https", "http"])
    host = rng.choice(["kms.us-west-2.amazonaws.com", "kms.cn-north-1.amazonaws.com.cn", "127.0.0.1",
                       "localhost", "kms-fips.eu-central-1.amazonaws.com", "vpce-1a2b.kms.eu-west-1.vpce.amazonaws.com"])
    port = rng.choice([None, None, 443, 80, 4566, 8443])
    netloc = host if port is None else "%s:%d" % (host, port)
    if rng.random() < 0.5:
        path = "/"
    else:
        path = "/" + "/".join(encoded(rng, 1, 8) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.3:
            path += "/"
    query = ""
    if rng.random() < 0.4:
        query = "&".join(encoded(rng, 1, 6) + ("=" + encoded(rng, 0, 8) if rng.random() < 0.8 else "")
                         for _ in range(rng.randint(1, 4)))
    method = rng.choice(["POST", "POST", "GET", "PUT"])
    target = rng.choice(["TrentService.Decrypt", "TrentService.GenerateDataKey", "TrentService.Encrypt"])
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    for _ in range(rng.randint(0, 4)):
        name = "X-" + word(rng, UNRESERVED.replace(".", "").replace("~", ""), 1, 10)
        value = rng.choice(["", " ", "  "]) + word(rng, VALUE_CHARS, 0, 20) + rng.choice(["", " ", "\t"])
        headers[name] = value
    if rng.random() < 0.2:
        headers["User-Agent"] = "atrest-test/" + word(rng, UNRESERVED, 1, 5)  # botocore leaves it unsigned
    body = "" if method == "GET" and rng.random() < 0.7 else json.dumps(
        {"KeyId": word(rng, UNRESERVED, 1, 40), "KeySpec": "AES_256", "Blob": word(rng, VALUE_CHARS, 0, 200)})
    access_key = "AKIA" + word(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16)
    secret = word(rng, UNRESERVED + "/+", 40, 40)
    token = word(rng, UNRESERVED + "/+=", 20, 300) if rng.random() < 0.4 else ""
    region = rng.choice(["us-east-1", "us-west-2", "eu-west-2", "cn-north-1", "ap-southeast-3", "us-gov-west-1"])
    service = rng.choice(["kms", "kms", "iam", "service"])
    when = datetime(rng.randint(2000, 2037), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                    rng.randint(0, 59), rng.randint(0, 59), tzinfo=timezone.utc)
    return scheme, netloc, path, query, method, headers, body, access_key, secret, token, region, service, when


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    for _ in range(count):
        scheme, netloc, path, query, method, headers, body, access_key, secret, token, region, service, when = generate(rng)
        url = "%s://%s%s" % (scheme, netloc, path) + ("?" + query if query else "")
        request = AWSRequest(method=method, url=url, headers=dict(headers), data=body.encode())
        signer = botocore.auth.SigV4Auth(Credentials(access_key, secret, token or None), service, region)
        captured = []
        original = signer.canonical_request
        signer.canonical_request = lambda r: captured.append(original(r)) or captured[-1]
        with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
            signer.add_auth(request)
        sent = [[k, v] for k, v in request.headers.items()]
        print(json.dumps({
            "method": method, "host": botocore.auth._host_from_url(url), "path": path, "query": query,
            "headers": [[k, v] for k, v in headers.items()], "body": body,
            "access_key": access_key, "secret": secret, "token": token, "region": region, "service": service,
            "amz_date": request.context["timestamp"], "canonical_request": captured[0],
            "authorization": request.headers["Authorization"], "sent_headers": sent,
        }))


if __name__ == "__main__":
    main()
