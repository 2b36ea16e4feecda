"""The one error tree of tagpulse.

Every error raised on purpose is a :class:`TagpulseError`. Messages name the file, line, field or
URL involved and, where there is one, what to do next.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "CheckpointRequired",
    "ConfigError",
    "InputError",
    "LoginRequired",
    "MissingExtra",
    "NotFound",
    "PayloadError",
    "PlatformError",
    "RateLimited",
    "StorageError",
    "TagpulseError",
    "TransportError",
]


class TagpulseError(Exception):
    """Root of every error tagpulse raises on purpose."""


class ConfigError(TagpulseError):
    """A setting is missing, malformed or unsafe."""


class MissingExtra(ConfigError):
    """A command needs an optional extra that is not installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"this needs the '{extra}' extra (module {module!r} is missing): "
            f"install it with `uv sync --extra {extra}` or `pip install 'tagpulse[{extra}]'`"
        )
        self.extra = extra
        self.module = module


class InputError(TagpulseError):
    """Bad user input; carries where it was found (file, line, field)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if path is not None:
            where.append(f"{path}:{line}" if line is not None else path)
        elif line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class PlatformError(TagpulseError):
    """A platform answered with something other than the data asked for."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.body = body
        super().__init__(f"{message} ({url})" if url else message)


class RateLimited(PlatformError):
    """429, or 401 "Please wait a few minutes before you try again."."""


class LoginRequired(PlatformError):
    """The platform wants a (new) login: redirect to the login page or require_login."""


class CheckpointRequired(PlatformError):
    """The account must pass a checkpoint (challenge) before it can be used again."""


class TransportError(PlatformError):
    """The connection failed: reset, refused, timed out."""


class NotFound(PlatformError):
    """The thing asked for does not exist (404)."""


class PayloadError(PlatformError):
    """The platform answered with a body no known parser understands."""


class StorageError(TagpulseError):
    """The lake or the catalog could not be read or written."""


class AuthError(TagpulseError):
    """A user, session or API key was refused."""
