"""Markdown people write, as HTML that is safe to show: rendered, then sanitized."""

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup


def _image_as_link(renderer, tokens, idx, options, env) -> str:
    """An image becomes a link to it: shown in the page, every reader's browser would fetch
    it from its host, which would learn who reads what (a tracking pixel)."""
    image = tokens[idx]
    alt = renderer.renderInlineAsText(image.children or [], options, env)
    label = escapeHtml(f"Image: {alt}" if alt else "Image")
    before = [token.type for token in tokens[:idx]]
    if before.count("link_open") > before.count("link_close"):
        return label  # already inside a link, which cannot hold another
    return f'<a href="{escapeHtml(image.attrGet("src") or "")}">{label}</a>'


# `html: False` makes markdown-it escape any HTML in the source; nh3 then keeps only these
# tags and attributes, as a second wall should the renderer ever let something through.
_renderer = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_renderer.add_render_rule("image", _image_as_link)
TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str | None) -> Markup:
    html = _renderer.render(source or "")
    return Markup(nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ))
