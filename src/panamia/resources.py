"""What a running service holds open: database handles, the mailer, its settings."""

from dataclasses import dataclass, field

from fastapi import Request
from pymongo import AsyncMongoClient
from sqlalchemy.ext.asyncio import AsyncEngine

from panamia.db.mongo import MongoDatabase, create_client
from panamia.db.postgres import Sessionmaker, create_engine, create_sessionmaker
from panamia.mail import Mailer, create_mailer
from panamia.settings import Settings


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
        engine = create_engine(settings.postgres_url, process_name)
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


def get_resources(request: Request) -> Resources:
    return request.app.state.resources
