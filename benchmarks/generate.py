"""A seeded synthetic plan: N initiatives with proportional everything else.

    python -m benchmarks.generate 10000 benchmarks/out/plan-10k            # YAML files
    python -m benchmarks.generate 10000 benchmarks/out/plan-10k --json     # JSON files

Per 100 initiatives: 10 outcomes, 20 people, 2 teams, 5 systems, 2 vendors,
20 reviews, 2 waivers. Initiatives depend on earlier ones in short chains,
with a few cycles and self-dependencies; every built-in rule has work to do
and findings to give. Files hold at most 1,000 entities each, as a real plan
split by area would.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import yaml

PER_FILE = 1000
TYPES = ["feature", "tech-debt", "sustainment", "ai-pilot", "platform", "vendor-adoption", "security", "data"]
INIT_STATUS = ["proposed", "approved", "in-progress", "paused", "done", "cancelled"]
PERIODS = ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4", "2027-H1", "2027"]


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """The entities of a plan with `n` initiatives, deterministic for a seed."""
    rng = random.Random(seed)
    count = {
        "outcome": max(1, n // 10),
        "person": max(2, n // 5),
        "team": max(1, n // 50),
        "system": max(2, n // 20),
        "vendor": max(1, n // 50),
        "review": max(1, n // 5),
        "waiver": max(1, n // 50),
    }
    people = [f"person-{i}" for i in range(count["person"])]
    teams = [f"team-{i}" for i in range(count["team"])]
    owners = [f"person:{p}" for p in people] + [f"team:{t}" for t in teams]
    out: list[dict[str, Any]] = []
    for i, t in enumerate(teams):
        team: dict[str, Any] = {
            "kind": "Team",
            "id": t,
            "title": f"Team {i}",
            "lead": f"person:{rng.choice(people)}",
        }
        if i:
            team["parent"] = teams[rng.randrange(i)]
        out.append(team)
    for p in people:
        out.append(
            {
                "kind": "Person",
                "id": p,
                "name": p.replace("-", " ").title(),
                "member_of": [rng.choice(teams)],
                "status": "left" if rng.random() < 0.02 else "active",
            }
        )
    for i in range(count["outcome"]):
        outcome: dict[str, Any] = {
            "kind": "Outcome",
            "id": f"outcome-{i}",
            "title": f"Outcome {i}",
            "owner": rng.choice(owners) if rng.random() < 0.95 else [rng.choice(owners), rng.choice(owners)],
            "period": rng.choice(PERIODS),
            "status": rng.choice(["active", "active", "active", "draft", "achieved", "dropped"]),
            "rank": i + 1,
        }
        if rng.random() < 0.5:
            outcome["review_cadence"] = rng.choice(["weekly", "monthly", "quarterly", "P14D"])
            outcome["last_reviewed"] = f"2026-{rng.randint(6, 12):02d}-{rng.randint(1, 28):02d}"
        if rng.random() < 0.3:
            outcome["decision"] = {"decides": f"person:{rng.choice(people)}"}
        out.append(outcome)
    for i in range(count["vendor"]):
        approved = rng.random() < 0.7
        vendor: dict[str, Any] = {
            "kind": "Vendor",
            "id": f"vendor-{i}",
            "owner": f"person:{rng.choice(people)}",
            "status": "approved" if approved else rng.choice(["proposed", "offboarding"]),
            "risk_tier": rng.choice(["critical", "high", "medium", "low"]),
            "ai": rng.random() < 0.3,
        }
        if approved:
            vendor["approved_on"] = f"2026-{rng.randint(2, 9):02d}-15"
        if rng.random() < 0.9:
            vendor["due_diligence"] = {
                "completed": f"2026-{rng.randint(1, 10):02d}-10",
                "trains_on_customer_data": rng.random() < 0.2,
            }
        out.append(vendor)
    for i in range(count["system"]):
        system: dict[str, Any] = {
            "kind": "System",
            "id": f"system-{i}",
            "owner": rng.choice(owners),
            "lifecycle": rng.choices(["active", "deprecated", "retired"], [85, 10, 5])[0],
            "data_classification": rng.choices(
                ["public", "internal", "confidential", "restricted"], [20, 50, 25, 5]
            )[0],
            "tier": rng.randint(1, 3),
        }
        if i and rng.random() < 0.5:
            system["depends_on"] = [f"system-{rng.randrange(i)}"]
        if rng.random() < 0.3:
            system["supplied_by"] = f"vendor:vendor-{rng.randrange(count['vendor'])}"
        out.append(system)
    for i in range(n):
        status = rng.choice(INIT_STATUS)
        initiative: dict[str, Any] = {
            "kind": "Initiative",
            "id": f"init-{i}",
            "title": f"Initiative {i}",
            "type": rng.choice(TYPES),
            "priority": rng.choices(["P0", "P1", "P2", "P3"], [5, 25, 40, 30])[0],
            "status": status,
            "owner": rng.choice(owners),
            "team": rng.choice(teams),
            "effort": rng.randint(0, 12),
            "period": rng.choice(PERIODS),
        }
        if rng.random() < 0.95:
            initiative["contributes_to"] = [f"outcome-{rng.randrange(count['outcome'])}"]
        if i and rng.random() < 0.6:  # chains: depend on a recent initiative
            initiative["depends_on"] = [f"init-{rng.randrange(max(0, i - 20), i)}"]
        if rng.random() < 0.002:  # a cycle: depend on a later one, or on itself
            initiative.setdefault("depends_on", []).append(f"init-{min(n - 1, i + rng.randint(0, 5))}")
        uses = []
        if rng.random() < 0.6:
            uses.append(f"system:system-{rng.randrange(count['system'])}")
        if rng.random() < 0.15:
            uses.append(f"vendor:vendor-{rng.randrange(count['vendor'])}")
        if uses:
            initiative["uses"] = uses
        if rng.random() < 0.2:
            initiative["decision"] = {"decides": rng.choice(owners)}
        out.append(initiative)
    review_types = ["acceptable-use", "security", "privacy", "architecture", "vendor-risk"]
    for i in range(count["review"]):
        review: dict[str, Any] = {
            "kind": "Review",
            "id": f"review-{i}",
            "type": rng.choice(review_types),
            "subject": f"initiative:init-{rng.randrange(n)}",
            "status": rng.choice(
                ["approved", "approved", "approved-with-conditions", "rejected", "in-review"]
            ),
            "reviewer": f"person:{rng.choice(people)}",
            "decided": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        if rng.random() < 0.5:
            review["valid_for"] = rng.choice(["P6M", "P12M"])
        out.append(review)
    rules = [
        "initiative-approved-vendor",
        "ai-pilot-acceptable-use",
        "initiative-has-outcome",
        "dependency-cycle",
    ]
    for i in range(count["waiver"]):
        out.append(
            {
                "kind": "Waiver",
                "id": f"waiver-{i}",
                "rule": rng.choice(rules),
                "subjects": [f"initiative:init-{rng.randrange(n)}" for _ in range(rng.randint(1, 3))],
                "owner": f"person:{rng.choice(people)}",
                "reason": "synthetic",
                "expires": f"2027-{rng.randint(1, 12):02d}-01",
            }
        )
    return out


def write(entities: list[dict[str, Any]], folder: Path, as_json: bool) -> list[Path]:
    """Write the entities in files of at most PER_FILE each."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*"):
        old.unlink()
    paths = []
    for start in range(0, len(entities), PER_FILE):
        chunk = entities[start : start + PER_FILE]
        path = folder / f"part-{start // PER_FILE:04d}.{'json' if as_json else 'yaml'}"
        if as_json:
            path.write_text(json.dumps(chunk, indent=1))
        else:
            path.write_text(yaml.safe_dump_all(chunk, sort_keys=False, width=1000))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("initiatives", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    entities = generate(args.initiatives, args.seed)
    paths = write(entities, args.folder, args.json)
    print(f"wrote {len(entities)} entities to {len(paths)} files in {args.folder}")


if __name__ == "__main__":
    main()
