"""Outpost collector: checks reports against the rules, keeps history, serves the dashboard."""
