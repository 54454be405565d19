"""The ingest report: one outcome per input, counts, JSON form."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("new", "updated", "unchanged", "duplicate", "kept", "skipped", "failed")


@dataclass(frozen=True)
class Outcome:
    """What happened to one input."""

    input: str
    status: str
    slug: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None


@dataclass
class IngestReport:
    """Every input's outcome, in the order they were decided."""

    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        """Record one outcome."""
        self.outcomes.append(outcome)

    def fail(self, name: str, reason: str) -> None:
        """Record an input that could not be ingested."""
        self.add(Outcome(name, "failed", reason=reason))

    def skip(self, name: str, reason: str) -> None:
        """Record a file that is not an input archiver knows."""
        self.add(Outcome(name, "skipped", reason=reason))

    @property
    def counts(self) -> dict[str, int]:
        """How many inputs ended in each status (every status present, zeros included)."""
        found = Counter(o.status for o in self.outcomes)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def failed(self) -> bool:
        """Whether any input failed."""
        return any(o.status == "failed" for o in self.outcomes)

    def problems(self) -> list[str]:
        """One ``FILE: reason`` line per failed or skipped input."""
        return [
            f"{o.input}: {o.reason}" for o in self.outcomes if o.status in ("failed", "skipped")
        ]

    def summary(self) -> str:
        """The one-line summary printed at the end of a run."""
        c = self.counts
        parts = [
            f"{c['new']} new",
            f"{c['updated']} updated",
            f"{c['unchanged']} unchanged",
            f"{c['duplicate']} duplicate",
            f"{c['failed']} failed",
        ]
        if c["kept"]:
            parts.append(f"{c['kept']} kept (edited by hand)")
        if c["skipped"]:
            parts.append(f"{c['skipped']} skipped")
        return "ingest: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The report as plain data for ``--json``."""
        items = [{k: v for k, v in asdict(o).items() if v is not None} for o in self.outcomes]
        return {"counts": self.counts, "inputs": items}
