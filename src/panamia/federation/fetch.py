"""Every request to another server goes through here: https only, the host resolved and
refused when any address is not public (loopback, private, link-local, CGNAT, …, also
inside IPv4-mapped, 6to4 and Teredo addresses), the connection made to the vetted address,
bodies capped while streaming, redirects re-checked (at most 3), time limited.

FEDERATION_ALLOW_PRIVATE_NETWORKS (tests and `panamia dev` only) allows http and any
address."""

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from panamia.settings import Settings

MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
# Not public though `is_global` may say so, as Mastodon's PrivateAddressCheck lists them.
NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "64:ff9b::/96", "64:ff9b:1::/48", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
)]

Signer = Callable[[str, str, bytes | None], dict[str, str]]  # (method, url, body) -> headers


class FetchRefused(Exception):
    """The address or scheme is not one we may reach."""


class FetchFailed(Exception):
    """The remote server could not be reached, took too long, or sent too much."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo and ip.teredo[1])
        if embedded:
            return is_public(str(embedded))
    return ip.is_global and not any(ip in network for network in NOT_PUBLIC)


async def vetted_address(host: str, port: int, allow_private: bool) -> str:
    """An address of `host` to connect to; FetchRefused if any of its addresses is not
    public (a name resolving to one private address is refused whole)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchFailed(f"{host} does not resolve") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise FetchRefused(f"{host} resolves to a non-public address ({refused[0]})")
    return addresses[0]


def check_url(url: str, allow_private: bool) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise FetchRefused(f"only https URLs are fetched, not {url[:200]!r}")
    if not parts.hostname:
        raise FetchRefused(f"no host in {url[:200]!r}")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


async def _send_once(client: httpx.AsyncClient, method: str, url: str,
                     headers: dict[str, str], body: bytes | None, allow_private: bool,
                     max_bytes: int) -> Response:
    host, port = check_url(url, allow_private)
    address = await vetted_address(host, port, allow_private)
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    request = client.build_request(
        method, pinned, content=body,
        headers={"host": parts.netloc, "user-agent": "panamia (ActivityPub)", **headers},
        extensions={"sni_hostname": host},
    )
    try:
        answer = await client.send(request, stream=True)
        try:
            chunks, size = [], 0
            async for chunk in answer.aiter_raw():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchFailed(f"{host} sent more than {max_bytes} bytes")
                chunks.append(chunk)
        finally:
            await answer.aclose()
    except httpx.TimeoutException as exc:
        raise FetchFailed(f"{host} took too long ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{host} could not be reached ({type(exc).__name__})") from exc
    return Response(url, answer.status_code, answer.headers, b"".join(chunks))


async def send(settings: Settings, method: str, url: str, *,
               headers: dict[str, str] | None = None, body: bytes | None = None,
               signer: Signer | None = None, max_bytes: int = MAX_BYTES,
               follow_redirects: bool = True) -> Response:
    """One request, signed afresh on each hop by `signer`, redirects re-checked."""
    allow_private = settings.federation_allow_private_networks and not settings.is_production
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            signed = {**(headers or {}), **(signer(method, url, body) if signer else {})}
            answer = await _send_once(client, method, url, signed, body, allow_private,
                                      max_bytes)
            location = answer.headers.get("location")
            if not (follow_redirects and answer.status in (301, 302, 303, 307, 308)
                    and location and method == "GET"):
                return answer
            url = urljoin(url, location)
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")
