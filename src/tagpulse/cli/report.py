"""How a running collector talks to people: rich when interactive, log lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import orjson
from rich.console import Console

from tagpulse.records import Event, HashtagSnapshot, Profile

__all__ = ["LogReporter", "RichReporter", "make_reporter"]


class LogReporter:
    """Structured (JSON) log lines, one per snapshot, event and flush."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        quiet: bool = False,
        skip_kinds: frozenset[str] = frozenset(),
    ) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.skip_kinds = skip_kinds

    def _emit(self, **fields: object) -> None:
        fields = {"ts": round(time.time(), 3), **fields}
        self.stream.write(orjson.dumps(fields, default=str).decode() + "\n")
        self.stream.flush()

    def snapshot(self, snapshot: HashtagSnapshot, warnings: list[str]) -> None:
        if not self.quiet:
            self._emit(
                msg="snapshot",
                platform=snapshot.platform,
                tag=snapshot.tag,
                post_count=snapshot.post_count,
                top_posts=len(snapshot.top_posts),
                collected_at=snapshot.collected_at.isoformat(),
                account=snapshot.account,
                warnings=len(warnings),
            )

    def profile(self, profile: Profile, posts: int, warnings: list[str]) -> None:
        if not self.quiet:
            self._emit(
                msg="profile",
                platform=profile.platform,
                handle=profile.handle,
                state=profile.state,
                followers=profile.followers,
                posts_collected=posts,
                collected_at=profile.collected_at.isoformat(),
                warnings=len(warnings),
            )

    def event(self, event: Event) -> None:
        if (self.quiet and event.level == "info") or event.kind in self.skip_kinds:
            return
        self._emit(
            msg="event",
            level=event.level,
            kind=event.kind,
            tag=event.tag,
            account=event.account,
            text=event.message,
            at=event.at.isoformat(),
        )

    def sleeping(self, seconds: float, reason: str) -> None:
        pass

    def flushed(self, snapshots: int) -> None:
        if snapshots and not self.quiet:
            self._emit(msg="flushed", snapshots=snapshots)


class RichReporter:
    """A status line with counts, and warnings printed as they happen."""

    def __init__(self, console: Console, skip_kinds: frozenset[str] = frozenset()) -> None:
        self.console = console
        self.skip_kinds = skip_kinds
        self.snapshots = 0
        self.warnings = 0
        self._status = console.status("starting")
        self._status.start()
        self._last = ""

    def _update(self, extra: str = "") -> None:
        text = f"{self.snapshots} snapshots, {self.warnings} warnings {extra}".strip()
        if text != self._last:
            self._status.update(text)
            self._last = text

    def snapshot(self, snapshot: HashtagSnapshot, warnings: list[str]) -> None:
        self.snapshots += 1
        count = f"{snapshot.post_count:,}" if snapshot.post_count is not None else "?"
        self._update(f"— #{snapshot.tag} {count}")

    def profile(self, profile: Profile, posts: int, warnings: list[str]) -> None:
        self.snapshots += 1
        followers = f"{profile.followers:,}" if profile.followers is not None else "?"
        self._update(f"— @{profile.handle} {followers} followers, {posts} posts")

    def event(self, event: Event) -> None:
        if event.level != "info":
            self.warnings += 1
        if event.level != "info" and event.kind not in self.skip_kinds:
            self.console.print(
                f"[yellow]{event.level}[/] {event.at:%Y-%m-%d %H:%M} {event.message}",
                highlight=False,
            )
        self._update()

    def sleeping(self, seconds: float, reason: str) -> None:
        self._update(f"— sleeping {seconds / 60:.1f} min ({reason})")

    def flushed(self, snapshots: int) -> None:
        pass

    def close(self) -> None:
        self._status.stop()


def make_reporter(
    console: Console, *, quiet: bool = False, skip_kinds: frozenset[str] = frozenset()
) -> LogReporter | RichReporter:
    """Rich status when the console is a terminal, JSON log lines otherwise."""
    if console.is_terminal:
        return RichReporter(console, skip_kinds)
    return LogReporter(quiet=quiet, skip_kinds=skip_kinds)
