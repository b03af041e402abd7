"""The web UI, the REST API v1 and the Prometheus endpoint: one ASGI application, served by
uvicorn inside the daemon. It reads the store and asks the daemon (`DaemonLink`) for what
only the daemon can do: check now, discover, report its own health."""
