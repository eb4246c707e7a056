"""One loader per registry: `load_scorer` knows every built-in scorer kind in a fresh interpreter, with no import done first."""
import subprocess, sys

import pytest

from reasoner_kit.core import KitError
from reasoner_kit.data import load_task, prompt_text, to_messages
from reasoner_kit.reward.prm import PRMConfig, train_prm
from reasoner_kit.reward.scorers import SCORERS, check_scorer_spec, load_scorer, split_steps

FRESH = """
import sys
from reasoner_kit.reward.scorers import load_scorer
from reasoner_kit.policy.base import load_policy
assert 'reasoner_kit.reward.prm' not in sys.modules, 'imported before it was asked for'
s = load_scorer('prm:' + sys.argv[1], load_policy('tiny'))
assert 'reasoner_kit.reward.prm' in sys.modules and type(s).__name__ == 'PRMScorer'
print(type(s).__name__, [len(x) for x in s.score_steps([[{'role': 'user', 'content': '1 + 1?'}]], [['1 + 1 = 2', 'The answer is 2.']])])
"""

def test_load_scorer_prm_in_a_fresh_interpreter(tiny, tmp_path):
    recs = []
    for p in load_task('arith', 'train', limit=4, level=1):
        steps, prompt = split_steps(p.solution), prompt_text(to_messages(p))
        recs.append(dict(id=p.id, prompt=prompt, completions=steps, values=[1.0] * len(steps), labels=[True] * len(steps)))
        recs.append(dict(id=p.id, prompt=prompt, completions=[s + ' maybe' for s in steps], values=[0.0] * len(steps), labels=[False] * len(steps)))
    train_prm(recs, tiny, PRMConfig(epochs=1, batch_size=8, val_frac=0), out=tmp_path / 'prm')
    r = subprocess.run([sys.executable, '-c', FRESH, str(tmp_path / 'prm')], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == 'PRMScorer' and '[2]' in r.stdout

def test_every_builtin_kind_is_listed():
    assert SCORERS.names() == ['arithmetic', 'judge', 'logprob', 'prm', 'rm']
    assert check_scorer_spec('judge:fallback=0.5') == ('judge', 'fallback=0.5')
    with pytest.raises(KitError, match="unknown scorer 'prn:x' — use one of: arithmetic, judge"): load_scorer('prn:x')
    with pytest.raises(KitError, match="write just 'logprob'"): load_scorer('logprob:x')
