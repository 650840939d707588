"""Outpost agent: collects device facts and checks them against the organisation's policy."""

__version__ = "0.1.0"
