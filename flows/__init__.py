"""Prefect flows, one per pipeline step: each reads top to bottom as the story of a run."""
