"""The README's measured tables, regenerated from results files: one renderer per table, each reading one file under
benchmarks/results/ and ending with that file's provenance (command, commit, date, machine, seconds).

nbs/index.ipynb (the README's source) holds each table between `<!-- table:NAME -->` and `<!-- /table -->`; this script
rewrites what lies between, so no table can go stale: tests/layout/test_tables.py fails when a block differs from what
its results file renders.

Run:  .venv/bin/python benchmarks/tables.py --write     (then `make readme`; `make readme` runs both)
      .venv/bin/python benchmarks/tables.py --check     (exit 1 and name the stale tables)
      .venv/bin/python benchmarks/tables.py NAME        (print one table)
"""
import json, re, statistics, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / 'benchmarks' / 'results'
INDEX = ROOT / 'nbs' / 'index.ipynb'
BLOCK = re.compile(r'(<!-- table:([\w-]+) -->\n)(.*?)(<!-- /table -->)', re.S)

class Missing(Exception): "A table's results file does not exist yet."

def load(name:str) -> dict:
    "A results file of benchmarks/results/."
    p = RESULTS / name
    if not p.exists(): raise Missing(name)
    return json.loads(p.read_text())

def render(name:str) -> str:
    "One table, or a line saying that its results file is not there yet (never an invented number)."
    try: return TABLES[name]()
    except Missing as e: return f"*Not measured yet: `benchmarks/results/{e}` does not exist; the benchmark script named above writes it.*"

def source(d:dict, file:str) -> str:
    "The provenance line under a table."
    m = d.get('machine'); m = m if isinstance(m, str) else ', '.join(f"{k} {v}" for k, v in (m or {}).items() if k in ('cpu', 'isa', 'cores', 'torch'))
    secs = d.get('seconds') or d.get('wall_s')
    parts = [f"`{d['command']}`" if d.get('command') else 'command not recorded', f"commit {d['commit'].split('-')[0][:7]}{' (uncommitted changes)' if d['commit'].endswith('-dirty') else ''}" if d.get('commit') else 'commit not recorded',
             d.get('date', 'date not recorded'), m or 'machine not recorded']
    if secs: parts.append(f"{float(secs) / 60:.1f} min")
    if d.get('load_avg') is not None: parts.append(f"load average {d['load_avg']} at the end")
    return f"<sub>From `benchmarks/results/{file}`: {'; '.join(parts)}.</sub>"

def table(lines:list, caption:str, d:dict, file:str) -> str:
    "Table lines, a caption paragraph under them, then the provenance line."
    return '\n'.join(lines + ['', caption]) + '\n\n' + source(d, file)

def measured(files) -> list:
    "(file, results) of a table's runs: the first file must exist, the others are added once measured."
    return [(f, load(f)) for f in files if f == files[0] or (RESULTS / f).exists()]

def more_sources(runs) -> str:
    "The provenance lines of a table's runs after the first."
    return ''.join('\n' + source(d, f) for f, d in runs[1:])

def pval(p) -> str: return '< 0.001' if p < 0.001 else f"{p:.2g}"

def ci(c) -> str: return f"[{c[0]:.0f}, {c[1]:.0f}]" if c else ''

def t_main() -> str:
    "`make run`'s table."
    d = load('main_results.json')
    lines = ['| run | accuracy (%) | 95% CI | tokens / problem | note |', '|---|---|---|---|---|']
    for k, r in d['rows'].items():
        lines.append(f"| {k} | {r['accuracy']:.1f} | {ci(r.get('ci95'))} | {r['tokens']} | {r['note']} |")
    c, t = d['config'], d.get('timings', {})
    return table(lines, f"{c['task']} test split, level {c['level']}, {d['rows'][next(iter(d['rows']))]['problems']} problems; wall time "
                        f"**{d['wall_s'] / 60:.1f} min** ({', '.join(f'{k} {v / 60:.1f}' for k, v in t.items())}).", d, 'main_results.json')

def t_engine() -> str:
    "Tokens/s of each engine on the same workloads."
    d = load('bench_engine.json'); E = d['engines']
    wl = list(next(iter(E.values()))['workloads'])
    lines = ['| engine | ' + ' | '.join(f"{w} tokens/s (× HF fp32)" for w in wl) + ' | share of bf16 matmul limit (shared) |',
             '|---' * (len(wl) + 2) + '|']
    for e in E.values():
        w = e['workloads']
        lines.append(f"| {e['engine']} | " + ' | '.join(f"{w[x]['tokens_per_s']:.0f} ({w[x]['speedup_vs_hf32']:.2f}×)" for x in wl)
                     + f" | {100 * w['shared'].get('share_of_limit', w['shared'].get('share_of_bf16_limit')):.0f}% |")
    lines += ['', f"bfloat16 matmul limit measured in the run: {d['matmul_gflops']['bfloat16']:.0f} GFLOP/s (float32 {d['matmul_gflops']['float32']:.0f})."]
    return '\n'.join(lines) + '\n\n' + source(d, 'bench_engine.json')

ENGINE_CPU_FILES = ('bench_engine_avx2.json', 'bench_engine_avx2_bf16.json')   # one AVX2-only machine: HF and vLLM in float32, vLLM in bfloat16

def t_engine_cpu() -> str:
    "Tokens/s on a CPU without AVX512-BF16: why the engine's dtype follows the CPU (`engine_dtype`)."
    runs = measured(ENGINE_CPU_FILES)
    wl = list(next(iter(runs[0][1]['engines'].values()))['workloads'])
    lines = ['| engine | ' + ' | '.join(f"{w} tokens/s" for w in wl) + ' | engine start (s) |', '|---' * (len(wl) + 2) + '|']
    for _, d in runs:
        for e in d['engines'].values():
            lines.append(f"| {e['engine']} | " + ' | '.join(f"{e['workloads'][x]['tokens_per_s']:.0f}" for x in wl) + f" | {e['start_s']:.0f} |")
    m = runs[0][1]['matmul_gflops']; cpu = runs[0][1]['machine']
    cap = (f"{cpu['cpu']} ({cpu.get('isa') or 'flags not recorded'}), {cpu['cores']} cores; quick workloads (arith dev, temperature 0.5, ≤ 160 tokens). "
           f"Matmul throughput on this CPU: float32 {m['float32']:.0f} GFLOP/s, bfloat16 {m['bfloat16']:.1f} GFLOP/s (no bfloat16 instructions: torch emulates them).")
    return table(lines, cap, runs[0][1], runs[0][0]) + more_sources(runs)

def t_parity() -> str:
    "vLLM bfloat16 against HFPolicy float32 on the same test problems."
    d = load('parity.json')
    return d['table'] + f"\n\n{d['problems']} arith test problems, levels 1-2; {d['samples']} samples at temperature {d['temperature']}.\n\n" + source(d, 'parity.json')

def t_grpo_speed() -> str:
    "GRPO optimizer steps per minute with each generation path."
    d = load('bench_grpo.json')
    lines = ['| generation path | engine dtype | IS correction | steps | steps / min | steady steps / min (after the first) | setup s | load average before → after |', '|---|---|---|---|---|---|---|---|']
    for r in d['paths'].values():
        la = lambda k: (r.get(k) or [None])[0]
        dt, ic = (r['engine_dtype'], 'on' if r['is_correction'] else 'off') if r.get('engine_dtype') else ('—', '—')   # plain generation: no engine to correct for
        lines.append(f"| {r['path']} | {dt} | {ic} | {r['steps']} | {r['steps_per_min']:.2f} | {r['steady_steps_per_min']:.2f} | {r['setup_s']:.0f} | {la('load_avg_before')} → {la('load_avg_after')} |")
    return '\n'.join(lines) + '\n\n' + source(d, 'bench_grpo.json')

def t_ray_scale() -> str:
    "Search over many problems on a local Ray cluster: throughput, the driver's memory, lost and duplicated records."
    d = load('ray_scale.json')
    rss = ', '.join(f"{k.split('_at_')[1]}: {v:.0f} MiB" for k, v in d.items() if k.startswith('driver_peak_rss_mb_at_'))
    lines = ['| problems | actors (cluster CPUs) | strategy | problems / s | driver peak RSS | records | lost | duplicated |', '|---|---|---|---|---|---|---|---|',
             f"| {d['problems']:,} | {d['actors']} ({d['cluster_cpus']}) | {d['strategy']}@{d['budget']}, ≤ {d['max_tokens']} tokens, {d['model']} | "
             f"{d['problems_per_s']:.2f} | {rss} | {d['records']:,} | {d['lost']} | {d['duplicated']} |"]
    return '\n'.join(lines) + (f"\n\nNote: {d['note']}" if d.get('note') else '') + '\n\n' + source(d, 'ray_scale.json')

def t_tutorials() -> str:
    "Each phase tutorial's wall time, run top to bottom as a learner does (benchmarks/tutorials.py)."
    d = load('tutorials.json')
    lines = ['| tutorial | wall time (min) |', '|---|---|'] + [f"| `{k}` | {v / 60:.1f} |" for k, v in d['tutorials'].items()]
    return '\n'.join(lines) + f"\n\n{d['note']}.\n\n" + source(d, 'tutorials.json')

def t_sweep() -> str:
    "Accuracy against search budget, every strategy on the same test problems (benchmarks/search_sweep.py)."
    d = load('sweep.json'); rows, vs = d['rows'], d.get('vs_greedy', {})
    budgets = sorted({r['budget'] for r in rows if r['strategy'] != 'greedy' and not r['strategy'].startswith('beam')})
    lines = ['| strategy | ' + ' | '.join(f"N={b}" for b in budgets) + ' | 95% CI at the largest N | minus greedy, paired (McNemar p) | tokens / problem there |',
             '|---' * (len(budgets) + 4) + '|']
    for s in dict.fromkeys(r['strategy'] for r in rows):
        rs = {r['budget']: r for r in rows if r['strategy'] == s}; top = rs[max(rs)]
        cells = [f"{rs[b]['accuracy']:.1f}" if b in rs else '' for b in budgets]
        if s.startswith('beam'): cells = [f"{rs[b]['accuracy']:.1f} (beam@{b})" if b in rs else '' for b in budgets]
        p = f"{vs[s]['diff']:+.1f} ({vs[s]['p']:.2g})" if s in vs else ''
        lines.append(f"| {s} | " + ' | '.join(cells) + f" | {ci(top['ci95'])} | {p} | {top['tokens']:,.0f} |")
    st = d['settings']
    return table(lines, f"{d['task']} {d['split']} split, level {d['level']}, {d['problems']} problems (the same for every row); temperature {st['temperature']}, "
                        f"≤ {st['max_tokens']} tokens, seed {st['seed']}; N=1 of a sampled strategy is one sample.", d, 'sweep.json')

def t_compound(file:str='compound.json') -> str:
    "Search on the learned policy against its own greedy (benchmarks/compound.py): the strategy chosen on dev, reported on test."
    d = load(file); T = d['test']
    name = lambda r: r['strategy'].replace('_', ' ') + (f" ({r['scorer']})" if r['scorer'] else '')
    lines = ['| learned policy + | temperature | accuracy (%) | 95% CI | tokens / problem | ' + ' | '.join(T['by_level']) + ' |', '|---' * (5 + len(T['by_level'])) + '|']
    for r in T['rows']:
        k = f"{r['strategy']}({r['scorer']})" if r['scorer'] else r['strategy']
        lines.append(f"| {name(r)}{' **(chosen on dev)**' if r['chosen'] else ''} | {r['temperature']} | {r['accuracy']:.1f} | {ci(r['ci95'])} | {r['tokens']:,.0f} | "
                     + ' | '.join(f"{v[k]:.1f}" for v in T['by_level'].values()) + ' |')
    s, c = d['search_minus_greedy'], d['chosen']
    pick = c['strategy'].replace('_', ' ') + (f" ({c['scorer']})" if c['scorer'] else '')
    return table(lines, f"{d['task']} test split, levels {', '.join(map(str, d['levels']))}, {T['problems']} problems (the same for every row), budget {d['budget']}, "
                        f"≤ {d['settings']['max_tokens']} tokens. Chosen on {d['dev']['problems']} dev problems among {len(d['dev']['rows']) - 1} (strategy, temperature) pairs: "
                        f"{pick} at temperature {c['temperature']}. Chosen minus greedy: **{s['diff']:+.1f} points** (95% CI [{s['low']:.1f}, {s['high']:.1f}], "
                        f"McNemar p {pval(s['p'])}); target ≥ +10: **{'met' if d['met'] else 'missed'}**.", d, file)

def t_rewards(file:str='rewards_report.json') -> str:
    "How well each scorer separates right from wrong samples of held-out problems, and picks among them (benchmarks/reward_report.py)."
    d = load(file); n, R, C, st = d['samples'], d['rows'], d['ci95'], d['settings']
    td = d.get('training_data') or {}
    steps = f" ({td['mc_steps']:,} steps)" if td else ''
    what = {'arithmetic': 'calculator: recomputes every `a op b = c` (no training)', 'logprob': "the policy's mean step probability",
            'prm': f"PRM: a head on the frozen policy's hidden states, trained on Math-Shepherd MC step labels of {st['mc_problems']} training problems{steps}",
            'rm': f"Bradley-Terry RM (TRL `RewardTrainer`) on (right, wrong) pairs of the policy's samples of {st['train_problems']} training problems",
            'judge': 'LLM judge (the policy itself, a rubric prompt)'}
    lines = [f"| scorer | what it is | AUROC | best-of-{n} % [95% CI] | weighted vote % [95% CI] | ms / sample |", '|---|---|---|---|---|---|']
    for k, r in R.items():
        if k == 'majority vote': continue
        auc = 'n/a' if r['auroc'] is None else f"{r['auroc']:.3f}"
        lines.append(f"| `{k}` | {what.get(k.split(':')[0], '')} | {auc} | {r['best_of_n']:.1f} {ci(C[k]['best_of_n'])} | {r['weighted_vote']:.1f} {ci(C[k]['weighted_vote'])} | {r['ms_per_sample']:,.1f} |")
    b, bc = R['majority vote'], C['majority vote']
    lines += [f"| majority vote (no scorer) | | | {b['majority']:.1f} {ci(bc['majority'])} | | |", f"| a random sample (no scorer) | | | {b['random_sample']:.1f} | | |",
              f"| pass@{n} (oracle) | | | {b['pass_at_n']:.1f} {ci(bc['pass_at_n'])} | | |"]
    return table(lines, f"{d['task']} test split, level {d['level']}, {d['problems']} problems × {n} samples (temperature {st['temperature']}, ≤ {st['max_tokens']} tokens); "
                        f"AUROC over all {d['problems'] * n} samples, right against wrong. " + stages(d['stage_seconds']), d, file)

def stages(t:dict) -> str:
    "Stage times, or a note that every stage was read from an earlier pass's cache (a resumed run)."
    if sum(t.values()) < 0.05 * 60 * len(t): return 'Every stage of this run was read from the cache of an earlier pass (a resumed run: its times are not the cost).'
    return f"Stage times (s): {', '.join(f'{k} {v}' for k, v in t.items())}."

def t_headline(file:str='headline.json') -> str:
    "Expert iteration on the embedded model, greedy pass@1 on held-out test problems per round (benchmarks/learning_headline.py)."
    d = load(file); st, R = d['settings'], d['rounds']
    m = lambda x: f"{x / 60:.1f} min" if x else ''
    lines = ['| round | training rows | of them reference solutions | greedy pass@1 (%) | 95% CI | level 1 | level 2 | tokens / answer | sampling | training | eval | cumulative wall |',
             '|---' * 12 + '|']
    for r in R:
        lv = r.get('by_level') or {}
        lines.append(f"| {r['round']} | {r.get('train_rows') or ''} | {r.get('train_reference_rows', '') if r['round'] else ''} | {r['greedy_pass@1']:.1f} | {ci(d['ci95'].get('round' + str(r['round'])))} | "
                     + ' | '.join(f"{lv[k]['greedy_pass@1']:.0f}" if k in lv else '' for k in ('1', '2'))
                     + f" | {r['greedy_tokens']:.0f} | {m(r.get('gen_s'))} | {m(r.get('train_s'))} | {m(r['eval_s'])} | {m(r['wall_s'])} |")
    v, h = d['vs_round0'], [d.get(k) for k in ('hard_before', 'hard_after')]
    hard = f" Levels 3–4 ({h[0]['problems']} test problems, never trained on), greedy: {h[0]['greedy_pass@1']:.1f}% before, {h[1]['greedy_pass@1']:.1f}% after." if all(h) else ''
    return table(lines, f"arith test split, levels 1–2, {st['test_limit']} problems (the same every round); {st['train_problems']} fresh training problems a round × "
                        f"{st['samples']} samples at temperature {st['temperature']}, at most {st['per_problem']} right ones kept per problem"
                        f"{'' if st['star_only'] else ', plus the reference solution of every training problem none of whose samples was right'}; "
                        f"SFT {st['epochs']:g} epochs at lr {st['lr']:g}. Last round minus round 0: **{v['diff']:+.1f} points** (95% CI [{v['low']:.1f}, {v['high']:.1f}], "
                        f"McNemar p {pval(v['p'])}) in **{d['wall_min']} min**; target ≥ +{st['target']:g} in ≤ 3 rounds and ≤ 30 min: "
                        f"**{'met' if d['gain'] >= st['target'] and d['wall_min'] <= 30 else 'missed'}**.{hard}", d, file)

def t_compare(f:str='compare.json') -> str:
    "SFT vs DPO vs GRPO, one round each from the same policy at equal wall time (benchmarks/compare_methods.py)."
    d = load(f); S = d['stats']
    lines = ['| method | training rows | optimizer steps | sampling | training | round | greedy pass@1 (%) | 95% CI | minus base, paired (McNemar p) | level 1 | level 2 |',
             '|---' * 11 + '|']
    for k, r in d['rows'].items():
        lv, v = r.get('by_level') or {}, S[k].get('vs_base')
        m = lambda x: f"{x / 60:.1f} min" if x else ''
        vs = f"{v['diff']:+.1f} ({pval(v['p'])})" if v else ''
        lines.append(f"| {k} | {r.get('train_rows') or ''} | {r.get('train_steps') or ''} | {m(r['gen_s'])} | {m(r['train_s'])} | {m(r['gen_s'] + r['train_s'])} | "
                     f"{r['greedy_pass@1']:.1f} | {ci(S[k]['ci95'])} | {vs} | "
                     + ' | '.join(f"{lv[l]['greedy_pass@1']:.0f}" if l in lv else '' for l in ('1', '2')) + ' |')
    st = d['settings']; pol = st.get('policy', 'embedded')
    start = 'the embedded policy' if pol == 'embedded' else f"`{pol}`"
    skip = f" after the first {st['skip']}" if st.get('skip') else ''   # a learned policy's own training problems are passed over
    return table(lines, f"arith test split, levels 1–2, {d['problems']} problems (the same for every row); one round from {start} on the same "
                        f"{st['train_problems']} training problems{skip}, 4 samples each at temperature {d['temperature']}; the budget is the STaR/SFT round "
                        f"({d['budget_s'] / 60:.1f} min): DPO trains on the same samples for the rest of it, GRPO samples online for all of it "
                        f"(lr: DPO {st['dpo_lr']:g}, GRPO {st['grpo_lr']:g}, {st['grpo_prompts']} prompts × {st.get('grpo_generations', 8)} completions a step at temperature {st.get('grpo_temperature', 0.7)}, loss type `{st.get('grpo_loss_type', 'dapo')}`); evaluation time not included.", d, f)

def ten(d:dict) -> tuple:
    "The issue's criterion on a GRPO curve: (mean answer reward of the first 10 steps, of the last 10)."
    rs = [v for _, v in d['answer_reward']]; k = min(10, len(rs))
    return sum(rs[:k]) / k, sum(rs[-k:]) / k

def t_grpo_curve() -> str:
    "GRPO's mean answer reward over steps, and the policy before and after on held-out problems (benchmarks/grpo_curve.py)."
    d = load('grpo_curve.json'); c, st, e = d['curve'], d['settings'], d.get('eval') or {}
    f10, l10 = ten(d)
    lines = ['| measure | value |', '|---|---|',
             f"| steps × prompts × completions | {c['steps']} × {st['prompts']} × {st['generations']} (≤ {st['max_tokens']} tokens, temperature {st['temperature']}, lr {st['lr']:g}) |",
             f"| mean answer reward, first {c['quarter']} steps | {c['first']:.3f} |", f"| mean answer reward, last {c['quarter']} steps | {c['last']:.3f} |",
             f"| last minus first (Welch p) | {c['last_minus_first']:+.3f} ({pval(c['p'])}) |",
             f"| least-squares slope per 100 steps [95% CI] | {c['slope_per_100']:+.3f} [{c['slope_low']:+.3f}, {c['slope_high']:+.3f}] |",
             f"| mean of the last 10 steps minus the first 10 (issue 15: ≥ +0.15) | {f10:.3f} → {l10:.3f}: {l10 - f10:+.3f} |"]
    if e: lines += [f"| greedy pass@1 on {e['problems']} held-out test problems, before → after | {e['before']['greedy_pass_at_1']:.1f} {ci(e['before']['ci95'])} → "
                    f"{e['after']['greedy_pass_at_1']:.1f} {ci(e['after']['ci95'])} |",
                    f"| after minus before, paired (McNemar p) | {e['after_minus_before']['diff']:+.1f} [{e['after_minus_before']['low']:.1f}, {e['after_minus_before']['high']:.1f}] ({pval(e['after_minus_before']['p'])}) |"]
    rising = c['slope_low'] > 0 and c['p'] < 0.05
    return table(lines, f"TRL `GRPOTrainer` (loss type {st.get('loss_type', 'dapo')}) from `{st['policy']}` on arith training prompts of levels {st['levels']} it was not trained on (skipping the first {st['skip']}); "
                        f"the verifier's answer reward is the only reward, no KL term; trainer time {d['trainer_s'] / 60:.1f} min. "
                        f"Rising (the slope's interval above 0 and the last quarter above the first at p < 0.05): **{'yes' if rising else 'no'}**; "
                        f"the issue's criterion (last 10 steps ≥ first 10 + 0.15): **{'met' if l10 - f10 >= 0.15 else 'missed'}**.", d, 'grpo_curve.json')

GRPO_LOSS_FILES = ('grpo_curve.json', 'grpo_curve_dapo_nocorr.json', 'grpo_curve_dapo_skip.json', 'grpo_curve_dr_grpo.json', 'grpo_curve_dr_grpo_nocorr.json', 'grpo_curve_grpo.json', 'grpo_curve_grpo_skip.json')  # same settings; the first must exist
GRPO_LOSS_TYPES = ('dapo', 'dr_grpo', 'grpo')   # the issue's three; those without a run are named under the table

def cpu(d) -> str:
    "A GRPO run's CPU (with its matmul ISA where recorded) and the dtype its sampler ran in: runs on other machines are not like-for-like."
    return f"{d['machine'].split(', ')[1]}, {d.get('sampling_dtype', 'not recorded')}"

def t_grpo_losses() -> str:
    "TRL's GRPO loss types side by side: the same prompts, seeds and steps; only `loss_type`, the importance-sampling correction, whether agreeing groups skip the backward pass (the same gradient) and the starting policy (named per run) differ (benchmarks/grpo_curve.py --loss-type)."
    runs = [(d['settings'].get('loss_type', 'dapo'), f, d) for f, d in measured(GRPO_LOSS_FILES)]   # runs before --loss-type: TRL's default, dapo
    lines = ['| loss type | IS correction | agreeing groups | mean answer reward, first 10 → last 10 steps | issue 15 (≥ +0.15) | slope per 100 steps [95% CI] | greedy pass@1 before → after [paired 95% CI] | trainer min | median step s | CPU, sampling dtype |', '|---|---|---|---|---|---|---|---|---|---|']
    for k, f, d in runs:
        c, e = d['curve'], d.get('eval') or {}; f10, l10 = ten(d); a = e.get('after_minus_before') or {}
        ev = f"{e['before']['greedy_pass_at_1']:.1f} → {e['after']['greedy_pass_at_1']:.1f} ({a['diff']:+.1f} [{a['low']:.1f}, {a['high']:.1f}])" if e else 'not measured'
        med = f"{statistics.median(v for _, v in d['step_s']):.1f}" if d.get('step_s') else '—'
        lines.append(f"| `{k}` | {'on' if d.get('is_correction', True) else 'off'} | {'left out' if d.get('skip_zero_advantage') else 'run'} | {f10:.3f} → {l10:.3f} ({l10 - f10:+.3f}) | {'met' if l10 - f10 >= 0.15 else 'missed'} | "   # runs before the field: TRL's default, on
                     f"{c['slope_per_100']:+.3f} [{c['slope_low']:+.3f}, {c['slope_high']:+.3f}] | {ev} | {d['trainer_s'] / 60:.1f} | {med} | {cpu(d)} |")
    st = runs[0][2]['settings']; missing = [k for k in GRPO_LOSS_TYPES if k not in {r[0] for r in runs}]
    same = lambda d: {k: v for k, v in d['settings'].items() if k not in ('policy', 'loss_type', 'out', 'results', 'no_results', 'eval_problems', 'no_skip_zero_advantage')}   # all that sets the training (skipping keeps the gradient)
    if bad := [f for _, f, d in runs if same(d) != same(runs[0][2])]:
        raise SystemExit(f"{', '.join(bad)}: other GRPO settings than {runs[0][1]}; re-run with the same settings, only --loss-type (and --policy) changed")
    starts = {}
    for k, _, d in runs: starts.setdefault(d['settings']['policy'], {})[f'`{k}`'] = 1   # each loss type once
    start = (f"`{st['policy']}`" if len(starts) == 1 else   # runs on other machines start from that machine's own learned policy
             ' and '.join(f"`{p}` ({', '.join(ks)})" for p, ks in starts.items()))
    cap = (f"TRL `GRPOTrainer` from {start}, {st['steps']} steps × {st['prompts']} prompts × {st['generations']} completions, temperature {st['temperature']}, "
           f"lr {st['lr']:g}, arith levels {st['levels']} training prompts after the first {st['skip']}; answer reward only, no KL term. "
           + (f"Not run: {', '.join(f'`{k}`' for k in missing)}." if missing else ''))
    body = table(lines, cap, runs[0][2], runs[0][1])
    return body + more_sources([(f, d) for _, f, d in runs])

def t_search_bench() -> str:
    "The tree core against its Python twin, search overhead around the model, batched frontier expansion (three benchmark scripts)."
    t, o, b = load('bench_tree.json'), load('bench_search_overhead.json'), load('bench_batching.json')
    B, d10 = t['batched'], t['depth10']
    os_, bs = o['settings'], b['settings']
    lines = ['| benchmark | measured | target |', '|---|---|---|',
             f"| (a) tree core vs Python twin, {B['B']:,} trees batched (`bench_tree.py`) | {B['same_state_speedup']:.1f}× faster; {B['c_us_per_tree_step']:.2f} µs per tree-step | ≥ 30× |",
             f"| (a) depth-10 select + backprop, " + ' / '.join(f"{x['B']:,}" for x in d10) + " trees batched | "
             + ' / '.join(f"{x['uct_us']:.2f} µs (UCT), {x['puct_us']:.2f} µs (PUCT)" for x in d10) + " per tree | ≤ 1 µs |",
             f"| (a) one tree growing to {t['one_tree']['nodes']:,} nodes | {t['one_tree']['growth_speedup']:.1f}× | ≥ 30× |",
             f"| (b) MCTS wall time outside policy calls (`bench_search_overhead.py`: {os_['problems']} problems × {os_['budget']} simulations, embedded model on {o['engine']}) | "
             f"{o['outside_policy_pct']:.2f} % (search {o['search_s'] * 1000:.0f} ms, scorer {o['scorer_s'] * 1000:.0f} ms of {o['wall_s']:.0f} s) | ≤ 2 % |",
             f"| (c) batched frontier vs node-by-node expansion, equal samples (`bench_batching.py`: {b['nodes']} nodes × {bs['width']} children, ≤ {bs['step_tokens']} tokens, {b['engine']}) | "
             f"{b['speedup']:.2f}× ({b['batched']['seconds']:.1f} s vs {b['node_by_node']['seconds']:.1f} s) | ≥ 4× |"]
    return '\n'.join(lines + ['', f"Tree timings use {t['clock']}; the other two are wall time."]) + '\n\n' + '\n\n'.join(
        source(x, f) for x, f in ((t, 'bench_tree.json'), (o, 'bench_search_overhead.json'), (b, 'bench_batching.json')))

ROUTE_FILES = ('route.json', 'route_half.json')   # the issue's token budget (1/4 of the best fixed strategy's), and 1/2

def route_runs() -> list:
    "(file, results) of each routing run: route.json must exist, the others are added when measured."
    return measured(ROUTE_FILES)

def t_route() -> str:
    "Compute-optimal routing against the best fixed strategy at the budget, on the same test problems (benchmarks/route.py)."
    runs = route_runs()
    d = runs[0][1]; st, D, T = d['settings'], d['dev'], d['test']
    lines = ['| method | dev accuracy (%) | dev tokens / problem | test accuracy (%) | 95% CI | test tokens / problem | minus best fixed, paired (McNemar p) |', '|---' * 7 + '|']
    best = next(r for r in D['fixed'] if r['strategy'] == D['best_fixed'])
    lines.append(f"| {T['fixed']['strategy'].replace('_', ' ')}@{st['budget']} (best fixed on dev) | {best['accuracy']:.1f} | {best['tokens']:,.0f} | "
                 f"{T['fixed']['accuracy']:.1f} | {ci(T['fixed']['ci95'])} | {T['fixed']['tokens']:,.0f} | |")
    notes = []
    for f, x in runs:
        R, A, pd = x['dev']['router'], x['test']['auto'], x['test']['auto_minus_fixed']
        if x['test']['fixed']['accuracy'] != T['fixed']['accuracy']: notes.append(f"{f}'s fixed run differs from {runs[0][0]}'s")
        routes = '; '.join(f"{y['strategy'].replace('_', ' ')}@{y['budget']}" for y in R['table'])
        lines.append(f"| auto, fitted within {x['settings']['token_frac']:g}× the best fixed strategy's dev tokens (routes by confidence bin, low → high: {routes}) | "
                     f"{R['accuracy']:.1f} | {R['tokens']:,.0f} | {A['accuracy']:.1f} | {ci(A['ci95'])} | {A['tokens']:,.0f} | {pd['diff']:+.1f} [{pd['low']:.1f}, {pd['high']:.1f}] ({pval(pd['p'])}) |")
        if x['dev']['note']: notes.append(x['dev']['note'])
    t = d['test']
    return '\n'.join(lines + ['', f"`{st['policy']}`, arith levels {', '.join(map(str, st['levels']))}: {st['dev']} dev problems choose the best fixed strategy at budget {st['budget']} "
                                   f"and fit each router ({st['probe']} probe samples a prompt, {st['bins']} confidence bins at most); {st['test']} test problems, the same for every row. "
                                   f"Temperature {st['temperature']}, ≤ {st['max_tokens']} tokens a sample. The issue's target, auto not significantly worse than the best fixed "
                                   f"strategy with ≤ 0.25× its tokens: **{'met' if t['target']['met'] else 'missed'}** ({t['auto_minus_fixed']['diff']:+.1f} points at {t['token_ratio']:.2f}× the tokens)."
                                   + ''.join(f" {n}." for n in notes)]) + '\n\n' + '\n\n'.join(source(x, f) for f, x in runs)

def t_search_and_learning() -> str:
    "Issue 15's one table: base and learned policy, greedy and their best search, and routing, on the same test problems."
    base, lrn, h, routes = load('compound_base.json'), load('compound_headline.json'), load('headline.json'), route_runs()
    lines = ['| policy | method | accuracy (%) | 95% CI | tokens / problem | generation wall time |', '|---|---|---|---|---|---|']
    for who, d in (('base (SmolLM2-135M-Instruct)', base), (f"learned ({len(h['rounds']) - 1} rounds of expert iteration, {h['wall_min']} min)", lrn)):
        rows = d['test']['rows']; g, c = rows[0], next(x for x in rows if x['chosen'])
        samples_s = sum(x['wall_s'] for x in rows[1:] if x['temperature'] == c['temperature'])   # flat strategies share one set of samples
        lines.append(f"| {who} | greedy | {g['accuracy']:.1f} | {ci(g['ci95'])} | {g['tokens']:,.0f} | {g['wall_s'] / 60:.1f} min |")
        how = c['strategy'].replace('_', ' ') + (f" ({c['scorer']})" if c['scorer'] else '')
        lines.append(f"| {who} | + {how}@{d['budget']}, T={c['temperature']} (chosen on dev) | "
                     f"{c['accuracy']:.1f} | {ci(c['ci95'])} | {c['tokens']:,.0f} | {samples_s / 60:.1f} min |")
    for _, x in routes:
        a = x['test']['auto']
        lines.append(f"| learned | + auto (routed per prompt, fitted on dev within {x['settings']['token_frac']:g}× best-of-16's tokens) | {a['accuracy']:.1f} | {ci(a['ci95'])} | {a['tokens']:,.0f} | reads best-of-16's samples |")
    hb, ha = h.get('hard_before'), h.get('hard_after')
    hard = f" Levels 3–4 ({hb['problems']} test problems, greedy): base {hb['greedy_pass@1']:.1f}%, learned {ha['greedy_pass@1']:.1f}%." if hb and ha else ''
    sb, sl = base['search_minus_greedy'], lrn['search_minus_greedy']
    return '\n'.join(lines + ['', f"arith test split, levels 1–2, {lrn['test']['problems']} problems, the same in every row; ≤ {lrn['settings']['max_tokens']} tokens an answer. "
                                   f"Search minus greedy: base **{sb['diff']:+.1f}** (95% CI [{sb['low']:.1f}, {sb['high']:.1f}], p {pval(sb['p'])}), learned **{sl['diff']:+.1f}** "
                                   f"(95% CI [{sl['low']:.1f}, {sl['high']:.1f}], p {pval(sl['p'])}).{hard} The learned policy is the headline's "
                                   f"(its rounds in the table below); auto's row is the routing table's."]) + '\n\n' + '\n\n'.join(
        source(x, f) for x, f in ((base, 'compound_base.json'), (lrn, 'compound_headline.json'), (h, 'headline.json'), *((x, f) for f, x in routes)))

TABLES = {'main': t_main, 'sweep': t_sweep, 'compound': t_compound, 'compound_headline': lambda: t_compound('compound_headline.json'), 'rewards': t_rewards, 'headline': t_headline, 'headline_star': lambda: t_headline('headline_star.json'), 'route': t_route, 'search_and_learning': t_search_and_learning, 'compare': t_compare, 'compare_sft_skip': lambda: t_compare('compare_sft_skip.json'), 'grpo_curve': t_grpo_curve, 'grpo_losses': t_grpo_losses, 'rewards_prm': lambda: t_rewards('rewards_report_prm.json'), 'search_bench': t_search_bench, 'engine': t_engine, 'engine_cpu': t_engine_cpu, 'parity': t_parity, 'grpo_speed': t_grpo_speed, 'ray_scale': t_ray_scale, 'tutorials': t_tutorials}

def render_blocks(text:str, only=None) -> tuple: # markdown with table blocks
    "(the text with every known block re-rendered, the names of blocks that changed)."
    changed = []
    def sub(m):
        name = m.group(2)
        if name not in TABLES: raise SystemExit(f"nbs/index.ipynb has a table block '{name}' that benchmarks/tables.py does not know: add a renderer or remove the block")
        new = render(name).rstrip('\n') + '\n'
        if new != m.group(3): changed.append(name)
        return m.group(1) + new + m.group(4)
    return BLOCK.sub(sub, text), changed

def main(argv):
    if argv and argv[0] in TABLES: print(render(argv[0])); return 0
    nb = json.loads(INDEX.read_text()); changed = []
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        new, ch = render_blocks(''.join(c['source'])); changed += ch
        c['source'] = new.splitlines(keepends=True)
    if '--check' in argv:
        if changed: print(f"stale README tables: {', '.join(changed)}: run `make readme`"); return 1
        print('README tables match their results files'); return 0
    if '--write' in argv:
        INDEX.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n'); print(f"tables re-rendered; changed: {', '.join(changed) or 'none'}"); return 0
    print(__doc__); return 2

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
