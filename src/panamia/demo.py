"""A believable demo community for development: people, profiles, articles, notifications.

Ids, emails, slugs and notification ids are fixed, so `seed` is idempotent: it adds what
is missing and leaves what is there alone, including a demo person's own later edits.
Everything goes through the domains' services, except notifications, which are written
with the relay's own idempotent insert under fixed ids (the outbox would mint new ids and
so could not tell a second run from a first).

A sidecar adds its demo data through its declaration's `demo` module (see
`panamia.sidecar.registry.Sidecar`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from panamia import references
from panamia.articles import invitations
from panamia.articles import service as articles_service
from panamia.articles.documents import COLLECTION as ARTICLES_COLLECTION
from panamia.articles.schemas import ArticleCreate
from panamia.db.postgres import new_id
from panamia.errors import Conflict, NotFound
from panamia.identity.dependencies import Principal
from panamia.identity.models import User
from panamia.identity.screennames import screenname_skeleton
from panamia.ledger import journal
from panamia.ledger.accounts import Account, external
from panamia.ledger.models import LedgerAccount
from panamia.notifications import documents as notification_documents
from panamia.notifications import repository as notification_repository
from panamia.notifications.schemas import ACTIVITY
from panamia.profiles import service as profiles_service
from panamia.profiles.documents import WEEKDAYS
from panamia.profiles.schemas import ProfilePatch
from panamia.resources import Resources
from panamia.sidecar import registry

DEMO_DOMAIN = "demo.panamia.example"
SIGN_IN_EXAMPLE = f"ana@{DEMO_DOMAIN}"
ALLOWED_ENVIRONMENTS = ("development", "test")


class DemoRefused(RuntimeError):
    """Demo data may only be rebuilt in development or test."""


def user_id(key: str) -> str:
    return f"demo-{key}"


def email(key: str) -> str:
    return f"{key}@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    screenname: str
    profile: dict  # a PATCH /api/profile body


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    author: str
    title: str
    excerpt: str
    body: str
    tags: tuple[str, ...] = ()
    co_authors: tuple[str, ...] = ()  # invited, and they accepted
    invited: tuple[str, ...] = ()  # invited, no answer yet
    published: bool = True


@dataclass(frozen=True)
class DemoNotification:
    target: str
    actor: str | None
    activity: dict  # type and object; target and actor are filled in
    hours_ago: int
    read: bool = False


def opening(days: tuple[str, ...], opens: str, closes: str) -> dict:
    return {day: {"open": opens, "close": closes} for day in days}


def closed(*days: str) -> dict:
    return {day: {"closed": True} for day in days}


def miami(zip_code: str, neighborhood: str | None = None, city: str = "Miami") -> dict:
    return {"neighborhood": neighborhood, "city": city, "state": "FL", "zip": zip_code}


WEEK, WORKWEEK = WEEKDAYS, WEEKDAYS[:5]
PEOPLE = (
    DemoPerson("ana", "Ana Rodríguez", "ana", {
        "name": "Ana's Ventanita",
        "bio": "Cafecito, pastelitos and croquetas through the window on Calle Ocho since "
               "2009. Birthday cakes to order.",
        "categories": ["food", "coffee", "bakery"], "location": miami("33135", "Little Havana"),
        "active": True,
        "hours": {**opening(WORKWEEK, "07:00", "15:00"),
                  **opening(("saturday",), "08:00", "14:00"), **closed("sunday")},
        "socialLinks": {"instagram": "https://instagram.com/anasventanita",
                        "website": "https://example.org/ana",
                        "customLinks": [{"label": "Order a cake",
                                         "url": "https://example.org/ana/cakes"}]},
    }),
    DemoPerson("marco", "Marco Díaz", "marcobeats", {
        "name": "Marco Díaz", "bio": "Producer and DJ. Salsa, timba and house, Thursday to "
        "Saturday in Wynwood. Lessons for beginners.", "categories": ["music", "events"],
        "location": miami("33127", "Wynwood"), "active": True,
        "hours": opening(("thursday", "friday", "saturday"), "20:00", "23:59"),
        "socialLinks": {"spotify": "https://open.spotify.com/artist/demo-marco",
                        "instagram": "https://instagram.com/marcobeats",
                        "youtube": "https://youtube.com/@marcobeats"},
    }),
    DemoPerson("lucia", "Lucía Fernández", "lucia_murals", {
        "name": "Lucía Fernández", "bio": "Muralist. Walls, shutters and storefronts; "
        "community paint days every month.", "categories": ["art", "murals"],
        "location": miami("33127", "Wynwood"), "active": True,
        "socialLinks": {"instagram": "https://instagram.com/lucia_murals",
                        "customLinks": [{"label": "Portfolio",
                                         "url": "https://example.org/lucia/portfolio"}]},
    }),
    DemoPerson("jean", "Jean-Baptiste Pierre", "jeanbaptiste", {
        "name": "Lakay Kitchen", "bio": "Haitian home cooking in Little Haiti: griot, diri "
        "ak djon djon, pikliz. Catering for parties.", "categories": ["food", "catering"],
        "location": miami("33137", "Little Haiti"), "active": True,
        "hours": {**closed("monday"), **opening(WEEK[1:], "11:00", "21:00")},
        "socialLinks": {"facebook": "https://facebook.com/lakaykitchen"},
    }),
    DemoPerson("sofia", "Sofía Castro", "sofia_yoga", {
        "name": "Sofía Castro", "bio": "Sunrise yoga on the sand. All levels, bring water.",
        "categories": ["wellness", "yoga"], "location": miami("33139", city="Miami Beach"),
        "active": True, "hours": opening(("monday", "wednesday", "friday"), "06:30", "08:00"),
        "socialLinks": {"website": "https://example.org/sofia"},
    }),
    DemoPerson("devon", "Devon Clarke", "devon_bikes", {
        "name": "Allapattah Bike Works", "bio": "Flat tyres, brakes, tune-ups. Kids' bikes "
        "fixed for free on Saturdays.", "categories": ["bikes", "repair"],
        "location": miami("33142", "Allapattah"), "active": True,
        "hours": {**opening(WEEK[:6], "10:00", "18:00"), **closed("sunday")},
        "socialLinks": {"instagram": "https://instagram.com/allapattahbikeworks"},
    }),
    DemoPerson("maria", "María Gómez", "libreria_maria", {
        "name": "Librería María", "bio": "Used and new books in Spanish and English. "
        "Story time for children on Sundays.", "categories": ["books", "community"],
        "location": miami("33145"), "active": True,
        "hours": {**opening(WEEK[1:6], "11:00", "19:00"), **opening(("sunday",), "10:00", "13:00")},
    }),
    DemoPerson("tomas", "Tomás Ruiz", "tomas", {
        "name": "Tomás Ruiz", "bio": "Just moved to Hialeah. Guitar teacher.",
        "categories": ["music"], "active": False,
    }),
)

ARTICLES_TO_WRITE = (
    DemoArticle("where-to-get-a-cafecito", "ana", "Where to get a cafecito at 7 a.m.",
                "A ventanita owner's guide to the first coffee of the day.",
                "Most of Calle Ocho wakes up at the **ventanita**. Here is what to order:\n\n"
                "- *Cafecito*: sweet, strong, in a tiny cup.\n- *Colada*: to share with "
                "the office.\n- *Cortadito*: for when you need milk.\n\nCome say hi.",
                ("coffee", "food")),
    DemoArticle("painting-walls-in-wynwood", "lucia", "Painting walls in Wynwood",
                "How a community paint day works, from primer to party.",
                "## Before\n\nWe ask the owner, we sketch, we buy primer.\n\n## The day"
                "\n\nAnyone can hold a brush. Marco brings the music.\n\n> Walls are "
                "the neighbourhood's diary.", ("art", "community"), co_authors=("marco",)),
    DemoArticle("salsa-nights-for-beginners", "marco", "Salsa nights for beginners",
                "You do not need to know the steps. You need comfortable shoes.",
                "1. Come early: the first hour is a class.\n2. Watch the feet, then "
                "forget them.\n3. Say yes when someone asks you to dance.", ("music", "events")),
    DemoArticle("griot-like-my-grandmother", "jean", "Griot like my grandmother made it",
                "The secret is the epis, and patience.",
                "Marinate the pork overnight in *epis* and sour orange, boil it soft, then "
                "fry it crisp. Serve with pikliz and fried plantains.", ("food", "recipes")),
    DemoArticle("sunrise-yoga-what-to-bring", "sofia", "Sunrise yoga: what to bring",
                "A towel, water, and ten minutes early.",
                "We meet at the lifeguard tower at 6:30. Draft: add the parking tips.",
                ("wellness",), published=False),
    DemoArticle("summer-reading-list", "maria", "Our summer reading list",
                "Twelve books to read in the shade.",
                "Work in progress: Ana asked for cookbooks.", ("books",),
                invited=("ana",), published=False),
)

NOTIFICATIONS = (
    DemoNotification("ana", "marco", {"type": "Like", "object": {
        "type": "Article", "id": "where-to-get-a-cafecito",
        "url": "/articles/where-to-get-a-cafecito",
        "summary": "Where to get a cafecito at 7 a.m."}}, hours_ago=2),
    DemoNotification("ana", "lucia", {"type": "Follow", "object": {
        "type": "Person", "id": user_id("ana")}}, hours_ago=5),
    DemoNotification("ana", None, {"type": "Announce", "object": {
        "type": "Note", "id": "welcome", "url": "/account",
        "summary": "Welcome to Pana MIA! Add your opening hours so neighbours know when to "
                   "visit."}}, hours_ago=72, read=True),
    DemoNotification("lucia", "ana", {"type": "Like", "object": {
        "type": "Article", "id": "painting-walls-in-wynwood",
        "url": "/articles/painting-walls-in-wynwood",
        "summary": "Painting walls in Wynwood"}}, hours_ago=3),
    DemoNotification("marco", "lucia", {"type": "Follow", "object": {
        "type": "Person", "id": user_id("marco")}}, hours_ago=8),
    DemoNotification("jean", "devon", {"type": "Like", "object": {
        "type": "Article", "id": "griot-like-my-grandmother",
        "url": "/articles/griot-like-my-grandmother",
        "summary": "Griot like my grandmother made it"}}, hours_ago=1),
)


def acting_as(person: DemoPerson) -> Principal:
    """Who the services see acting: the demo person, as a session would present them."""
    return Principal(
        id=user_id(person.key), email=email(person.key), name=person.name, image=None,
        screenname=person.screenname, role="user", is_admin=False, session_id="demo",
        expires=datetime.now(UTC) + timedelta(minutes=5),
    )


async def add_people(resources: Resources) -> None:
    """One statement; a person already there (by id, email or screenname) is left alone."""
    now = datetime.now(UTC)
    async with resources.db.begin() as db:
        await db.execute(pg_insert(User).values([
            {"id": user_id(p.key), "email": email(p.key), "name": p.name,
             "screenname": p.screenname, "screenname_skeleton": screenname_skeleton(p.screenname),
             "email_verified": now}
            for p in PEOPLE
        ]).on_conflict_do_nothing())


async def fill_profiles(resources: Resources) -> None:
    """Only a profile nobody has saved yet (version 0) gets the demo content."""
    for person in PEOPLE:
        profile = await profiles_service.ensure_profile(
            resources, user_id(person.key), person.name
        )
        if profile.get("version", 0) == 0:
            await profiles_service.update_profile(
                resources, acting_as(person), ProfilePatch.model_validate(person.profile)
            )


async def add_articles(resources: Resources) -> None:
    """Co-authors are invited by the author's draft, through the outbox like anyone's, and
    then accept."""
    people = {p.key: p for p in PEOPLE}
    for spec in ARTICLES_TO_WRITE:
        author = acting_as(people[spec.author])
        draft = ArticleCreate(
            slug=spec.slug, title=spec.title, excerpt=spec.excerpt, body=spec.body,
            tags=list(spec.tags),
            co_author_ids=[user_id(k) for k in (*spec.co_authors, *spec.invited)],
        )
        try:
            await articles_service.create_article(resources, author, draft)
        except Conflict:
            pass  # there already, as this or an earlier run left it
        for key in spec.co_authors:
            try:
                await invitations.accept_invitation(resources, acting_as(people[key]), spec.slug)
            except (Conflict, NotFound):
                pass  # declined or left since, or the article was removed
        if spec.published:
            try:
                await articles_service.publish_article(resources, author, spec.slug)
            except Conflict:
                pass  # removed since; an admin's call, not the demo's


async def add_notifications(resources: Resources) -> None:
    now = datetime.now(UTC)
    for index, spec in enumerate(NOTIFICATIONS):
        notification_id = f"demo-notification-{index}"
        activity = ACTIVITY.validate_python({
            **spec.activity, "targetId": user_id(spec.target),
            "actorId": user_id(spec.actor) if spec.actor else None,
        })
        created = now - timedelta(hours=spec.hours_ago)
        await notification_repository.insert_once(
            resources.mongo, notification_documents.new_document(notification_id, activity, created)
        )
        if spec.read:
            await notification_repository.mark_read(
                resources.mongo, user_id(spec.target), notification_id, created
            )


async def seed(resources: Resources) -> None:
    """Add the demo community, or what is missing of it. Safe to run any number of times."""
    await registry.ensure_indexes(resources.mongo)
    await add_people(resources)
    await fill_profiles(resources)
    await add_articles(resources)
    await add_notifications(resources)
    for sidecar in registry.discover():
        if sidecar.demo:
            await sidecar.demo.seed(resources)


async def seed_if_empty(resources: Resources) -> bool:
    """What `panamia dev` runs: seed only while nobody but demo people has an account."""
    async with resources.reads() as db:
        others = (await db.execute(
            select(func.count()).select_from(User)
            .where(~func.lower(User.email).like(f"%@{DEMO_DOMAIN}"))
        )).scalar_one()
    if others:
        return False
    await seed(resources)
    return True


async def reset(resources: Resources) -> None:
    """Delete the demo people and everything of theirs, then seed again. Refuses to run
    outside development and test. Other people's data is untouched."""
    environment = resources.settings.panamia_env
    if environment not in ALLOWED_ENVIRONMENTS:
        raise DemoRefused(f"`demo reset` deletes data; it runs only with PANAMIA_ENV set to "
                          f"development or test, not {environment}.")
    for sidecar in registry.discover():
        if hasattr(sidecar.demo, "reset"):
            await sidecar.demo.reset(resources)
    ids = [user_id(p.key) for p in PEOPLE]
    for reference in references.deleted_with_user():
        await resources.mongo[reference.collection].delete_many({reference.field: {"$in": ids}})
    # Demo articles would otherwise stay as "by a deleted user" and keep their slugs taken.
    await resources.mongo[ARTICLES_COLLECTION].delete_many({"authorId": {"$in": ids}})
    async with resources.db.begin() as db:
        await pay_out(db, ids)
        await db.execute(delete(User).where(User.id.in_(ids)))
    await seed(resources)


async def pay_out(db, ids: list[str]) -> None:
    """Move what the ledger still holds for these people (their money, and any escrow the
    sidecars' resets left behind) out to the outside world: PostgreSQL refuses deleting a
    member with a balance, and the journal keeps every entry."""
    held = await db.execute(select(LedgerAccount).where(LedgerAccount.balance > 0, or_(
        and_(LedgerAccount.kind == "available", LedgerAccount.owner.in_(ids)),
        and_(LedgerAccount.kind == "escrow", LedgerAccount.held_for.in_(ids)))))
    moves = [journal.Move(Account(a.kind, a.owner), external("demo"), a.balance, a.currency)
             for a in held.scalars()]
    if moves:
        await journal.post(db, event_key=f"demo:reset:{new_id()}", kind="demo.reset",
                           moves=moves)
