"""Reporters: one small pure function per format, `render(report, color) -> str`.

Listed in a plain dict by format name; each module is imported only when
its format is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from policy_engine.report import Report

Render = Callable[[Report, bool], str]

FORMATS = {
    "text": "policy_engine.reporters.text",
    "json": "policy_engine.reporters.json",
    "sarif": "policy_engine.reporters.sarif",
    "junit": "policy_engine.reporters.junit",
    "github": "policy_engine.reporters.github",
    "markdown": "policy_engine.reporters.markdown",
}


def renderer(name: str) -> Render:
    """The render function of a format."""
    render: Render = importlib.import_module(FORMATS[name]).render
    return render
