"""OpenListen: Deepgram's ``/v1/listen`` speech-to-text API on hardware you own.

Embedded use, no server::

    import openlisten
    response = openlisten.transcribe("call.wav", model="nova-3", smart_format=True)
    print(response.results.channels[0].alternatives[0].transcript)
"""

from openlisten.api.app import create_app
from openlisten.api.schemas import ListenResponse
from openlisten.config import Settings
from openlisten.embedded import transcribe
from openlisten.errors import (
    AudioDecodeError,
    AuthError,
    CapacityError,
    InternalError,
    InvalidParameter,
    OpenListenError,
    PayloadTooLarge,
    RequestError,
    UnsupportedEncoding,
    UnsupportedFeature,
    URLFetchError,
)
from openlisten.options import ListenOptions
from openlisten.transcriber import Transcriber

__version__ = "0.1.0"

__all__ = [
    "AudioDecodeError",
    "AuthError",
    "CapacityError",
    "InternalError",
    "InvalidParameter",
    "ListenOptions",
    "ListenResponse",
    "OpenListenError",
    "PayloadTooLarge",
    "RequestError",
    "Settings",
    "Transcriber",
    "URLFetchError",
    "UnsupportedEncoding",
    "UnsupportedFeature",
    "create_app",
    "transcribe",
]
