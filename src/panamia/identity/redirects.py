"""Where a sign-in may send the browser afterwards: the same site, never elsewhere."""

from urllib.parse import urljoin, urlsplit


def same_site_target(url: str | None, base_url: str, *, allowed_origins: tuple[str, ...] = ()) -> str:
    """`url` if it stays on `base_url` (or one of `allowed_origins`), else `base_url` + "/"."""
    fallback = base_url + "/"
    if not url or any(ord(c) < 32 for c in url) or "\\" in url:
        return fallback
    try:
        target = urlsplit(urljoin(fallback, url))
    except ValueError:
        return fallback
    origin = f"{target.scheme}://{target.netloc}"
    trusted = {_origin(base_url), *(_origin(o) for o in allowed_origins)}
    if target.scheme not in ("http", "https") or origin not in trusted:
        return fallback
    return target.geturl()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
