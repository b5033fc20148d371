"""Costs that do not grow with history (issue #15): every admin page and background step
timed on databases of growing size, with the largest/smallest ratio per row.

    .venv/bin/python bench/scale.py                          # 1k, 100k and 1M posts
    .venv/bin/python bench/scale.py --sizes 1000,100000 --only pages --runs 5

For each size a database of its own (``nojackal_scale_<size>``, or
``BENCH_SCALE_PREFIX``) is built by ``bench/scale_data.py`` and dropped at the end
(``--keep`` leaves them, ``--reuse`` takes kept ones). All are built first, then
measured in ``--rounds`` passes over the sizes (each row: the median of its
per-pass medians), so that the load of a shared machine changing during the run
falls on every size alike. Rows come from providers, modules imported by name that
each offer ``measure(size: int) -> list[Measured]`` and are called with Django
connected to the built database:

- ``bench.scale_pages``: every admin changelist the team uses, with each filter
  and search, and every change page (the biggest incident's too), as the demo admin;
- ``bench.scale_dashboard``: the dashboard (the admin's home, a week, four weeks, a CSV);
- ``bench.scale_steps``: the background steps (detection, triage, incident refresh,
  caps, one send, one notification match, expiry ticks);
- ``bench.scale_latency``: post stored → case in the queue with a real Celery worker on
  the broker (``BENCH_BROKER_URL`` or ``CELERY_BROKER_URL``), 4 posts a second, at the
  smallest and the largest size only (a provider's ``ENDS_ONLY``).

A provider may set its own targets (``MAX_RATIO``, ``MAX_MS_AT_1M``; None: none):
the latency's ratio target is 1.2 and it has no time target.
``--only pages|steps|dashboard|latency`` runs one provider. The table shows the median server time
and the query count per size, and largest/smallest (the median at the largest size
over the median at the smallest). The exit status is 1 when a row misses a target:
ratio at most 1.5, the same query count at every size, at most 300 ms at 1M posts
or more (a target for a quiet machine: say how loaded it was with the figures).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scale_data import (  # noqa: E402
    PG_SERVER,
    Measured,
    build,
    drop,
    setup_django,
    use_database,
)

PROVIDERS = {
    "pages": "bench.scale_pages",
    "steps": "bench.scale_steps",
    "dashboard": "bench.scale_dashboard",
    # Last: a real worker commits what it does (a few dozen posts and their cases).
    "latency": "bench.scale_latency",
}
MAX_RATIO = 1.5
MAX_MS_AT_1M = 300.0
BIG = 1_000_000


def load_providers(only: str | None) -> dict[str, object]:
    chosen = {only: PROVIDERS[only]} if only else PROVIDERS
    found = {}
    for key, module in chosen.items():
        try:
            found[key] = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            print(f"{module} is not there: its rows are skipped", file=sys.stderr)
    return found


def reuse(dbname: str) -> bool:
    """Point Django at a kept database and migrate it; False when there is none."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            return False
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    use_database(dbname)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"reusing {dbname}", file=sys.stderr)
    return True


def misses(
    by_size: dict[int, Measured],
    max_ratio: float | None = MAX_RATIO,
    max_ms: float | None = MAX_MS_AT_1M,
) -> list[str]:
    """Which targets a row misses, in words (empty when it meets them all)."""
    sizes = sorted(by_size)
    problems = []
    small, large = by_size[sizes[0]], by_size[sizes[-1]]
    if max_ratio and len(sizes) > 1 and small.ms > 0 and large.ms / small.ms > max_ratio:
        problems.append(f"ratio > {max_ratio}")
    if len({m.queries for m in by_size.values()}) > 1:
        problems.append("queries grow")
    for size in sizes:
        if max_ms is not None and size >= BIG and by_size[size].ms > max_ms:
            problems.append(f"> {max_ms:.0f} ms at {size:,}")
    return problems


def report(
    results: dict[str, dict[int, Measured]],
    sizes: list[int],
    providers: dict[str, object] | None = None,
) -> int:
    """Print the table; return how many rows miss a target. ``providers``: which
    provider made each row (its targets, and whether it measures the ends only)."""
    providers = providers or {}
    width = max([len(name) for name in results] + [10])
    head = f"{'row':<{width}}" + "".join(f"{f'{s:,} ms (q)':>20}" for s in sizes)
    print(head + f"{'large/small':>13}  verdict")
    failed = 0
    for name, by_size in results.items():
        cells = "".join(
            f"{f'{by_size[s].ms:.1f} ({by_size[s].queries})':>20}" if s in by_size else f"{'-':>20}"
            for s in sizes
        )
        present = sorted(by_size)
        ratio = by_size[present[-1]].ms / by_size[present[0]].ms if by_size[present[0]].ms else 0
        provider = providers.get(name)
        wanted = {sizes[0], sizes[-1]} if getattr(provider, "ENDS_ONLY", False) else set(sizes)
        problems = (
            misses(
                by_size,
                getattr(provider, "MAX_RATIO", MAX_RATIO),
                getattr(provider, "MAX_MS_AT_1M", MAX_MS_AT_1M),
            )
            if wanted <= set(present)
            else ["missing at a size"]
        )
        failed += bool(problems)
        print(f"{name:<{width}}{cells}{ratio:>12.2f}x  {'; '.join(problems) or 'ok'}")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--only", choices=sorted(PROVIDERS))
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    parser.add_argument(
        "--rounds", type=int, default=2, help="passes over all sizes (median of their medians)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use a database kept by --keep (migrated to today's schema) instead of building it",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    prefix = os.environ.get("BENCH_SCALE_PREFIX", "nojackal_scale")

    providers = load_providers(args.only)
    if not providers:
        print("no provider to run", file=sys.stderr)
        return 2
    samples: dict[str, dict[int, list[Measured]]] = {}
    made_by: dict[str, object] = {}
    load_before = os.getloadavg()
    databases = {size: f"{prefix}_{size}" for size in sizes}
    try:
        for size, dbname in databases.items():
            if not (args.reuse and reuse(dbname)):
                build(size, dbname)
        from django.db import connection

        server = connection.pg_version
        # Round after round over the sizes, so that a change in the machine's load
        # falls on every size alike rather than on the last one built.
        for _ in range(args.rounds):
            for size, dbname in databases.items():
                use_database(dbname)
                for key, provider in providers.items():
                    if getattr(provider, "ENDS_ONLY", False) and size not in (
                        sizes[0],
                        sizes[-1],
                    ):
                        continue
                    started = time.perf_counter()
                    rows = provider.measure(size)  # type: ignore[attr-defined]
                    took = time.perf_counter() - started
                    print(f"  {key} at {size:,}: {len(rows)} rows in {took:.0f} s", file=sys.stderr)
                    for row in rows:
                        made_by[row.name] = provider
                        samples.setdefault(row.name, {}).setdefault(size, []).append(row)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            for dbname in databases.values():
                drop(dbname)
    results = {
        name: {
            size: Measured(
                name, statistics.median(m.ms for m in runs), max(m.queries for m in runs)
            )
            for size, runs in by_size.items()
        }
        for name, by_size in samples.items()
    }
    load_after = os.getloadavg()

    print(
        f"\nPostgreSQL {server}; load average {load_before[0]:.1f} before,"
        f" {load_after[0]:.1f} after, {os.cpu_count()} cores; median server time (ms) and"
        " queries per row"
    )
    failed = report(results, sizes, made_by)
    print(f"\n{failed} of {len(results)} rows miss a target" if failed else "\nevery row on target")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
