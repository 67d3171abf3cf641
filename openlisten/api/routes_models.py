"""``GET /v1/models``: the models this server runs, in the shape the SDK parses (spec/listen-v1.md §6.2)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from openlisten.api.deps import AuthDep, ServicesDep
from openlisten.engine.models import ModelManager
from openlisten.wire.listen import ListModelsResponse, SttModel

__all__ = ["router"]

router = APIRouter(tags=["models"])


@router.get("/v1/models", response_model=ListModelsResponse, summary="List models")
async def list_models(services: ServicesDep, _principal: AuthDep, include_outdated: bool = False) -> ListModelsResponse:
    """Every model name this server accepts, and what each runs."""
    return ListModelsResponse(stt=_stt_models(services.engine.models))


@router.get("/v1/models/{model_id}", response_model=SttModel, summary="Get a model")
async def get_model(model_id: str, services: ServicesDep, _principal: AuthDep) -> SttModel:
    """One model, by name or uuid."""
    for model in _stt_models(services.engine.models):
        if model_id in (model.name, model.uuid):
            return model
    raise HTTPException(404, f"No such model: {model_id!r}")


def _stt_models(models: ModelManager) -> list[SttModel]:
    entries = []
    for name in models.names():
        spec = models.resolve(name)
        entries.append(
            SttModel(
                name=name,
                canonical_name=name,
                architecture="whisper",
                languages=["en"] if spec.english_only else ["multi"],
                version=spec.source,
                uuid=spec.uuid,
                batch=True,
                streaming=True,
                formatted_output=True,
            )
        )
    return entries
