"""The bot token scopes Casebot needs, and what breaks without each.

`casebot check` names the feature a missing scope breaks; manifest.yml must list exactly
these (tests/handlers/test_scopes.py reads the Web API calls out of the code and checks
them against Slack's own method table).
"""

from __future__ import annotations

NEEDED: dict[str, str] = {
    "chat:write": "case cards, thread mirrors, replies to Slack customers, alerts and log lines",
    "chat:write.customize": "agents' names and avatars on replies to Slack customers",
    "commands": "the /case and /queue commands",
    "channels:history": "messages in public intake channels and card threads",
    "groups:history": "messages in private intake channels and card threads",
    "im:history": "customers' direct messages to the bot (and reading back what a crash lost)",
    "im:read": "finding the bot's direct messages to read back after a crash",
    "im:write": "opening the DM an agent's /case report is shared in",
    "files:write": "customers' files in card threads, agents' files to customers, reports in DMs",
    "files:read": "downloading the files customers and agents share in Slack",
    "channels:read": "resolving public channel names from the configuration",
    "groups:read": "resolving private channel names from the configuration",
    "users:read": "agents' and customers' display names",
    "usergroups:read": "AGENT_USERGROUP membership (who counts as an agent)",
    "reactions:read": "opening a case with the CASE_REACTION on a message",
}


def missing(granted: set[str]) -> dict[str, str]:
    """Each needed scope the token lacks, with the feature it breaks."""
    return {scope: feature for scope, feature in NEEDED.items() if scope not in granted}
