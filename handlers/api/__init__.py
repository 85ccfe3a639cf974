"""The JSON API on the bot's HTTP server: `/api/v1` (native) and `/api/openapi.json`."""
