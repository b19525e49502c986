"""The sitter's dashboard as JSON."""

from fastapi import APIRouter

from panamia.identity.dependencies import SIGNED_IN, CurrentUser
from panamia.pets.dashboard import service
from panamia.pets.dashboard.schemas import SitterDashboard
from panamia.resources import ResourcesDep

router = APIRouter(tags=["sitting"])


@router.get("/sitting", response_model=SitterDashboard, summary="Your sitting at a glance",
            responses=SIGNED_IN)
async def sitter_dashboard(user: CurrentUser, resources: ResourcesDep) -> SitterDashboard:
    """Your listings, the requests waiting for your answer (each with `answerBy`, when it
    expires unanswered), and your confirmed stays still to come or under way."""
    return await service.sitter_dashboard(resources, user)
