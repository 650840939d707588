"""Credential scan beside its peers, on a home with real token formats, and beside ripgrep.

Builds a home in a temp dir: filler text (configs, logs, scripts, JSON, notes; a share of the
files name the organisation, --org-share) and one secret per file in realistic places (shell
dotfiles, .env and INI files, notes, scripts, a password-manager CSV export), in real formats:
GitHub `ghp_` tokens (with their CRC32 check digits), AWS access key id + secret, an Azure AD
client secret beside a tenant id, an Azure storage connection string, Slack `xoxb-` bot tokens,
JWTs, PEM private keys (real RSA keys), passwords. Each format appears as the organisation's
(next to example.ac.uk, its tenant id or VPN host) and as another organisation's (github.com,
another university, a personal account).

Scoring, per engine: the organisation's secrets found; other organisations' secrets found (a
finding for a general scanner, reported separately: the agent is meant to report only the
organisation's); findings in files without any secret; wall time, MB/s, peak RSS (each engine
in a fresh child process, page cache warm). Engines:

  - agent            the credential file scan (agent/facts/probes/credentials), with the
                     password-export finder (stores/vaults.py), one process;
  - detect-secrets   all default plugins, SecretsCollection.scan_files with one process per core;
  - credsweeper      its CLI with --jobs = cores (its ML validation included);
  - ripgrep -j1      `rg -j1 -c -i -F` for the organisation's domain and tenant id over the same
                     tree: the near-limit anchor for the agent's first stage (find the
                     organisation's name), one thread as the agent has one;
  - python-floor     the least a Python scanner does for that first stage: walk, read each file
                     whole, lower-case it, find the two names (no skip rules, no second stage).
The quick engines (agent, the floor, ripgrep) take turns, --repeat rounds; medians of wall and
of CPU time (steadier on a machine shared with other work) are both reported.

Bench-only tools: `.venv/bin/pip install detect-secrets credsweeper`, `apt-get install ripgrep`.

Usage: .venv/bin/python bench/credential_peers.py [--mb 40] [--org-share 0.1] [--repeat 3]
           [--engines agent,python-floor,detect-secrets,credsweeper,ripgrep]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import random
import resource
import shutil
import string
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from scan_throughput import EXT, SIZES, WEIGHTS, text_block  # noqa: E402

TENANT = "11111111-2222-4333-8444-555555555555"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits


def base62(number: int, width: int) -> str:
    out = ""
    while number:
        number, digit = divmod(number, 62)
        out = BASE62[digit] + out
    return out.rjust(width, "0")


def github_token(rng: random.Random) -> str:
    body = "".join(rng.choice(ALNUM) for _ in range(30))
    return f"ghp_{body}{base62(binascii.crc32(body.encode()), 6)}"


def aws_pair(rng: random.Random) -> tuple[str, str]:
    key_id = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
    secret = "".join(rng.choice(ALNUM + "/+") for _ in range(40))
    return key_id, secret


def azure_client_secret(rng: random.Random) -> str:
    head = "".join(rng.choice(ALNUM) for _ in range(3))
    return head + "8Q~" + "".join(rng.choice(ALNUM + "~_.-") for _ in range(34))


def storage_key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(64)).decode()


def slack_token(rng: random.Random) -> str:
    digits = "".join(rng.choice(string.digits) for _ in range(12))
    more = "".join(rng.choice(string.digits) for _ in range(13))
    return f"xoxb-{digits}-{more}-" + "".join(rng.choice(ALNUM) for _ in range(24))


def jwt(rng: random.Random, issuer: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"iss": issuer, "sub": f"user{rng.randrange(10**6)}", "exp": 1796000000}
    signature = base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{signature}"


def pem_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def password(rng: random.Random) -> str:
    return "".join(rng.choice(ALNUM + "!#%*") for _ in range(16))


def export_rows(rng: random.Random, count: int) -> str:
    """A browser's password export (Chrome's header) with personal sites before the secret."""
    sites = ("www.amazon.co.uk", "www.netflix.com", "github.com", "www.bbc.co.uk", "x.com")
    rows = [
        f"{site},https://{site}/login,alice{rng.randrange(99)}@gmail.com,{password(rng)},"
        for site in (rng.choice(sites) for _ in range(count))
    ]
    return "name,url,username,password,note\n" + "\n".join(rows) + "\n"


# (format, file name, template). {host} is a host of the owner; {tenant} a tenant id.
SECRETS: list[tuple[str, str, str]] = [
    ("github", "dotfiles/.bashrc-{n}",
     "export EDITOR=vim\nalias ll='ls -la'\n# GitHub CLI against {gh}\nexport GH_HOST={gh}\n"
     "export GH_TOKEN={github}\n"),
    ("aws", "dotfiles/aws-credentials-{n}",
     "[default]\nregion = eu-west-2\n\n[profile research]\n# bucket on s3.{host}\n"
     "aws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n"),
    ("azure-client-secret", "projects/app{n}/.env",
     "APP_URL=https://app.{host}\nAZURE_TENANT_ID={tenant}\n"
     "AZURE_CLIENT_ID=3f2a6c1e-6b1d-4c55-9a0e-{n:012d}\nAZURE_CLIENT_SECRET={azure}\n"),
    ("azure-storage", "projects/data{n}/settings.ini",
     "[storage]\n# research data for {host}\nconnection = DefaultEndpointsProtocol=https;"
     "AccountName=research{n};AccountKey={storage};EndpointSuffix=core.windows.net\n"),
    ("slack", "scripts/notify-{n}.sh",
     "#!/bin/sh\n# posts build results for {host}\nSLACK_BOT_TOKEN={slack}\n"
     'curl -s -H "Authorization: Bearer $SLACK_BOT_TOKEN" \\\n'
     "  -d channel=C0123 -d text=\"$1\" https://slack.com/api/chat.postMessage\n"),
    ("jwt", "notes/api-access-{n}.md",
     "# API access\n\nTried the timetable API on https://api.{host}/v2 today.\n"
     "Session token (expires Friday):\n\n    {jwt}\n\nAsk the service desk for a longer one.\n"),
    ("pem", "notes/server-access-{n}.md",
     "Deploy key for gitlab.{host} (from the wiki, do not share):\n\n```\n{pem}```\n"),
    ("password-export", "Downloads/passwords-export-{n}.csv",
     "Webmail,https://mail.{host}/owa,alice,{password},\n"),  # after the header and other rows
]  # fmt: skip
OWNERS = {  # who a secret belongs to: (host, GitHub host, tenant id)
    "organisation": ("example.ac.uk", "github.example.ac.uk", TENANT),
    "other": ("other-university.edu", "github.com", "9d3e4f5a-0b1c-4d2e-8f3a-4b5c6d7e8f90"),
}


def build(
    root: Path, megabytes: int, org_share: float, per_format: int, seed: int
) -> dict[str, Any]:
    """Write the home; the manifest says which files hold whose secret, and the secrets."""
    rng = random.Random(seed)
    files: dict[str, str] = {}  # path -> "organisation" | "other" | "none"
    formats: dict[str, str] = {}  # path -> the secret's format
    values: list[str] = []
    written = 0

    def write(relative: str, content: str, owner: str) -> None:
        nonlocal written
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        files[str(path)] = owner
        written += len(content)

    number = 0
    for owner, (host, gh, tenant) in OWNERS.items():
        for fmt, name, template in SECRETS:
            for _ in range(per_format):
                number += 1
                aws_id, aws_secret = aws_pair(rng)
                secret = {
                    "github": github_token(rng), "aws_id": aws_id, "aws_secret": aws_secret,
                    "azure": azure_client_secret(rng), "storage": storage_key(rng),
                    "slack": slack_token(rng), "jwt": jwt(rng, f"https://login.{host}"),
                    "pem": pem_key() if fmt == "pem" else "", "password": password(rng),
                }  # fmt: skip
                used = [k for k in secret if "{" + k + "}" in template]
                values += [secret[k] for k in used if k != "aws_id"]
                filler = (
                    export_rows(rng, rng.randrange(5, 60))  # an export starts with its header
                    if fmt == "password-export"
                    else text_block(rng, "md", rng.randrange(500, 4_000), 0)
                )
                body = template.format(n=number, host=host, gh=gh, tenant=tenant, **secret)
                write(name.format(n=number), filler + body, owner)
                formats[str(root / name.format(n=number))] = fmt
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    while written < megabytes * 1_000_000:
        kind = rng.choices(kinds, weights)[0]
        low, high = SIZES[kind]
        org_every = rng.choice((5, 50)) if rng.random() < org_share else 0
        number += 1
        folder = rng.choice(("Documents", "projects/site", ".config/app", "notes", "work/logs"))
        content = text_block(rng, kind, rng.randrange(low, high) // 3, org_every)
        write(f"{folder}/f{number:05d}{EXT[kind]}", content, "none")
    return {"files": files, "formats": formats, "values": values, "bytes": written}


class Stopwatch:
    """Wall time and CPU time (this process's and its commands') since it was made: on a
    machine shared with other work, CPU time is the steadier of the two."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), self._cpu()

    @staticmethod
    def _cpu() -> float:
        me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    def read(self) -> dict[str, float]:
        return {"wall": time.perf_counter() - self.wall, "cpu": self._cpu() - self.cpu}


def child_floor(root: str) -> dict[str, Any]:
    """Python's floor for the agent's first stage: walk (no links), read each file whole,
    lower-case it, find the domain and the tenant id; no skip rules, no second stage."""
    names = (b"example.ac.uk", TENANT.encode())
    watch = Stopwatch()
    matching, folders = 0, [root]
    while folders:
        with os.scandir(folders.pop()) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    handle = os.open(entry.path, os.O_RDONLY)
                    try:
                        low = os.read(handle, entry.stat(follow_symlinks=False).st_size).lower()
                    finally:
                        os.close(handle)
                    matching += any(low.find(name) != -1 for name in names)
    timing = watch.read()
    return {**timing, "found": [], "leak": False, "matching_files": matching}


def child_agent(root: str, manifest: dict[str, Any]) -> dict[str, Any]:
    from agent.facts.context import Context
    from agent.facts.probes.credentials.files import FINDERS
    from agent.facts.probes.credentials.scan import Home, ScanState
    from agent.facts.probes.credentials.settings import Organisation, ScanSettings
    from agent.facts.probes.credentials.stores.vaults import FINDERS as VAULT_FINDERS

    org = Organisation(
        domains=("example.ac.uk",),
        kerberos_realms=("ad.example.ac.uk",),
        tenant_ids=(TENANT,),
        vpn_hosts=("vpn.example.ac.uk",),
    )
    settings = ScanSettings(
        organisation=org, fingerprint_key=b"k" * 32, homes=(root,), max_files=1_000_000,
        time_budget_s=3600.0,
    )  # fmt: skip
    ctx = Context()
    state = ScanState(settings=settings, homes=[Home(user="bench", path=root)])
    watch = Stopwatch()
    # The content scan, and the finder of password exports in ~/Downloads and the like (the
    # content scan leaves those files' rows to it).
    for finder in (*FINDERS.pick(ctx), *VAULT_FINDERS.pick(ctx)):
        finder(ctx, state)
    timing = watch.read()
    reported = json.dumps([vars(f) for f in state.findings], default=str)
    return {
        **timing,
        "found": sorted({root + f.location[1:] for f in state.findings}),  # "~/x" -> root/x
        "leak": any(value in reported for value in manifest["values"]),
    }


def child_detect_secrets(manifest: dict[str, Any]) -> dict[str, Any]:
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    watch = Stopwatch()
    with default_settings():
        collection = SecretsCollection()
        collection.scan_files(*manifest["files"], num_processors=os.cpu_count())
    timing = watch.read()
    found = sorted(str(Path(n).resolve()) for n, secrets in collection.data.items() if secrets)
    return {**timing, "found": found, "leak": False}


def child_credsweeper(root: str, scratch: str) -> dict[str, Any]:
    out = Path(scratch) / "credsweeper.json"
    command = [str(Path(sys.executable).parent / "credsweeper"), "--path", root,
               "--save-json", str(out), "--jobs", str(os.cpu_count()),
               "--log", "error"]  # fmt: skip
    watch = Stopwatch()
    subprocess.run(command, check=True, capture_output=True)
    timing = watch.read()
    found = {
        str(Path(line["path"]).resolve())
        for item in json.loads(out.read_text())
        for line in item.get("line_data_list", [])
    }
    return {**timing, "found": sorted(found), "leak": False}


def child_ripgrep(root: str) -> dict[str, Any]:
    command = ["rg", "-j1", "-c", "-i", "-F", "--no-ignore", "--hidden",
               "-e", "example.ac.uk", "-e", TENANT, root]  # fmt: skip
    watch = Stopwatch()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    timing = watch.read()
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr)
    return {**timing, "found": [], "leak": False, "matching_files": len(done.stdout.split())}


def child(engine: str, root: str, manifest_path: str) -> None:
    manifest = json.loads(Path(manifest_path).read_text())
    if engine == "agent":
        result = child_agent(root, manifest)
    elif engine == "python-floor":
        result = child_floor(root)
    elif engine == "detect-secrets":
        result = child_detect_secrets(manifest)
    elif engine == "credsweeper":
        result = child_credsweeper(root, str(Path(manifest_path).parent))
    else:
        result = child_ripgrep(root)
    # In-process engines: this process's peak; command-line ones: the command's.
    in_process = ("agent", "python-floor", "detect-secrets")
    usage = resource.RUSAGE_SELF if engine in in_process else resource.RUSAGE_CHILDREN
    result["rss_mb"] = resource.getrusage(usage).ru_maxrss / 1024
    print(json.dumps(result))


def measure(engine: str, root: Path, manifest: Path) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", engine, str(root), str(manifest)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=BENCH_DIR.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def row(
    engine: str, result: dict[str, Any], manifest: dict[str, Any], anchor: dict[str, Any]
) -> str:
    files, found = manifest["files"], set(result["found"])
    count = {owner: sum(1 for o in files.values() if o == owner) for owner in OWNERS}
    hits = {o: sum(1 for p in found if files.get(p) == o) for o in ("organisation", "other")}
    stray = sum(1 for p in found if files.get(p, "none") == "none")
    rate = manifest["bytes"] / 1e6 / result["wall"]
    if engine in ("ripgrep -j1", "python-floor"):  # find names, not secrets
        org, other, stray_text = "-", "-", "-"
    else:
        org = f"{hits['organisation']}/{count['organisation']}"
        other, stray_text = f"{hits['other']}/{count['other']}", str(stray)
    return (
        f"| {engine} | {result['wall']:.2f} | {result['cpu']:.2f} | {rate:.1f} "
        f"| {anchor['wall'] / result['wall']:.2f}x | {anchor['cpu'] / result['cpu']:.2f}x "
        f"| {org} | {other} | {stray_text} | {result['rss_mb']:.1f} |"
    )


def by_format(result: dict[str, Any], manifest: dict[str, Any]) -> str:
    found = set(result["found"])
    out = []
    for fmt, _, _ in SECRETS:
        counts = []
        for owner in OWNERS:
            paths = [
                p
                for p, f in manifest["formats"].items()
                if f == fmt and manifest["files"][p] == owner
            ]
            counts.append(f"{sum(1 for p in paths if p in found)}/{len(paths)}")
        out.append(f"{fmt} {' / '.join(counts)}")
    return ", ".join(out)


QUICK = ("ripgrep -j1", "agent", "python-floor")


def run_tree(args: argparse.Namespace, share: float, engines: list[str], base: Path) -> None:
    root = base / f"home-{share}" / "bench"
    manifest = build(root, args.mb, share, args.per_format, args.seed)
    manifest_path = base / f"manifest-{share}.json"
    manifest_path.write_text(json.dumps(manifest))
    mb = manifest["bytes"] / 1e6
    print(
        f"\nA home of {len(manifest['files'])} files, {mb:.1f} MB; {share:.0%} of the filler "
        f"files name the organisation (every 5th or 50th line); {args.per_format} secrets of "
        f"each of {len(SECRETS)} formats for the organisation and as many for others.\n"
    )
    print(
        "| engine | wall (s) | CPU (s) | MB/s | vs ripgrep -j1 (wall) | vs ripgrep -j1 (CPU) "
        "| organisation's secrets found | other organisations' secrets found "
        "| findings in files without a secret | peak RSS (MB) |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    order = ["ripgrep -j1", *[e for e in engines if e != "ripgrep"]]
    if "ripgrep" not in engines:
        order.remove("ripgrep -j1")
    quick = [e for e in order if e in QUICK]
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in order}
    for _ in range(args.repeat):  # the quick engines take turns, so load weighs on each alike
        for engine in quick:
            runs[engine].append(measure(engine.split()[0], root, manifest_path))
    for engine in order:
        if engine not in quick:  # the peers take minutes: once
            runs[engine].append(measure(engine, root, manifest_path))
    results: dict[str, dict[str, Any]] = {}
    for engine, done in runs.items():
        done.sort(key=lambda r: float(r["wall"]))
        results[engine] = done[len(done) // 2]  # the median run, with the median CPU time
        results[engine]["cpu"] = sorted(r["cpu"] for r in done)[len(done) // 2]
        if results[engine]["leak"]:
            print(f"  {engine}: a secret's value appears in what it reports")
    anchor = results.get("ripgrep -j1", {"wall": float("nan"), "cpu": float("nan")})
    for engine, result in results.items():
        print(row(engine, result, manifest, anchor), flush=True)
    for engine, result in results.items():
        if engine not in ("ripgrep -j1", "python-floor"):
            formats = by_format(result, manifest)
            print(f"\n{engine} found, by format (organisation's / others'): {formats}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=40, help="filler text to write, in MB")
    parser.add_argument("--per-format", type=int, default=4, help="secrets per format and owner")
    parser.add_argument("--org-share", type=float, nargs="+", default=[0.1, 0.8])
    parser.add_argument("--repeat", type=int, default=3, help="agent and ripgrep runs (median)")
    parser.add_argument("--engines", default="agent,detect-secrets,credsweeper,ripgrep")
    parser.add_argument("--heavy-engines-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    engines = [e.strip() for e in args.engines.split(",")]
    print(
        f"`.venv/bin/python bench/credential_peers.py {' '.join(sys.argv[1:])}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    base = Path(tempfile.mkdtemp(prefix="outpost-credential-peers-"))
    try:
        for number, share in enumerate(args.org_share):
            # The peers on the first tree only: the second is there for the agent's rate.
            chosen = (
                engines
                if number == 0
                else [e for e in engines if e.split()[0] in (*QUICK, "ripgrep")]
            )
            run_tree(args, share, chosen, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
