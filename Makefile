# The user's verbs. Every target creates .venv from pyproject.toml on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=
DATASET  ?= cifar10
DATA_DIR ?= $(or $(TFDS_DATA_DIR),$(HOME)/tensorflow_datasets)
# XLA's CPU runtime allocates a step's temporaries (200 MiB for the mnist32 Glow) afresh each
# step; glibc's huge-page hint backs them with 2 MiB pages instead of faulting in 4 KiB ones
# (that Glow's step on 2 cores: 132 -> 88 ms).  Ignored where glibc is older than 2.35.
export GLIBC_TUNABLES ?= glibc.malloc.hugetlb=1

.PHONY: help test test-fast train-nice train-realnvp train-glow train-iresnet toy-densities train-fgan train-wgan train-gan-onestep train-ogan train-cgan fgan-2d train-ebm train-glann ebm-2d train-vae train-cvae train-vae-cluster train-vib train-infomax train-fvae bench notebooks data docs lint clean gpu-bench evaluate results

help:
	@echo "make test | test-fast | train-nice | train-realnvp | train-glow | train-iresnet | toy-densities | train-fgan | train-wgan | train-gan-onestep | train-ogan | train-cgan | fgan-2d | train-ebm | train-glann | ebm-2d | train-vae | train-cvae | train-vae-cluster | train-vib | train-infomax | train-fvae | bench | notebooks | data | docs | lint | gpu-bench | evaluate   (pass flags with ARGS='...'; data DATASET=cifar10)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "zoo needs Python >= 3.11; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,notebooks]'
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15 $(ARGS)

# The edit loop: the unit tests, without notebooks, training runs, whole-model float64 checks and multi-device tests (marked slow).
test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not slow" --durations=10 $(ARGS)

# Every model trains through one entry: train-gan-onestep runs `python -m experiments.train gan_onestep`.
MODELS := nice realnvp glow iresnet fgan wgan gan-onestep ogan cgan ebm glann vae cvae vae-cluster vib infomax fvae
$(addprefix train-,$(MODELS)): train-%: $(STAMP)
	$(PY) -m experiments.train $(subst -,_,$*) $(ARGS)

toy-densities: $(STAMP)
	$(PY) -m experiments.toy_densities --out toy_densities $(ARGS)

# f-GANs with every divergence on a 2-D mixture of Gaussians: one PNG per divergence.
fgan-2d: $(STAMP)
	$(PY) -m experiments.fgan_2d $(ARGS)

# An EBM on the 2-D toy densities: true density, learned exp(-U) and Langevin samples in one PNG.
ebm-2d: $(STAMP)
	$(PY) -m experiments.ebm_2d $(ARGS)

# Score trained runs (FID / IS / precision-recall / density-coverage, likelihoods) and draw their samples side by side.
evaluate: $(STAMP)
	$(PY) -m experiments.evaluate $(ARGS)
# The results ledger: every row's protocol over its seeds (resumable), into results/ledger.jsonl and RESULTS.md.
results: $(STAMP)
	$(PY) -m experiments.ledger $(ARGS)

bench: $(STAMP)
	$(PY) -m experiments.bench --out bench_results $(ARGS)

# The zoo's Glow against normflows' on this machine's GPU (experiments/gpu_bench.py; needs torch
# and normflows under TORCH_PYTHON). ARGS='--tiny' checks the pipeline on a CPU.
TORCH_PYTHON ?= $(PY)
gpu-bench: $(STAMP)
	$(PY) -m experiments.gpu_bench --out gpu_bench_results --torch-python $(TORCH_PYTHON) $(ARGS)

notebooks: $(STAMP)
	$(PY) -m jupyter lab --notebook-dir=notebooks

# Building a TFDS dataset needs TensorFlow and the network (the optional 'data' extra).
data: $(STAMP)
	$(PY) -m pip install -q -e '.[data]'
	$(PY) -m zoo.data prepare $(DATASET) --data-dir $(DATA_DIR)

# The documentation site into site/ (open site/index.html); strict: any warning fails the build.
DOCS_STAMP := $(VENV)/.docs-stamp
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[docs]'
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(VENV)/bin/mkdocs build --strict

# Style, as CI checks it: ruff's lint rules and formatter (configured in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache workdirs bench_results toy_densities site .cache build gpu_bench_results
