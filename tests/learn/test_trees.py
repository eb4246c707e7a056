"""Search trees into TRL datasets (learn.trees): exact SFT rows, DPO pairs and step labels on a hand-built tree; gold
answers only behind oracle=True; barely-solvable mining; each format trains the tiny model; the no-answer-key round."""
import math
from dataclasses import replace

import pytest

from reasoner_kit.core import KitError, read_jsonl
from reasoner_kit.learn.trees import (NoKeyConfig, as_tree, barely_solvable, judge, outcomes, success_rates, tree_datasets,
                                      tree_dpo, tree_prm, tree_round, tree_sft)
from reasoner_kit.policy.backends import tiny_model_dir
from reasoner_kit.reward.scorers import OracleScorer

Q = [{'role': 'user', 'content': 'What is (2 + 3) * 2?'}]
A = lambda s: [{'role': 'assistant', 'content': s}]
# root -> 1 '2 + 3 = 5' (right) -> 3 (right leaf), 4 (wrong leaf, long); root -> 2 '2 + 3 = 6' (wrong) -> 5 (wrong leaf)
EXPORT = dict(parent=[-1, 0, 0, 1, 1, 2],
              text=['', '2 + 3 = 5', '2 + 3 = 6', '5 * 2 = 10. The answer is 10.',
                    '5 * 2 = 12, as 5 + 5 + 2 = 12 when we add it all up. The answer is 12.', '6 * 2 = 12. The answer is 12.'],
              terminal=[False, False, False, True, True, True], value=[None, 1.0, 0.0, 1.0, 0.0, 0.0],
              q=[0.25, 0.6, 0.0, 1.0, 0.0, 0.9], visit_count=[4, 2, 1, 1, 1, 0], chosen=[0, 1, 3])
RIGHT = '2 + 3 = 5\n\n5 * 2 = 10. The answer is 10.'

def _tree(**kw): return as_tree(EXPORT, Q, id='p1', **kw)

def test_exact_sft_rows_dpo_pairs_and_step_labels():
    t = _tree(); v = judge([t])                        # the verifier's leaf values, no gold answer
    assert v == [{3: True, 4: False, 5: False}] and outcomes(t, v[0]) == ([1, 1, 0, 1, 0, 0], [3, 2, 1, 1, 1, 1])
    assert tree_sft([t], v) == [dict(prompt=Q, completion=A(RIGHT))]
    assert tree_sft([t], v, 'right', fmt='messages') == [dict(messages=Q + A(RIGHT))]
    assert tree_sft([t], [{3: False, 4: True, 5: True}]) == []       # the chosen leaf is judged wrong: no target
    assert tree_dpo([t], v) == [
        dict(prompt=Q, chosen=A(RIGHT), rejected=A('2 + 3 = 6\n\n6 * 2 = 12. The answer is 12.'), weight=1.0),
        dict(prompt=Q + A('2 + 3 = 5\n\n'), chosen=A('5 * 2 = 10. The answer is 10.'),   # prompt: the prefix up to the shared parent
             rejected=A(EXPORT['text'][4]), weight=2.0)]                                  # 71 / 29 characters, clipped at 2
    assert len(tree_dpo([t], v, replicate=True)) == 3 and {r['weight'] for r in tree_dpo([t], v, length_rule=False)} == {1.0}
    rows = tree_prm([t], v)
    assert [(r['completions'], r['values'], r['labels']) for r in rows] == [
        (['2 + 3 = 5', '5 * 2 = 10. The answer is 10.'], [0.5, 1.0], [True, True]),
        (['2 + 3 = 5', EXPORT['text'][4]], [0.5, 0.0], [True, False]),
        (['2 + 3 = 6', '6 * 2 = 12. The answer is 12.'], [0.0, 0.0], [False, False])]
    assert all(r['id'] == 'p1' and r['prompt'] == Q[0]['content'] for r in rows)
    assert [r['values'] for r in tree_prm([t], v, 'q')] == [[0.6, 1.0], [0.6, 0.0], [0.0, 0.0]]   # MC values where visited
    assert judge([t], 'vote') == [{3: False, 4: True, 5: True}]     # self-consistency: two leaves say 12

def test_gold_answers_only_behind_the_oracle_flag(monkeypatch):
    import reasoner_kit.learn.trees as trees
    t = _tree(answer='10')
    with pytest.raises(KitError, match='reads the gold answers'):
        judge([t], OracleScorer({Q[0]['content']: '10'}))
    with pytest.raises(KitError, match='reads the gold answers'):
        judge([t], 'oracle')
    with pytest.raises(KitError, match="gold answer"):
        judge([_tree()], oracle=True)                               # no answer to read
    assert judge([t], 'vote', oracle=True) == [{3: True, 4: False, 5: False}]   # the flag switches to the answer key
    def no_grade(*a, **kw): raise AssertionError('the gold answer was read')
    monkeypatch.setattr(trees, 'grade', no_grade)
    ds = tree_datasets([EXPORT], [Q], verifier='vote', answers=['10'])          # answers given, flag off: never read
    assert ds['sft'].num_rows == 0 and ds['dpo'].num_rows == 1 and ds['prm'].num_rows == 3
    with pytest.raises(AssertionError, match='gold answer was read'):
        tree_datasets([EXPORT], [Q], answers=['10'], oracle=True)

def test_barely_solvable_picks_rates_in_0_hi():
    rates = {'never': 0.0, 'rare': 0.125, 'half': 0.5, 'often': 0.75, 'always': 1.0}
    assert barely_solvable(rates) == ['rare', 'half']
    assert barely_solvable(rates, hi=0.75) == ['rare', 'half', 'often']
    assert barely_solvable(rates, hi=1.0, lo=0.5) == ['often', 'always']
    with pytest.raises(KitError, match='lo < hi'):
        barely_solvable(rates, hi=0.0)
    assert success_rates([_tree()], judge([_tree()])) == {'p1': pytest.approx(1 / 3)}

def _changed(model_dir):
    import torch
    from transformers import AutoModelForCausalLM
    before = AutoModelForCausalLM.from_pretrained(tiny_model_dir()).state_dict()
    after = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    return any(not torch.equal(before[k], after[k]) for k in before)

def test_tiny_trains_on_tree_sft(tmp_path):
    from reasoner_kit.learn.train import SFTTrainConfig, train_sft
    ds = tree_datasets([EXPORT], [Q], which='right', out=tmp_path / 'data')
    res = train_sft(tiny_model_dir(), read_jsonl(tmp_path / 'data' / 'sft.jsonl') * 4, tmp_path / 'sft',
                    SFTTrainConfig(max_steps=2, lr=1e-3, batch_size=2, micro_batch=2, save_steps=10))
    loss = [v for _, v in res.series('loss')]
    assert ds['sft'].num_rows == 1 and len(loss) == 2 and all(math.isfinite(x) for x in loss) and _changed(res.model_dir)

def test_tiny_trains_on_tree_dpo(tmp_path):
    from reasoner_kit.learn.train import DPOTrainConfig, train_dpo
    from reasoner_kit.policy.base import load_policy
    tiny = load_policy('tiny')
    rows = tree_dpo([_tree()], judge([_tree()]), render=tiny.render)               # TRL's standard text format
    assert rows[1]['prompt'].endswith('2 + 3 = 5\n\n') and rows[1]['chosen'] == '5 * 2 = 10. The answer is 10.'
    res = train_dpo(tiny_model_dir(), rows * 2, tmp_path, DPOTrainConfig(max_steps=2, lr=1e-3, batch_size=2, micro_batch=2, save_steps=10))
    loss = [v for _, v in res.series('loss')]
    assert len(loss) == 2 and all(math.isfinite(x) for x in loss) and loss[0] == pytest.approx(math.log(2), abs=1e-3)
    assert _changed(res.model_dir)

def test_tiny_trains_a_prm_on_tree_step_labels(tiny):
    import torch
    from reasoner_kit.reward.prm import PRMConfig, train_prm
    rows = tree_prm([_tree()], judge([_tree()])) * 2
    res = train_prm(rows, tiny, PRMConfig(epochs=3, hidden=8, batch_size=4, val_frac=0.0))
    loss, summary = [v for _, v in res.series('loss')], res.history[-1]
    assert summary['steps'] == 12 and len(loss) == 3 and all(math.isfinite(x) for x in loss)
    norm = res.scorer.head[0]                                              # LayerNorm: initialized to weight 1, bias 0
    assert not torch.equal(norm.weight, torch.ones_like(norm.weight)) and summary['positive_rate'] == pytest.approx(1 / 3)   # the mean soft label

def test_no_key_round_reads_no_gold_answer(tmp_path, monkeypatch):
    import reasoner_kit.learn.data as ldata, reasoner_kit.learn.trees as trees
    from reasoner_kit.learn.iterate import IterateConfig, iterate
    from reasoner_kit.learn.train import SFTTrainConfig
    def no_grade(*a, **kw): raise AssertionError('the gold answer was read')
    monkeypatch.setattr(trees, 'grade', no_grade); monkeypatch.setattr(ldata, 'grade', no_grade)
    nk = NoKeyConfig(budget=2, beam_width=2, max_steps=2, judge='value', threshold=0.0)   # tiny writes gibberish: accept every leaf
    cfg = IterateConfig(levels=(1,), train_per_round=2, test_limit=2, max_tokens=16, eval_samples=0, no_key=nk,
                        sft=SFTTrainConfig(max_steps=1, batch_size=2, micro_batch=2))
    rows = iterate('tiny', 'arith', rounds=1, method='sft', cfg=cfg, out=tmp_path, verbose=False)
    recs = read_jsonl(tmp_path / 'round1' / 'trees.jsonl')
    assert len(recs) == 2 and all('answer' not in r for r in recs)
    trained = read_jsonl(tmp_path / 'round1' / 'train_data.jsonl')
    chosen = [as_tree(r) for r in recs]
    assert [r['completion'][0]['content'] for r in trained] == [t.solution(t.chosen[-1]) for t in chosen]   # the search's chosen paths
    assert rows[1]['train_rows'] == 2 and rows[1]['train_leaves'] == sum(len(t.leaves()) for t in chosen) and rows[1]['train_steps'] == 1
    with pytest.raises(KitError, match="GRPO's reward reads gold answers"):
        tree_round(None, [], 'grpo', cfg, tmp_path / 'round1')
    mined = replace(cfg, no_key=replace(nk, mine_hi=0.5))                 # every leaf accepted: rate 1, nothing barely solvable
    out, stats = tree_round(None, [], 'sft', mined, tmp_path / 'round9')    # no problems: nothing searched
    assert out == [] and stats['train_mined'] == 0

def test_flat_strategy_samples_become_chains():
    from reasoner_kit.search.base import SearchResult
    texts = ['2 + 3 = 5\n\n5 * 2 = 10\n\nThe answer is 10.', 'The answer is 12.', '5 * 2 = 10\n\nThe answer is 10.']
    r = SearchResult(texts[2], '10', candidates=[dict(text=x, score=None) for x in texts])
    t = as_tree(r, Q, id='p1')
    assert t.parent == [-1, 0, 1, 2, 0, 0, 5] and t.leaves() == [3, 4, 6] and t.chosen == [0, 5, 6]
    v = judge([t], 'vote')                                           # self-consistency: 10 twice, 12 once
    assert v == [{3: True, 4: False, 6: True}]
    assert [x['completion'][0]['content'] for x in tree_sft([t], v, 'right')] == [texts[2], texts[0]]   # shortest first
    assert [(x['chosen'][0]['content'], x['rejected'][0]['content']) for x in tree_dpo([t], v)] == [(texts[2], texts[1]), (texts[0], texts[1])]
    assert [x['labels'] for x in tree_prm([t], v)] == [[True, True, True], [False], [True, True]]
