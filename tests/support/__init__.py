"""Test-only helpers (a scripted engine, a tiny model builder, one-question collection): kept out of
the shipped packages; the tests and the benches import them from the checkout."""
