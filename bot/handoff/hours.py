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
