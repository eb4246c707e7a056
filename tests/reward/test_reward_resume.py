"""The reward wing's resumable sample files resume only the run that made them (issue 14, item 3): preference samples
and Monte-Carlo step labels of another policy or other settings are refused, not mixed in."""
import pytest

from reasoner_kit.core import KitError
from reasoner_kit.data import load_task
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.reward.prm import MCConfig, mc_step_labels
from reasoner_kit.reward.rm import PairConfig, preference_pairs

PROBS = load_task('arith', 'train', limit=2, level=1)

class Says(Policy):
    "Test double: the same reply to every prompt, and a count of its calls."
    def __init__(self, text): self.name, self.text, self.calls = f'says {text}', text, 0
    def _generate(self, prompts, params):
        self.calls += 1
        return [[Sample(self.text, 'stop', 1, 1) for _ in range(params.n)] for _ in prompts]

def test_preference_samples_of_another_policy_are_refused(tmp_path):
    f, a = tmp_path / 'pairs.jsonl', Says('The answer is 1.')
    preference_pairs(PROBS, a, PairConfig(n_samples=2), out=f)
    with pytest.raises(KitError, match='other settings'): preference_pairs(PROBS, Says('The answer is 2.'), PairConfig(n_samples=2), out=f)
    with pytest.raises(KitError, match='n_samples'): preference_pairs(PROBS, a, PairConfig(n_samples=3), out=f)
    calls = a.calls
    preference_pairs(PROBS, a, PairConfig(n_samples=2, chunk=1), out=f)      # the same run resumes
    assert a.calls == calls

def test_step_labels_of_another_policy_are_refused(tmp_path):
    f, a = tmp_path / 'labels.jsonl', Says('1 + 1 = 2.\n\nThe answer is 2.')
    mc_step_labels(PROBS, a, n_solutions=1, k_rollouts=1, out=f, cfg=MCConfig(max_tokens=8))
    with pytest.raises(KitError, match='other settings'):
        mc_step_labels(PROBS, Says('The answer is 3.'), n_solutions=1, k_rollouts=1, out=f, cfg=MCConfig(max_tokens=8))
    with pytest.raises(KitError, match='k_rollouts'):
        mc_step_labels(PROBS, a, n_solutions=1, k_rollouts=2, out=f, cfg=MCConfig(max_tokens=8))

def test_given_solutions_resume_per_problem(tmp_path):
    "Labels of given solutions resume problem by problem: a run on fewer problems makes no call, and a problem whose texts changed is labelled again."
    f, a = tmp_path / 'labels.jsonl', Says('1 + 1 = 2.\n\nThe answer is 2.')
    given = {p.id: ['We add.\n\n1 + 1 = 2.\n\nThe answer is 2.'] for p in PROBS}
    kw = dict(n_solutions=1, k_rollouts=1, out=f, cfg=MCConfig(max_tokens=8, chunk=1))
    full = mc_step_labels(PROBS, a, solutions=given, **kw)
    calls = a.calls
    assert mc_step_labels(PROBS[:1], a, solutions=given, **kw) == full[:1] and a.calls == calls
    changed = {**given, PROBS[1].id: ['We add.\n\nThe answer is 7.']}
    again = mc_step_labels(PROBS, a, solutions=changed, **kw)
    assert a.calls == calls + 1                        # only the changed problem's rollouts
    assert again[0] == full[0] and again[1]['completions'] == ['We add.', 'The answer is 7.']
