"""Run every benchmark: `.venv/bin/python -m tests.bench`. Each prints JSON lines, one per
figure, with its target; they run one after another (they would skew each other's
timings in parallel). `--only NAME …` picks some; `--quick` runs smaller sizes."""

from __future__ import annotations

import argparse
import subprocess
import sys

BENCHES: dict[str, tuple[list[str], list[str]]] = {
    # name: (arguments, arguments with --quick)
    "escalation_sweep": ([], ["--sizes", "10000,100000"]),
    "startup_memory": ([], []),
    "intake_and_acks": ([], ["--texts", "200"]),
    "email_to_card": ([], ["--mails", "5"]),
    "email_storm": ([], ["--mails", "200"]),
    "triage_throughput": ([], ["--texts", "200"]),
    "triage_banking77": ([], []),
    "assist_suggest": ([], ["--sizes", "10000"]),
    "assist_summary": ([], ["--sizes", "10,100"]),
    "report_size": ([], ["--sizes", "10000"]),
    "ticket_intake": ([], ["--tickets", "200"]),
    "metrics_scrape": ([], ["--sizes", "10000"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for name in args.only or BENCHES:
        full, quick = BENCHES[name]
        command = [sys.executable, "-m", f"tests.bench.{name}", *(quick if args.quick else full)]
        sys.stderr.write(f"# {' '.join(command[1:])}\n")
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(name)
    if failed:
        sys.stderr.write(f"# failed: {', '.join(failed)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
