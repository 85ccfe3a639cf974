"""Run the product documents' example requests against a running Casebot, and check the answers.

    python samples/run.py --base http://127.0.0.1:8000 --token "$TOKEN"

`--token` is one of API_TOKENS (the part after `name:`) with read and write scopes. Each
request is printed with its answer; the exit status is 1 if any answer is not the one the
documents show (status code and the keys a client reads), so this doubles as a smoke test
of a deployment. Standard library only: it runs wherever Python 3.11 does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

# The incident service's document: customers writing on their channels.
INCIDENTS = [
    {
        "customer_id": "CUST-1001",
        "channel": "SMS",
        "message": "I was charged twice for the same order",
    },
    {
        "customer_id": "CUST-1002",
        "channel": "WhatsApp",
        "message": "Someone used my card without permission, please block it",
    },
    {
        "customer_id": "CUST-1003",
        "channel": "web",
        "message": "My payment failed but the money left my account",
    },
]
# The ticket service's document: a ticket, then a storm of identical outage reports.
TICKET = {
    "subject": "Charged twice",
    "description": "I was charged twice for order 4412",
    "customer_id": "CUST-2001",
}
OUTAGE = {"subject": "Outage", "body": "Your whole platform is down, nothing loads"}
INCIDENT_KEYS = {"incident_id", "ticket_id", "status", "classification", "confidence", "message"}
DETAIL_KEYS = INCIDENT_KEYS | {
    "customer_id",
    "channel",
    "urgency_label",
    "reminder_sent",
    "messages",
}
STATUS_KEYS = {
    "ticket_id",
    "status",
    "incident_id",
    "classification",
    "urgency_score",
    "urgency_label",
    "master_incident",
}


class Abandon(Exception):
    """An answer the next requests depend on is unusable: the run stops there."""


def need(answer: Any, key: str) -> Any:
    if not isinstance(answer, dict) or key not in answer:
        raise Abandon(f"no {key} in the answer, so the requests that need it were not sent")
    return answer[key]


@dataclass
class Session:
    base: str
    token: str
    failures: list[str] = field(default_factory=list)

    def call(
        self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200,)
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        answer = json.loads(text) if text else None
        shown = json.dumps(answer)[:300] if answer is not None else ""
        print(f"{method} {path} -> {status} {shown}")
        if status not in expect:
            self.failures.append(f"{method} {path}: {status}, expected {expect}")
        return answer

    def has(self, what: str, answer: Any, keys: set[str]) -> None:
        missing = keys - set(answer or {})
        if missing:
            self.failures.append(f"{what}: the answer lacks {sorted(missing)}")


def filed(session: Session, status_url: str, within: float = 60.0) -> Any:
    """Poll a ticket until it is filed: completed, or folded into a master incident."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer = session.call("GET", status_url)
        if answer and answer.get("status") in ("completed", "master_incident", "failed"):
            return answer
        time.sleep(0.5)
    session.failures.append(f"{status_url}: not filed within {within:.0f} s")
    return None


def run(session: Session, storm: int) -> None:
    health = session.call("GET", "/health")
    session.has("/health", health, {"status", "services"})

    created = [
        session.call("POST", "/api/incidents", body, expect=(200, 201)) for body in INCIDENTS
    ]
    for answer in created:
        session.has("POST /api/incidents", answer, INCIDENT_KEYS)
    first = need(created[0], "incident_id")
    detail = session.call("GET", f"/api/incidents/{first}")
    session.has("GET /api/incidents/{id}", detail, DETAIL_KEYS)
    session.call("GET", "/api/incidents/customer/CUST-1001")
    notifications = session.call("GET", f"/api/notifications/{first}")
    for note in (notifications or {}).get("notifications", []):
        session.has("a notification", note, {"channel", "status"})
    session.call("GET", "/api/stats")

    accepted = session.call("POST", "/tickets", TICKET, expect=(202,))
    ticket = filed(session, need(accepted, "status_url"))
    session.has("GET /tickets/{id}/status", ticket, STATUS_KEYS)
    urls = [
        need(session.call("POST", "/tickets", OUTAGE, expect=(202,)), "status_url")
        for _ in range(storm)
    ]
    finals = [filed(session, url) for url in urls]
    if storm and finals[-1] and finals[-1]["status"] != "master_incident":
        session.failures.append("the storm's last ticket is not folded into a master incident")
    session.call("GET", "/queue")
    taken = session.call("GET", "/tickets/next", expect=(200, 404))
    if taken and "incident_id" in taken:
        again = session.call("GET", "/tickets/next", expect=(200, 404))
        if again and again.get("ticket_id") == taken["ticket_id"]:
            session.failures.append("/tickets/next gave the same ticket twice")
    session.call("PUT", f"/api/incidents/{first}/resolve", expect=(200, 409))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the bot's HTTP address")
    parser.add_argument("--token", required=True, help="an API token (read and write scopes)")
    parser.add_argument("--storm", type=int, default=11, help="outage tickets to send (0: none)")
    args = parser.parse_args(argv)
    session = Session(args.base.rstrip("/"), args.token)
    try:
        run(session, args.storm)
    except Abandon as stopped:
        session.failures.append(f"stopped: {stopped}")
    except (urllib.error.URLError, OSError) as error:
        print(f"cannot reach {args.base}: {error}", file=sys.stderr)
        return 2
    for failure in session.failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print("every answer as the documents show" if not session.failures else "some answers differ")
    return 1 if session.failures else 0


if __name__ == "__main__":
    sys.exit(main())
