"""STaR/SFT vs DPO vs GRPO side by side at equal wall time (issue 5): one round of each from the same policy (--policy, default embedded),
on the same training problems, evaluated (greedy pass@1) on the same held-out arith test problems of levels 1-2.

- SFT (STaR): the policy samples 4 solutions at the dev-chosen temperature (MainConfig.learn_temperature) for each of --train-problems train problems; the right
  ones (gold-answer check, train split only) are the SFT targets; 2 epochs. Its round time W = sampling + training.
- DPO: the SAME samples (copied, so sampling costs what it cost SFT), right vs wrong pairs of the same problem with the
  length rule (learn_data.dpo_pairs); trains for at most W minus the sampling time.
- GRPO: online (sampling happens inside training), the kit's verifier as the only reward (grading.answer_reward),
  trains until W has passed.
Each uses only what the others use: the policy's own samples and the train split's gold answers (no reference
solutions). Prints one table (method, rows, steps, sampling s, training s, round s, greedy pass@1 by level), writes
it to --out/compare.md and compare.json, and plots the GRPO reward curve. Resumable: re-run after a kill.

SFT and DPO train with bf16 compute where it is fast (fp32 master weights), as the main job; GRPO trains in fp32 (its
generation runs on vLLM, colocated). Writes benchmarks/results/<--results> (default compare.json: command, commit, date, machine, seconds;
each method against the base on the same test problems: McNemar's paired test) unless --no-results.

Run: .venv/bin/python benchmarks/compare_methods.py [--train-problems 160] [--grpo-loss-type dr_grpo]
     [--base-eval runs/headline/round0/eval --samples-from runs/headline]   (reuse the headline's base evaluation and round-1 samples)
From the learned policy (issue 15, item 6: 'again', after GRPO rose from it), on training problems it has not seen:
     .venv/bin/python benchmarks/compare_methods.py --policy runs/headline/round1/train/model --skip 320 --grpo-lr 1e-5 --grpo-prompts 4 --grpo-generations 4 \
         --grpo-temperature 0.8 --grpo-loss-type dr_grpo --out runs/compare_sft --results compare_sft.json   (GRPO as in grpo_curve.py's dr_grpo run)
the same with GRPO leaving groups that all scored alike out of its backward pass (GRPOTrainConfig.skip_zero_advantage,
the default since; compare_sft.json ran before it): --out runs/compare_sft_skip --results compare_sft_skip.json
"""
import argparse, json, os, shutil, sys, time
from dataclasses import replace
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false'); os.environ.setdefault('MPLBACKEND', 'Agg')

from reasoner_kit.core import bf16_fast, provenance, read_jsonl
from reasoner_kit.evaluate import ci95, paired_diff
from reasoner_kit.main import MainConfig
from reasoner_kit.data import load_task
from reasoner_kit.learn.iterate import IterateConfig, iterate
from reasoner_kit.core import machine
from reasoner_kit.learn.train import DPOTrainConfig, GRPOTrainConfig, SFTTrainConfig, plot_history

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train-problems', type=int, default=160)
    ap.add_argument('--test-limit', type=int, default=200)
    ap.add_argument('--dpo-lr', type=float, default=5e-6)
    ap.add_argument('--grpo-lr', type=float, default=5e-6)
    ap.add_argument('--grpo-prompts', type=int, default=2, help='prompts per GRPO step (x --grpo-generations)')
    ap.add_argument('--grpo-generations', type=int, default=8, help='completions per prompt (the GRPO group)')
    ap.add_argument('--grpo-temperature', type=float, default=0.7, help='temperature of the GRPO generations')
    ap.add_argument('--grpo-loss-type', default='dapo', help="TRL's GRPO loss type (dapo: TRL's default; dr_grpo: the one that rose in grpo_curve.py)")
    ap.add_argument('--base-eval', default=None, help='an evaluate folder of the starting policy with the same settings (reused as round 0)')
    ap.add_argument('--samples-from', default=None,
                    help="an iterate folder whose round 1 sampled the same policy on the same problems with the same settings and seed "
                         "(the headline's): its samples and their measured sampling time are reused")
    ap.add_argument('--policy', default='embedded', help="the starting policy: 'embedded' or a model directory (e.g. the headline's round-1 model)")
    ap.add_argument('--skip', type=int, default=0, help='pass over the first N training problems (those a learned --policy trained on)')
    ap.add_argument('--results', default='compare.json', help='the results file under benchmarks/results/')
    ap.add_argument('--no-results', action='store_true', help='do not write a results file (a trial run)')
    ap.add_argument('--out', default='runs/compare')
    a = ap.parse_args()
    out, t0 = Path(a.out), time.time()
    cfg = IterateConfig(levels=(1, 2), train_per_round=a.train_problems, skip_problems=a.skip, samples=4, temperature=MainConfig.learn_temperature, per_problem=2,
                        test_limit=a.test_limit, eval_samples=0, max_tokens=160,
                        sft=SFTTrainConfig(epochs=2, lr=5e-5, batch_size=8, micro_batch=8, save_steps=10, bf16=bf16_fast()))
    print(f"equal wall time: SFT vs DPO vs GRPO, one round from {a.policy}; {machine()}", flush=True)
    # 1. STaR/SFT: its measured round (sampling + training) sets the budget W
    if a.samples_from:   # reuse identical samples (same policy, problems, settings, seed) and the time they took
        src, dst = Path(a.samples_from), out / 'sft' / 'round1'
        dst.mkdir(parents=True, exist_ok=True)
        if not (dst / 'traces.jsonl').exists():   # the samples and the settings they were made with (a mismatch then refuses)
            shutil.copy(src / 'round1' / 'traces.jsonl', dst / 'traces.jsonl')
            if (src / 'round1' / 'settings.json').exists(): shutil.copy(src / 'round1' / 'settings.json', dst / 'settings.json')
        ids = [p.id for p in load_task('arith', 'train', limit=a.skip + a.train_problems, level=[1, 2])[a.skip:]]
        if [r['id'] for r in read_jsonl(dst / 'traces.jsonl')] != ids: raise SystemExit(f"{src} sampled other problems: drop --samples-from")
        gen_s = next(r for r in read_jsonl(src / 'rounds.jsonl') if r['round'] == 1)['gen_s']
    sft = iterate(a.policy, 'arith', 1, 'sft', cfg, out / 'sft', verbose=False, base_eval=a.base_eval)
    base, s1 = sft[0], sft[1]
    if a.samples_from: s1['gen_s'] = gen_s
    W = s1['gen_s'] + s1['train_s']
    print(f"SFT: greedy {s1['greedy_pass@1']:.1f}, sampling {s1['gen_s']:.0f} s + training {s1['train_s']:.0f} s = budget W {W:.0f} s", flush=True)
    # 2. DPO on the same samples: copy them, so its round only trains; it gets W minus the sampling time
    d_rd = out / 'dpo' / 'round1'; d_rd.mkdir(parents=True, exist_ok=True)
    if not (d_rd / 'traces.jsonl').exists(): shutil.copy(s1['traces'], d_rd / 'traces.jsonl')   # iterate says where the SFT round's samples are
    dcfg = replace(cfg, dpo=DPOTrainConfig(epochs=2, lr=a.dpo_lr, batch_size=8, micro_batch=4, save_steps=10,
                                           max_wall_s=max(60.0, W - s1['gen_s']), bf16=bf16_fast()))
    d1 = iterate(a.policy, 'arith', 1, 'dpo', dcfg, out / 'dpo', verbose=False, base_eval=out / 'sft' / 'round0' / 'eval')[1]
    d1['gen_s'] = s1['gen_s']                      # the samples it trained on cost this much (in the SFT round)
    print(f"DPO: greedy {d1['greedy_pass@1']:.1f}, {d1['train_rows']} pair rows, training {d1['train_s']:.0f} s", flush=True)
    # 3. GRPO: samples online; trains until W has passed
    gcfg = replace(cfg, grpo=GRPOTrainConfig(max_steps=10_000, lr=a.grpo_lr, num_generations=a.grpo_generations, prompts_per_step=a.grpo_prompts,
                                             max_completion_length=128, temperature=a.grpo_temperature, save_steps=5, max_wall_s=W,
                                             loss_type=a.grpo_loss_type))
    g1 = iterate(a.policy, 'arith', 1, 'grpo', gcfg, out / 'grpo', verbose=False, base_eval=out / 'sft' / 'round0' / 'eval')[1]
    print(f"GRPO: greedy {g1['greedy_pass@1']:.1f}, {g1['train_steps']} steps, training {g1['train_s']:.0f} s", flush=True)
    # 4. one table
    pp = Path(a.policy).parts
    bk = f"base ({'/'.join(pp[-4:-2]) if pp[-2:] == ('train', 'model') else a.policy})"   # base (embedded), base (headline/round1)
    rows = {bk: dict(base, gen_s=0, train_s=0), 'STaR / SFT': s1, 'DPO': d1, 'GRPO': g1}
    lines = ['| method | training rows | steps | sampling s | training s | round s (sampling + training) | greedy pass@1 | level 1 | level 2 |',
             '|---|---|---|---|---|---|---|---|---|']
    for k, r in rows.items():
        bl = r.get('by_level') or {}
        lv = [f"{(bl.get(l) or bl.get(str(l)) or {}).get('greedy_pass@1', float('nan')):.1f}" for l in (1, 2)]
        lines.append(f"| {k} | {r.get('train_rows', 0)} | {r.get('train_steps', 0)} | {r['gen_s']:.0f} | {r['train_s']:.0f} | "
                     f"{r['gen_s'] + r['train_s']:.0f} | {r['greedy_pass@1']:.1f} | {lv[0]} | {lv[1]} |")
    md = '\n'.join(lines) + (f"\n\narith test levels 1-2, {base['problems']} problems; {a.train_problems} train problems; budget W = "
                             f"{W:.0f} s (the SFT round); {machine()}; evaluation time not included.\n")
    print('\n' + md)
    (out / 'compare.md').write_text(md)
    (out / 'compare.json').write_text(json.dumps(dict(machine=machine(), budget_s=W, args=vars(a), rows=rows), indent=1, default=str))
    hist = [json.loads(l) for l in (out / 'grpo' / 'round1' / 'train' / 'history.jsonl').read_text().splitlines() if l.strip()]
    plot_history({'grpo': hist}, keys=('rewards/answer_reward/mean', 'completions/mean_length'),
                 path=out / 'grpo_reward.png', title=f'GRPO in the equal-time comparison ({W / 60:.0f} min)')
    print(f"table: {out / 'compare.md'}; GRPO curve: {out / 'grpo_reward.png'}")
    if a.no_results: return
    correct = lambda d: {r['id']: int(r['greedy']['correct']) for r in read_jsonl(Path(d) / 'samples.jsonl')}
    base_c = correct(a.base_eval or out / 'sft' / 'round0' / 'eval')
    ids = sorted(base_c)
    stats = {bk: dict(ci95=ci95([base_c[i] for i in ids]))}
    for k, m in (('STaR / SFT', 'sft'), ('DPO', 'dpo'), ('GRPO', 'grpo')):
        c = correct(out / m / 'round1' / 'eval'); x = [c[i] for i in ids]
        stats[k] = dict(ci95=ci95(x), vs_base=paired_diff(x, [base_c[i] for i in ids]))
    dest = Path(__file__).resolve().parent / 'results'
    shutil.copy(out / 'grpo_reward.png', dest / (Path(a.results).stem + '_grpo_reward.png'))
    (dest / a.results).write_text(json.dumps(dict(provenance(time.time() - t0), command='python benchmarks/compare_methods.py ' + ' '.join(sys.argv[1:]),
        settings=vars(a), temperature=cfg.temperature, budget_s=W, problems=len(ids), rows=rows, stats=stats), indent=1, default=str))
    print(f"wrote {dest / a.results}")

if __name__ == '__main__':
    main()
