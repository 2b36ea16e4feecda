"""`tagpulse status`: watchlist state, last success per tag, next due, account breakers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from tagpulse.cli.common import HomeOption, console, friendly_errors, settings_for
from tagpulse.lake.catalog import Catalog

__all__ = ["status"]


def _when(ts: float | None) -> str:
    if ts is None or ts != ts:  # None or NaN
        return "—"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


@friendly_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    home: HomeOption = None,
) -> None:
    """Show each tracked tag's last success and next due time, and each account's breaker."""
    settings = settings_for(home)
    catalog = Catalog(settings.catalog_path)
    schedules = catalog.schedules()
    accounts = catalog.accounts()
    warnings = catalog.warning_counts()
    if as_json:
        doc: dict[str, Any] = {
            "home": str(settings.home),
            "tags": [
                {
                    "platform": s.platform,
                    "tag": s.tag,
                    "interval_s": s.interval_s,
                    "last_success_at": _when(s.last_success_at),
                    "last_count": s.last_count,
                    "next_due": _when(s.next_due),
                    "last_error": s.last_error,
                    "warnings": warnings.get((s.platform, s.tag), 0),
                }
                for s in schedules
            ],
            "accounts": [
                {
                    "alias": a.alias,
                    "platform": a.platform,
                    "state": a.state,
                    "cooldown_until": _when(a.cooldown_until),
                    "failures": a.failures,
                    "last_error": a.last_error,
                    "requests_per_hour": a.rate_per_hour,
                }
                for a in accounts
            ],
        }
        console.print_json(orjson.dumps(doc).decode())
        return
    tags = Table(title=f"Watchlist ({len(schedules)} tags) — {settings.home}")
    for col in ("platform", "tag", "every", "last success", "last count", "next due", "warnings"):
        tags.add_column(col, justify="right" if col in ("last count", "warnings") else "left")
    for s in schedules:
        tags.add_row(
            s.platform,
            "#" + s.tag,
            f"{s.interval_s / 60:.0f} min",
            _when(s.last_success_at),
            f"{s.last_count:,}" if s.last_count is not None else "—",
            _when(s.next_due),
            str(warnings.get((s.platform, s.tag), 0)),
        )
    console.print(tags)
    table = Table(title="Accounts (circuit breakers)")
    for col in ("alias", "platform", "state", "cooling until", "failures", "last error"):
        table.add_column(col)
    for a in accounts:
        table.add_row(
            a.alias,
            a.platform,
            a.state,
            _when(a.cooldown_until),
            str(a.failures),
            a.last_error or "",
        )
    if not accounts:
        table.caption = "no accounts stored: the collector runs anonymously"
    console.print(table)
