# syntax=docker/dockerfile:1
# Stage 1: build the admin single-page app.
FROM node:20-bookworm-slim AS admin-build
WORKDIR /build/admin-ui
COPY admin-ui/package.json admin-ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY admin-ui/ ./
RUN npm run build

# Stage 2: resolve the Python dependencies from the lock file into a virtual environment.
FROM python:3.11-slim-bookworm AS python-build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv
WORKDIR /build
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src/ ./src/
RUN uv sync --frozen --no-dev --no-editable

# Stage 3: the backup service (`--target backup`): the same Python environment, and mongodump and
# mongorestore copied from the MongoDB image the stack runs (so the tools match the server), with the
# Kerberos library they link against. Its archives go to /backups, the stack's `backups` volume.
FROM python:3.11-slim-bookworm AS backup
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgssapi-krb5-2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system boxoffice && useradd --system --gid boxoffice --home-dir /app boxoffice \
 && mkdir /backups && chown boxoffice:boxoffice /backups
COPY --from=mongo:7 /usr/bin/mongodump /usr/bin/mongorestore /usr/local/bin/
COPY --from=python-build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    BACKUP_DIR=/backups
WORKDIR /app
USER boxoffice
CMD ["boxoffice", "backups", "serve"]

# Stage 4: the runtime, as a non-root user. One image runs `api`, `admin` and `synthetic`; the last
# stage, so a plain `docker build .` makes it.
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system boxoffice && useradd --system --gid boxoffice --home-dir /app boxoffice
WORKDIR /app
COPY --from=python-build /opt/venv /opt/venv
COPY --from=admin-build /build/admin-ui/dist /app/admin-ui/dist
COPY docs/api/examples /app/docs/api/examples
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OPENAPI_EXAMPLES_DIR=/app/docs/api/examples \
    ENVIRONMENT=production \
    API_HOST=0.0.0.0 \
    ADMIN_HOST=0.0.0.0 \
    ADMIN_DIST=/app/admin-ui/dist \
    VAR_DIR=/tmp/boxoffice
USER boxoffice
EXPOSE 48080 48081
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:48080/health', timeout=2).status == 200 else 1)"
CMD ["boxoffice", "serve"]
