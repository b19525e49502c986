"""Every model module, imported so that `Base.metadata` describes the whole schema: the
platform's own, and those each installed sidecar declares in `Sidecar.models`."""

from panamia.db.postgres import Base
from panamia.federation import models as federation_models
from panamia.identity import models as identity_models
from panamia.ledger import models as ledger_models
from panamia.legacy import models as legacy_models
from panamia.notifications import models as notification_models
from panamia.outbox import models as outbox_models
from panamia.sidecar import models as sidecar_models
from panamia.sidecar import registry
from panamia.social import models as social_models

MODEL_MODULES = (federation_models, identity_models, ledger_models, legacy_models,
                 notification_models, outbox_models, sidecar_models, social_models,
                 *(module for sidecar in registry.discover() for module in sidecar.models))
target_metadata = Base.metadata
