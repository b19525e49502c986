"""Screennames chosen before skeletons existed get theirs when the migrations are deployed."""

from panamia.identity.screennames import screenname_skeleton
from panamia.schema import deploy
from tests.schema.factories import query

BEFORE = "20261206044519_harden_sessions_screennames_and_limits"


def test_older_screennames_get_skeletons_and_the_oldest_keeps_a_shared_one(database_url):
    deploy.upgrade(database_url, BEFORE)
    for user_id, screenname, age in (("u1", "marcobeats", 3), ("u2", "rnarcobeats", 2),
                                     ("u3", "ana", 1), ("u4", None, 0)):
        query(database_url,
              "INSERT INTO users (id, email, screenname, created_at) "
              "VALUES (:id, :email, :screenname, now() - make_interval(days => :age))",
              id=user_id, email=f"{user_id}@example.org", screenname=screenname, age=age)

    deploy.upgrade(database_url)

    rows = dict(query(database_url, "SELECT id, screenname_skeleton FROM users"))
    assert rows == {"u1": screenname_skeleton("marcobeats"), "u2": None,
                    "u3": screenname_skeleton("ana"), "u4": None}
