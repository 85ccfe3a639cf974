"""Sandbox mode: `casebot run` with no Slack tokens runs against the built-in Slack emulator.

The emulator, the real Bolt app over Socket Mode and a small web page all live in one
process, so a support lead can try Casebot in a minute without a workspace.
"""
