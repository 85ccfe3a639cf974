"""The edges: Slack listeners and renderers (and later email and webhooks)."""
