"""The dashboard: server-rendered pages for the security team."""
