"""Run every benchmark: `.venv/bin/python -m tests.bench`. Each prints JSON lines, one per
figure, with its target; they run one after another (they would skew each other's
timings in parallel). Intake and the mail storm run on SQLite, on PostgreSQL (`_pg`) and
with two `casebot run` processes on one PostgreSQL (`_pg2`). `--only NAME …` picks some;
`--quick` runs smaller sizes."""

from __future__ import annotations

import argparse
import subprocess
import sys

PG, TWO = ["--backend", "postgres"], ["--backend", "postgres", "--processes", "2"]
BENCHES: dict[str, tuple[str, list[str], list[str]]] = {
    # name: (module, arguments, arguments with --quick)
    "escalation_sweep": ("escalation_sweep", [], ["--sizes", "10000,100000"]),
    "startup_memory": ("startup_memory", [], []),
    "intake_and_acks": ("intake_and_acks", [], ["--texts", "200"]),
    "intake_and_acks_pg": ("intake_and_acks", PG, [*PG, "--texts", "200"]),
    "intake_and_acks_pg2": ("intake_and_acks", TWO, [*TWO, "--texts", "200"]),
    "email_to_card": ("email_to_card", [], ["--mails", "5"]),
    "email_storm": ("email_storm", [], ["--mails", "200"]),
    "email_storm_pg": ("email_storm", PG, [*PG, "--mails", "200"]),
    "email_storm_pg2": ("email_storm", TWO, [*TWO, "--mails", "200"]),
    "triage_throughput": ("triage_throughput", [], ["--texts", "200"]),
    "triage_banking77": ("triage_banking77", [], []),
    "assist_suggest": ("assist_suggest", [], ["--sizes", "10000"]),
    "assist_summary": ("assist_summary", [], ["--sizes", "10,100"]),
    "report_size": ("report_size", [], ["--sizes", "10000"]),
    "ticket_intake": ("ticket_intake", [], ["--tickets", "200"]),
    "metrics_scrape": ("metrics_scrape", [], ["--sizes", "10000"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for name in args.only or BENCHES:
        module, full, quick = BENCHES[name]
        command = [sys.executable, "-m", f"tests.bench.{module}", *(quick if args.quick else full)]
        sys.stderr.write(f"# {' '.join(command[1:])}\n")
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(name)
    if failed:
        sys.stderr.write(f"# failed: {', '.join(failed)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
