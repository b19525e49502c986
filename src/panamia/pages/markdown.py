"""Markdown people write, as HTML that is safe to show: rendered, then sanitized."""

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# `html: False` makes markdown-it escape any HTML in the source; nh3 then keeps only these
# tags and attributes, as a second wall should the renderer ever let something through.
_renderer = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str | None) -> Markup:
    html = _renderer.render(source or "")
    return Markup(nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ))
