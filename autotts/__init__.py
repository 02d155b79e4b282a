"""AutoTTS: discover test-time-scaling strategies for LLM reasoning by replaying stored trajectories."""
__version__ = "0.1.0"
