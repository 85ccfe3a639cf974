"""The running Casebot app: settings, wiring, Bolt app, Socket Mode runner, jobs and CLI."""
