"""The demo community: seeded idempotently, skipped where real people are, rebuilt on demand."""

import dataclasses
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from panamia import cli, demo
from panamia import dev as dev_runner
from panamia.articles.documents import COLLECTION as ARTICLES
from panamia.identity.models import User
from panamia.notifications.documents import COLLECTION as NOTIFICATIONS
from panamia.profiles import service as profiles_service
from panamia.profiles.documents import COLLECTION as PROFILES
from panamia.profiles.schemas import ProfilePatch
from tests.articles.factories import create_article
from tests.fixtures.http import BROWSER, submit, text_of
from tests.identity.factories import magic_link, press_sign_in
from tests.profiles.factories import create_member


async def counts(resources, connection) -> dict[str, int]:
    mongo = resources.mongo
    return {
        "people": (await connection.execute(
            select(func.count()).select_from(User).where(User.email.like("%@" + demo.DEMO_DOMAIN))
        )).scalar_one(),
        "listed": await mongo[PROFILES].count_documents({"active": True}),
        "articles": await mongo[ARTICLES].count_documents({}),
        "published": await mongo[ARTICLES].count_documents({"status": "published"}),
        "notifications": await mongo[NOTIFICATIONS].count_documents({}),
        "unread": await mongo[NOTIFICATIONS].count_documents({"read": False}),
    }


# Invitations to co-author and their answers travel through the outbox: not counted here.
EXPECTED = {"people": 8, "listed": 7, "articles": 6, "published": 4, "notifications": 6,
            "unread": 5}


async def ana_bio(resources) -> str:
    return (await profiles_service.ensure_profile(resources, demo.user_id("ana")))["bio"]


class TestSeed:
    async def test_running_it_twice_gives_the_same_community(self, resources, connection):
        await demo.seed(resources)
        first = await counts(resources, connection)
        await demo.seed(resources)
        assert first == await counts(resources, connection) == EXPECTED

    async def test_a_demo_persons_own_edits_survive_another_run(self, resources):
        await demo.seed(resources)
        ana = demo.acting_as(demo.PEOPLE[0])
        await profiles_service.update_profile(resources, ana, ProfilePatch(bio="My own words"))
        await demo.seed(resources)
        assert await ana_bio(resources) == "My own words"

    async def test_a_demo_person_signs_in_by_email_link(self, client, resources, mailbox):
        await demo.seed(resources)
        await submit(client, "/signin", {"email": demo.SIGN_IN_EXAMPLE}, page="/signin")
        await press_sign_in(client, magic_link(mailbox.to(demo.SIGN_IN_EXAMPLE)[-1]))
        account = text_of((await client.get("/account", headers=BROWSER)).text)
        assert "You are @ana" in account
        assert "Marco Díaz liked" in text_of(
            (await client.get("/notifications", headers=BROWSER)).text)


class TestSeedIfEmpty:
    async def test_an_empty_database_gets_the_demo(self, resources, connection):
        assert await demo.seed_if_empty(resources) is True
        assert (await counts(resources, connection))["people"] == 8

    async def test_a_database_with_real_people_is_left_alone(self, resources, connection):
        await create_member(resources)
        assert await demo.seed_if_empty(resources) is False
        assert (await counts(resources, connection))["people"] == 0


class TestReset:
    async def test_it_rebuilds_the_demo_and_leaves_everyone_else(self, resources, connection):
        await demo.seed(resources)
        await profiles_service.update_profile(
            resources, demo.acting_as(demo.PEOPLE[0]), ProfilePatch(bio="Changed")
        )
        someone = await create_member(resources, name="Not Demo", active=True)
        slug = await create_article(resources, someone, title="Kept")

        await demo.reset(resources)

        # The other member is listed and has an article besides the demo's.
        assert await counts(resources, connection) == {**EXPECTED, "listed": 8, "articles": 7}
        assert await ana_bio(resources) != "Changed"
        assert await resources.mongo[ARTICLES].count_documents({"slug": slug}) == 1
        assert await resources.mongo[PROFILES].count_documents({"userId": someone}) == 1

    async def test_it_refuses_in_production(self, resources):
        production = resources.settings.model_copy(update={"panamia_env": "production"})
        with pytest.raises(demo.DemoRefused, match="development or test"):
            await demo.reset(dataclasses.replace(resources, settings=production))

    def test_the_command_refuses_in_production(self, server_urls):
        names = ("PANAMIA_", "AUTH_", "POSTGRES_", "MONGODB_", "SMTP_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
        env.update(PANAMIA_ENV="production", POSTGRES_URL=server_urls[0],
                   MONGODB_URL=server_urls[1], AUTH_SECRET="s" * 40,
                   SMTP_URL="smtp://127.0.0.1:1")
        done = subprocess.run([sys.executable, "-m", "panamia", "demo", "reset"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert "runs only with PANAMIA_ENV set to development or test" in done.stderr


class TestDevFlag:
    @pytest.mark.parametrize(("flags", "with_demo"), [([], True), (["--no-demo"], False)])
    def test_dev_passes_the_choice_on(self, monkeypatch, flags, with_demo):
        calls = []
        monkeypatch.setattr(dev_runner, "run", lambda settings, **kw: calls.append(kw) or 0)
        result = CliRunner().invoke(cli.app, ["dev", *flags])
        assert result.exit_code == 0, result.output
        assert calls[0]["with_demo"] is with_demo
