"""The Slack app manifest as the emulator reads it: what the app was granted and subscribed to.

Real Slack answers `missing_scope` for a method whose scope the app was not granted and
never delivers an event the app did not subscribe to, so the emulator reads the same file a
team creates the app from (manifest.yml) and holds the bot to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

PROJECT_MANIFEST = Path(__file__).resolve().parents[3] / "manifest.yml"


@dataclass(frozen=True)
class AppManifest:
    """The parts of a manifest that decide what Slack lets the app do and hear."""

    bot_scopes: frozenset[str]
    bot_events: frozenset[str]
    commands: frozenset[str]
    interactivity: bool
    socket_mode: bool = True
    shortcuts: frozenset[str] = frozenset()  # callback ids of message and global shortcuts

    @classmethod
    def load(cls, path: Path = PROJECT_MANIFEST) -> AppManifest:
        data: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
        features = data.get("features") or {}
        settings = data.get("settings") or {}
        scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
        events = (settings.get("event_subscriptions") or {}).get("bot_events") or []
        commands = [c["command"] for c in features.get("slash_commands") or []]
        shortcuts = [s["callback_id"] for s in features.get("shortcuts") or []]
        return cls(
            bot_scopes=frozenset(scopes),
            bot_events=frozenset(events),
            commands=frozenset(commands),
            interactivity=bool((settings.get("interactivity") or {}).get("is_enabled")),
            socket_mode=bool(settings.get("socket_mode_enabled", False)),
            shortcuts=frozenset(shortcuts),
        )

    @classmethod
    def project(cls) -> AppManifest:
        """The project's own manifest.yml (what a team installs), else ./manifest.yml."""
        path = PROJECT_MANIFEST if PROJECT_MANIFEST.is_file() else Path.cwd() / "manifest.yml"
        return cls.load(path)

    def without_scopes(self, *scopes: str) -> AppManifest:
        return replace(self, bot_scopes=self.bot_scopes - set(scopes))

    def with_scopes(self, *scopes: str) -> AppManifest:
        return replace(self, bot_scopes=self.bot_scopes | set(scopes))

    def without_events(self, *events: str) -> AppManifest:
        return replace(self, bot_events=self.bot_events - set(events))

    def with_events(self, *events: str) -> AppManifest:
        return replace(self, bot_events=self.bot_events | set(events))
