"""`/case report`: the XLSX report now, mailed to REPORT_RECIPIENTS and shared in your DM."""

from __future__ import annotations

from handlers.slack.deps import SlackDeps


async def report_answer(deps: SlackDeps, user_id: str, *, request_id: str | None) -> str:
    """The reply to `/case report` (the caller checked that the user is an agent)."""
    if deps.reports is None:
        return "Reports are not set up here."
    actor = await deps.people.actor(user_id)
    report = await deps.reports.request(actor, request_id=request_id)
    mailed = f"mailed to {', '.join(report.recipients)} and " if report.recipients else ""
    return (
        f"The report ({report.case_count} case(s)) is on its way: {mailed}"
        f"shared in your DM with me as `{report.filename}`."
    )
