"""The tables of bench/ingest.py: the floor comparison and the A/B summary, in Markdown."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import psutil
from ingest_load import LoadResult


@dataclass
class Row:
    database: str
    target: str
    workers: int
    result: LoadResult
    round: int = 1


def _ms(seconds: float, reports: int) -> str:
    return f"{1000 * seconds / reports:.2f}" if reports else "-"


def _num(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"  # NaN: too few answers for a percentile


def markdown(rows: list[Row], seconds: float) -> str:
    """One line per database, worker count and target: medians over the rounds; the shares of
    the floors are the medians of each round's own ratio (both sides of a ratio from one round)."""
    out = [
        "| database | workers | target | rounds | reports/s median (min-max) | vs floor "
        "| vs batching floor | p50 ms | p99 ms | errors | server CPU ms/report "
        "| PostgreSQL CPU ms/report | load gen CPU ms/report | other processes (cores) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    groups: dict[tuple[str, int, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.database, row.workers, row.target), []).append(row)
    for (database, workers, target), group in groups.items():
        rates = [r.result.rate for r in group]

        def cpu(field: str, group: list[Row] = group) -> str:
            return _ms_value(_median([_per_report(r.result, field) for r in group]))

        out.append(
            f"| {database} | {workers} | {target} | {len(group)} "
            f"| {statistics.median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f}) "
            f"| {_share(rows, group, 'floor')} | {_share(rows, group, 'floor-batching')} "
            f"| {_num(_median([r.result.p50_ms for r in group]))} "
            f"| {_num(_median([r.result.p99_ms for r in group]))} "
            f"| {sum(r.result.errors for r in group)} | {cpu('server_cpu_s')} "
            f"| {cpu('database_cpu_s') if database == 'postgresql' else '-'} "
            f"| {cpu('client_cpu_s')} "
            f"| {_median([_others(r.result, seconds) for r in group]):.2f} |"
        )
    return "\n".join(out)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _per_report(result: LoadResult, field: str) -> float:
    seconds: float = getattr(result, field)
    return seconds / result.completed if result.completed else float("nan")


def _ms_value(seconds: float) -> str:
    return "-" if seconds != seconds else f"{1000 * seconds:.2f}"


def _share(rows: list[Row], group: list[Row], floor: str) -> str:
    """The median over rounds of GROUP's rate over FLOOR's in the same round (same database
    and worker count)."""
    floors = {(r.database, r.workers, r.round): r.result.rate for r in rows if r.target == floor}
    shares = [
        r.result.rate / floors[(r.database, r.workers, r.round)]
        for r in group
        if floors.get((r.database, r.workers, r.round))
    ]
    return f"{100 * statistics.median(shares):.0f}%" if shares else "-"


def _spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else float("nan")


def _others(result: LoadResult, seconds: float) -> float:
    """Cores the rest of the machine kept busy during the window (other engineers' work)."""
    ours = result.server_cpu_s + result.database_cpu_s + result.client_cpu_s
    return max(0.0, result.machine_busy * (psutil.cpu_count() or 1) - ours / seconds)


def ab_markdown(rows: list[Row], seconds: float, pair: tuple[str, ...]) -> str:
    """Every run in order, then each side's mean and spread and the paired difference."""
    a, b, heading, a_label, b_label = pair
    labels = {a: a_label, b: b_label}
    out = [
        f"| round | {heading} | reports/s | p50 ms | p99 ms | errors | server CPU ms/report "
        "| other processes (cores) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rates: dict[str, list[float]] = {a: [], b: []}
    cpu: dict[str, list[float]] = {a: [], b: []}
    for row in rows:
        r = row.result
        rates[row.target].append(r.rate)
        cpu[row.target].append(1000 * r.server_cpu_s / max(1, r.completed))
        out.append(
            f"| {len(rates[row.target])} | {labels[row.target]} | {r.rate:.0f} "
            f"| {_num(r.p50_ms)} | {_num(r.p99_ms)} | {r.errors} "
            f"| {_ms(r.server_cpu_s, r.completed)} | {_others(r, seconds):.2f} |"
        )
    differences = [x - y for x, y in zip(rates[a], rates[b], strict=False)]
    gain = statistics.fmean(differences)
    out += [
        "",
        f"| {heading} | runs | mean reports/s | spread (stdev) | min | max "
        "| mean server CPU ms/report |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in (a, b):
        values = rates[target]
        out.append(
            f"| {labels[target]} | {len(values)} | {statistics.fmean(values):.0f} "
            f"| {_spread(values):.0f} | {min(values):.0f} | {max(values):.0f} "
            f"| {statistics.fmean(cpu[target]):.2f} |"
        )
    relative = 100 * gain / statistics.fmean(rates[b])
    out += [
        "",
        f"Paired difference, {a_label} minus {b_label}: {gain:+.0f} reports/s ({relative:+.1f}%), "
        f"spread (stdev) of the {len(differences)} differences {_spread(differences):.0f}; "
        f"per-round differences: {', '.join(f'{d:+.0f}' for d in differences)}.",
    ]
    return "\n".join(out)
