"""The HTTP plumbing every platform client shares: the TLS context, the transport, and one GET
whose network failures become :class:`~tagpulse.errors.TransportError`.

What an answer means (its status, body and headers) stays with each platform's ``classify``;
this module only sends and reports the failures that happen before there is an answer.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Mapping

import httpx

from tagpulse.errors import TransportError

__all__ = ["get", "ssl_context", "transport"]


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: building one costs ~30 ms, and a pool has many."""
    return ssl.create_default_context()


def transport(*, proxy: str | None, source_address: str | None) -> httpx.HTTPTransport:
    """A transport on the shared TLS context that never retries (retrying is the collector's)."""
    return httpx.HTTPTransport(
        verify=ssl_context(), local_address=source_address, proxy=proxy, retries=0
    )


def get(
    http: httpx.Client,
    path: str,
    params: Mapping[str, str],
    *,
    url: str,
    scrub: Callable[[str], str] | None = None,
) -> tuple[httpx.Response, bytes]:
    """GET ``path`` and read the body; the answer and its body, whatever the status.

    A timeout, a refused or reset connection, or an answer cut short raises
    :class:`TransportError` naming ``url``. With ``scrub`` (for clients whose request URL holds a
    secret), the message goes through it and the httpx exception is not chained, since it
    carries the request and so the URL.
    """
    try:
        answer = http.get(path, params=params)
        body = answer.content
    except httpx.TimeoutException as exc:
        message = f"timed out: {exc}"
        if scrub is not None:
            raise TransportError(scrub(message), url=url) from None
        raise TransportError(message, url=url) from exc
    except (httpx.TransportError, httpx.StreamError) as exc:
        # Resets, refused connections and answers cut short all land here.
        message = f"connection failed: {type(exc).__name__}: {exc}"
        if scrub is not None:
            raise TransportError(scrub(message), url=url) from None
        raise TransportError(message, url=url) from exc
    return answer, body
