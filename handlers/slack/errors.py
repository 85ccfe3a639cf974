"""The one place where an unexpected listener error is logged and told to the user.

Listeners answer domain errors themselves (see `commands.answered`); what reaches this
handler is a bug or an outage, logged with an id the user can quote.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp

from services.errors import DomainError

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Any = None) -> None:
        if isinstance(error, DomainError):
            message = str(error)
            log.info("refused: %s", message)
        else:
            error_id = uuid.uuid4().hex[:8]
            log.error("listener failed (error id %s)", error_id, exc_info=error)
            message = f"Something went wrong on our side (error id `{error_id}`). Please try again."
        if respond is not None and body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, text=message)
