"""Due-queue of (platform, tag) observations, one per interval slot, with jitter.

Slots sit on a grid of the interval (``slot = k * interval``), so a restarted collector knows
which observation is next, and a slot observed twice (after a crash) is recognised as the same.
Slots missed while the collector was down are skipped: the past cannot be observed.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

__all__ = ["Scheduler", "Task"]

Key = tuple[str, str]


@dataclass(order=True, slots=True)
class Task:
    due: float
    platform: str = field(compare=False)
    tag: str = field(compare=False)
    slot: float = field(compare=False)
    attempts: int = field(default=0, compare=False)
    #: An account's pass over its posts continues here (page > 0): the cursor of the next page.
    cursor: str | None = field(default=None, compare=False)
    user_id: str | None = field(default=None, compare=False)
    posts: int = field(default=0, compare=False)
    page: int = field(default=0, compare=False)
    #: Which listing of the account this page belongs to: posts, followers, following, comments.
    stage: str = field(default="posts", compare=False)
    #: Shortcodes whose comments are still to read in this pass.
    todo: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> Key:
        return (self.platform, self.tag)


class Scheduler:
    """Keeps one pending task per active watchlist entry."""

    def __init__(self, interval_s: float, *, jitter: float = 0.1, seed: int | None = None) -> None:
        if interval_s <= 0:
            raise ValueError("interval must be positive")
        self.interval_s = interval_s
        self.jitter = jitter
        self._rng = random.Random(seed)
        self._heap: list[Task] = []
        self._active: set[Key] = set()
        self._pending: dict[Key, Task] = {}

    def slot_of(self, t: float) -> float:
        return math.floor(t / self.interval_s) * self.interval_s

    def _due_for(self, slot: float, now: float) -> float:
        offset = self._rng.uniform(0, self.jitter * self.interval_s)
        return max(now, slot + offset)

    def next_slot(self, last_slot: float | None, now: float) -> float:
        current = self.slot_of(now)
        if last_slot is None:
            return current
        return max(last_slot + self.interval_s, current)

    def sync(
        self, keys: Iterable[Key], last_slots: dict[Key, float | None], now: float
    ) -> tuple[list[Key], list[Key]]:
        """Make the active set equal ``keys``; returns (added, removed)."""
        wanted = list(dict.fromkeys(keys))
        added = [k for k in wanted if k not in self._active]
        removed = [k for k in self._active if k not in set(wanted)]
        for key in removed:
            self._active.discard(key)
            self._pending.pop(key, None)
        for key in added:
            self._active.add(key)
            slot = self.next_slot(last_slots.get(key), now)
            # A new entry is observed right away; later slots get jitter.
            due = now if last_slots.get(key) is None else self._due_for(slot, now)
            self._push(Task(due=due, platform=key[0], tag=key[1], slot=slot))
        return added, removed

    def _push(self, task: Task) -> None:
        self._pending[task.key] = task
        heapq.heappush(self._heap, task)

    def peek(self) -> Task | None:
        while self._heap:
            task = self._heap[0]
            if self._pending.get(task.key) is task:
                return task
            heapq.heappop(self._heap)  # stale: entry removed or task replaced
        return None

    def pop(self) -> Task | None:
        task = self.peek()
        if task is not None:
            heapq.heappop(self._heap)
            self._pending.pop(task.key, None)
        return task

    def done(self, task: Task, now: float) -> Task | None:
        """Schedule the slot after ``task``'s; None if the entry was removed meanwhile."""
        if task.key not in self._active:
            return None
        slot = self.next_slot(task.slot, now)
        nxt = Task(due=self._due_for(slot, now), platform=task.platform, tag=task.tag, slot=slot)
        self._push(nxt)
        return nxt

    def retry(self, task: Task, now: float, delay_s: float) -> tuple[Task | None, bool]:
        """Try the same slot again after ``delay_s``; gives up (returns False) when the next slot
        would already be due by then, and schedules that one instead."""
        if task.key not in self._active:
            return None, False
        if now + delay_s < task.slot + self.interval_s:
            again = replace(task, due=now + delay_s, attempts=task.attempts + 1)
            self._push(again)
            return again, True
        return self.done(task, now), False

    def defer(self, task: Task, due: float) -> Task:
        """The same task later (its platform's accounts are busy); nothing else changes."""
        later = replace(task, due=due)
        self._push(later)
        return later

    def next_page(
        self,
        task: Task,
        cursor: str | None,
        user_id: str | None,
        posts: int,
        *,
        stage: str | None = None,
        todo: tuple[str, ...] | None = None,
    ) -> Task:
        """The same slot's next page of a listing, due now (the account budget paces it)."""
        nxt = replace(
            task,
            attempts=0,
            cursor=cursor,
            user_id=user_id,
            posts=posts,
            page=task.page + 1,
            stage=stage or task.stage,
            todo=task.todo if todo is None else todo,
        )
        self._push(nxt)
        return nxt

    @property
    def active(self) -> set[Key]:
        return set(self._active)

    def pending(self) -> list[Task]:
        return sorted(self._pending.values())
