"""Block Kit's size limits, checked as Slack checks them before it stores a message or view.

Slack rejects an over-long text object or too many blocks with `invalid_blocks` and a
JSON pointer to the offending field; an over-long message `text` with `msg_too_long`. The
figures are those of api.slack.com/reference/block-kit (2026). A payload that breaks one
here would break on a real workspace, so the emulator refuses it the same way.
"""

from __future__ import annotations

from typing import Any

MESSAGE_TEXT_MAX = 40_000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
TEXT_MAX = 3_000  # any section/context text object
FIELD_MAX = 2_000
FIELDS_MAX = 10
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2_000
ID_MAX = 255  # action_id, block_id, callback_id
URL_MAX = 3_000
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OVERFLOW_OPTIONS_MIN, OVERFLOW_OPTIONS_MAX = 2, 5  # Slack: an overflow menu offers 2 to 5
SELECT_OPTIONS_MAX = 100
VIEW_TITLE_MAX = 24
PRIVATE_METADATA_MAX = 3_000


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def length(self, value: Any, limit: int, pointer: str, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.fail("missing required field", pointer)
            return
        text = str(value)
        if len(text) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)
        elif required and not text:
            self.fail("must be more than 0 characters", pointer)

    def items(self, value: Any, limit: int, pointer: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail("must be an array", pointer)
            return []
        if len(value) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        return value

    def text_object(self, obj: Any, limit: int, pointer: str, *, plain: bool = False) -> None:
        if not isinstance(obj, dict):
            self.fail("must be a text object", pointer)
            return
        if obj.get("type") not in (("plain_text",) if plain else ("plain_text", "mrkdwn")):
            self.fail("must be a valid enum value", f"{pointer}/type")
        self.length(obj.get("text"), limit, f"{pointer}/text", required=True)

    def option(self, option: Any, pointer: str) -> None:
        if not isinstance(option, dict):
            self.fail("must be an option object", pointer)
            return
        self.text_object(option.get("text"), OPTION_TEXT_MAX, f"{pointer}/text")
        self.length(option.get("value"), OPTION_VALUE_MAX, f"{pointer}/value")

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self.fail("must be an element object", pointer)
            return
        self.length(element.get("action_id"), ID_MAX, f"{pointer}/action_id")
        kind = element.get("type")
        if kind == "button":
            text = element.get("text")
            self.text_object(text, BUTTON_TEXT_MAX, f"{pointer}/text", plain=True)
            self.length(element.get("value"), BUTTON_VALUE_MAX, f"{pointer}/value")
            self.length(element.get("url"), URL_MAX, f"{pointer}/url")
        elif kind == "overflow":
            options = self.items(element.get("options"), OVERFLOW_OPTIONS_MAX, f"{pointer}/options")
            if len(options) < OVERFLOW_OPTIONS_MIN:
                self.fail(f"at least {OVERFLOW_OPTIONS_MIN} items required", f"{pointer}/options")
            for i, option in enumerate(options):
                self.option(option, f"{pointer}/options/{i}")
        elif kind in ("static_select", "multi_static_select"):
            options = self.items(
                element.get("options", []), SELECT_OPTIONS_MAX, f"{pointer}/options"
            )
            for i, option in enumerate(options):
                self.option(option, f"{pointer}/options/{i}")
        if "confirm" in element and isinstance(element["confirm"], dict):
            self.text_object(element["confirm"].get("text"), 300, f"{pointer}/confirm/text")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must be a block object", pointer)
            return
        self.length(block.get("block_id"), ID_MAX, f"{pointer}/block_id")
        kind = block.get("type")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail("must provide either text or fields", pointer)
            if "text" in block:
                self.text_object(block["text"], TEXT_MAX, f"{pointer}/text")
            if "fields" in block:
                fields = self.items(block["fields"], FIELDS_MAX, f"{pointer}/fields")
                for i, field in enumerate(fields):
                    self.text_object(field, FIELD_MAX, f"{pointer}/fields/{i}")
            if "accessory" in block:
                self.element(block["accessory"], f"{pointer}/accessory")
        elif kind == "header":
            self.text_object(block.get("text"), HEADER_MAX, f"{pointer}/text", plain=True)
        elif kind == "context":
            elements = self.items(
                block.get("elements"), CONTEXT_ELEMENTS_MAX, f"{pointer}/elements"
            )
            for i, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                    self.text_object(element, TEXT_MAX, f"{pointer}/elements/{i}")
        elif kind == "actions":
            elements = self.items(
                block.get("elements"), ACTIONS_ELEMENTS_MAX, f"{pointer}/elements"
            )
            for i, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{i}")
        elif kind == "input":
            self.text_object(block.get("label"), FIELD_MAX, f"{pointer}/label", plain=True)
            self.element(block.get("element"), f"{pointer}/element")

    def blocks(self, blocks: Any, limit: int, pointer: str = "/blocks") -> None:
        for i, block in enumerate(self.items(blocks, limit, pointer)):
            self.block(block, f"{pointer}/{i}")


def message_errors(blocks: Any) -> list[str]:
    """Why Slack would refuse these message blocks (empty: it would take them)."""
    checker = _Checker()
    checker.blocks(blocks, MESSAGE_BLOCKS_MAX)
    return checker.errors


def view_errors(view: dict[str, Any]) -> list[str]:
    """Why Slack would refuse this Home tab or modal view."""
    checker = _Checker()
    checker.blocks(view.get("blocks", []), VIEW_BLOCKS_MAX, "/view/blocks")
    checker.length(view.get("private_metadata"), PRIVATE_METADATA_MAX, "/view/private_metadata")
    checker.length(view.get("callback_id"), ID_MAX, "/view/callback_id")
    for key in ("title", "submit", "close"):
        if key in view:
            checker.text_object(view[key], VIEW_TITLE_MAX, f"/view/{key}", plain=True)
    return checker.errors
