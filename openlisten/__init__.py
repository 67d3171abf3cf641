"""OpenListen: Deepgram's ``/v1/listen`` and ``/v2/listen`` speech-to-text APIs on hardware you own.

Embedded use, no server::

    import openlisten
    response = openlisten.transcribe("call.wav", model="nova-3", smart_format=True)
    print(response.results.channels[0].alternatives[0].transcript)

    async for message in openlisten.stream(pcm_pieces, encoding="linear16", sample_rate=16000):
        print(message.type)  # Results, SpeechStarted, UtteranceEnd, Metadata: what the WebSocket sends

    async for message in openlisten.stream_turns(pcm_pieces, encoding="linear16", sample_rate=16000):
        print(message.type)  # Connected, then TurnInfo: what /v2/listen (Flux) sends

Importing the package loads no web framework: `create_app` (FastAPI) is imported on first use.
"""

import typing

from openlisten.config import Settings
from openlisten.embedded import stream, stream_turns, transcribe
from openlisten.engine.engine import Engine
from openlisten.errors import (
    AudioDecodeError,
    AuthError,
    CapacityError,
    InternalError,
    InvalidParameter,
    OpenListenError,
    PayloadTooLarge,
    RequestError,
    StreamClosed,
    UnsupportedEncoding,
    UnsupportedFeature,
    URLFetchError,
)
from openlisten.options import ListenOptions
from openlisten.wire.listen import ListenResponse

if typing.TYPE_CHECKING:
    from openlisten.api.app import create_app

__version__ = "0.1.0"

__all__ = [
    "AudioDecodeError",
    "AuthError",
    "CapacityError",
    "Engine",
    "InternalError",
    "InvalidParameter",
    "ListenOptions",
    "ListenResponse",
    "OpenListenError",
    "PayloadTooLarge",
    "RequestError",
    "Settings",
    "StreamClosed",
    "URLFetchError",
    "UnsupportedEncoding",
    "UnsupportedFeature",
    "create_app",
    "stream",
    "stream_turns",
    "transcribe",
]


def __getattr__(name: str) -> typing.Any:
    if name == "create_app":
        from openlisten.api.app import create_app

        return create_app
    raise AttributeError(f"module 'openlisten' has no attribute {name!r}")
