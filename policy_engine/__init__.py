"""policy-engine: policy-as-code checks for technology governance plans.

The public API is imported lazily so that `import policy_engine` stays cheap
(pre-commit starts the command on every commit).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "check", "compile_policy", "load_plan"]


def __getattr__(name: str) -> Any:
    if name in ("check", "compile_policy", "load_plan"):
        from policy_engine import api

        return getattr(api, name)
    raise AttributeError(f"module 'policy_engine' has no attribute {name!r}")
