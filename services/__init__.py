"""The domain: cases, rules, escalation and the outbox events. No Slack, mail or HTTP here."""
