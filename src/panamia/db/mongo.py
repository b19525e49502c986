"""The MongoDB client, one per process, spoken to with PyMongo's async API."""

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase


def create_client(url: str, application_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(
        url, appname=application_name, tz_aware=True, serverSelectionTimeoutMS=3000
    )


MongoDatabase = AsyncDatabase
