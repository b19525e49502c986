"""HTTP Signatures as Mastodon sends and checks them: draft-cavage (`Signature` with
`(request-target) host date digest`, rsa-sha256 or hs2019) written here on `cryptography`,
and RFC 9421 (`Signature-Input`, `@method @target-uri content-digest`) checked with
http-message-signatures. See docs/federation.md for the rules and why."""

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature as BadRsaSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from http_message_signatures import (
    HTTPMessageVerifier,
    HTTPSignatureComponentResolver,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures import HTTPMessageSignaturesException

# Mastodon's window: five minutes of validity plus an hour of clock skew in the past, an
# hour in the future.
MAX_AGE = timedelta(hours=1, minutes=5)
MAX_AHEAD = timedelta(hours=1)
CAVAGE_ALGORITHMS = {"rsa-sha256", "hs2019"}
_PARAMETER = re.compile(r'\s*([a-zA-Z]+)="([^"]*)"\s*(?:,|$)')


class SignatureError(Exception):
    """The request's signature is missing, malformed, stale or wrong (answered 401)."""


def http_date(at: datetime | None = None) -> str:
    return format_datetime(at or datetime.now(UTC), usegmt=True)


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise SignatureError("the key is not an RSA key of at least 2048 bits")
    return key


def _signing_string(names: list[str], method: str, target: str,
                    headers: Mapping[str, str]) -> bytes:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"the signed header {name!r} is missing")
    return "\n".join(lines).encode()


def sign_request(method: str, url: str, key_id: str, private_key: rsa.RSAPrivateKey,
                 body: bytes | None = None, accept: str | None = None,
                 at: datetime | None = None) -> dict[str, str]:
    """The headers that sign this request, cavage style, dated `at` (by default now: a
    fresh Date on every try). `body` must be the exact bytes sent."""
    parts = urlsplit(url)
    target = parts.path or "/"
    headers = {"host": parts.netloc, "date": http_date(at)}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["digest"] = digest(body)
        headers["content-type"] = "application/activity+json"
        names.append("digest")
    if accept is not None:
        headers["accept"] = accept
        names.append("accept")
    signed = private_key.sign(_signing_string(names, method, target, headers),
                              padding.PKCS1v15(), hashes.SHA256())
    headers["signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signed).decode()}"'
    )
    return headers


@dataclass(frozen=True)
class SignedRequest:
    """What a signature is checked against: `target` is the raw path and query as sent."""

    method: str
    url: str
    target: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Signature:
    key_id: str
    scheme: str  # "cavage" or "rfc9421"
    parameters: dict[str, str]


def _check_date(value: str | None, now: datetime) -> None:
    if not value:
        raise SignatureError("the Date header is missing")
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SignatureError("the Date header is not an HTTP date") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if at < now - MAX_AGE or at > now + MAX_AHEAD:
        raise SignatureError("the Date header is outside the accepted window")


def _check_digest(request: SignedRequest) -> None:
    given = request.headers.get("digest", "")
    for part in given.split(","):
        algorithm, _, value = part.strip().partition("=")
        if algorithm.lower() == "sha-256":
            if value != digest(request.body).partition("=")[2]:
                raise SignatureError("the Digest does not match the body")
            return
    raise SignatureError("the Digest header has no SHA-256 value")


def read_signature(request: SignedRequest) -> Signature:
    """Which key signed the request (checked later by `verify`, once the key is known)."""
    if "signature-input" in request.headers:
        match = re.search(r'keyid="([^"]+)"', request.headers["signature-input"])
        if not match:
            raise SignatureError("Signature-Input names no keyid")
        return Signature(match[1], "rfc9421", {})
    header = request.headers.get("signature")
    if not header:
        raise SignatureError("the request is not signed")
    parameters = dict(_PARAMETER.findall(header))
    if "keyId" not in parameters or "signature" not in parameters:
        raise SignatureError("the Signature header needs keyId and signature")
    return Signature(parameters["keyId"], "cavage", parameters)


def verify(request: SignedRequest, signature: Signature, public_key_pem: str,
           now: datetime | None = None) -> None:
    """Raise SignatureError unless `signature` holds for `request` with this key."""
    now = now or datetime.now(UTC)
    key = load_public_key(public_key_pem)
    if signature.scheme == "rfc9421":
        _verify_rfc9421(request, signature, key, now)
    else:
        _verify_cavage(request, signature, key, now)


def _verify_cavage(request: SignedRequest, signature: Signature, key: rsa.RSAPublicKey,
                   now: datetime) -> None:
    parameters = signature.parameters
    if parameters.get("algorithm", "hs2019").lower() not in CAVAGE_ALGORITHMS:
        raise SignatureError("the signature algorithm is not rsa-sha256 or hs2019")
    names = parameters.get("headers", "date").lower().split()
    if "date" not in names:
        raise SignatureError("the signature must cover date")
    if "(request-target)" not in names and "digest" not in names:
        raise SignatureError("the signature must cover (request-target) or digest")
    if request.method == "GET" and "host" not in names:
        raise SignatureError("a GET signature must cover host")
    if request.method == "POST":
        if "digest" not in names:
            raise SignatureError("a POST signature must cover digest")
        _check_digest(request)
    _check_date(request.headers.get("date"), now)
    try:
        signed = base64.b64decode(parameters["signature"], validate=True)
    except ValueError:
        raise SignatureError("the signature is not base64") from None
    # Mastodon signs the path without the query and checks both; so do we.
    path = request.target.partition("?")[0]
    for target in dict.fromkeys((request.target, path)):
        try:
            key.verify(signed, _signing_string(names, request.method, target, request.headers),
                       padding.PKCS1v15(), hashes.SHA256())
            return
        except BadRsaSignature:
            continue
    raise SignatureError("the signature does not match")


class _Message:
    """The request as http-message-signatures reads it."""

    def __init__(self, request: SignedRequest):
        self.method = request.method
        self.url = request.url
        self.headers = dict(request.headers)


def _verify_rfc9421(request: SignedRequest, signature: Signature, key: rsa.RSAPublicKey,
                    now: datetime) -> None:
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=MappingKeyResolver(public_keys={signature.key_id: key}, private_keys={}),
        component_resolver_class=HTTPSignatureComponentResolver,
    )
    verifier.max_clock_skew = MAX_AHEAD
    required = ["@method", "@target-uri"]
    body = None
    if request.method == "POST":
        required.append("content-digest")
        body = request.body
    try:
        verifier.verify(_Message(request), max_age=MAX_AGE, require_components=required,
                        body=body)
    except HTTPMessageSignaturesException as exc:
        raise SignatureError(f"the RFC 9421 signature does not hold: {exc}") from None
