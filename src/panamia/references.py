"""Every reference from a MongoDB document to a PostgreSQL row, declared once.

Read by the consistency check (`panamia doctor`), by account deletion's relay handler,
by the legacy data move when it rewrites ids, and by the generated section of
docs/outbox.md. Add a reference here and all four follow.
"""

from dataclasses import dataclass
from enum import Enum


class OnUserDelete(str, Enum):
    DELETE = "delete"  # the document goes with the user
    KEEP = "keep"  # the document stays; readers show the user as deleted


@dataclass(frozen=True)
class Reference:
    collection: str
    field: str
    on_user_delete: OnUserDelete
    note: str
    array: bool = False
    nullable: bool = False
    table: str = "users"
    column: str = "id"

    @property
    def name(self) -> str:
        return f"{self.collection}.{self.field}"

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}"


REFERENCES: tuple[Reference, ...] = (
    Reference("profiles", "userId", OnUserDelete.DELETE,
              "The user's own profile: personal data, removed with the account."),
    Reference("articles", "authorId", OnUserDelete.KEEP,
              "Published writing stays and shows as by a deleted user."),
    Reference("articles", "coAuthorIds", OnUserDelete.KEEP,
              "Co-authors of kept articles; the id stays and shows as a deleted user.",
              array=True),
    Reference("articles", "invitedCoAuthorIds", OnUserDelete.KEEP,
              "People invited to co-author, until they answer; an invitation to a deleted "
              "user is shown to nobody and can never be accepted.", array=True),
    Reference("photos", "ownerId", OnUserDelete.DELETE,
              "Photos the member uploaded; their files are deleted by the next purge."),
    Reference("notifications", "targetId", OnUserDelete.DELETE,
              "The recipient: nobody is left to read them."),
    Reference("notifications", "actorId", OnUserDelete.KEEP,
              "Who acted; null for the system. The recipient keeps the notification.",
              nullable=True),
)


def deleted_with_user() -> list[Reference]:
    return [r for r in REFERENCES
            if r.table == "users" and r.on_user_delete is OnUserDelete.DELETE]


def markdown() -> str:
    """The reference map as a Markdown table (the generated section of docs/outbox.md)."""
    lines = [
        "| MongoDB field | references | shape | when the user is deleted | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in REFERENCES:
        shape = "array of ids" if r.array else ("id or null" if r.nullable else "id")
        effect = ("document deleted" if r.on_user_delete is OnUserDelete.DELETE
                  else "document kept")
        lines.append(f"| `{r.name}` | `{r.target}` | {shape} | {effect} | {r.note} |")
    return "\n".join(lines) + "\n"
