"""The data-synthesis service on the tiny model: a run killed with SIGKILL resumes with no record lost or duplicated,
the 13-gram contamination check drops planted test-set text, every recipe batches one call per round, bad input gets a
one-line error, and the learning service trains on a recipe's output."""
import json, os, re, signal, subprocess, sys, time
from pathlib import Path

import pytest

from reasoner_kit.core import KitError, read_jsonl, repo_root
from reasoner_kit.data import load_task
from reasoner_kit.policy.base import Policy, Sample
from reasoner_kit.reward.scorers import split_steps
from reasoner_kit.policy.wrappers import MeteredPolicy
from reasoner_kit.synth.base import (MANIFEST, NGRAM, Recipe, contamination_index, synth_main, words)
from reasoner_kit.synth.backtrack import BacktrackRecipe
from reasoner_kit.synth.strawberry import StrawberryRecipe

ROOT = repo_root() or Path(__file__).resolve().parents[2]
SYNTH = 'from reasoner_kit.synth.base import synth_main; import sys; sys.exit(synth_main())'
ARGS = ['strawberry', '--policy', 'tiny', '--limit', '10', '--samples', '2', '--chunk', '1', '--max-tokens', '12',
        '--set', 'max_steps=3', '--set', 'verify_tokens=6']

def _env():
    return {**os.environ, 'OMP_NUM_THREADS': '1', 'REASONER_KIT_QUIET': '1', 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1',
            'HF_DATASETS_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'PYTHONHASHSEED': '0'}

def _synth(out, *extra, **kw):
    return subprocess.Popen([sys.executable, '-c', SYNTH, *ARGS, '--out', str(out), *extra], env=_env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)

def _lines(f): return [l for l in f.read_text().splitlines() if l.strip()] if f.exists() else []

def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path):
    killed, ref = tmp_path / 'killed', tmp_path / 'ref'
    p = _synth(killed)
    log, t0 = killed / 'traces.jsonl', time.time()
    while len(_lines(log)) < 2 and p.poll() is None and time.time() - t0 < 240: time.sleep(0.02)
    assert p.poll() is None, 'the run ended before it could be killed:\n' + p.stdout.read()
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL
    n_at_kill = len(_lines(log))
    assert 2 <= n_at_kill < 10                                                  # killed mid-way
    m = json.loads((killed / MANIFEST).read_text())
    assert m['status'] == 'running' and not (killed / 'README.md').exists()
    # the same command without --resume is refused; with --resume it finishes
    assert synth_main([*ARGS, '--out', str(killed)]) == 1
    r = _synth(killed, '--resume'); out = r.communicate(timeout=400)[0]
    assert r.returncode == 0, out
    recs = read_jsonl(log)
    ids = [p.id for p in load_task('arith', 'train', limit=10, level=1)]
    assert [x['key'] for x in recs] == ids                                      # none lost, none duplicated, in order
    assert len(_lines(log)) == 10
    m = json.loads((killed / MANIFEST).read_text())
    assert (m['status'], m['resumes'], m['stages']['traces']['done']) == ('done', 1, 10)
    assert m['usage']['calls'] > 0 and (killed / 'README.md').exists() and (killed / 'hf' / 'prm').is_dir()
    # a run that was never killed writes the same records (one problem per chunk: the same seeds)
    q = _synth(ref); q.communicate(timeout=400)
    assert q.returncode == 0
    assert read_jsonl(ref / 'traces.jsonl') == recs

def test_torn_last_line_is_repaired_on_resume(tmp_path, tiny):
    rec = StrawberryRecipe(problems=3, traces=1, max_steps=1, max_step_tokens=4, verify_tokens=4, chunk=1)
    rec.run(tiny, tmp_path, policy_name='tiny')
    f = tmp_path / 'traces.jsonl'
    lines = f.read_text().splitlines(keepends=True)
    f.write_text(''.join(lines[:2]) + lines[2][:40])                            # a kill in the middle of a write
    s = rec.run(tiny, tmp_path, resume=True, policy_name='tiny')
    assert [r['key'] for r in read_jsonl(f)] == [p.id for p in load_task('arith', 'train', limit=3, level=1)]
    assert s['sizes']['prm'] == 3

class Planted(Recipe):
    "A recipe whose rows carry planted benchmark text (no model call)."
    name, title = 'planted', 'planted rows'
    from dataclasses import dataclass as _dc
    @_dc
    class Config:
        texts:tuple=()   # completions, one row each
    def _run(self, run):
        rows = [dict(id=f'r{i}', prompt=[{'role': 'user', 'content': 'Tell me something.'}], completion=[{'role': 'assistant', 'content': t}])
                for i, t in enumerate(self.cfg.texts)]
        return {'sft': rows}, {'rows': len(rows)}, dict(about='planted', domains='test', issues=[])

def test_contamination_check_drops_a_planted_gsm8k_13gram(tmp_path, tiny):
    idx = contamination_index()
    if 'gsm8k' not in idx.checked: pytest.skip(f"GSM8K test set not available here: {idx.skipped.get('gsm8k')}")
    g = load_task('gsm8k', 'test')[100]
    gram = ' '.join(g.question.split()[3:3 + NGRAM])
    he = ' '.join(words(load_task('humaneval')[3].question)[2:2 + NGRAM])
    clean = 'Tom has 5 apples and buys 3 more, so 5 + 3 = 8 apples in all. The answer is 8.'
    short = ' '.join(g.question.split()[3:3 + NGRAM - 2])                      # 11 words of it: not contamination
    s = Planted(texts=(clean, f"Here is a story. {gram} And so on.", he, short)).run(tiny, tmp_path, policy_name='tiny')
    c = s['contamination']
    assert s['sizes'] == {'sft': 2} and c['dropped'] == 2
    assert c['by_benchmark']['gsm8k'] == 1 and c['by_benchmark']['humaneval'] == 1
    assert {(d['id'], d['benchmark'], d['item']) for d in c['examples']} >= {('r1', 'gsm8k', g.id)}
    kept = [r['completion'][0]['content'] for r in read_jsonl(tmp_path / 'sft.jsonl')]
    assert kept == [clean, short]
    card = (tmp_path / 'README.md').read_text()
    assert 'Contamination (13-gram' in card and '2 row(s) dropped' in card and g.id in card

def test_every_recipe_batches_one_call_per_round(tmp_path, tiny):
    from reasoner_kit.synth.raspberry import RaspberryRecipe
    for n in (1, 3):     # the same number of calls for 1 and for 3 problems
        s = StrawberryRecipe(problems=n, traces=2, max_steps=2, max_step_tokens=4, verify_tokens=4, chunk=4).run(tiny, tmp_path / f's{n}')
        assert s['usage']['calls'] == 2 + 1
    mp = MeteredPolicy(tiny)
    recs = BacktrackRecipe(candidates=3, max_steps=2, max_backtracks=0, step_tokens=4).make(mp, __import__('reasoner_kit.reward.scorers').reward.scorers.load_scorer('arithmetic'),
                                                                                          load_task('arith', 'train', limit=3, level=2))
    # The tiny model's steps hold no equation to fail and state no answer, so all 3 traces take a step in each of the
    # max_steps=2 rounds; a round is one batched generate call for every open trace: 2 calls (one per trace would be 6).
    assert [(r['rounds'], len(r['path']), r['failed_steps']) for r in recs] == [(2, 2, 0)] * 3
    assert mp.usage.calls == 2
    mp = MeteredPolicy(tiny)
    RaspberryRecipe(answer_tokens=4, critique_tokens=4).make_answers(mp, [dict(key=k, query='q?', domain='math', skill='s', topic='t', grade=1.0) for k in 'abcd'])
    assert mp.usage.calls == 3

def test_bad_input_gets_one_line(tmp_path, capsys):
    assert synth_main(['cooking', '--policy', 'tiny', '--out', str(tmp_path)]) == 1
    assert synth_main(['strawberry', '--policy', 'tiny', '--split', 'test', '--out', str(tmp_path / 'x')]) == 1
    assert synth_main(['raspberry', '--policy', 'tiny', '--set', 'domains=["cooking"]', '--out', str(tmp_path / 'y')]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(l.startswith('error: ') and ' — ' in l for l in err)
    assert 'unknown recipe' in err[0] and 'test split' in err[1] and 'unknown domain' in err[2]

class StepOracle(Policy):
    "Test double: proposes the next step of the arith reference solution, after a copy of it with the arithmetic off by one."
    name = 'step-oracle'
    def __init__(self, problems): self.sol = {p.question: split_steps(p.solution) for p in problems}
    def _generate(self, prompts, params):
        out = []
        for pr in prompts:
            steps = self.sol[pr[0]['content'].rsplit('Problem: ', 1)[1]]
            done = split_steps(pr[1]['content']) if len(pr) > 1 else []
            good = steps[min(len(done), len(steps) - 1)]
            bad = re.sub(r'= (\d+)', lambda m: f'= {int(m.group(1)) + 1}', good)
            out.append([Sample(t, 'stop', 10, len(t.split())) for t in ([bad, good] * params.n)[:params.n]])
        return out

def test_sft_trains_on_a_recipes_output(tmp_path):
    "A backtracking run (scripted policy: real recipe, real validator) exported to datasets, plus the committed real datasets, train with SFT."
    import datasets
    from reasoner_kit.policy.backends import tiny_model_dir
    from reasoner_kit.learn.train import SFTTrainConfig, train_sft
    probs = load_task('arith', 'train', limit=4, level=2)
    s = BacktrackRecipe(problems=4, candidates=2).run(StepOracle(probs), tmp_path / 'bt', policy_name='step-oracle')
    assert s['sizes']['sft'] == 4 and s['filters']['SFT rows with backtracking'] == 4
    ds = datasets.load_from_disk(str(tmp_path / 'bt' / 'hf' / 'sft'))
    assert ds.column_names == ['prompt', 'completion'] and 'This path fails because' in ds[0]['completion'][0]['content']
    rows = list(ds)
    for r in ('strawberry', 'raspberry', 'backtrack'):                  # the real datasets made with the embedded model
        f = ROOT / 'datasets_cards' / f'synth_{r}' / 'data.jsonl'
        if f.exists(): rows += read_jsonl(f)[:4]
    res = train_sft(tiny_model_dir(), rows, tmp_path / 'sft', SFTTrainConfig(max_steps=4, lr=3e-3, batch_size=4, micro_batch=4, max_length=384))
    loss = [v for _, v in res.series('loss')]
    assert res.global_step == 4 and len(loss) == 4 and loss[-1] < loss[0]
