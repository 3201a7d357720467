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

# Stage 3: the runtime, as a non-root user. One image runs both `api` and `admin`.
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system boxoffice && useradd --system --gid boxoffice --home-dir /app boxoffice
WORKDIR /app
COPY --from=python-build /opt/venv /opt/venv
COPY --from=admin-build /build/admin-ui/dist /app/admin-ui/dist
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
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
