"""placeholder"""
from panamia.sidecar.pages import page_router
router = page_router()
