"""Every model module, imported so that `Base.metadata` describes the whole schema."""

from panamia.db.postgres import Base
from panamia.identity import models as identity_models  # noqa: F401

target_metadata = Base.metadata
