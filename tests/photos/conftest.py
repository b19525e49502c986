import pytest


@pytest.fixture(params=["gridfs", "directory"])
def settings(settings, request, tmp_path):
    """Every test here runs against both stores: GridFS, and a directory."""
    return settings.model_copy(update={"photos_store": request.param,
                                       "photos_dir": tmp_path / "photos"})
