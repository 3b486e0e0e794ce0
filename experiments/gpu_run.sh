#!/usr/bin/env bash
# One GPU session in one command (issue 26): install the carried wheels, run the side-by-side
# bench (experiments/gpu_bench.py), then the mnist32 Glow for 120 s on the MNIST npz.
#
#   bash experiments/gpu_run.sh [NPZ]      # NPZ default .whl/mnist32.npz; its run is skipped if absent
#   bash experiments/gpu_run.sh --ledger [NPZ]        # only ledger rows (LEDGER_ROWS) on the MNIST npz
#   bash experiments/gpu_run.sh --evaluate [NPZ]      # every generative model's default run on the npz, scored (issue 24)
#
# Assumes the GPU machine's image: python3 (3.12) with torch, jax 0.11, flax, optax, orbax, chex,
# tqdm, pillow, scikit-learn; the zoo's other needs travel as wheels in .whl/ (cp312,
# manylinux x86_64): grain, array-record, portpicker (grain's), tensorboardX, and normflows
# (pure Python).  tensorflow-datasets is not carried: only TFDS datasets need it, and this
# script reads random data and an npz.  Everything it keeps is written under $OUT (default
# ./gpu_out), 8 files, no folders, as the device tool returns them: gpu_bench.log (versions,
# nvidia-smi, progress), gpu_bench_records.jsonl, gpu_bench.json, gpu_bench.md, two profile
# traces, train_mnist32.log and train_mnist32_metrics.jsonl.
# Budget: the bench is cut at BENCH_S (default 300 s), the mnist run at TRAIN_S (default 170 s).
#
# Before the device call, on this machine (pip's index, no GPU): `bash experiments/gpu_run.sh --prepare`
# fills .whl/ (git-ignored; carry it) with those wheels and the MNIST npz (../shared/peer/mnist_npz.py).
#
# --ledger skips the bench and the mnist32 run: it runs the ledger rows LEDGER_ROWS (default
# clustering_vae/mnist_posterior and clustering_vae/mnist_pretrained, issue 23's article recipe with
# the mixture's posterior on the npz, without and with VAE pretraining, 4500 steps, 5 seeds each:
# the CPU has run some) into a fresh $OUT/ledger_gpu.jsonl, cut at LEDGER_S (default 540 s; each seed's record is
# kept as it finishes), with the log ledger_gpu.log.  Merge by replacing those rows' records in
# results/ledger.jsonl with the GPU's, so that no seed is counted twice, then
# `python -m experiments.ledger --render`.
#
# --evaluate skips the bench and the mnist32 run: `experiments.evaluate_zoo --dataset npz:NPZ` trains
# every generative model's default run (seed 0; its mnist32 config where it has one: Glow, conditional
# Glow and the EBM 300 s each, the CVAE and CGAN, else its digits config, whose nets take 32x32) into
# EVAL_DIR (default $OUT/eval_runs, so the runs come back), cut at EVAL_S (default 480 s: SIGINT, the run
# in training saves a checkpoint), then scores every run that reached its end, cut at SCORE_S (default
# 90 s), into $OUT/evaluation_mnist32.md and $OUT/evaluation_samples_mnist32.png, with the log
# evaluate_mnist32.log.  Resumable: the whole queue is longer than one call, so pass the returned
# eval_runs folder back (carry it at an ignored path, e.g. gpu_out/eval_runs, with
# EVAL_RESUME=gpu_out/eval_runs: copied into EVAL_DIR first) and the queue goes on where it stopped.
# EVAL_ARGS adds flags to evaluate_zoo (e.g. '--models glow,ebm', or '--models vae --seconds 5
# --num-samples 100', a CPU check of the path: PATH with a python3 that has the zoo's venv).
set -u
LEDGER=0
EVAL=0
if [ "${1:-}" = --ledger ]; then LEDGER=1; shift; fi
if [ "${1:-}" = --evaluate ]; then EVAL=1; shift; fi
if [ "${1:-}" = --prepare ]; then
  PY=${PY:-.venv/bin/python}
  mkdir -p .whl
  $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl grain==0.2.18 array-record==0.8.6 portpicker==1.6.0 tensorboardX==2.6.5 || exit 1
  # normflows is an sdist only: build its pure-Python wheel (build isolation fetches setuptools).
  $PY -m pip wheel -q --no-deps -w .whl normflows==1.7.3 || exit 1
  [ -f .whl/mnist32.npz ] || $PY ../shared/peer/mnist_npz.py .whl/mnist32.npz
  ls -la .whl; du -sh .whl
  exit 0
fi
BENCH_S=${BENCH_S:-300}
TRAIN_S=${TRAIN_S:-170}
OUT=${OUT:-gpu_out}
NPZ=${1:-.whl/mnist32.npz}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-.92}  # batch 512 in float32 needs room

if ls .whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo 'installing the carried wheels failed'; exit 1; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi

if [ "$LEDGER" = 1 ]; then
  [ -f "$NPZ" ] || { echo "no $NPZ: the MNIST ledger rows need the MNIST npz"; exit 1; }
  nvidia-smi --query-gpu=name,memory.total --format=csv 2>&1 | tee "$OUT/ledger_gpu.log"
  # A fresh ledger file, so every seed runs; the compilation cache serves the seeds after the first.
  ZOO_MNIST_NPZ="$NPZ" JAX_COMPILATION_CACHE_DIR=/tmp/jax_cache timeout "${LEDGER_S:-540}" python3 -m experiments.ledger \
    --models "${LEDGER_ROWS:-clustering_vae/mnist_posterior,clustering_vae/mnist_pretrained}" \
    --ledger "$OUT/ledger_gpu.jsonl" 2>&1 \
    | tee -a "$OUT/ledger_gpu.log" | grep '^\[ledger\]'
  cat "$OUT/ledger_gpu.jsonl" 2>/dev/null
  exit 0
fi

if [ "$EVAL" = 1 ]; then
  [ -f "$NPZ" ] || { echo "no $NPZ: the evaluation needs the MNIST npz"; exit 1; }
  EVAL_DIR=${EVAL_DIR:-$OUT/eval_runs}
  LOG="$OUT/evaluate_mnist32.log"
  mkdir -p "$EVAL_DIR"
  if [ -n "${EVAL_RESUME:-}" ] && [ "$EVAL_RESUME" != "$EVAL_DIR" ]; then cp -r "$EVAL_RESUME"/. "$EVAL_DIR"/; fi
  nvidia-smi --query-gpu=name,memory.total --format=csv 2>&1 | tee "$LOG"
  export JAX_COMPILATION_CACHE_DIR=/tmp/jax_cache  # the scoring pass reuses the training's compiled steps
  # shellcheck disable=SC2086  # EVAL_ARGS is a list of flags
  timeout -s INT -k 60 "${EVAL_S:-480}" python3 -m experiments.evaluate_zoo --dataset "npz:$NPZ" --workdirs "$EVAL_DIR" \
    --out "$OUT" --tag mnist32 ${EVAL_ARGS:-} 2>&1 | tee -a "$LOG" | tr '\r' '\n' | grep --line-buffered -v -e 'it/s' -e '^\s*$'
  if [ ! -f "$OUT/evaluation_mnist32.md" ]; then
    # Cut short: score the runs that reached their end (zoo.train's closing summary record), train none.
    ended=$(for d in "$EVAL_DIR"/*/; do grep -qs '"summary"' "$d/metrics.jsonl" && basename "$d"; done | paste -sd, -)
    echo "cut at EVAL_S; scoring the runs that ended: ${ended:-none}" | tee -a "$LOG"
    # shellcheck disable=SC2086
    [ -n "$ended" ] && timeout -s INT -k 30 "${SCORE_S:-90}" python3 -m experiments.evaluate_zoo --dataset "npz:$NPZ" \
      --workdirs "$EVAL_DIR" --out "$OUT" --tag mnist32 ${EVAL_ARGS:-} --models "$ended" 2>&1 | tee -a "$LOG" | tr '\r' '\n' | grep --line-buffered -v -e 'it/s' -e '^\s*$'
  fi
  cat "$OUT/evaluation_mnist32.md" 2>/dev/null
  exit 0
fi

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu --format=csv 2>&1
  python3 -c 'import sys, jax, jaxlib, flax, optax, torch, normflows, grain
print(sys.version.split()[0], "jax", jax.__version__, jaxlib.__version__, jax.devices(), "flax", flax.__version__,
      "optax", optax.__version__, "torch", torch.__version__, "normflows", normflows.__version__, "grain ok")' 2>&1
} 2>&1 | tee "$OUT/gpu_bench.log"

# The headline: zoo bf16, normflows, zoo float32 at batch 64/256/512, profile at 256.
timeout "$BENCH_S" python3 -m experiments.gpu_bench --out "$OUT" --job-timeout 150 2>&1 | tee -a "$OUT/gpu_bench.log"
# Cut short: the table from what was measured.
[ -f "$OUT/gpu_bench.md" ] || python3 -m experiments.gpu_bench --render-only --out "$OUT" 2>&1 | tail -40

if [ -f "$NPZ" ]; then
  # make train-glow with the mnist32 config for 120 s (the device has no make-able venv: the same command).
  timeout "$TRAIN_S" python3 -m experiments.train glow --config mnist32 --dataset "npz:$NPZ" --seconds 120 \
    --workdir /tmp/gpu_mnist32 2>&1 | tee "$OUT/train_mnist32.log" | grep -v '^\s*$' | tail -15
  cp /tmp/gpu_mnist32/metrics.jsonl "$OUT/train_mnist32_metrics.jsonl" 2>/dev/null
else
  echo "no $NPZ: the mnist32 run is skipped (make it with: python3 ../shared/peer/mnist_npz.py $NPZ)"
fi
cat "$OUT/gpu_bench.md" 2>/dev/null
