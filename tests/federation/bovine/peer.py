"""The bovine peer's server: bovine-herd's ActivityPub endpoints on a Quart app, its data in
the SQLite database named by BOVINE_DB_URL. Served by Hypercorn from the peer's own venv."""

import os

from bovine_herd import BovineHerd
from quart import Quart

app = Quart(__name__)
BovineHerd(app, db_url=os.environ["BOVINE_DB_URL"])
