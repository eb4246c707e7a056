"Tests for the reward-design service: MC step labels, the PRM, the Bradley-Terry RM, LLM judges, rubric grading and AUROC."
import math

import pytest
import torch

from reasoner_kit.data import load_task, prompt_text, to_messages
from reasoner_kit.reward.judge import Criterion, JudgeScorer, grade_with_rubric, parse_rubric, parse_score
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.policy.backends import tiny_model_dir
from reasoner_kit.reward.prm import MCConfig, PRMConfig, PRMScorer, mc_step_labels, train_prm
from reasoner_kit.reward.report import auroc, selection_metrics
from reasoner_kit.reward.rm import RMConfig, RMScorer, train_rm
from reasoner_kit.core import KitError, TrainResult, bf16_fast
from reasoner_kit.reward.scorers import load_scorer, split_steps


class ScriptedPolicy(Policy):
    "Control-flow test double: returns preset replies in order, one per prompt per call, and records the calls."
    name = 'scripted'
    def __init__(self, replies): self.replies, self.calls = list(replies), []
    def _generate(self, prompts, params):
        self.calls.append((prompts, params))
        return [[Sample(self.replies.pop(0), 'stop', 0, 1)] for _ in prompts]


def hedge(text):
    "A surface-different wrong variant: a random-weight model can only learn surface features."
    return "Maybe " + text.replace('\n\n', ' ').rstrip('.') + " + 3? Not sure."


# ---------------------------------------------------------------- MC step labels

def test_mc_labels_shapes_values_resume(tiny, tmp_path):
    probs = load_task('arith', 'train', limit=3, level=1)
    cfg = MCConfig(max_tokens=16, sep='.', max_steps=3)
    f = tmp_path / 'labels.jsonl'
    recs = mc_step_labels(probs, tiny, n_solutions=2, k_rollouts=3, out=f, cfg=cfg)
    assert recs and all(set(r) >= {'prompt', 'completions', 'labels', 'values'} for r in recs)
    for r in recs:
        assert isinstance(r['prompt'], str) and 0 < len(r['completions']) == len(r['labels']) == len(r['values']) <= 3
        assert all(0.0 <= v <= 1.0 for v in r['values'])
        assert r['labels'] == [v > 0 for v in r['values']]
        assert all(v * 3 == round(v * 3) for v in r['values'])   # a share of 3 rollouts
    calls = []
    orig = tiny.generate
    tiny.generate = lambda *a, **k: calls.append(1) or orig(*a, **k)
    try: again = mc_step_labels(probs, tiny, n_solutions=2, k_rollouts=3, out=f, cfg=cfg)
    finally: del tiny.generate
    assert again == recs and calls == []   # resumed from the file: no policy call


def test_mc_labels_given_solutions_score_the_right_prefix(tiny):
    p = load_task('arith', 'train', limit=1, level=1)[0]
    right = p.solution                       # the reference solution: its last step is right by construction
    recs = mc_step_labels([p], tiny, n_solutions=1, k_rollouts=2, cfg=MCConfig(max_tokens=4), solutions={p.id: [right]})
    assert recs[0]['completions'] == split_steps(right) and recs[0]['values'][-1] == 1.0 and recs[0]['correct']


# ---------------------------------------------------------------- PRM

def _prm_records(n=12):
    recs = []
    for p in load_task('arith', 'train', limit=n, level=1):
        steps, prompt = split_steps(p.solution), prompt_text(to_messages(p))
        recs.append(dict(id=p.id, prompt=prompt, completions=steps, values=[1.0] * len(steps), labels=[True] * len(steps)))
        recs.append(dict(id=p.id, prompt=prompt, completions=[hedge(s) for s in steps], values=[0.0] * len(steps), labels=[False] * len(steps)))
    return recs


def test_prm_trains_saves_loads_scores(tiny, tmp_path):
    recs = _prm_records()
    res = train_prm(recs, tiny, PRMConfig(epochs=30, lr=3e-3, batch_size=16, val_frac=0), out=tmp_path / 'prm')
    prm, loss = res.scorer, [l for _, l in res.series('loss')]
    assert isinstance(res, TrainResult) and res.model_dir == tmp_path / 'prm' and len(loss) == 30
    assert res.history[-1]['layer'] == -1 and res.history[-1]['best_epoch'] == 29   # no held-out share: the last epoch is kept
    assert loss[-1] < 0.6 * loss[0]
    loaded = load_scorer(f"prm:{tmp_path / 'prm'}", tiny)
    assert isinstance(loaded, PRMScorer) and loaded.policy is tiny
    P, S = [r['prompt'] for r in recs[:4]], [r['completions'] for r in recs[:4]]
    a, b = prm.score_steps(P, S), loaded.score_steps(P, S)
    assert [len(x) for x in a] == [len(s) for s in S]
    assert all(abs(x - y) < 1e-5 for xa, xb in zip(a, b) for x, y in zip(xa, xb))
    good, bad = loaded.score(P[::2], ['\n\n'.join(s) for s in S[::2]]), loaded.score(P[1::2], ['\n\n'.join(s) for s in S[1::2]])
    assert all(g > x for g, x in zip(good, bad))
    with pytest.raises(KitError, match='no PRM'): load_scorer(f"prm:{tmp_path / 'none'}", tiny)


# ---------------------------------------------------------------- RM

def test_rm_trains_and_ranks(tmp_path):
    probs = load_task('arith', 'train', limit=20, level=1)
    mk = lambda ps: [dict(prompt=prompt_text(to_messages(p)), chosen=p.solution, rejected=hedge(p.solution)) for p in ps]
    res = train_rm(mk(probs[:16]), tiny_model_dir(), RMConfig(epochs=3, lr=1e-3, batch_size=4, train_layers=1, logging_steps=1),
                   out=tmp_path / 'rm')
    rm, loss = res.scorer, [v for _, v in res.series('loss')]
    assert len(loss) >= 6 and loss[-1] < 0.6 * loss[0]
    assert isinstance(res, TrainResult) and res.model_dir == tmp_path / 'rm' and res.global_step >= len(loss)
    loaded = load_scorer(f"rm:{tmp_path / 'rm'}")                 # bfloat16 where bf16 is fast, else float32
    assert isinstance(loaded, RMScorer) and loaded.model.dtype == (torch.bfloat16 if bf16_fast() else torch.float32)
    held = mk(probs[16:])
    P = [h['prompt'] for h in held]
    good, bad = loaded.score(P, [h['chosen'] for h in held]), loaded.score(P, [h['rejected'] for h in held])
    assert all(0 < x < 1 for x in good + bad) and all(g > b for g, b in zip(good, bad))
    exact = RMScorer.load(tmp_path / 'rm', dtype=torch.float32)     # float32 reproduces the trained model's scores
    assert max(abs(x - y) for x, y in zip(rm.score(P, [h['chosen'] for h in held]), exact.score(P, [h['chosen'] for h in held]))) < 1e-4
    assert max(abs(x - y) for x, y in zip(exact.score(P, [h['chosen'] for h in held]), good)) < 0.02   # bf16 rounding only

def test_rm_trains_in_bf16_with_fp32_master_weights(tmp_path, monkeypatch):
    import transformers
    seen, load = set(), transformers.AutoModelForSequenceClassification.from_pretrained
    def spy(*a, **k):                                                 # records the dtype the reward head computes in
        m = load(*a, **k); m.score.register_forward_hook(lambda mod, i, o: seen.add(o.dtype)); return m
    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, 'from_pretrained', spy)
    probs = load_task('arith', 'train', limit=16, level=1)
    pairs = [dict(prompt=prompt_text(to_messages(p)), chosen=p.solution, rejected=hedge(p.solution)) for p in probs]
    res = train_rm(pairs, tiny_model_dir(), RMConfig(epochs=3, lr=1e-3, batch_size=4, train_layers=1, logging_steps=1, bf16=True), out=tmp_path / 'rm')
    loss = [v for _, v in res.series('loss')]
    assert loss[-1] < 0.6 * loss[0]                                   # learns as in float32
    assert {p.dtype for p in res.scorer.model.parameters()} == {torch.float32}   # autocast: the weights AdamW updates stay float32
    assert torch.bfloat16 in seen                                     # while the forward passes ran in bfloat16


# ---------------------------------------------------------------- judge

P3 = [[{'role': 'user', 'content': 'Solve.\n\nProblem: Tom has 3 apples and buys 2. How many?'}]] * 3
S3 = ["3 + 2 = 5.\n\nThe answer is 5.", "3 + 2 = 6.\n\nThe answer is 6.", "No idea."]


def test_parse_score():
    assert parse_score('Score: 8/10') == 0.8 and parse_score('Score: 3') == 0.3 and parse_score('{"score": 10}') == 1.0
    for bad in ['Score: 11/10', 'Score: 4/5', 'Score: -2', 'looks fine', '{"score": "7"}', '']:
        assert parse_score(bad) is None, bad


def test_judge_retries_then_marks_failed():
    j = JudgeScorer(ScriptedPolicy([' 9/10', ' great', ' banana', ' 2/10', ' ??', ' nope']), retries=2)
    assert j.judge_solutions(P3, S3) == [0.9, 0.2, None]
    assert [len(c[0]) for c in j.policy.calls] == [3, 2, 1]           # one batched call per attempt, only the rejected
    assert [c[1].seed for c in j.policy.calls] == [0, 1000, 2000]      # each retry a new seed
    assert all(m[-1] == {'role': 'assistant', 'content': 'Score:'} for m in j.policy.calls[0][0])
    with pytest.raises(KitError, match='no valid score'):
        JudgeScorer(ScriptedPolicy([' 9/10', ' x', ' x', ' x'] + [' x'] * 2)).score(P3[:2], S3[:2])
    jf = JudgeScorer(ScriptedPolicy([' 9/10', ' x', ' x', ' x']), fallback=0.5)
    assert jf.score(P3[:2], S3[:2]) == [0.9, 0.5] and jf.stats['failed'] == 1
    js = JudgeScorer(ScriptedPolicy([' 10/10', ' 1/10', ' 8/10']))
    assert js.score_steps(P3[:2], [["3 + 2 = 5.", "The answer is 5."], ["3 + 2 = 6."]]) == [[1.0, 0.1], [0.8]]


def test_judge_spec():
    sp = ScriptedPolicy([])
    j = load_scorer('judge:fallback=0.25,retries=4', sp)
    assert isinstance(j, JudgeScorer) and j.policy is sp and j.fallback == 0.25 and j.retries == 4
    with pytest.raises(KitError, match='bad judge option'): load_scorer('judge:colour=red', sp)


# ---------------------------------------------------------------- rubric

R = [Criterion('correct', 'the final answer is right', 5), Criterion('clear', 'each step is easy to follow', 3)]


@pytest.mark.parametrize('reply,ok', [('{"correct": 4, "clear": 3}', True), ('{"correct": 4.5, "clear": 0, "notes": "x"}', True),
                                      ('{"correct": 6, "clear": 1}', False), ('{"correct": 4}', False),
                                      ('{"correct": "4", "clear": 1}', False), ('{"correct": -1, "clear": 1}', False),
                                      ('total garbage', False), ('{"correct": NaN, "clear": 1}', False)])
def test_parse_rubric(reply, ok):
    if ok: assert set(parse_rubric(reply, R)) == {'correct', 'clear'}
    else:
        with pytest.raises(ValueError): parse_rubric(reply, R)


def test_rubric_retried_then_failed():
    sp = ScriptedPolicy(['"correct": 5, "clear": 3}', '"correct": 9, "clear": 1}', 'garbage',
                         '"correct": 2, "clear": 1}', '"correct": 1}', 'still garbage'])
    res = grade_with_rubric(sp, ['a', 'b', 'c'], R, retries=2)
    assert [r.failed for r in res] == [False, False, True]
    assert res[0].scores == {'correct': 5.0, 'clear': 3.0} and res[0].total == 8.0 and res[0].max_total == 8.0
    assert res[1].total == 3.0 and len(res[1].raw) == 2 and 'outside' in res[1].errors[0]
    assert res[2].scores == {} and res[2].total is None and res[2].fraction is None and len(res[2].raw) == 3
    assert [len(c[0]) for c in sp.calls] == [3, 2, 1]
    one = grade_with_rubric(ScriptedPolicy(['"correct": 1, "clear": 1}']), 'x', R)
    assert not one.failed and one.total == 2.0
    with pytest.raises(KitError): Criterion('x', 'y', 0)


# ---------------------------------------------------------------- AUROC and selection

def test_auroc_known_values():
    assert auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert auroc([0.3] * 6, [1, 0, 1, 0, 1, 0]) == 0.5
    assert abs(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) - 0.75) < 1e-12
    assert abs(auroc([1, 1, 0, 1], [1, 0, 0, 1]) - 0.75) < 1e-12   # one positive-negative tie counts 1/2
    assert math.isnan(auroc([0.2, 0.4], [0, 0]))


def test_selection_metrics():
    recs = [dict(answer='5', samples=[dict(pred='4', correct=False), dict(pred='4', correct=False), dict(pred='5', correct=True)]),
            dict(answer='7', samples=[dict(pred='7', correct=True), dict(pred='1', correct=False), dict(pred='7', correct=True)])]
    assert selection_metrics(recs) == dict(majority=50.0, random_sample=50.0, pass_at_n=100.0)
    m = selection_metrics(recs, [[0.3, 0.3, 0.9], [0.2, 0.9, 0.2]])
    assert m['best_of_n'] == 50.0 and m['weighted_vote'] == 50.0   # picks 5 (right), then 1 (wrong); votes: 4 (0.6) < 5 (0.9), 1 (0.9) > 7 (0.4)
