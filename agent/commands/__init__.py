"""The `agent` commands, one module each; cli.py parses the arguments and calls them."""
