# mockzoho under gunicorn: the bundled fixtures, state in /data (mount a volume to keep it).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MOCKZOHO_STATE=/data/state.db

# Installed from /src, run from /app: a source tree in the working directory would shadow the package.
COPY pyproject.toml setup.cfg README.md LICENSE /src/
COPY mockzoho /src/mockzoho
COPY fixtures /src/fixtures
COPY docs /src/docs
RUN pip install --no-cache-dir '/src[postgresql]' \
    && mkdir /app /data && rm -rf /src \
    && useradd --system --uid 10001 --home-dir /app mockzoho && chown mockzoho /data
WORKDIR /app

USER mockzoho
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/__admin/health', timeout=2)"]
CMD ["gunicorn", "--config", "python:mockzoho.server", "--bind", "0.0.0.0:8000", "--workers", "2", "mockzoho.wsgi:app"]
