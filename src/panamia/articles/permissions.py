"""Who may see and do what with an article, declared once.

| action          | author | co-author | admin |
| --------------- | ------ | --------- | ----- |
| edit            | yes    | yes       | yes   |
| edit co-authors | yes    | no        | yes   |
| publish         | yes    | yes       | no    |
| remove          | yes    | no        | yes   |
| restore         | no     | no        | yes   |

Co-authors are those who accepted the author's invitation; someone invited holds no role
until then, but may read the draft they are asked to write.

Seeing comes first: a published article is public; a draft is visible to its author,
co-authors, people invited to co-author it and admins; a removed article only to admins.
Whoever cannot see an article is told it does not exist (404) rather than that they may not
touch it (403).
"""

from enum import StrEnum

from panamia.articles.documents import ArticleDocument, Status
from panamia.identity.dependencies import Principal


class Action(StrEnum):
    EDIT = "edit"
    EDIT_CO_AUTHORS = "edit co-authors"
    PUBLISH = "publish"
    REMOVE = "remove"
    RESTORE = "restore"


AUTHOR, CO_AUTHOR, ADMIN = "author", "co-author", "admin"
ALLOWED: dict[Action, frozenset[str]] = {
    Action.EDIT: frozenset({AUTHOR, CO_AUTHOR, ADMIN}),
    Action.EDIT_CO_AUTHORS: frozenset({AUTHOR, ADMIN}),
    Action.PUBLISH: frozenset({AUTHOR, CO_AUTHOR}),
    Action.REMOVE: frozenset({AUTHOR, ADMIN}),
    Action.RESTORE: frozenset({ADMIN}),
}
REFUSALS = {
    Action.EDIT: "Only the author, a co-author or an admin may edit this article.",
    Action.EDIT_CO_AUTHORS: "Only the author or an admin may change the co-authors.",
    Action.PUBLISH: "Only the author or a co-author may publish this article.",
    Action.REMOVE: "Only the author or an admin may remove this article.",
    Action.RESTORE: "Only an admin may restore a removed article.",
}


def roles(article: ArticleDocument, user: Principal | None) -> set[str]:
    if user is None:
        return set()
    found = {ADMIN} if user.is_admin else set()
    if user.id == article.author_id:
        found.add(AUTHOR)
    if user.id in article.co_author_ids:
        found.add(CO_AUTHOR)
    return found


def can_see(article: ArticleDocument, user: Principal | None) -> bool:
    if article.status == Status.PUBLISHED:
        return True
    held = roles(article, user)
    if article.status == Status.REMOVED:
        return ADMIN in held
    return bool(held) or is_invited(article, user)


def is_invited(article: ArticleDocument, user: Principal | None) -> bool:
    return user is not None and user.id in article.invited_co_author_ids


def may(article: ArticleDocument, user: Principal, action: Action) -> bool:
    return bool(roles(article, user) & ALLOWED[action])


def only_as_co_author(article: ArticleDocument, user: Principal, action: Action) -> bool:
    """True when `user` may act only because they are a co-author, which the author can
    revoke meanwhile: the update then re-checks it."""
    return (roles(article, user) & ALLOWED[action]) == {CO_AUTHOR}
