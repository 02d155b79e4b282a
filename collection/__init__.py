"""Trajectory collection: sample N chunked trajectories per question with a probe after every
chunk, through any `autotts.live.engine.Engine` (vLLM on a GPU, an HTTP endpoint, or a scripted engine).
Runs in the GPU environment, so it never imports Prefect (DESIGN §6)."""
