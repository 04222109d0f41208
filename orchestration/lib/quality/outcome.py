"""What a gate found: failed rules with counts, a few examples and where they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

SAMPLES = 5


@dataclass
class Finding:
    """One failed rule: what was expected, how much failed, a few examples and places."""

    rule: str
    column: str
    unexpected: int | None  # failing rows (or days); None for a table-level rule
    checked: int | None
    unit: str
    observed: str = ""
    examples: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)

    @property
    def failing(self) -> str:
        if self.unexpected is None:
            return self.observed
        return f"{self.unexpected} of {self.checked} {self.unit}"


@dataclass
class GateOutcome:
    gate: str
    source: str
    dump_dates: list[date]
    rows_checked: int
    expectations: int
    findings: list[Finding]
    days: list[dict[str, Any]]  # one row per dump date: the figures the gate judged

    @property
    def passed(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        dates = ", ".join(f"{d}" for d in self.dump_dates)
        if self.passed:
            return (
                f"{self.source} {self.gate}: all {self.expectations} expectations met on "
                f"{self.rows_checked} rows of dump date(s) {dates}"
            )
        lines = [
            f"{self.source} {self.gate}: {len(self.findings)} of {self.expectations} "
            f"expectations failed on dump date(s) {dates}:"
        ]
        for finding in self.findings:
            where = f" at {', '.join(finding.where)}" if finding.where else ""
            examples = f" (e.g. {', '.join(finding.examples)})" if finding.examples else ""
            lines.append(f"- {finding.rule}: {finding.failing}{examples}{where}")
        return "\n".join(lines)

    def findings_records(self) -> list[dict[str, str]]:
        return [
            {
                "rule": f.rule,
                "column": f.column or "",
                "failing": f.failing,
                "examples": "; ".join(f.examples),
                "where": "; ".join(f.where),
            }
            for f in self.findings
        ]
