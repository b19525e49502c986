"""Every model module, imported so that `Base.metadata` describes the whole schema."""

from panamia.db.postgres import Base
from panamia.identity import models as identity_models  # noqa: F401
from panamia.legacy import models as legacy_models  # noqa: F401
from panamia.outbox import models as outbox_models  # noqa: F401
from panamia.pets.bookings import models as booking_models  # noqa: F401
from panamia.pets.listings import models as listing_models  # noqa: F401
from panamia.pets.reviews import models as review_models  # noqa: F401

target_metadata = Base.metadata
