"""The `collector` command line (the collector itself is the next issue's work)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print(
        "collector: not built yet; the agent works on its own: agent --self-check", file=sys.stderr
    )
    return 2
