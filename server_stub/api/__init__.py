"""The collector's HTTP API (/api/v1)."""
