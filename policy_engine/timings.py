"""Where a check spends its time, phase by phase and rule by rule (`check --timings`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Timings:
    """Seconds per phase, in the order the phases ran, and per rule of the evaluation."""

    phases: dict[str, float] = field(default_factory=dict)
    rules: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # said under the rules (a re-check's savings)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - start

    def add_rule(self, rule_id: str, seconds: float) -> None:
        self.rules[rule_id] = self.rules.get(rule_id, 0.0) + seconds

    def render(self) -> str:
        """A table for people: phases as they ran, then rules, slowest first."""
        lines = ["timings (seconds):"]
        width = max(len(name) for name in (*self.phases, *self.rules, "in all"))
        lines += [f"  {name:<{width}}  {seconds:8.3f}" for name, seconds in self.phases.items()]
        lines.append(f"  {'in all':<{width}}  {sum(self.phases.values()):8.3f}")
        if self.rules:
            total = sum(self.rules.values()) or 1.0
            lines.append("rules, slowest first (seconds, share of the rules' time):")
            for rule, seconds in sorted(self.rules.items(), key=lambda item: (-item[1], item[0])):
                lines.append(f"  {rule:<{width}}  {seconds:8.3f}  {seconds / total:6.1%}")
        lines += self.notes
        return "\n".join(lines) + "\n"
