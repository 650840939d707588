"""Storage: the collector's tables, migrations, statements and reads; no HTTP, no policy."""
