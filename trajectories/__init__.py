"""Trajectories in the public interchange format: reading, validating, grading, synthesising.

Everything that turns files into a `replay_core.Bank` lives here, so the replay environment never
parses text or compares answers itself.
"""
