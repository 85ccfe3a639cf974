"""The rating question a Slack customer gets with the resolution notice: five buttons, then a
box for one optional comment (an input in the message that sends on Enter)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack.deps import SlackDeps
from handlers.slack.errors import guarded
from handlers.slack.mrkdwn import literal
from services.cases.ratings import SCORES, RatingResult, stars

log = logging.getLogger(__name__)

RATE = re.compile(r"^csat_([1-5])$")  # one button per score: csat_1 … csat_5
COMMENT = "csat_comment"
COMMENT_BLOCK = re.compile(r"^csat_comment_(\d+)$")  # names the case: an input has no value
LABELS = {1: "1 · poor", 2: "2", 3: "3", 4: "4", 5: "5 · great"}


def ask_blocks(text: str, number: int) -> list[dict[str, Any]]:
    """The resolution notice with the question under it."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*How did we do?*"}},
        {
            "type": "actions",
            "block_id": f"csat_{number}",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"csat_{score}",
                    "text": {"type": "plain_text", "text": LABELS[score]},
                    "value": str(number),
                }
                for score in SCORES
            ],
        },
    ]


def thanks_blocks(result: RatingResult) -> list[dict[str, Any]]:
    """After the rating: what was given, and the one comment box until it is used."""
    score = result.score or 0
    said = f"Thanks! You rated case #{result.case_number} {stars(score)} {score}/5."
    if result.comment is not None:
        said += f"\n> {literal(result.comment)}"
    shown: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": said}}]
    if result.comment is None:
        shown.append(
            {
                "type": "input",
                "block_id": f"csat_comment_{result.case_number}",
                "dispatch_action": True,
                "label": {"type": "plain_text", "text": "Anything to add? (optional)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": COMMENT,
                    "max_length": 2000,
                    "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
                },
            }
        )
    return shown


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def on_rate(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        matched = RATE.match(str(action.get("action_id") or ""))
        number = str(action.get("value") or "")
        if matched is None or not number.isdigit():
            log.warning("rating: a malformed click refused: %r", action)
            return
        result = await deps.cases.ratings.rate_from_slack(
            case_id=int(number), score=int(matched[1]), user_id=body["user"]["id"]
        )
        await respond(replace_original=True, text=_text(result), blocks=thanks_blocks(result))

    async def on_comment(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        matched = COMMENT_BLOCK.match(str(action.get("block_id") or ""))
        if matched is None:
            log.warning("rating: a malformed comment refused: %r", action.get("block_id"))
            return
        result = await deps.cases.ratings.comment_from_slack(
            case_id=int(matched[1]), text=str(action.get("value") or ""), user_id=body["user"]["id"]
        )
        await respond(replace_original=True, text=_text(result), blocks=thanks_blocks(result))

    app.action(RATE)(guarded(on_rate))
    app.action(COMMENT)(guarded(on_comment))


def _text(result: RatingResult) -> str:
    return f"Thanks! You rated case #{result.case_number} {result.score}/5."
