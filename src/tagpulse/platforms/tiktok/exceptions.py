"""TikTok-specific errors (leaves of the tree in :mod:`tagpulse.errors`).

TikTok's web API answers most failures with HTTP 200 and a ``statusCode`` other than 0 in the
body. :func:`error_for_status` turns such a code into the error it means; the parser and the
client both use it, so a code means the same thing wherever it is met.
"""

from __future__ import annotations

from tagpulse.errors import CheckpointRequired, NotFound, PayloadError

__all__ = [
    "NOT_FOUND_CODES",
    "PRIVATE_CODES",
    "UNAVAILABLE_CODES",
    "VERIFY_CODES",
    "AccountNotFound",
    "ApiError",
    "ContentPrivate",
    "ContentUnavailable",
    "TikTokPayloadError",
    "UnknownShape",
    "VerifyRequired",
    "error_for_status",
]

#: ``statusCode`` values seen in the wild and what they mean (public clients' handling: yt-dlp's
#: TikTok extractor, TikTok-Api): 10000 is the captcha ("verify") wall.
VERIFY_CODES = frozenset({10000})
#: The account does not exist (10201, 10202) or was banned (10221).
NOT_FOUND_CODES = frozenset({10201, 10202, 10221})
#: A private video (10216) or a private account's listing (10222).
PRIVATE_CODES = frozenset({10216, 10222})
#: A video that cannot be shown: blocked for this client (10204) or taken down (10217).
UNAVAILABLE_CODES = frozenset({10204, 10217})


class TikTokPayloadError(PayloadError):
    """A TikTok answer the parser cannot turn into records.

    ``reason`` says what was wrong (without the URL); ``status_code`` and ``status_msg`` are
    TikTok's own ``statusCode``/``statusMsg`` when the body had them.
    """

    def __init__(
        self,
        reason: str,
        *,
        status_code: int | None = None,
        status_msg: str | None = None,
        url: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
    ) -> None:
        self.reason = reason
        self.status_code = status_code
        self.status_msg = status_msg
        super().__init__(reason, url=url, status=status, body=body)


class UnknownShape(TikTokPayloadError):
    """A body that is not JSON (nor a page with TikTok's data script), or JSON in none of the
    shapes the TikTok parser knows."""


class ApiError(TikTokPayloadError):
    """An answer with a ``statusCode`` other than 0 and no data."""


class VerifyRequired(CheckpointRequired, ApiError):
    """``statusCode`` 10000 or a verify page: TikTok wants a captcha solved before it answers.

    Both a :class:`~tagpulse.errors.CheckpointRequired` (collectors back off and rotate) and a
    :class:`~tagpulse.errors.PayloadError` (the parser raises nothing else)."""


class AccountNotFound(NotFound, ApiError):
    """The account asked for does not exist or was banned (10201, 10202, 10221)."""


class ContentPrivate(ApiError):
    """A private video or a private account's listing (10216, 10222)."""


class ContentUnavailable(ApiError):
    """A video blocked for this client or taken down (10204, 10217)."""


def error_for_status(
    code: int,
    message: str | None = None,
    *,
    url: str | None = None,
    status: int | None = None,
    body: bytes | None = None,
) -> ApiError:
    """The error a ``statusCode`` other than 0 means, with a message saying what to do next."""
    said = f" ({message})" if message else ""
    kind: type[ApiError]
    if code in VERIFY_CODES:
        kind = VerifyRequired
        reason = (
            f"statusCode {code}{said}: TikTok asks for a captcha (verify); back off and use "
            "another session or address"
        )
    elif code in NOT_FOUND_CODES:
        kind = AccountNotFound
        what = "banned" if code == 10221 else "not found"
        reason = f"statusCode {code}{said}: the account is {what}"
    elif code in PRIVATE_CODES:
        kind = ContentPrivate
        reason = f"statusCode {code}{said}: the video or account is private"
    elif code in UNAVAILABLE_CODES:
        kind = ContentUnavailable
        reason = f"statusCode {code}{said}: the video is unavailable (blocked or taken down)"
    else:
        kind = ApiError
        reason = f"statusCode {code}{said}: TikTok refused the request"
    return kind(reason, status_code=code, status_msg=message, url=url, status=status, body=body)
