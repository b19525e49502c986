"""What a running service holds open: database handles, the mailer, its settings."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from pymongo import AsyncMongoClient
from sqlalchemy.ext.asyncio import AsyncEngine

from panamia.db.mongo import MongoDatabase, create_client
from panamia.db.postgres import Sessionmaker, create_engine, create_sessionmaker
from panamia.mail import Mailer, create_mailer
from panamia.settings import Settings


# Connections a serving process keeps open once a burst has needed them: SQLAlchemy's
# default ceiling (5 kept + 10 overflow), all kept. Overflow connections are closed the moment
# they are returned while five sit idle, so under steady concurrency above five the default
# pool opened and closed a connection (a server process fork and a start-up exchange) for
# roughly every tenth request; requests beyond 15 wait for a connection instead.
POOL_SIZE = 15


@dataclass
class Resources:
    """`db` runs transactions; `reads` runs single statements in autocommit, one round trip each."""

    settings: Settings
    db: Sessionmaker
    reads: Sessionmaker
    mongo: MongoDatabase
    mailer: Mailer
    engine: AsyncEngine | None = None
    mongo_client: AsyncMongoClient | None = None
    extras: dict = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, process_name: str) -> "Resources":
        engine = create_engine(settings.postgres_url, process_name,
                               pool_size=POOL_SIZE, max_overflow=0)
        client = create_client(settings.mongodb_url, process_name)
        return cls(
            settings=settings,
            db=create_sessionmaker(engine),
            reads=create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT")),
            mongo=client[settings.mongodb_db],
            mailer=create_mailer(settings),
            engine=engine,
            mongo_client=client,
        )

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        if self.mongo_client is not None:
            await self.mongo_client.close()


async def get_resources(request: Request) -> Resources:
    """Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, and this
    one is on every request of every service (CSRF check, `CurrentUser`)."""
    return request.app.state.resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]
