"""Measure `tariffkg duty --batch` on random questions: time, rate and memory as the rows go by.

    python benchmarks/batch_stream.py --store-root DIR --rows 10000 100000

For each row count: writes a CSV of random questions (benchmarks/run.py's: 8-digit lines of
chapters 1-97 x the origins the graph names and a few it does not x entry days x as-known-on
days, and a share of rows with entry facts: claim, quota, content, loaded), runs
`tariffkg duty --batch FILE --format csv` in a child process on the store under DIR (built first
if missing) with its output read line by line, and samples the child's resident memory
(/proc/PID/status VmRSS) every 0.2 s. Prints the wall time, rows per second, the time to the first
answer, and the RSS after 10 %, 50 % and 100 % of the rows with the peak (VmHWM).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import question_pools, random_lookups  # noqa: E402

FACTS = [("", "", "", ""), ("S", "", "", ""), ("", "in", "", ""),
         ("", "", "steel=40;aluminum=10", ""), ("", "", "", "2025-04-01"),
         ("KR", "over", "copper=25", "")]


def write_questions(path: Path, count: int, lines: list[str], origins: list[str],
                    seed: int) -> None:
    """A batch CSV of count random questions, one in five with entry facts."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hts", "origin", "date", "as_known_on", "claim", "quota", "content",
                         "loaded"])
        for q in random_lookups(rng, lines, origins, count):
            facts = FACTS[0] if rng.random() < 0.8 else rng.choice(FACTS)
            writer.writerow([q.dotted(), q.origin, q.on.isoformat(), q.known_on.isoformat(),
                             *facts])


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (KiB), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(path: Path, count: int, root: Path) -> dict:
    """Run the batch in a child process; time it and sample its memory."""
    env = {**os.environ, "TARIFFKG_HOME": str(root)}
    command = [sys.executable, "-c", "from kg.cli import main; main()", "duty", "--batch",
               str(path), "--format", "csv"]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             text=True)
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(child.stderr), daemon=True)
    reader.start()
    marks = {int(count * share): share for share in (0.1, 0.5, 1.0)}
    seen = {"first": None, "peak": 0}
    at: dict[float, int] = {}
    answered = -1  # the CSV header
    for _ in child.stdout:
        answered += 1
        if answered == 1:
            seen["first"] = time.perf_counter() - start
        if answered in marks:
            at[marks[answered]] = rss_kib(child.pid)
            seen["peak"] = rss_kib(child.pid, "VmHWM")
    child.wait()
    reader.join(5)
    seconds = time.perf_counter() - start
    return {"rows": count, "answered": answered, "failed": len(errors), "seconds": seconds,
            "rate": answered / seconds, "first": seen["first"], "rss": at, "peak": seen["peak"],
            "exit": child.returncode, "first_error": errors[0].strip() if errors else ""}


def main() -> None:
    """Measure the batch at each row count given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store-root", type=Path, required=True)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--work", type=Path, default=Path("/tmp"))
    args = parser.parse_args()

    from kg.build import ensure_store
    from kg.fast import fast_path
    from kg.store import LocalStore

    store = LocalStore.open(ensure_store(args.store_root))
    lines, origins = question_pools(fast_path(store))
    store.close()
    for count in args.rows:
        path = args.work / f"batch-{count}.csv"
        write_questions(path, count, lines, origins, args.seed)
        got = measure(path, count, args.store_root)
        rss = ", ".join(f"{int(share * 100)} %: {kib / 1024:.0f} MiB"
                        for share, kib in sorted(got["rss"].items()))
        print(f"{count:,} rows: {got['seconds']:.1f} s, {got['rate']:.0f} rows/s, first answer "
              f"after {got['first']:.2f} s; RSS {rss}; peak {got['peak'] / 1024:.0f} MiB; "
              f"{got['answered']:,} answered, {got['failed']} failed, exit {got['exit']}"
              + (f"; first error: {got['first_error']}" if got["first_error"] else ""))


if __name__ == "__main__":
    main()
