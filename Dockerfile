# credscore API image: installs the pinned dependencies, runs as a non-root user, and applies the
# database migrations before it starts serving.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml requirements.lock README.md alembic.ini ./
COPY service ./service
COPY scoring ./scoring
COPY migrations ./migrations
COPY credscore_client ./credscore_client
RUN pip install -c requirements.lock .

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin credscore \
    && mkdir -p /app/data \
    && chown credscore /app/data
USER credscore

ENV CREDSCORE_DATABASE_URL=sqlite:////app/data/credscore.db \
    CREDSCORE_ENVIRONMENT=production \
    CREDSCORE_WORKERS=2

EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]

# Migrations first: a replica never serves against a schema older than its code.
CMD ["sh", "-c", "credscore migrate && exec credscore serve --host 0.0.0.0 --port 8000 --workers ${CREDSCORE_WORKERS}"]
