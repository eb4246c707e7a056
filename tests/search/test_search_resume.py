"""A search results folder resumes only the run that made it (issue 14, item 3): another policy, scorer or setting at the
same strategy and budget is refused in one line, instead of reporting the first run's accuracy."""
import pytest

from reasoner_kit.core import KitError
from reasoner_kit.data import load_task, prompt_text
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.search.sweep import run_search

PROBS = load_task('arith', 'test', limit=3, level=1)

class Oracle(Policy):
    "Test double: answers every problem right (`right=True`) or wrong, and counts its calls."
    def __init__(self, right=True): self.name, self.right, self.calls = ('right' if right else 'wrong'), right, 0
    def _generate(self, prompts, params):
        self.calls += 1
        gold = {p.question: p.answer for p in PROBS}
        ans = lambda pr: next(a for q, a in gold.items() if q in prompt_text(pr))
        return [[Sample(f"The answer is {ans(pr) if self.right else -1}.", 'stop', 5, 5) for _ in range(params.n)] for pr in prompts]

def test_another_policy_is_refused_not_reported(tmp_path):
    right = Oracle(True)
    assert run_search('self_consistency', right, PROBS, 2, out=tmp_path)['accuracy'] == 100.0
    with pytest.raises(KitError, match='other settings'):
        run_search('self_consistency', Oracle(False), PROBS, 2, out=tmp_path)
    assert run_search('self_consistency', Oracle(False), PROBS, 2, out=tmp_path / 'wrong')['accuracy'] == 0.0

def test_same_run_resumes_other_settings_refused(tmp_path):
    right = Oracle(True)
    run_search('self_consistency', right, PROBS, 2, out=tmp_path, temperature=0.5)
    calls = right.calls
    assert run_search('self_consistency', right, PROBS, 2, out=tmp_path, temperature=0.5, chunk=1)['accuracy'] == 100.0
    assert right.calls == calls                                          # resumed: nothing asked again (chunk is not a setting)
    with pytest.raises(KitError, match='temperature'):                  # the message names what changed
        run_search('self_consistency', right, PROBS, 2, out=tmp_path, temperature=0.9)
    run_search('self_consistency', right, PROBS, 4, out=tmp_path, temperature=0.9)   # another budget: its own run in the folder
