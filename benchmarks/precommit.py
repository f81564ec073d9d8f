"""Median wall time of `pre-commit run --all-files` on examples/acme, warm hook environment.

    python -m benchmarks.precommit [--repeat 7]

Builds a throwaway git repository holding examples/acme and a
.pre-commit-config.yaml that points at this repository's HEAD, installs the
hook environment once (not timed), then times repeated runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(ROOT / "examples" / "acme", repo / "plan")
        (repo / ".pre-commit-config.yaml").write_text(
            f"repos:\n  - repo: {ROOT}\n    rev: {head.strip()}\n    hooks:\n"
            "      - id: policy-engine\n        args: [plan, --as-of, '2027-01-15']\n"
        )
        env = {
            **os.environ,
            "PRE_COMMIT_HOME": str(Path(tmp) / "home"),
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@example.com",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@example.com",
        }
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
        command = [sys.executable, "-m", "pre_commit", "run", "--all-files"]
        subprocess.run(command, cwd=repo, env=env, capture_output=True, check=False)  # install, warm
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = subprocess.run(command, cwd=repo, env=env, capture_output=True, check=False)
            times.append(time.perf_counter() - start)
        assert done.returncode == 1, "examples/acme must fail the hook"
    print(
        f"pre-commit run --all-files on examples/acme (warm): median {statistics.median(times) * 1000:.0f} ms "
        f"over {args.repeat} runs (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )


if __name__ == "__main__":
    main()
