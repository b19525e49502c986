"""Tokens: made with `secrets`, compared in constant time, stored only as hashes."""

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 bits from the CSPRNG, as 64 hex characters (Auth.js `randomString(32)`)."""
    return secrets.token_hex(32)


def session_token_hash(raw: str, secret: str) -> str:
    """What the `sessions` table stores for a cookie value: HMAC-SHA256 keyed by AUTH_SECRET."""
    return hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()


def verification_token_hash(raw: str, secret: str) -> str:
    """Auth.js's own magic-link hash, sha256(token + secret), so a Next.js app can share rows."""
    return hashlib.sha256(f"{raw}{secret}".encode()).hexdigest()


def same_token(given: str, expected: str) -> bool:
    """Constant-time equality. `hmac.compare_digest` raises on text with non-ASCII
    characters, and a token never has any, so such text is simply not the token."""
    return given.isascii() and expected.isascii() and hmac.compare_digest(given, expected)


def csrf_cookie_value(token: str, secret: str) -> str:
    """Auth.js's double-submit cookie: `token|sha256(token + secret)`."""
    return f"{token}|{verification_token_hash(token, secret)}"


def csrf_token_from_cookie(cookie: str | None, secret: str) -> str | None:
    """The token part of a CSRF cookie whose signature holds, else None."""
    if not cookie or "|" not in cookie:
        return None
    token, signature = cookie.split("|", 1)
    if same_token(signature, verification_token_hash(token, secret)):
        return token
    return None
