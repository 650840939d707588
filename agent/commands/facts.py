"""`agent facts`: collect and print one report, the probe catalogue, or a recording."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agent.commands.machine import probes_for
from agent.config import AgentConfig
from agent.delivery.policy_cache import choose_policy
from agent.facts.collect import collect_report
from agent.facts.context import Context
from agent.facts.probe_docs import render_markdown
from agent.facts.probes import PROBES
from agent.facts.recording import RecordingContext


def facts(args: argparse.Namespace, config: AgentConfig) -> int:
    if args.markdown:
        print(render_markdown(PROBES), end="")
        return 0
    probes = probes_for(config, choose_policy(args.policy, config))
    if args.record:
        recording = RecordingContext()
        collect_report(recording, probes)
        Path(args.record).write_text(json.dumps(recording.recording, indent=1) + "\n")
        return 0
    print(json.dumps(collect_report(Context(), probes).to_dict(), indent=2))
    return 0
