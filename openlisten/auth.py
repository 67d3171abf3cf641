"""API keys and temporary tokens.

Keys are kept only as SHA-256 digests: those given to the server (``--api-key``, the environment, a keys
file) hold every scope; those made with ``openlisten keys create`` live in the store with their own scopes
and can be revoked. Temporary tokens (``POST /v1/auth/grant``) are HS256 JWTs naming the id of the key
that asked for them, so a token stops working when its key is removed or revoked; they carry only the
``transcribe`` scope (spec/listen-v1.md §6.1: tokens are for ``/v1/listen``, not for management). The
signing secret comes from `Settings.token_secret`, else from the store, so tokens survive a restart.
Neither keys nor tokens are ever logged.
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
from openlisten.errors import AuthError, InvalidParameter, PermissionDenied
from openlisten.jobs.store import ApiKey, KeyStore

__all__ = ["ALL_SCOPES", "GRANT", "KEYS", "SCOPE_ALIASES", "TRANSCRIBE", "Authenticator", "Principal", "create_key"]

logger = logging.getLogger(__name__)

_ALGORITHM = "HS256"
#: Deepgram's default and maximum token lifetimes (spec §6.1).
DEFAULT_TOKEN_TTL_S = 30.0
MAX_TOKEN_TTL_S = 3600.0

#: Transcribe: ``/v1/listen`` over REST and WebSocket.
TRANSCRIBE = "transcribe"
#: Grant temporary tokens: ``POST /v1/auth/grant``.
GRANT = "grant"
#: Manage keys: ``/v1/projects/{project_id}/keys`` (the SDK's ``manage.v1.projects.keys``).
KEYS = "keys"
ALL_SCOPES = frozenset({TRANSCRIBE, GRANT, KEYS})
#: Deepgram's role scopes, as ``keys.create(scopes=[...])`` may send them, and what each allows here.
SCOPE_ALIASES = {"member": frozenset({TRANSCRIBE, GRANT}), "admin": ALL_SCOPES, "owner": ALL_SCOPES}
#: What a temporary token may do, whatever its key may do.
TOKEN_SCOPES = frozenset({TRANSCRIBE})
#: Name of the token-signing secret in the store.
_SECRET_NAME = "token-signing"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    #: A short, non-secret id of the key (a prefix of its digest), safe to log.
    key_id: str
    #: True when the request came with a temporary token rather than a key.
    via_token: bool = False
    #: What it may do: `TRANSCRIBE`, `GRANT`, `KEYS`.
    scopes: frozenset[str] = ALL_SCOPES

    def require(self, scope: str) -> Principal:
        """Itself, or `PermissionDenied` (403) when it lacks `scope`."""
        if scope not in self.scopes:
            raise PermissionDenied("Insufficient permissions.")
        return self


_ANONYMOUS = Principal(key_id="anonymous")


class Authenticator:
    """Checks ``Authorization`` headers and WebSocket subprotocols; issues temporary tokens."""

    def __init__(self, settings: Settings, store: KeyStore | None = None) -> None:
        self.required = not settings.no_auth
        self._store = store
        keys = [k.get_secret_value() for k in settings.api_keys]
        self._digests = [_digest(k) for k in keys]
        if settings.api_keys_file is not None:
            self._digests.extend(_read_keys_file(settings.api_keys_file))
        self._static_ids = {_key_id(d) for d in self._digests}
        secret = settings.token_secret.get_secret_value() if settings.token_secret else None
        if secret:
            self._secret = secret.encode()
        else:
            self._secret = store.secret(_SECRET_NAME) if store is not None else secrets.token_bytes(32)
        if self.required and not self._digests and not (store is not None and store.list_keys()):
            logger.warning("no API keys configured: every request will get 401 (use --api-key or --no-auth)")

    def authenticate(self, authorization: str | None, scope: str | None = None) -> Principal:
        """The principal of an ``Authorization`` header, ``Token <key>`` or ``Bearer <token>``, holding `scope`
        (401 for bad credentials, 403 without the scope). The WebSocket handshake uses it too."""
        if not self.required:
            return _ANONYMOUS
        scheme, _, credential = (authorization or "").strip().partition(" ")
        principal = self._check(scheme, credential.strip())
        return principal if scope is None else principal.require(scope)

    def authenticate_subprotocols(
        self, protocols: Iterable[str], scope: str | None = None
    ) -> tuple[Principal, str] | None:
        """Browser-style auth, ``Sec-WebSocket-Protocol: token, <key>``: the principal and the protocol to select."""
        offered = [p.strip() for p in protocols]
        if len(offered) >= 2 and offered[0].lower() in ("token", "bearer"):
            principal = self._check(offered[0], offered[1])
            return (principal if scope is None else principal.require(scope)), offered[0]
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
        if matched:
            return Principal(key_id=_key_id(digest))
        # Keys made with `openlisten keys`: looked up by digest (an index lookup on a hash of the key).
        record = self._store.find_key(digest) if self._store is not None else None
        if record is None:
            raise AuthError("Invalid credentials.")
        return Principal(key_id=record.key_id, scopes=record.scopes)

    def _check_token(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.PyJWTError as exc:
            raise AuthError("Invalid credentials.") from exc
        key_id = str(claims["sub"])
        if not self._key_is_active(key_id):
            raise AuthError("Invalid credentials.")  # the key that granted it is gone or revoked
        return Principal(key_id=key_id, via_token=True, scopes=TOKEN_SCOPES)

    def _key_is_active(self, key_id: str) -> bool:
        if key_id in self._static_ids or (key_id == _ANONYMOUS.key_id and not self.required):
            return True
        stored = self._store.get_key(key_id) if self._store is not None else None
        return stored is not None and stored.revoked_at is None


def create_key(
    store: KeyStore, name: str, scopes: Iterable[str], *, within: frozenset[str] = ALL_SCOPES
) -> tuple[str, ApiKey]:
    """A new random key (40 hex digits, like Deepgram's) stored as a digest; the key is shown only here.
    `scopes` are `ALL_SCOPES` names or `SCOPE_ALIASES`; anything else is `InvalidParameter`. A key may
    only be given scopes `within` those of the key that creates it (`PermissionDenied` otherwise)."""
    names = list(scopes)
    unknown = [name for name in names if name not in ALL_SCOPES and name not in SCOPE_ALIASES]
    if unknown or not names:
        known = ", ".join(sorted(ALL_SCOPES | SCOPE_ALIASES.keys()))
        raise InvalidParameter(f"scopes must be some of {known}, got {', '.join(unknown) or 'none'}")
    chosen = frozenset().union(*(SCOPE_ALIASES.get(name, {name}) for name in names))
    if not chosen <= within:
        missing = ", ".join(sorted(chosen - within))
        raise PermissionDenied(f"a key can only create keys with scopes it holds itself; it lacks {missing}")
    key = secrets.token_hex(20)
    digest = _digest(key)
    record = ApiKey(key_id=_key_id(digest), name=name, scopes=chosen, created_at=time.time())
    store.add_key(record, digest)
    return key, record


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
