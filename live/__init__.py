"""Running controllers online: the engine seam and the live runtime.

The same `make_controller(beta)` code that replay evaluates drives a generation engine here:
BRANCH starts a sequence, CONTINUE generates chunks, PROBE asks for the forced answer, PRUNE
aborts, ANSWER returns. Nothing here imports Prefect or vLLM (engines load it lazily).
"""
