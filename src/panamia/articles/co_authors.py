"""Naming co-authors is inviting them: who is invited, who stays, and the notices they get.

Someone named in `coAuthorIds` is recorded in `invitedCoAuthorIds` and sent an `Invite`
notification; they join `coAuthorIds` (and gain a co-author's rights) only by accepting, and
may decline or, later, leave. Notices are queued in a PostgreSQL transaction that the caller
opens before writing MongoDB and commits after it, so they go out only if the write was made.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from panamia.articles.documents import ArticleDocument
from panamia.errors import Invalid
from panamia.identity.dependencies import Principal
from panamia.identity.models import User
from panamia.notifications import service as notifications
from panamia.notifications.schemas import Accept, ActivityObject, Invite, Reject


@dataclass(frozen=True)
class Naming:
    """The co-authors and invitations once the author names `coAuthorIds`."""

    co_author_ids: list[str]
    invited_ids: list[str]
    newly_invited: list[str]

    def fields(self) -> dict[str, Any]:
        return {"coAuthorIds": self.co_author_ids, "invitedCoAuthorIds": self.invited_ids}


def name_co_authors(article: ArticleDocument | None, named: list[str]) -> Naming:
    """Co-authors still named stay; anyone else named is invited (anew unless already
    invited); anyone left out is no longer a co-author nor invited."""
    co_authors = [i for i in article.co_author_ids if i in named] if article else []
    already = article.invited_co_author_ids if article else []
    invited = [i for i in named if i not in co_authors]
    return Naming(co_authors, invited, [i for i in invited if i not in already])


async def check_invitees(db: AsyncSession, author_id: str, ids: list[str]) -> None:
    """People invited must be others with accounts: checked in one query."""
    if author_id in ids:
        raise Invalid("The author cannot also be a co-author.", fields=["coAuthorIds"])
    if not ids:
        return
    known = set((await db.execute(select(User.id).where(User.id.in_(ids)))).scalars())
    if unknown := set(ids) - known:
        raise Invalid(f"No user has the id(s) {', '.join(sorted(unknown))}.",
                      fields=["coAuthorIds"])


async def send_invitations(
    db: AsyncSession, inviter: Principal, slug: str, title: str, ids: list[str]
) -> None:
    for invitee in ids:
        await notifications.notify(db, Invite(
            actor_id=inviter.id, target_id=invitee,
            object=ActivityObject(type="Article", id=slug, url=f"/articles/{slug}",
                                  summary=title),
        ))


async def answer_invitation(
    db: AsyncSession, invitee: Principal, article: ArticleDocument, *, accepted: bool
) -> None:
    """Tell the author that `invitee` accepted or declined."""
    kind = Accept if accepted else Reject
    await notifications.notify(db, kind(
        actor_id=invitee.id, target_id=article.author_id,
        object=ActivityObject(type="Invite", id=article.slug, url=f"/articles/{article.slug}",
                              summary=f"your invitation to co-author {article.title}"),
    ))
