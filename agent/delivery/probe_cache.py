"""The last full collection's slow probe results, kept so a network change is reported at once.

A report on a network change reads the network-dependent probes fresh and takes the slow ones
that do not depend on the network (`apt list --upgradable`, the credential scan) from here, if
the last collection made them recently and under the same agent and settings. Each result
carries its own `collected_at`, so a reused one shows as older than the report. The file holds
what a spooled report holds (credential findings are metadata, never a secret), 0600:

    {"version": 1, "basis": "3f2a...", "probes": {"patch_level": {"status": "ok",
     "duration_ms": 812, "data": {...}, "error": null, "collected_at": "2026-12-05T01:20:03Z"}}}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast, get_args

from agent.report import ErrorInfo, ProbeResult, ProbeStatus, parse_timestamp
from agent.state_dir import PROBE_CACHE, StateWriteError, write_private

log = logging.getLogger(__name__)

# Slow (a package manager, two walks of the homes), and the same on every network: what a
# report on a network change may take from here.
REUSABLE = ("patch_level", "credentials", "data_labels")
VERSION = 1


class CacheUnreadable(ValueError):
    """The cache file is not what this module writes."""


def save(state_dir: Path, basis: str, results: Mapping[str, ProbeResult]) -> None:
    """Keep the reusable probes' latest results (whatever their status: the last collection's
    answer, not the last good one). A failed write only costs the next network change its
    speed, so it is logged, not raised."""
    kept = {name: results[name] for name in REUSABLE if name in results}
    if not kept:
        return
    body = {
        "version": VERSION,
        "basis": basis,
        "probes": {name: asdict(result) for name, result in kept.items()},
    }
    try:
        write_private(state_dir / PROBE_CACHE, json.dumps(body, separators=(",", ":")))
    except StateWriteError as exc:
        log.warning("cannot keep the probe results for the next network change: %s", exc)


def reusable(state_dir: Path, basis: str, max_age_s: float, now: float) -> dict[str, ProbeResult]:
    """The cached results that may stand in for a fresh run: status ok, made under `basis`
    (this agent, policy and settings), at most `max_age_s` old. Anything else, a missing or
    unreadable file included, is left out, and that probe runs fresh."""
    path = state_dir / PROBE_CACHE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning("cannot read %s (%s): collecting every probe", path, exc)
        return {}
    try:
        entries = _entries(raw, basis)
    except CacheUnreadable as exc:
        log.warning("ignoring %s (%s): collecting every probe", path, exc)
        return {}
    found: dict[str, ProbeResult] = {}
    for name, result in entries.items():
        age = now - parse_timestamp(str(result.collected_at)).timestamp()
        if result.status == "ok" and 0 <= age <= max_age_s:
            found[name] = result
    return found


def _entries(raw: bytes, basis: str) -> dict[str, ProbeResult]:
    try:
        body = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError too
        raise CacheUnreadable(f"not JSON: {type(exc).__name__}") from exc
    except RecursionError as exc:  # json nests by recursion: a damaged file is no reason to stop
        raise CacheUnreadable("not JSON: nested too deep") from exc
    if not isinstance(body, dict) or body.get("version") != VERSION:
        raise CacheUnreadable("not a version 1 probe cache")
    if body.get("basis") != basis:
        return {}  # another agent version, policy or scan settings made it: not evidence now
    probes = body.get("probes")
    if not isinstance(probes, dict):
        raise CacheUnreadable("no probes")
    return {name: _result(name, probes[name]) for name in REUSABLE if name in probes}


def _result(name: str, raw: Any) -> ProbeResult:
    """A ProbeResult from its JSON, every field checked (the file may be damaged)."""
    if not isinstance(raw, dict):
        raise CacheUnreadable(f"{name}: not an object")
    status, duration, data = raw.get("status"), raw.get("duration_ms"), raw.get("data")
    error, collected_at = raw.get("error"), raw.get("collected_at")
    if status not in get_args(ProbeStatus) or not isinstance(duration, int):
        raise CacheUnreadable(f"{name}: bad status or duration")
    if not (data is None or isinstance(data, dict)) or not isinstance(collected_at, str):
        raise CacheUnreadable(f"{name}: bad data or collected_at")
    try:
        parse_timestamp(collected_at)
        problem = None if error is None else ErrorInfo(type=error["type"], message=error["message"])
    except (ValueError, TypeError, KeyError) as exc:
        raise CacheUnreadable(f"{name}: bad collected_at or error") from exc
    return ProbeResult(
        status=cast(ProbeStatus, status),
        duration_ms=duration,
        data=data,
        error=problem,
        collected_at=collected_at,
    )
