"""API keys and temporary tokens.

Keys are kept only as SHA-256 digests and compared in constant time. Temporary tokens
(``POST /v1/auth/grant``) are HS256 JWTs naming the digest id of the key that asked for them, so a
token stops working when its key is removed (spec/listen-v1.md §6.1).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt

from openlisten.config import Settings
from openlisten.errors import AuthError

__all__ = ["Authenticator", "Principal"]

logger = logging.getLogger(__name__)

_ALGORITHM = "HS256"
#: Deepgram's default and maximum token lifetimes (spec §6.1).
DEFAULT_TOKEN_TTL_S = 30.0
MAX_TOKEN_TTL_S = 3600.0


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    #: A short, non-secret id of the key (a prefix of its digest), safe to log.
    key_id: str
    #: True when the request came with a temporary token rather than a key.
    via_token: bool = False


_ANONYMOUS = Principal(key_id="anonymous")


class Authenticator:
    """Checks ``Authorization`` headers and WebSocket subprotocols; issues temporary tokens."""

    def __init__(self, settings: Settings) -> None:
        self.required = not settings.no_auth
        keys = [k.get_secret_value() for k in settings.api_keys]
        self._digests = [_digest(k) for k in keys]
        if settings.api_keys_file is not None:
            self._digests.extend(_read_keys_file(settings.api_keys_file))
        secret = settings.token_secret.get_secret_value() if settings.token_secret else None
        self._secret = secret.encode() if secret else secrets.token_bytes(32)
        if self.required and not self._digests:
            logger.warning("no API keys configured: every request will get 401 (use --api-key or --no-auth)")

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization`` header: ``Token <key>`` or ``Bearer <token>``."""
        if not self.required:
            return _ANONYMOUS
        scheme, _, credential = (authorization or "").strip().partition(" ")
        return self._check(scheme, credential.strip())

    def authenticate_subprotocols(self, protocols: Iterable[str]) -> tuple[Principal, str] | None:
        """Browser-style auth, ``Sec-WebSocket-Protocol: token, <key>``: the principal and the protocol to select."""
        offered = [p.strip() for p in protocols]
        if len(offered) >= 2 and offered[0].lower() in ("token", "bearer"):
            return self._check(offered[0], offered[1]), offered[0]
        return None

    def grant(self, principal: Principal, ttl_s: float | None) -> tuple[str, float]:
        """A signed temporary token for `principal` and its lifetime in seconds."""
        ttl = DEFAULT_TOKEN_TTL_S if ttl_s is None else min(float(ttl_s), MAX_TOKEN_TTL_S)
        now = time.time()
        claims = {"sub": principal.key_id, "iat": int(now), "exp": now + ttl, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM), ttl

    def _check(self, scheme: str, credential: str) -> Principal:
        scheme = scheme.lower()
        if scheme == "token" and credential:
            return self._check_key(credential)
        if scheme == "bearer" and credential:
            return self._check_token(credential)
        raise AuthError("Invalid credentials.")

    def _check_key(self, key: str) -> Principal:
        digest = _digest(key)
        # Compare against every stored digest, without stopping early, so timing tells nothing.
        matched = False
        for stored in self._digests:
            matched |= hmac.compare_digest(digest, stored)
        if not matched:
            raise AuthError("Invalid credentials.")
        return Principal(key_id=_key_id(digest))

    def _check_token(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.PyJWTError as exc:
            raise AuthError("Invalid credentials.") from exc
        key_id = str(claims["sub"])
        if key_id != _ANONYMOUS.key_id and key_id not in {_key_id(d) for d in self._digests}:
            raise AuthError("Invalid credentials.")  # the key that granted it is gone
        return Principal(key_id=key_id, via_token=True)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _key_id(digest: bytes) -> str:
    return digest.hex()[:12]


def _read_keys_file(path: Path) -> list[bytes]:
    digests = []
    for line in path.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry.startswith("sha256:"):
            digests.append(bytes.fromhex(entry[len("sha256:") :]))
        elif entry:
            digests.append(_digest(entry))
    return digests
