"""Prefect tasks: thin wrappers over the domain packages (retries, names, caching live here)."""
