"""Fixtures of the learning tests: a callback that kills a training run right after a checkpoint."""
import pytest

@pytest.fixture
def kill_at():
    "A factory: `kill_at(step)` is a TrainerCallback that raises KeyboardInterrupt once the checkpoint of `step` is written."
    from transformers import TrainerCallback
    class KillAt(TrainerCallback):
        def __init__(self, step): self.step = step
        def on_save(self, args, state, control, **kw):
            if state.global_step == self.step: raise KeyboardInterrupt('simulated kill')
    return KillAt
