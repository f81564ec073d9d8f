"""The peer comparison: the same 17 rules in Rego, run by regopy, side by side.

    python -m benchmarks.peer                       # 1k and 10k initiatives, 3 runs each
    python -m benchmarks.peer --sizes 1000 --repeat 5 --timeout 300

regopy (an implementation of OPA's Rego on PyPI, `pip install '.[bench]'`)
evaluates benchmarks/rego/governance.rego over the plan exported as JSON
input; policy-engine evaluates its compiled built-in pack over the graph of
the same plan. Both are timed on evaluation alone, after loading, in this
process; the Rego side runs in a child process so that it can be stopped at
the timeout, and what it found is checked against the hand-written
reference (benchmarks/reference.py) before its time is reported.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.run import AS_OF, _plan

POLICY = Path(__file__).resolve().parent / "rego" / "governance.rego"


def export(graph: Any) -> dict[str, Any]:
    """The plan as OPA input: entities by `kind:id`, references resolved under `links`.

    Calendar arithmetic is done here (review expiry, next outcome review),
    since Rego has no durations: that work is not timed on the Rego side.
    """
    from policy_engine.plan.model import review_expires_on

    entities: dict[str, Any] = {}
    for e in graph.entities:
        fields = e.model.model_dump(mode="json", exclude_none=True)
        item: dict[str, Any] = {k: v for k, v in fields.items() if not isinstance(v, list | dict)}
        item["kind"] = e.kind
        item["links"] = {name: [t.ref for t in targets] for name, targets in e.links.items()}
        item["has_decision"] = getattr(e.model, "decision", None) is not None
        if e.kind == "Vendor" and e.model.due_diligence is not None:
            item["due_diligence"] = fields["due_diligence"]
        if e.kind == "Review" and (expires := review_expires_on(e.model)) is not None:
            item["expires_on"] = expires.isoformat()
        if e.kind == "Outcome" and e.model.review_cadence:
            item["review_cadence"] = str(e.model.review_cadence)
        if e.kind == "Outcome" and e.model.review_cadence and e.model.last_reviewed:
            item["review_due"] = e.model.review_cadence.add_to(e.model.last_reviewed).isoformat()
        entities[e.ref] = item
    return {
        "as_of": AS_OF.isoformat(),
        "params": {"max_top": 3, "min_share": 0.2},
        "entities": entities,
    }


def _rego_worker(document: str, out: Any) -> None:
    from regopy import Interpreter  # type: ignore[import-untyped]

    rego = Interpreter()
    rego.add_module("governance", POLICY.read_text())
    t = time.perf_counter()
    rego.set_input_term(document)
    loaded = time.perf_counter() - t
    t = time.perf_counter()
    result = rego.query("x = data.governance.verdicts")
    evaluated = time.perf_counter() - t
    text = str(result)
    if "bindings" not in text:
        out.send({"error": text[:2000]})
        return
    verdicts = json.loads(text)["bindings"]["x"]
    out.send({"input": loaded, "evaluate": evaluated, "verdicts": verdicts})


def run_rego(document: str, timeout: float) -> dict[str, Any] | None:
    """The Rego side in a child process; None when it did not finish in `timeout`."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_rego_worker, args=(document, send))
    child.start()
    result: dict[str, Any] | None = receive.recv() if receive.poll(timeout) else None
    child.kill()
    child.join()
    return result


def _ours(graph: Any, rules: Any) -> float:
    from policy_engine.engine import RunOptions, run_rules

    t = time.perf_counter()
    run_rules(graph, rules, RunOptions(as_of=AS_OF))
    return time.perf_counter() - t


def measure(size: int, repeat: int, timeout: float) -> dict[str, Any]:
    import gc

    from benchmarks.reference import evaluate
    from policy_engine.api import compile_policy
    from policy_engine.plan.graph import build_graph
    from policy_engine.plan.loader import load_files

    gc.disable()
    graph = build_graph(load_files([_plan(size, "yaml")]))
    rules = compile_policy()
    document = json.dumps(export(graph))
    expected = sorted(json.dumps(list(v)) for v in evaluate(graph, AS_OF))
    ours, rego, rego_input = [], [], []
    for _ in range(repeat):
        ours.append(_ours(graph, rules))
        result = run_rego(document, timeout)
        if result is None:
            return {"size": size, "ours": statistics.median(ours), "rego": None, "timeout": timeout}
        if "error" in result:
            raise SystemExit(f"Rego failed: {result['error']}")
        found = sorted(json.dumps(v) for v in result["verdicts"])
        if found != expected:
            missing, extra = set(expected) - set(found), set(found) - set(expected)
            raise SystemExit(
                f"Rego disagrees with the reference: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
            )
        rego.append(result["evaluate"])
        rego_input.append(result["input"])
    return {
        "size": size,
        "entities": len(graph.entities),
        "verdicts": len(expected),
        "ours": statistics.median(ours),
        "rego": statistics.median(rego),
        "rego_input": statistics.median(rego_input),
        "ratio": statistics.median(rego) / statistics.median(ours),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for one Rego evaluation")
    args = parser.parse_args()
    print_peer([int(s) for s in args.sizes.split(",")], args.repeat, args.timeout)


def print_peer(sizes: list[int], repeat: int, timeout: float) -> None:
    """The peer's table: each size's evaluation time on both sides and their ratio."""
    import importlib.util

    if importlib.util.find_spec("regopy") is None:
        print("peer: regopy is not installed; install it with pip install '.[bench]'")
        return
    print("initiatives  entities  verdicts  policy-engine s  Rego s  Rego input s  Rego / policy-engine")
    for size in sizes:
        row = measure(size, repeat, timeout)
        if row["rego"] is None:
            print(
                f"{size:>11}  {'':>8}  {'':>8}  {row['ours']:15.3f}  > {row['timeout']:.0f} (timeout)",
                flush=True,
            )
            continue
        print(
            f"{size:>11}  {row['entities']:>8}  {row['verdicts']:>8}  {row['ours']:15.3f}  "
            f"{row['rego']:6.2f}  {row['rego_input']:12.2f}  {row['ratio']:20.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
