"""Explorers write candidate controllers: an LLM (Anthropic) or the built-in offline search.

Both implement `Explorer.propose(context, k) -> list[Proposal]`; the discovery flow does not care
which one runs.
"""
