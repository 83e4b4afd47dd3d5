"""Business hours of the agent team, in the shop's time zone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BusinessHours:
    opens: Optional[time]  # None = always open
    closes: Optional[time]
    timezone: str

    @classmethod
    def parse(cls, spec: str, timezone: str) -> "BusinessHours":
        """"09:00-21:00" (daily); "" = always open."""
        if not spec.strip():
            return cls(None, None, timezone)
        try:
            start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
        except ValueError as exc:
            raise ValueError(f"BUSINESS_HOURS must look like 09:00-21:00, got {spec!r}") from exc
        return cls(start, end, timezone)

    def is_open(self, now: datetime) -> bool:
        if self.opens is None:
            return True
        local = now.astimezone(ZoneInfo(self.timezone)).time()
        if self.opens <= self.closes:
            return self.opens <= local < self.closes
        return local >= self.opens or local < self.closes  # overnight shifts

    def next_opening(self, now: datetime) -> datetime:
        """When people are next back (now, if open)."""
        if self.is_open(now):
            return now
        local = now.astimezone(ZoneInfo(self.timezone))
        candidate = local.replace(hour=self.opens.hour, minute=self.opens.minute, second=0, microsecond=0)
        if candidate <= local:
            candidate += timedelta(days=1)
        return candidate

    def add_open_time(self, start: datetime, delta: timedelta) -> datetime:
        """`start` plus `delta` of time the team is open: a first-response target of 15
        minutes set ten minutes before closing ends five minutes after the next opening."""
        moment = self.next_opening(start)
        if self.opens is None:
            return moment + delta
        remaining = delta
        while True:
            closing = self._closing_after(moment)
            if moment + remaining <= closing:
                return moment + remaining
            remaining -= closing - moment
            moment = self.next_opening(closing)

    def _closing_after(self, moment: datetime) -> datetime:
        """The end of the open period `moment` (open) is in."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        candidate = local.replace(hour=self.closes.hour, minute=self.closes.minute, second=0, microsecond=0)
        if candidate <= local:
            candidate += timedelta(days=1)
        return candidate
