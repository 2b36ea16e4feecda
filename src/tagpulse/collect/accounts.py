"""The account pool: who the collector logs in as, through which route, at what rate.

An accounts file (TOML) lists the accounts::

    [[account]]
    alias = "main"                 # the only name that ever appears in logs and the lake
    sessionid = "..."              # the web session cookie (secret)
    proxy = "socks5://host:1080"   # optional (secret: may carry credentials)
    source_address = "127.0.0.2"   # optional local address to send from
    requests_per_hour = 200        # this account's budget
    burst = 10

Secrets are stored encrypted in the catalog (Fernet, key derived from TAGPULSE_SECRET_KEY) and
never logged. The pool rotates between usable accounts and keeps each one's token bucket and
circuit breaker.
"""

from __future__ import annotations

import base64
import hashlib
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

from tagpulse.collect.breaker import BackoffPolicy, Breaker
from tagpulse.collect.ratelimit import TokenBucket
from tagpulse.errors import ConfigError, InputError
from tagpulse.lake.catalog import Catalog

__all__ = [
    "Account",
    "AccountPool",
    "AccountSpec",
    "PoolSet",
    "SecretBox",
    "load_accounts_file",
    "store_accounts",
]

#: Platforms an account may belong to; ``ig-graph``: Instagram through the official Graph API.
ACCOUNT_PLATFORMS = ("instagram", "tiktok", "x", "ig-graph")
DEFAULT_RATE_PER_HOUR = 180.0
DEFAULT_BURST = 5.0


@dataclass(slots=True, frozen=True)
class AccountSpec:
    alias: str
    session_id: str | None
    proxy: str | None = None
    source_address: str | None = None
    requests_per_hour: float = DEFAULT_RATE_PER_HOUR
    burst: float = DEFAULT_BURST
    platform: str = "instagram"
    #: The Instagram business account a Graph API token acts for (``ig-graph`` accounts).
    ig_user_id: str | None = None

    def __repr__(self) -> str:  # secrets never appear in reprs, hence never in logs
        return f"AccountSpec(alias={self.alias!r}, platform={self.platform!r})"


class SecretBox:
    """Symmetric encryption of account secrets with a key derived from the settings' secret."""

    def __init__(self, secret: str) -> None:
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
        self._fernet = Fernet(key)

    def seal(self, value: str | None) -> bytes | None:
        return None if value is None else self._fernet.encrypt(value.encode())

    def open(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise ConfigError(
                "cannot decrypt stored account secrets: TAGPULSE_SECRET_KEY changed since they "
                "were stored; load the accounts file again"
            ) from exc


def _number(entry: dict[str, Any], key: str, default: float, path: str, index: int) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InputError(f"account #{index}: {key} must be a positive number", path=path, field=key)
    return float(value)


def load_accounts_file(path: Path) -> list[AccountSpec]:
    """Parse an accounts file; errors name the file, the account and the field."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read accounts file: {exc.strerror}", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=str(path)) from exc
    entries = doc.get("account", [])
    if not isinstance(entries, list) or not entries:
        raise InputError("no [[account]] entries", path=str(path), field="account")
    specs: list[AccountSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        alias = entry.get("alias")
        if not isinstance(alias, str) or not alias.strip():
            raise InputError(f"account #{index} has no alias", path=str(path), field="alias")
        if alias in seen:
            raise InputError(f"alias {alias!r} used twice", path=str(path), field="alias")
        seen.add(alias)
        platform = str(entry.get("platform", "instagram")).strip().lower()
        if platform not in ACCOUNT_PLATFORMS:
            raise InputError(
                f"account {alias!r}: platform {platform!r} is not one of "
                f"{', '.join(ACCOUNT_PLATFORMS)}",
                path=str(path),
                field="platform",
            )
        for key in (
            "sessionid",
            "bearer_token",
            "access_token",
            "ig_user_id",
            "proxy",
            "source_address",
        ):
            if key in entry and not isinstance(entry[key], str):
                raise InputError(
                    f"account {alias!r}: {key} must be a string", path=str(path), field=key
                )
        if platform == "ig-graph" and not (entry.get("access_token") and entry.get("ig_user_id")):
            raise InputError(
                f"account {alias!r}: an ig-graph account needs access_token and ig_user_id "
                "(the Instagram business account the token acts for)",
                path=str(path),
                field="access_token",
            )
        if platform == "x" and not entry.get("bearer_token"):
            raise InputError(
                f"account {alias!r}: an X account needs bearer_token (an API v2 app token)",
                path=str(path),
                field="bearer_token",
            )
        specs.append(
            AccountSpec(
                alias=alias,
                # One secret per account: the session cookie, or X's API bearer token.
                session_id=(
                    entry.get("access_token") or entry.get("bearer_token") or entry.get("sessionid")
                ),
                ig_user_id=entry.get("ig_user_id"),
                proxy=entry.get("proxy"),
                source_address=entry.get("source_address"),
                requests_per_hour=_number(
                    entry, "requests_per_hour", DEFAULT_RATE_PER_HOUR, str(path), index
                ),
                burst=_number(entry, "burst", DEFAULT_BURST, str(path), index),
                platform=platform,
            )
        )
    return specs


def store_accounts(catalog: Catalog, box: SecretBox, specs: list[AccountSpec]) -> None:
    """Replace the catalog's accounts of each platform with ``specs`` (secrets sealed)."""
    for spec in specs:
        catalog.upsert_account(
            spec.alias,
            spec.platform,
            box.seal(_pack_secret(spec)),
            box.seal(spec.proxy),
            spec.source_address,
            spec.requests_per_hour,
            spec.burst,
        )
    for platform in {s.platform for s in specs}:
        catalog.remove_accounts_except(platform, [s.alias for s in specs if s.platform == platform])


def _pack_secret(spec: AccountSpec) -> str | None:
    # A Graph API account's business id travels with its token, sealed the same way.
    if spec.ig_user_id is None:
        return spec.session_id
    return orjson.dumps({"token": spec.session_id, "ig_user_id": spec.ig_user_id}).decode()


def _unpack_secret(platform: str, secret: str | None) -> tuple[str | None, str | None]:
    if platform != "ig-graph" or not secret or not secret.startswith("{"):
        return secret, None
    doc = orjson.loads(secret)
    return doc.get("token"), doc.get("ig_user_id")


def stored_accounts(catalog: Catalog, box: SecretBox, platform: str) -> list[AccountSpec]:
    specs: list[AccountSpec] = []
    for row in catalog.accounts(platform):
        secret, ig_user_id = _unpack_secret(row.platform, box.open(row.secret_enc))
        specs.append(
            AccountSpec(
                alias=row.alias,
                session_id=secret,
                proxy=box.open(row.proxy_enc),
                source_address=row.source_address,
                requests_per_hour=row.rate_per_hour,
                burst=row.burst,
                platform=row.platform,
                ig_user_id=ig_user_id,
            )
        )
    return specs


@dataclass(slots=True)
class Account:
    spec: AccountSpec
    bucket: TokenBucket
    breaker: Breaker
    client: Any = None
    requests: int = 0

    @property
    def alias(self) -> str:
        return self.spec.alias


@dataclass(slots=True)
class AccountPool:
    """Rotates requests over accounts that are neither cooling nor out of tokens."""

    accounts: list[Account]
    headroom: float = 0.1
    _next: int = 0
    _make_client: Callable[[AccountSpec], Any] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        specs: list[AccountSpec],
        make_client: Callable[[AccountSpec], Any],
        policy: BackoffPolicy,
        seed: int | None = None,
        *,
        restore: dict[str, tuple[float | None, int, str | None]] | None = None,
    ) -> AccountPool:
        rng = random.Random(seed)
        accounts: list[Account] = []
        for spec in specs:
            breaker = Breaker(policy=policy, rng=random.Random(rng.random()))
            if restore and spec.alias in restore:
                until, failures, last_error = restore[spec.alias]
                breaker.cooldown_until = until
                breaker.failures = failures
                breaker.last_error = last_error
            accounts.append(
                Account(
                    spec=spec,
                    bucket=TokenBucket(spec.burst, spec.requests_per_hour / 3600.0),
                    breaker=breaker,
                )
            )
        return cls(accounts=accounts, _make_client=make_client)

    def acquire(self, now: float) -> tuple[Account | None, float]:
        """An account that may send a request now (its token taken), or the wait until one can.

        Round-robin among ready accounts, so load spreads and a throttled one is skipped.
        """
        if not self.accounts:
            return None, float("inf")
        n = len(self.accounts)
        soonest = float("inf")
        for offset in range(n):
            account = self.accounts[(self._next + offset) % n]
            if not account.breaker.usable(now):
                assert account.breaker.cooldown_until is not None
                soonest = min(soonest, account.breaker.cooldown_until - now)
                continue
            # Take a token only when a little more than one is there: the platform counts the
            # request a moment later than we do, so an exactly-full bucket would overrun it.
            need = 1.0 + min(self.headroom, max(0.0, account.bucket.capacity - 1.0))
            if account.bucket.available(now) >= need and account.bucket.try_take(now):
                self._next = (self._next + offset + 1) % n
                account.requests += 1
                if account.client is None and self._make_client is not None:
                    # Made on first use: a platform nobody watches opens no connections.
                    account.client = self._make_client(account.spec)
                return account, 0.0
            soonest = min(soonest, account.bucket.wait_time(now, need))
        return None, max(soonest, 0.0)

    def all_cooling(self, now: float) -> bool:
        return all(not a.breaker.usable(now) for a in self.accounts)

    def close(self) -> None:
        for account in self.accounts:
            close = getattr(account.client, "close", None)
            if callable(close):
                close()


@dataclass(slots=True)
class PoolSet:
    """One account pool per platform (an Instagram session cannot ask X, nor the reverse)."""

    pools: dict[str, AccountPool]

    def for_platform(self, platform: str) -> AccountPool | None:
        pool = self.pools.get(platform)
        return pool if pool is not None and pool.accounts else None

    @property
    def accounts(self) -> list[Account]:
        return [a for pool in self.pools.values() for a in pool.accounts]

    def acquire(self, now: float) -> tuple[Account | None, float]:
        """The Instagram pool's :meth:`AccountPool.acquire` (the single-platform case)."""
        pool = self.for_platform("instagram") or next(iter(self.pools.values()))
        return pool.acquire(now)

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
