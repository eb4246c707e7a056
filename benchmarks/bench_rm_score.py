"""Benchmark: solutions scored per second by the outcome reward model (`reward.rm.RMScorer`) on this CPU, each solution
read whole (the scorer before prefix sharing, and still its path for a prompt with one solution) against the solutions
of one prompt continuing from one pass over it (what `RMScorer.rewards` does), on the same solutions in one run.

Solutions: the embedded policy's own samples (vLLM where installed), `--samples` per problem at temperature 0.3, on
`--problems` arith dev problems of level 1: the shape of the main job's reward phase (100 problems x 16 samples).
Reward model: `--rm DIR` (a `train_rm` folder, e.g. runs/main/reward/rm after `make run`), else the embedded model with
a fresh one-output head (speed does not depend on the head's weights). bfloat16 where `bf16_fast()`, batches of 16.
The two paths' rewards are compared too (they differ by rounding only).

Run:  .venv/bin/python benchmarks/bench_rm_score.py [--problems 40] [--samples 16] [--rm DIR]     (~3 min on 2 cores)
Prints a table and writes benchmarks/results/bench_rm_score.json (command, commit, date, machine, load, seconds).
"""
import argparse, json, os, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')

def scorer(rm_dir):
    "The reward model to time: a trained one, or the embedded model with a fresh head."
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from reasoner_kit.core import bf16_fast
    from reasoner_kit.policy.backends import embedded_model_dir
    from reasoner_kit.reward.rm import RMScorer
    if rm_dir: return RMScorer.load(rm_dir)
    d = embedded_model_dir(); tok = AutoTokenizer.from_pretrained(d); tok.pad_token = tok.pad_token or tok.eos_token
    m = AutoModelForSequenceClassification.from_pretrained(d, num_labels=1, dtype=torch.bfloat16 if bf16_fast() else torch.float32)
    m.config.pad_token_id = tok.pad_token_id
    return RMScorer(m, tok)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--problems', type=int, default=40, help='arith dev problems, level 1')
    p.add_argument('--samples', type=int, default=16, help='solutions per problem')
    p.add_argument('--rm', default=None, help='a trained reward model folder (default: the embedded model, fresh head)')
    p.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'bench_rm_score.json'))
    a = p.parse_args()
    import torch
    from reasoner_kit.core import provenance
    from reasoner_kit.data import load_task, to_messages
    from reasoner_kit.policy.base import load_policy
    from reasoner_kit.policy.vllm_engine import close_policy
    from reasoner_kit.reward.rm import rm_ids
    t0 = time.time()
    probs = load_task('arith', 'dev', limit=a.problems, level=1)
    pol = load_policy('embedded'); prompts = [to_messages(q) for q in probs]
    outs = pol.generate(prompts, n=a.samples, temperature=0.3, max_tokens=160, seed=0); close_policy(pol)
    P = [pr for pr, o in zip(prompts, outs) for _ in o]; S = [s.text for o in outs for s in o]
    rm = scorer(a.rm); seqs = [rm_ids(rm.tok, q, s) for q, s in zip(P, S)]
    rm.rewards(P[:a.samples], S[:a.samples])                          # warm-up
    t = time.time(); shared = rm.rewards(P, S); dt_shared = time.time() - t
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i])); whole = [0.0] * len(seqs)
    t = time.time()
    with torch.inference_mode():
        for b in range(0, len(order), rm.batch_size):
            part = order[b:b + rm.batch_size]
            for i, v in zip(part, rm._batch([seqs[i] for i in part])): whole[i] = v
    dt_whole = time.time() - t
    diff = max(abs(x - y) for x, y in zip(shared, whole))
    same_best = sum(max(range(k, k + a.samples), key=lambda i: shared[i]) == max(range(k, k + a.samples), key=lambda i: whole[i])
                    for k in range(0, len(S), a.samples))
    n, tokens = len(S), sum(map(len, seqs))
    res = {'whole sequences': dict(seconds=round(dt_whole, 1), per_s=round(n / dt_whole, 1)),
           'prompt shared': dict(seconds=round(dt_shared, 1), per_s=round(n / dt_shared, 1))}
    print(f'{n} solutions ({a.problems} prompts x {a.samples}), {tokens} tokens read whole, dtype {rm.model.dtype}\n')
    print('| scoring | seconds | solutions / s |\n|---|---|---|')
    for k, r in res.items(): print(f"| {k} | {r['seconds']} | {r['per_s']} |")
    print(f"\nspeed-up {dt_whole / dt_shared:.2f}x; largest reward difference {diff:.3g}; same best-of-{a.samples} pick on {same_best}/{len(probs)} problems")
    Path(a.out).write_text(json.dumps(dict(provenance(time.time() - t0), problems=a.problems, samples=a.samples, rm=a.rm or 'embedded + fresh head',
                                           dtype=str(rm.model.dtype), solutions=n, tokens=tokens, paths=res, speedup=round(dt_whole / dt_shared, 2),
                                           max_reward_diff=round(diff, 4), same_best=same_best), indent=1) + '\n')
