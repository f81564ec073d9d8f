"""The whole benchmark table in one command.

    python -m benchmarks.run                      # 1k, 10k, 100k initiatives, 3 runs each
    python -m benchmarks.run --sizes 1000,10000 --repeat 5
    python -m benchmarks.run --startup-only
    python -m benchmarks.run --peer               # and the same rules in Rego at 1k and 10k ('.[bench]')

Every measurement of a size runs in a fresh process (so peak memory is that
size's own), several times; the table shows medians. Comparisons that make a
ratio are measured side by side in one run: the compiled pack against the
hand-written reference on the same graph, the cold start of
`policy-engine check examples/acme` against the bare import of the stack.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
AS_OF = date(2027, 1, 15)
PHASES = ("load", "graph", "compile", "evaluate", "reference", "report")


def _plan(size: int, fmt: str) -> Path:
    folder = OUT / f"{fmt}-{size}"
    if not folder.exists():
        from benchmarks.generate import generate, write

        write(generate(size), folder, as_json=fmt == "json")
    return folder


def worker(folder: Path) -> dict[str, Any]:
    """One measured run of every phase, in this process."""
    from benchmarks.reference import evaluate
    from policy_engine import __version__
    from policy_engine.api import compile_policy
    from policy_engine.engine import RunOptions, build_report, followed_by, run_rules
    from policy_engine.plan.graph import build_graph
    from policy_engine.plan.loader import load_files
    from policy_engine.reporters import renderer

    gc.disable()  # as the CLI does for every command
    times: dict[str, float] = {}
    t = time.perf_counter()
    plan = load_files([folder])
    times["load"] = time.perf_counter() - t
    t = time.perf_counter()
    rules = compile_policy()
    times["compile"] = time.perf_counter() - t
    t = time.perf_counter()
    graph = build_graph(plan, followed_by(rules))  # as a check makes it: the inverses its rules follow
    times["graph"] = time.perf_counter() - t
    options = RunOptions(as_of=AS_OF)
    t = time.perf_counter()
    findings = run_rules(graph, rules, options)
    times["evaluate"] = time.perf_counter() - t
    t = time.perf_counter()
    evaluate(graph, AS_OF)
    times["reference"] = time.perf_counter() - t
    t = time.perf_counter()
    report = build_report(
        [*plan.problems, *graph.problems, *findings],
        graph=graph,
        rules=rules,
        options=options,
        version=__version__,
    )
    renderer("json")(report, False)
    times["report"] = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "times": times,
        "peak_mb": peak,
        "entities": len(graph.entities),
        "findings": len(findings),
    }


def _run_worker(folder: Path, cache: str) -> dict[str, Any]:
    env = {**os.environ, "POLICY_ENGINE_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--worker", str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _cli_wall(folder: Path, cache: str, cold: bool = True) -> float:
    """Wall time of `policy-engine check`; cold: no file of the plan in the parse cache, no earlier check's state."""
    if cold:
        shutil.rmtree(Path(cache) / "plans", ignore_errors=True)
        shutil.rmtree(Path(cache) / "checks", ignore_errors=True)
    env = {**os.environ, "POLICY_ENGINE_CACHE_DIR": cache}
    t = time.perf_counter()
    subprocess.run(_check_command(folder), check=False, env=env, cwd=ROOT, capture_output=True)
    return time.perf_counter() - t


def _check_command(folder: Path) -> list[str]:
    return [_command(), "check", str(folder), "--as-of", "2027-01-15", "--format", "json", "-o", os.devnull]


def _closures_plan(size: int) -> Path:
    """A dependency chain and a dependency cycle of `size // 2` initiatives each, in one file.

    The longest closures a plan can have: every initiative of the chain reaches
    all those after it, every one of the cycle reaches the whole cycle.
    """
    folder = OUT / f"closures-{size}"
    if not folder.exists():
        half = size // 2
        docs = ["kind: Outcome\nid: o\nowner: person:p\nstatus: active\n", "kind: Person\nid: p\n"]
        for n in range(size):
            # The chain's last depends on nothing; the cycle's last on the cycle's first.
            after = None if n == half - 1 else half if n == size - 1 else n + 1
            docs.append(
                f"kind: Initiative\nid: c{n:06}\nstatus: approved\npriority: P1\nowner: person:p\n"
                "contributes_to: [o]\n" + (f"depends_on: [c{after:06}]\n" if after is not None else "")
            )
        folder.mkdir(parents=True)
        (folder / "plan.yaml").write_text("---\n".join(docs))
    return folder


def long_closures(sizes: list[int], repeat: int) -> list[tuple[int, float]]:
    """Median wall time of a cold `check` of each closures plan, with a warm policy cache."""
    walls = []
    for size in sizes:
        folder = _closures_plan(size)
        with tempfile.TemporaryDirectory() as cache:
            runs = []
            for _ in range(repeat + 1):  # the first compiles the policies into the cache
                runs.append(_cli_wall(folder, cache))
                _wait_for_writers(folder)  # the next run must not share the machine with them
            walls.append((size, statistics.median(runs[1:])))
    return walls


def _command() -> str:
    found = shutil.which("policy-engine", path=str(Path(sys.executable).parent)) or shutil.which(
        "policy-engine"
    )
    if not found:
        raise SystemExit("policy-engine is not installed in this environment")
    return found


def sizes_table(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        for fmt in ("yaml", "json"):
            folder = _plan(size, fmt)
            with tempfile.TemporaryDirectory() as cache:
                runs = [_run_worker(folder, cache) for _ in range(repeat)]
                walls = []
                for _ in range(repeat):
                    walls.append(_cli_wall(folder, cache))
                    _wait_for_writers(folder)  # the next run must not share the machine with them
            row: dict[str, Any] = {"size": size, "format": fmt, "entities": runs[0]["entities"]}
            for phase in PHASES:
                row[phase] = statistics.median(r["times"][phase] for r in runs)
            row["peak_mb"] = max(r["peak_mb"] for r in runs)
            row["check_wall"] = statistics.median(walls)
            row["all_mb"] = _footprint(folder, cache)
            row["eval_ratio"] = row["evaluate"] / row["reference"]
            rows.append(row)
            print(_format_row(row), flush=True)
    return rows


def warm_recheck(size: int, repeat: int, fmt: str = "yaml") -> dict[str, Any]:
    """Check, edit one file of the plan, check again: the parse cache and the last check's state are warm.

    Each edit raises one open initiative from P1 to P0 or lowers it back: a
    value that top-priorities-limit and sustainment-capacity group by, that
    priority-inversion compares along depends_on, in a file that other
    initiatives depend on; the hardest single edit the built-in pack has.
    """
    source = _plan(size, fmt)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache:
        folder = Path(tmp) / "plan"
        shutil.copytree(source, folder)
        files = sorted(folder.glob(f"*.{fmt}"))
        cold = _cli_wall(folder, cache)
        _wait_for_writers(folder)  # the parse cache and the check's state, written in the background
        field = _PRIORITY[fmt]
        edited = next(f for f in files if field + "P1" in f.read_text())
        at = edited.read_text().index(field + "P1") + len(field)  # where "P1" is; "P0" is as long
        warm = []
        for n in range(repeat):
            text = edited.read_text()
            edited.write_text(text[:at] + ("P0" if n % 2 == 0 else "P1") + text[at + 2 :])
            warm.append(_cli_wall(folder, cache, cold=False))
            _wait_for_writers(folder)  # this check's entries, before the next edit (or the folder's removal)
    return {"size": size, "format": fmt, "cold": cold, "warm_after_edit": statistics.median(warm)}


_PRIORITY = {"json": '"priority": "', "yaml": "priority: "}


def _footprint(folder: Path, cache: str) -> float:
    """Peak memory of a cold `policy-engine check` and its forked children together, in MB.

    Sampled from outside every 20 ms as the sum of each process's
    proportional set size (PSS), so that pages a child still shares with the
    checker count once. The cache writer, detached once the output is
    written, is not part of the check.
    """
    shutil.rmtree(Path(cache) / "plans", ignore_errors=True)
    shutil.rmtree(Path(cache) / "checks", ignore_errors=True)
    env = {**os.environ, "POLICY_ENGINE_CACHE_DIR": cache}
    check = subprocess.Popen(
        _check_command(folder), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0
    while check.poll() is None:
        peak = max(peak, sum(_pss_kb(pid) for pid in _process_tree(check.pid)))
        time.sleep(0.02)
    _wait_for_writers(folder)  # the next run must not share the machine with them
    return peak / 1024


def _process_tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):  # ended meanwhile
            todo.extend(int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split())
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):  # ended meanwhile
        pass
    return 0


def _wait_for_writers(folder: Path, timeout: float = 300) -> None:
    """Wait until the detached cache writers of checks of `folder` have ended: their entries are written.

    A writer is a fork of the check, so it shows the check's command line.
    """
    deadline = time.monotonic() + timeout
    wanted = str(folder).encode()
    while time.monotonic() < deadline:
        writing = False
        for proc in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                if proc.name.isdigit() and wanted in (proc / "cmdline").read_bytes():
                    writing = True
                    break
        if not writing:
            return
        time.sleep(0.1)


def startup(repeat: int) -> dict[str, float]:
    """`policy-engine check examples/acme` against the bare import of the stack, interleaved."""
    bare_cmd = [sys.executable, "-c", "import networkx, pydantic, pyparsing, click, yaml"]
    check_cmd = [_command(), "check", "examples/acme", "--as-of", "2027-01-15", "-q"]
    bare, check = [], []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "POLICY_ENGINE_CACHE_DIR": cache}
        subprocess.run(
            check_cmd, cwd=ROOT, env=env, capture_output=True, check=False
        )  # warm the policy cache
        for _ in range(repeat):
            for cmd, into in ((bare_cmd, bare), (check_cmd, check)):
                t = time.perf_counter()
                subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
                into.append(time.perf_counter() - t)
    b, c = statistics.median(bare), statistics.median(check)
    return {"bare_import": b, "check_acme": c, "ratio": c / b}


def _format_row(row: dict[str, Any]) -> str:
    phases = " ".join(f"{row[p]:8.3f}" for p in PHASES)
    return (
        f"{row['size']:>7} {row['format']:<5} {row['entities']:>8} {phases} "
        f"{row['check_wall']:9.2f} {row['peak_mb']:8.0f} {row['all_mb']:8.0f} {row['eval_ratio']:6.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--startup-only", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--peer",
        action="store_true",
        help="also run the same rules in Rego at 1k and 10k, once each (needs '.[bench]'; takes minutes)",
    )
    parser.add_argument("--peer-timeout", type=float, default=600.0, help="seconds for one Rego run")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    print("machine:", os.cpu_count(), "cores,", sys.version.split()[0])
    # As an installed copy does, every measured run imports bytecode, not source
    # (where PYTHONDONTWRITEBYTECODE is set, nothing else would write it).
    import compileall

    import policy_engine

    compileall.compile_dir(Path(policy_engine.__file__).parent, quiet=1)
    start = startup(max(args.repeat * 5, 15))
    print(
        f"cold start: check examples/acme {start['check_acme'] * 1000:.0f} ms, "
        f"bare import {start['bare_import'] * 1000:.0f} ms, ratio {start['ratio']:.2f}"
    )
    if args.startup_only:
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        "\ninitiat. fmt   entities     load    graph  compile evaluate  referen   report  check(s)  peak MB   all MB eval/ref"
    )
    rows = sizes_table(sizes, args.repeat)
    for fmt in ("yaml", "json"):
        walls = [r for r in rows if r["format"] == fmt]
        for small, big in itertools.pairwise(walls):
            growth = big["check_wall"] / small["check_wall"]
            print(f"growth {fmt} {small['size']} -> {big['size']}: x{growth:.1f} (check wall time)")
    closures = long_closures([2500, 5000, 10000], args.repeat)
    print(
        "\nlong closures (a dependency chain and a cycle of half the initiatives each), check: "
        + ", ".join(f"{size}: {wall:.2f} s" for size, wall in closures)
    )
    for (small, fast), (big, slow) in itertools.pairwise(closures):
        print(f"growth closures {small} -> {big}: x{slow / fast:.1f} (check wall time)")
    largest = max(sizes)
    for fmt in ("yaml", "json"):
        warm = warm_recheck(largest, args.repeat, fmt)
        print(
            f"warm re-check after editing one file of {largest} ({fmt}): "
            f"{warm['warm_after_edit']:.2f} s (cold {warm['cold']:.2f} s)"
        )
    if args.peer:
        from benchmarks.peer import print_peer  # it imports this module

        print("\npeer: the same rules in Rego (regopy), evaluation alone, one run per size")
        print_peer([1000, 10000], 1, args.peer_timeout)


if __name__ == "__main__":
    main()
