"""The one way out to other servers refuses addresses that are not public unless the
test-and-development flag is on, checks every redirect again, and never runs in production
with the flag."""

import asyncio

import pytest

from panamia.federation import fetch
from panamia.settings import ConfigurationError, Settings


def flagged(on: bool, env: str = "test") -> Settings:
    return Settings(panamia_env=env, auth_secret="s" * 40, _env_file=None,
                    federation_allow_private_networks=on)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
])
def test_addresses_that_are_not_public(address):
    assert not fetch.is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses(address):
    assert fetch.is_public(address)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/actor", "https://[::1]/actor", "https://localhost/actor",
    "https://169.254.169.254/latest/meta-data", "https://[::ffff:127.0.0.1]/actor",
    "https://10.0.0.5/inbox",
])
async def test_private_targets_are_refused_without_the_flag(url):
    with pytest.raises(fetch.FetchRefused):
        await fetch.send(flagged(False), "GET", url)


async def test_plain_http_is_refused_without_the_flag():
    with pytest.raises(fetch.FetchRefused, match="only https"):
        await fetch.send(flagged(False), "GET", "http://example.org/actor")


async def test_the_flag_is_ignored_and_refused_in_production():
    with pytest.raises(fetch.FetchRefused):
        await fetch.send(flagged(True, "production"), "GET", "http://127.0.0.1:9/actor")
    with pytest.raises(ConfigurationError, match="FEDERATION_ALLOW_PRIVATE_NETWORKS"):
        Settings(panamia_env="production", auth_secret="s" * 40, postgres_url="postgresql://x",
                 mongodb_url="mongodb://x", smtp_url="smtp://x", _env_file=None,
                 federation_allow_private_networks=True).require_runtime()


class Redirecting:
    """A local server whose every answer is a redirect to `location`."""

    def __init__(self, location: str):
        self.location = location
        self.requests = 0

    async def handle(self, reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        location = self.location.format(port=self.port)
        writer.write(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()


async def test_each_redirect_is_checked_again():
    async with Redirecting("file:///etc/passwd") as server:
        with pytest.raises(fetch.FetchRefused):
            await fetch.send(flagged(True), "GET", f"http://127.0.0.1:{server.port}/actor")
        assert server.requests == 1


async def test_redirects_are_capped():
    async with Redirecting("http://127.0.0.1:{port}/again") as server:
        with pytest.raises(fetch.FetchFailed, match="redirects"):
            await fetch.send(flagged(True), "GET", f"http://127.0.0.1:{server.port}/actor")
        assert server.requests == fetch.MAX_REDIRECTS + 1
