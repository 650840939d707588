"""Credential file scan throughput: the agent's scanner beside detect-secrets on one synthetic home.

Builds a home in a temp dir (configs, logs, source code, JSON, notes; binaries, node_modules,
.git/objects and .cache that the agent skips by rule), plants organisation credentials (each a
unique canary, in its own file) and decoys (other organisations' secrets, look-alike domains,
placeholders, an organisation name too far from a secret), then scans the same text files with
each engine in a fresh child process that reports its own wall time and peak RSS
(resource.getrusage). detect-secrets is a bench-only tool: `.venv/bin/pip install detect-secrets`.

Usage: .venv/bin/python bench/scan_throughput.py [--mb 300] [--repeat 5] [--no-detect-secrets]
       .venv/bin/python bench/scan_throughput.py --home /root   (the agent alone on a real home)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ORG_LINES = [  # organisation mentions that are not credentials
    "homepage = https://www.example.ac.uk/it-services",
    "# questions: servicedesk@example.ac.uk",
    "token_endpoint: https://login.example.ac.uk/oauth2/token",
    "password_reset_url = https://password.example.ac.uk/reset",
    "GET https://portal.example.ac.uk/api/v2/timetable?week=12 200 34ms",
]
FILLER = {
    "conf": [
        "[section_{n}]",
        "timeout = {n}",
        "retries = 3",
        "# tuning for cluster {n}",
        "log_level = info",
        "path = /var/lib/app/{n}",
        "enabled = true",
    ],
    "log": [
        "2026-11-21T10:{n:02d}:00Z INFO worker-{n} handled request id={n}{n} status=200",
        "2026-11-21T10:{n:02d}:01Z DEBUG cache miss key=item:{n} took {n}ms",
        "2026-11-21T10:{n:02d}:02Z WARN slow query table=events rows={n}",
    ],
    "py": [
        "def handler_{n}(event, context):",
        "    value = compute(event, {n})",
        "    return {{'status': 200, 'body': value}}",
        "import os",
        "# helper number {n}",
        "class Model{n}(Base):",
        "    __tablename__ = 'items_{n}'",
    ],
    "json": [
        '  {{"id": {n}, "name": "item {n}", "tags": ["a", "b"], "score": 0.{n}}},',
        '  {{"id": {n}, "url": "https://cdn.example.com/{n}.png", "width": {n}}},',
    ],
    "md": [
        "Meeting notes for week {n}: agreed the plan, next steps below.",
        "- [ ] follow up with the team about item {n}",
        "## Section {n}",
        "",
    ],
}
EXT = {"conf": ".ini", "log": ".log", "py": ".py", "json": ".json", "md": ".md"}
SIZES = {
    "conf": (2_000, 30_000),
    "py": (5_000, 120_000),
    "json": (30_000, 400_000),
    "md": (2_000, 60_000),
    "log": (300_000, 1_900_000),
}
WEIGHTS = {"conf": 40, "py": 30, "json": 12, "md": 15, "log": 3}

PLANTED = [  # (kind, text); {c} is the canary
    ("password_in_file", "[database]\nhost = db.example.ac.uk\nuser = alice\npassword = {c}"),
    ("password_in_file", "DB_HOST=pg.example.ac.uk\nDB_PASSWORD={c}"),
    ("password_in_file", 'smtp:\n  server: smtp.example.ac.uk\n  password: "{c}"'),
    (
        "token_in_file",
        '{{"tenant": "11111111-2222-4333-8444-555555555555",\n "client_secret": "{c}"}}',
    ),
    (
        "url_credentials_in_file",
        '[remote "origin"]\n\turl = https://alice:{c}@git.example.ac.uk/r.git',
    ),
    ("url_credentials_in_file", "DSN = 'postgresql://alice:{c}@research-db.example.ac.uk:5432/x'"),
    ("token_in_file", "curl -H 'Authorization: Bearer {c}' https://api.example.ac.uk/v1/me"),
    (
        "private_key_in_file",
        "# deploy key for gitlab.example.ac.uk\n-----BEGIN OPENSSH PRIVATE "
        "KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA{c}\n-----END OPENSSH PRIVATE KEY-----",
    ),
    ("password_in_file", "VPN vpn.example.ac.uk\nmy password: {c}"),
    ("token_in_file", "# research bucket on s3.example.ac.uk\naws_secret_access_key = {c}"),
    ("password_in_file", "<server>imap.example.ac.uk</server>\n<password>{c}</password>"),
    ("password_in_file", "machine mail.example.ac.uk login alice password {c}"),
    ("password_in_file", "[realms]\n AD.EXAMPLE.AC.UK = {{ kdc = dc1 }}\nbind_password = {c}"),
    ("token_in_file", "export GITHUB_TOKEN={c}  # github.example.ac.uk enterprise"),
]
DECOYS = [  # must never be found
    "[database]\nhost = db.other-university.edu\npassword = {c}",
    "url = https://alice:{c}@git.example.ac.uk.evil.com/r.git",
    "host: badexample.ac.uk\npassword: {c}",
    "login via example.ac.uk-login.net\ntoken = {c}",
    "DSN = postgresql://bob:{c}@db.example-ac-uk.com/x",
    "[database]\nhost = db.example.ac.uk\npassword = ${{DB_PASSWORD}}\ntoken: <your token>",
    "see https://www.example.ac.uk/\n"
    + "filler line without anything secret\n" * 300
    + "github_token = {c}",
    "remote = https://bob:{c}@github.com/bob/x.git  # mirrors example.ac.uk code",
]


def text_block(rng: random.Random, kind: str, size: int, org_every: int) -> str:
    lines, total, pool = [], 0, FILLER[kind]
    while total < size:
        line = (
            ORG_LINES[rng.randrange(len(ORG_LINES))]
            if org_every and rng.randrange(org_every) == 0
            else rng.choice(pool).format(n=rng.randrange(60))
        )
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def build(root: Path, megabytes: int, seed: int) -> dict[str, Any]:
    """Write the synthetic home; the manifest says which files are text, planted, decoys."""
    rng = random.Random(seed)
    folders = [
        root / d
        for d in (
            "Documents",
            "projects/app",
            "projects/site/config",
            ".config",
            "notes",
            "Downloads",
            ".local/share/app",
            "work/scripts",
        )
    ]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    text: list[str] = []
    planted: dict[str, str] = {}
    decoys: list[str] = []
    written, number, budget = 0, 0, megabytes * 1_000_000
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())

    def write(kind: str, content: str) -> str:
        nonlocal number, written
        number += 1
        path = rng.choice(folders) / f"f{number:05d}{EXT[kind]}"
        path.write_text(content, encoding="utf-8")
        text.append(str(path))
        written += len(content)
        return str(path)

    for index in range(4 * len(PLANTED)):
        kind_name, template = PLANTED[index % len(PLANTED)]
        canary = f"CANARY-planted-{index:03d}-{rng.getrandbits(48):012x}"
        filler = rng.choice(kinds[:4])
        block = text_block(rng, filler, rng.randrange(1_000, 20_000), 0)
        cut = block.rfind("\n", 0, rng.randrange(len(block)))
        planted[write(filler, block[: cut + 1] + template.format(c=canary) + block[cut:])] = (
            kind_name
        )
    for index in range(4 * len(DECOYS)):
        canary = f"CANARY-decoy-{index:03d}-{rng.getrandbits(48):012x}"
        body = text_block(rng, "conf", rng.randrange(1_000, 8_000), 0)
        decoys.append(write("conf", body + DECOYS[index % len(DECOYS)].format(c=canary) + "\n"))
    while written < budget:
        kind = rng.choices(kinds, weights)[0]
        low, high = SIZES[kind]
        org_every = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 50, 5))  # a fifth mention the organisation
        write(kind, text_block(rng, kind, rng.randrange(low, high), org_every))
    skipped = root / "projects/app/node_modules/pkg"
    skipped.mkdir(parents=True)
    (skipped / "config.js").write_text("host='db.example.ac.uk'; password='CANARY-skipped-1'\n")
    (root / "projects/app/.git/objects/ab").mkdir(parents=True)
    (root / "projects/app/.git/objects/ab/cdef").write_bytes(os.urandom(4096))
    (root / ".cache/thumbs").mkdir(parents=True)
    for index in range(200):
        blob = os.urandom(rng.randrange(10_000, 300_000)) + b"\0"
        suffix = ".jpg" if index % 2 else ".blob"
        (rng.choice(folders) / f"b{index:04d}{suffix}").write_bytes(blob)
    os.symlink(root, root / "projects/loop")
    return {"text": text, "planted": planted, "decoys": decoys, "text_bytes": written}


def child_agent(root: str) -> dict[str, Any]:
    from agent.facts.context import Context
    from agent.facts.probes.credentials.files import FINDERS
    from agent.facts.probes.credentials.scan import Home, ScanState
    from agent.facts.probes.credentials.settings import Organisation, ScanSettings

    org = Organisation(
        domains=("example.ac.uk",),
        kerberos_realms=("ad.example.ac.uk",),
        tenant_ids=("11111111-2222-4333-8444-555555555555",),
        ssids=("eduroam",),
        vpn_hosts=("vpn.example.ac.uk",),
    )
    settings = ScanSettings(
        organisation=org,
        fingerprint_key=b"k" * 32,
        homes=(root,),
        max_files=1_000_000,
        time_budget_s=3600.0,
    )
    ctx = Context()
    state = ScanState(settings=settings, homes=[Home(user="bench", path=root)])
    started = time.perf_counter()
    for finder in FINDERS.pick(ctx):
        finder(ctx, state)
    wall = time.perf_counter() - started
    shown = {f.location[1:]: f.kind for f in state.findings}  # "~/x" -> "/x"
    return {
        "wall": wall,
        "files": state.files_scanned,
        "bytes": state.bytes_scanned,
        "found": [[root + p, k] for p, k in shown.items()],
        "skipped": dict(state.skipped),
        "complete": not state.budget_exhausted,
        "leak": "CANARY"
        in json.dumps([vars(f) for f in state.findings])
        + json.dumps([vars(n) for n in state.not_inspected]),
    }


def child_detect_secrets(manifest: str) -> dict[str, Any]:
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    paths = json.loads(Path(manifest).read_text())["text"]
    started = time.perf_counter()
    with default_settings():
        collection = SecretsCollection()
        for path in paths:  # one process, as the agent: SecretsCollection.scan_file per file
            collection.scan_file(path)
    wall = time.perf_counter() - started
    found = [
        [str(Path(name).resolve()), sorted({s.type for s in secrets})[0]]
        for name, secrets in collection.data.items()
        if secrets
    ]
    size = sum(os.path.getsize(p) for p in paths)
    return {"wall": wall, "files": len(paths), "bytes": size, "found": found, "leak": False}


def child(engine: str, root: str, manifest: str) -> None:
    if engine.startswith("floor"):
        import agent.facts.probes.credentials.files  # noqa: F401 - the import is what is measured

        result: dict[str, Any] = {"wall": 0.0, "files": 0, "bytes": 0, "found": [], "leak": False}
    elif engine == "agent":
        result = child_agent(root)
    else:
        result = child_detect_secrets(manifest)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(engine: str, root: Path, manifest: Path) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", engine, str(root), str(manifest)]
    done = subprocess.run(
        argv, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def row(name: str, result: dict[str, Any], manifest: dict[str, Any]) -> str:
    found = {path: kind for path, kind in result["found"]}
    planted = manifest["planted"]
    recalled = sum(1 for path in planted if path in found)
    exact = sum(1 for path, kind in planted.items() if found.get(path) == kind)
    decoy_hits = sum(1 for path in manifest["decoys"] if path in found)
    other = sum(1 for path in found if path not in planted and path not in manifest["decoys"])
    if not result["wall"]:  # the import floor: memory only
        return f"| {name} | - | - | - | - | - | - | - | - | {result['rss_mb']:.1f} |"
    wall = result["wall"]
    return (
        f"| {name} | {result['files']} | {result['bytes'] / 1e6:.1f} | {wall:.2f} | "
        f"{result['bytes'] / 1e6 / wall:.1f} | {result['files'] / wall:.0f} | "
        f"{recalled}/{len(planted)}{f' ({exact} kind right)' if name == 'agent' else ''} | "
        f"{decoy_hits}/{len(manifest['decoys'])}"
        f" | {other} | {result['rss_mb']:.1f} |"
    )


def content_rates() -> None:
    """The content stage alone, in this process, on 2 MB logs by how often they name the org."""
    from agent.facts.probes.credentials.files_rules import OrgIndex, find_in_text
    from agent.facts.probes.credentials.settings import Organisation

    index = OrgIndex(Organisation(domains=("example.ac.uk",)))
    rng = random.Random(1)
    for every, label in ((0, "never"), (50, "every 50th line"), (5, "every 5th line")):
        data = text_block(rng, "log", 2_000_000, every).encode()
        walls = []
        for _ in range(5):
            started = time.perf_counter()
            find_in_text(data, index)
            walls.append(time.perf_counter() - started)
        rate = len(data) / sorted(walls)[2] / 1e6  # the median of five
        print(f"  content stage, a 2 MB log naming the organisation {label}: {rate:.0f} MB/s")


def scan_existing(home: Path, repeat: int) -> None:
    """The agent alone on a real home (page cache warm after the first run): median of runs."""
    runs = sorted((measure("agent", home, home) for _ in range(repeat)), key=lambda r: r["wall"])
    result = runs[len(runs) // 2]
    wall = result["wall"]
    print(
        f"{home}: {result['files']} files, {result['bytes'] / 1e6:.0f} MB in {wall:.2f} s "
        f"(median of {repeat}): {result['bytes'] / 1e6 / wall:.0f} MB/s, "
        f"{result['files'] / wall:.0f} files/s, {len(result['found'])} findings, "
        f"peak RSS {result['rss_mb']:.1f} MB, skipped {result['skipped']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300, help="text to write, in MB")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the synthetic home")
    parser.add_argument("--repeat", type=int, default=5, help="agent runs; the median is shown")
    parser.add_argument("--no-detect-secrets", action="store_true")
    parser.add_argument("--home", help="instead: scan this existing home with the agent only")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.home:
        scan_existing(Path(args.home).resolve(), args.repeat)
        return
    base = Path(tempfile.mkdtemp(prefix="outpost-scan-bench-"))
    try:
        root = base / "home" / "bench"
        started = time.perf_counter()
        manifest = build(root, args.mb, args.seed)
        manifest_file = base / "manifest.json"
        manifest_file.write_text(json.dumps(manifest))
        print(
            f"built {len(manifest['text'])} text files, {manifest['text_bytes'] / 1e6:.0f} MB,"
            f" {len(manifest['planted'])} planted, {len(manifest['decoys'])} decoys in "
            f"{time.perf_counter() - started:.1f} s (page cache warm)"
        )
        engines = ["floor: import the scanner", "agent"] + (
            [] if args.no_detect_secrets else ["detect-secrets"]
        )
        print(
            "| engine | files | MB | wall (s) | MB/s | files/s | planted found | decoys hit "
            "| other findings | peak RSS (MB) |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |")
        for engine in engines:
            runs = args.repeat if engine == "agent" else 1  # detect-secrets takes minutes
            results = sorted(
                (measure(engine, root, manifest_file) for _ in range(runs)),
                key=lambda r: float(r["wall"]),
            )
            result = results[len(results) // 2]  # the median run
            if runs > 1:
                print(f"  {engine} walls (s): " + ", ".join(f"{r['wall']:.3f}" for r in results))
            print(row(engine, result, manifest), flush=True)
            if result["leak"]:
                print(f"  {engine}: a CANARY appears in its findings")
            if engine == "agent":
                print(f"  agent skipped: {result['skipped']}, complete: {result['complete']}")
        content_rates()
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
