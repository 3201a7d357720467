"""The admin service: serves the compiled SPA and proxies /v1 to the API."""
