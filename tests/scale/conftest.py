"""Fixtures of the scale-out tests."""

from tests.scale.s3_server import s3_server

__all__ = ["s3_server"]
