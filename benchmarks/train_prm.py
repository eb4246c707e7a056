"""Train the PRM (a head on the frozen embedded policy's hidden states) from Math-Shepherd Monte-Carlo step labels.

The labels are those `benchmarks/reward_report.py` writes (runs/reward_data/mc_labels.jsonl: solutions of arith
level-1 TRAIN problems, each step valued by the share of rollouts from it that reach the training answer). The layer
that feeds the head is picked by held-out loss among the last layer and 1/2, 2/3, 5/6 of the depth. Writes runs/prm,
which `load_scorer('prm:runs/prm')` and `reasoner-kit rewards-report --scorers prm:runs/prm` load.

Run: .venv/bin/python benchmarks/train_prm.py [--labels runs/reward_data/mc_labels.jsonl] [--out runs/prm]
"""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('REASONER_KIT_QUIET', '1')
from reasoner_kit.core import read_jsonl
from reasoner_kit.policy.base import load_policy
from reasoner_kit.reward.prm import PRMConfig, train_prm

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--labels', default='runs/reward_data/mc_labels.jsonl')
    ap.add_argument('--out', default='runs/prm')
    ap.add_argument('--sep', default='\n', help='the step separator the labels were made with')
    a = ap.parse_args()
    labels = read_jsonl(a.labels)
    pol = load_policy('embedded')
    n = getattr(pol, 'hf', pol).model.config.num_hidden_layers   # vLLM: its transformers twin's config
    cands = tuple(sorted({-1, n * 5 // 6, n * 2 // 3, n // 2}))
    t = time.time()
    res = train_prm(labels, pol, PRMConfig(sep=a.sep, layer_candidates=cands, val_frac=0.25), out=a.out)
    ep, s = res.history[:-1], res.history[-1]   # one entry per epoch, then the summary
    print(f"PRM on {len(labels)} solutions / {sum(len(r['values']) for r in labels)} MC-labelled steps: layer {s['layer']} "
          f"(held-out loss by layer {s['layer_val_loss']}); train loss {ep[0]['loss']:.3f} -> "
          f"{ep[s['best_epoch']]['loss']:.3f}, held-out {min(e['val_loss'] for e in ep):.3f}; {time.time() - t:.0f} s -> {a.out}")

if __name__ == '__main__':
    main()
