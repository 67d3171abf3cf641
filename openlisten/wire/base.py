"""What every wire body shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ModelInfoBody", "WireModel"]


class WireModel(BaseModel):
    """A body the server sends: frozen once built."""

    model_config = ConfigDict(frozen=True)


class ModelInfoBody(WireModel):
    """A model's name, version and architecture, in prerecorded metadata and in live Results alike."""

    name: str
    version: str
    arch: str
