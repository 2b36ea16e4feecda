"""Settings read from the environment (prefix ``TAGPULSE_``) and command-line options."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tagpulse.errors import ConfigError
from tagpulse.lake.storage import (
    LakeRoot,
    ObjectStorageUnsupported,
    is_object_url,
    open_object_lake,
)

__all__ = [
    "IG_GRAPH_BASE_URL",
    "INSTAGRAM_BASE_URL",
    "TIKTOK_BASE_URL",
    "X_BASE_URL",
    "Settings",
    "load_settings",
]

INSTAGRAM_BASE_URL = "https://www.instagram.com"
TIKTOK_BASE_URL = "https://www.tiktok.com"
X_BASE_URL = "https://api.x.com"
IG_GRAPH_BASE_URL = "https://graph.facebook.com/v21.0"

#: Secrets that ship in examples and must never protect real data.
_DEFAULT_SECRETS = frozenset({"", "changeme", "change-me", "secret", "tagpulse", "demo"})


class Settings(BaseSettings):
    """Runtime settings. Nothing is read at import time; call :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="TAGPULSE_", extra="ignore")

    home: Path = Field(default=Path("tagpulse-data"), description="Data directory (lake, catalog)")
    instagram_base_url: str = INSTAGRAM_BASE_URL
    tiktok_base_url: str = TIKTOK_BASE_URL
    x_base_url: str = X_BASE_URL
    ig_graph_base_url: str = IG_GRAPH_BASE_URL
    secret_key: str = Field(default="", description="Key that encrypts account secrets")
    sandbox: bool = Field(default=False, description="Running against the sandbox platform")
    lake_url: str = Field(
        default="",
        description="Where the lake lives: empty for <home>/lake, a folder, or s3://bucket/prefix",
    )
    s3_endpoint: str = Field(
        default="", description="S3 endpoint URL for an s3:// lake (empty: AWS itself)"
    )

    def base_url(self, platform: str) -> str:
        """Where a platform's client talks to (``TAGPULSE_<PLATFORM>_BASE_URL``)."""
        urls = {
            "instagram": self.instagram_base_url,
            "tiktok": self.tiktok_base_url,
            "x": self.x_base_url,
            "ig-graph": self.ig_graph_base_url,
        }
        try:
            return urls[platform]
        except KeyError:
            raise ConfigError(f"no base URL for platform {platform!r}") from None

    @property
    def lake(self) -> LakeRoot:
        """The lake as its readers and writers take it: ``<home>/lake``, or an object-storage
        lake (``TAGPULSE_LAKE_URL=s3://bucket/prefix``, credentials from the standard AWS
        variables) whose catalog, locks and caches stay under the home."""
        url = self._lake_url()
        if url is None:
            return self.home / "lake"
        return open_object_lake(url, self.home / "lake", endpoint=self.s3_endpoint.strip() or None)

    @property
    def lake_dir(self) -> Path:
        """The lake's local folder; raises ``ObjectStorageUnsupported`` (a ConfigError) for an
        object-storage lake, so a command not converted to object storage says so."""
        url = self._lake_url()
        if url is not None:
            raise ObjectStorageUnsupported(url)
        return self.home / "lake"

    def _lake_url(self) -> str | None:
        url = self.lake_url.strip()
        if not url:
            return None
        if not is_object_url(url):
            # The catalog (privacy policy included) lives beside a local lake: one home, one lake.
            raise ConfigError(
                f"TAGPULSE_LAKE_URL={url!r}: use s3://bucket/prefix, or unset it and choose a "
                "local lake with --home / TAGPULSE_HOME"
            )
        return url

    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.sqlite"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    def require_secret(self) -> str:
        """The secret key, refusing a default or empty one unless running on the sandbox."""
        if self.secret_key.strip().lower() in _DEFAULT_SECRETS and not self.sandbox:
            raise ConfigError(
                "TAGPULSE_SECRET_KEY is empty or a known default: set it to a long random "
                "string (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return self.secret_key or "tagpulse-sandbox-only-key"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (None values are ignored)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
