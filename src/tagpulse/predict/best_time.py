"""When to post: the predicted ratio of a hypothetical post for every weekday × hour (UTC).

Each slot is a post the account would make in the week after its latest post, at that weekday
and hour, built as :func:`tagpulse.predict.scoring.hypothetical_row` builds it. So that only the
time differs between slots, every slot's previous post is the account's median gap between posts
before it (not the real, slot-dependent gap) and its caption is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from tagpulse.predict.scoring import AccountHistory, StoredModel, hypothetical_row

__all__ = ["WEEKDAYS", "BestTime", "best_time"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(slots=True)
class BestTime:
    #: ``ratio[weekday][hour]``, weekday 0 = Monday, hours UTC.
    ratio: npt.NDArray[np.float64]
    account_mean_likes: float
    week_of: datetime

    def slots(self, top: int | None = None) -> list[tuple[int, int, float]]:
        """(weekday, hour, ratio), best first (ties: earlier in the week first)."""
        flat = [(d, h, float(self.ratio[d, h])) for d in range(7) for h in range(24)]
        ranked = sorted(flat, key=lambda s: (-s[2], s[0], s[1]))
        return ranked if top is None else ranked[:top]

    def hour_profile(self) -> npt.NDArray[np.float64]:
        """The mean predicted ratio per hour over the weekdays."""
        return np.asarray(self.ratio.mean(axis=0), dtype=np.float64)

    def as_dict(self, top: int) -> dict[str, Any]:
        mean = self.account_mean_likes
        return {
            "account_mean_likes": mean,
            "week_of": self.week_of.isoformat(),
            "best": [
                {"weekday": WEEKDAYS[d], "hour": h, "ratio": r, "expected_likes": r * mean}
                for d, h, r in self.slots(top)
            ],
            "best_hour": int(np.argmax(self.hour_profile())),
            "weekdays": list(WEEKDAYS),
            "ratio": [[float(v) for v in row] for row in self.ratio],
        }


def _week_after(latest: datetime) -> datetime:
    """Monday 00:00 of the first full week after ``latest``."""
    day = (latest + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def best_time(
    model: StoredModel, history: AccountHistory, caption: str | None = None, *, video: bool = False
) -> BestTime:
    """The predicted ratio of each of the 7 × 24 slots for ``history``'s account."""
    monday = _week_after(max(p["taken_at"] for p in history.posts))
    gap = history.median_gap()
    mean_likes, mean_comments = history.mean_likes, history.mean_comments
    rows = []
    for day in range(7):
        for hour in range(24):
            at = monday + timedelta(days=day, hours=hour)
            row = hypothetical_row(history, at, caption, video=video, previous_at=at - gap)
            rows.append(model.row_vector(row, mean_likes, mean_comments))
    ratio = model.predict(model.features(rows)).reshape(7, 24)
    return BestTime(ratio, mean_likes, monday)
