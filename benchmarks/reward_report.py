"""Train the PRM and the Bradley-Terry RM on the embedded model's own arith training samples, then print the reward report
on held-out arith test problems: AUROC, best-of-8 and weighted vote vs majority vote and pass@8, cost per scored sample.

    .venv/bin/python benchmarks/reward_report.py                      # the measured run (~30 min on 2 cores with vLLM; resumable)
    .venv/bin/python benchmarks/reward_report.py --policy tiny --quick  # a smoke run of every stage in a minute
    # issue 15, item 2: the PRM on thousands of MC-labelled steps (2,400: 200 problems x 4 solutions x 3 steps), scored
    # on the measured run's own 1,600 test samples (copy runs/rewards_report/samples to runs/prm_big/rewards_report/):
    .venv/bin/python benchmarks/reward_report.py --runs runs/prm_big --train-problems 200 --mc-problems 200 --scorers arithmetic,prm --results rewards_report_prm.json

The measured run writes benchmarks/results/rewards_report.json (command, commit, date, machine, seconds) and
rewards_report.png; the README's table is rendered from it. Sampling follows the main job (`MainConfig`: temperature
and generation cap chosen on the dev split); the test problems are the same 200 level-1 problems as the search sweep.

Every stage caches under --runs (samples, step labels, trained scorers, scores), so a killed run resumes where it stopped.
Gold answers of *training* problems label the training data (pairs, step labels); test problems' gold answers only grade.
"""
import argparse, json, os, sys, time
from pathlib import Path
from reasoner_kit.main import MainConfig

os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false'); os.environ.setdefault('MPLBACKEND', 'Agg')


def pick_solutions(rec, n):
    "Up to n of a problem's samples, right and wrong alternating, so step labels see both kinds."
    right = [t for t, c in zip(rec['samples'], rec['correct']) if c]
    wrong = [t for t, c in zip(rec['samples'], rec['correct']) if not c]
    out = []
    while len(out) < n and (right or wrong):
        for pool in (right, wrong):
            if pool and len(out) < n: out.append(pool.pop(0))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--policy', default='embedded')
    ap.add_argument('--runs', default='runs', help='where data, trained scorers (runs/prm, runs/rm) and the report go')
    ap.add_argument('--train-problems', type=int, default=96, help='arith level-1 training problems sampled for RM pairs')
    ap.add_argument('--train-samples', type=int, default=8, help='samples per training problem')
    ap.add_argument('--max-pairs', type=int, default=8, help='(right, wrong) pairs kept per training problem')
    ap.add_argument('--mc-problems', type=int, default=32, help='training problems whose solutions get MC step labels')
    ap.add_argument('--mc-solutions', type=int, default=4, help='solutions labelled per problem')
    ap.add_argument('--k-rollouts', type=int, default=4, help='rollouts per step prefix')
    ap.add_argument('--max-steps', type=int, default=3, help='steps labelled per solution (each costs k rollouts)')
    ap.add_argument('--test-problems', type=int, default=200)
    ap.add_argument('--samples', type=int, default=8)
    ap.add_argument('--max-tokens', type=int, default=MainConfig.max_tokens, help="the main job's cap, chosen on dev")
    ap.add_argument('--temperature', type=float, default=MainConfig.temperature, help="the main job's temperature, chosen on dev")
    ap.add_argument('--sep', default='\n', help='step separator for step labels and the PRM (SmolLM2 mostly writes one step per line)')
    ap.add_argument('--scorers', default='arithmetic,logprob,prm,rm', help="add 'judge:fallback=0.5' for the LLM judge (slow on 2 cores)")
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: 1 when the CPU is oversubscribed, else all)')
    ap.add_argument('--quick', action='store_true', help='tiny sizes: a smoke run')
    ap.add_argument('--results', default='rewards_report.json', help='the results file under benchmarks/results/ (its plot: NAME.png)')
    a = ap.parse_args(argv)
    if a.quick:
        a.train_problems, a.train_samples, a.mc_problems, a.mc_solutions, a.k_rollouts = 6, 4, 3, 2, 2
        a.test_problems, a.samples, a.max_tokens = 3, 4, 24

    import torch
    torch.set_num_threads(a.threads or (1 if os.getloadavg()[0] > os.cpu_count() else os.cpu_count()))
    from reasoner_kit.core import set_seed
    from reasoner_kit.data import load_task
    from reasoner_kit.policy.base import load_policy
    from reasoner_kit.policy.backends import embedded_model_dir, tiny_model_dir
    from reasoner_kit.reward.prm import MCConfig, PRMConfig, mc_step_labels, train_prm
    from reasoner_kit.reward.rm import PairConfig, RMConfig, preference_pairs, train_rm
    from reasoner_kit.reward.report import rewards_report, format_report
    set_seed(0)
    runs, t_all, times, facts = Path(a.runs), time.time(), {}, {}
    data = runs / 'reward_data'
    policy = load_policy(a.policy, batch_size=64)
    base = tiny_model_dir() if a.policy == 'tiny' else embedded_model_dir()
    print(f"policy={a.policy} threads={torch.get_num_threads()} load={os.getloadavg()[0]:.1f}", flush=True)

    # 1. samples of training problems -> Bradley-Terry pairs (gold answers of training problems label them)
    t = time.time()
    train = load_task('arith', 'train', limit=a.train_problems, level=1)
    pairs = preference_pairs(train, policy, PairConfig(n_samples=a.train_samples, max_pairs=a.max_pairs, max_tokens=a.max_tokens),
                             out=data / 'pair_samples.jsonl')
    from reasoner_kit.core import read_jsonl
    samples = {r['id']: r for r in read_jsonl(data / 'pair_samples.jsonl')}
    acc = sum(sum(r['correct']) for r in samples.values()) / max(1, sum(len(r['correct']) for r in samples.values()))
    times['train_samples'] = round(time.time() - t)
    print(f"[1] {len(train)} train problems x {a.train_samples}: sample accuracy {100 * acc:.1f}%, {len(pairs)} pairs ({times['train_samples']}s)", flush=True)

    # 2. Math-Shepherd step labels on some of those solutions (only the rollouts are sampled here)
    t = time.time()
    mc_probs = train[:a.mc_problems]
    sols = {p.id: pick_solutions(samples[p.id], a.mc_solutions) for p in mc_probs}
    labels = mc_step_labels(mc_probs, policy, n_solutions=a.mc_solutions, k_rollouts=a.k_rollouts, out=data / 'mc_labels.jsonl',
                            cfg=MCConfig(max_tokens=min(96, a.max_tokens), max_steps=a.max_steps, sep=a.sep), solutions=sols)
    steps = [v for r in labels for v in r['values']]
    times['mc_labels'] = round(time.time() - t)
    facts.update(pairs=len(pairs), mc_solutions=len(labels), mc_steps=len(steps), mc_mean_value=round(sum(steps) / max(1, len(steps)), 4))
    print(f"[2] MC labels: {len(labels)} solutions, {len(steps)} steps, mean value {sum(steps) / max(1, len(steps)):.3f}, "
          f"share > 0: {sum(v > 0 for v in steps) / max(1, len(steps)):.3f} ({times['mc_labels']}s)", flush=True)

    # 3. the PRM: a head on the frozen policy
    t = time.time()
    if not (runs / 'prm' / 'prm.json').exists():
        n_layers = getattr(getattr(getattr(policy, 'hf', policy), 'model', None), 'config', None)   # vLLM: its transformers twin
        n_layers = n_layers.num_hidden_layers if n_layers is not None else 2
        cands = tuple(sorted({-1, n_layers * 5 // 6, n_layers * 2 // 3, n_layers // 2}))   # last, and 5/6, 2/3, 1/2 of the depth
        res = train_prm(labels, policy, PRMConfig(sep=a.sep, layer_candidates=cands, val_frac=0.25), out=runs / 'prm')
        ep, s = res.history[:-1], res.history[-1]   # one entry per epoch, then the summary
        print(f"    PRM: layer {s['layer']} (held-out loss by layer {s['layer_val_loss']}); train loss {ep[0]['loss']:.3f} -> "
              f"{ep[s['best_epoch']]['loss']:.3f}, held-out loss {min(e['val_loss'] for e in ep):.3f} at epoch {s['best_epoch']}", flush=True)
    times['prm_train'] = round(time.time() - t)
    print(f"[3] PRM in {runs / 'prm'} ({times['prm_train']}s)", flush=True)

    # 4. the RM: Bradley-Terry with TRL's RewardTrainer
    t = time.time()
    if not any(s == 'rm' for s in a.scorers.split(',')): print("    RM: not among --scorers, not trained", flush=True)
    elif not pairs: print("    RM: no training problem had both a right and a wrong sample: no pairs, RM not trained", flush=True)
    elif not (runs / 'rm' / 'config.json').exists():
        res = train_rm(pairs, base, RMConfig(epochs=1, lr=1e-4, batch_size=8, train_layers=4), out=runs / 'rm')
        loss, acc = [v for _, v in res.series('loss')], [v for _, v in res.series('accuracy')]
        print(f"    RM: loss {loss[0]:.3f} -> {loss[-1]:.3f}, pair accuracy (last log) {acc[-1] if acc else float('nan'):.2f}", flush=True)
    times['rm_train'] = round(time.time() - t)
    print(f"[4] RM in {runs / 'rm'} ({times['rm_train']}s)", flush=True)

    # 5. the report on held-out test problems
    t = time.time()
    specs = [{'prm': f"prm:{runs / 'prm'}", 'rm': f"rm:{runs / 'rm'}"}.get(s, s) for s in a.scorers.split(',') if s]
    specs = [s for s in specs if not s.startswith('rm:') or (runs / 'rm' / 'config.json').exists()]
    res = rewards_report(policy, 'arith', specs, n_problems=a.test_problems, n_samples=a.samples, out=runs / 'rewards_report',
                         level=1, max_tokens=a.max_tokens, temperature=a.temperature)
    times['report'] = round(time.time() - t)
    print(f"[5] report ({times['report']}s)\n", flush=True)
    print(format_report(res))
    print(f"\nstage times (s): {json.dumps(times)}; total {(time.time() - t_all) / 60:.1f} min; "
          f"files: {runs / 'rewards_report'}/report.md, report.png, results.json")
    (runs / 'rewards_report' / 'stage_times.json').write_text(json.dumps(times, indent=1))
    if not a.quick: save_results(a, res, times, time.time() - t_all, runs, facts)
    return 0


def save_results(a, res, times, seconds, runs, facts):
    "benchmarks/results/rewards_report.json, or --results (with provenance and 95% intervals), and its plot, for the README's table."
    import shutil
    from reasoner_kit.core import provenance
    from reasoner_kit.evaluate import interval95
    n = res['problems']
    wilson = lambda acc: (lambda c: [c['low'], c['high']])(interval95([1] * round(acc * n / 100) + [0] * (n - round(acc * n / 100))))
    ci = {k: {m: wilson(r[m]) for m in ('best_of_n', 'weighted_vote', 'majority', 'pass_at_n') if r.get(m) is not None} for k, r in res['rows'].items()}
    settings = {k: getattr(a, k) for k in ('train_problems', 'train_samples', 'max_pairs', 'mc_problems', 'mc_solutions', 'k_rollouts', 'max_steps',
                                            'test_problems', 'samples', 'max_tokens', 'temperature', 'scorers')}
    dest = Path(__file__).resolve().parent / 'results'
    (dest / a.results).write_text(json.dumps(dict(provenance(seconds), settings=settings, stage_seconds=times, training_data=facts, ci95=ci, **res), indent=1))
    shutil.copy(runs / 'rewards_report' / 'report.png', dest / (Path(a.results).stem + '.png'))


if __name__ == '__main__':
    sys.exit(main())
