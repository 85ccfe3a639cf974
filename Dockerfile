# Casebot: one process, SQLite in /data by default (set DATABASE_URL for PostgreSQL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/casebot.db \
    HF_HUB_OFFLINE=1

RUN groupadd --gid 10001 casebot \
    && useradd --create-home --uid 10001 --gid 10001 casebot \
    && mkdir /data \
    && chown casebot:casebot /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY storage ./storage
# The same install as tests/run.sh, without the dev extras.
RUN python -m venv /app/.venv \
    && /app/.venv/bin/python -m pip install .

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
CMD ["/app/.venv/bin/casebot", "run"]
