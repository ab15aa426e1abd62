# Two entry points do all set-up on a fresh machine (tools/setup_env.sh is idempotent):
#   make demo   synthetic data -> pretrain -> convert -> fine-tune + evaluate detection and segmentation
#   make test   the test suite
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test test-all lint clean-demo

setup:
	bash tools/setup_env.sh

demo: setup
	$(PY) tools/misc/run_synthetic_pipeline.py --work-dir work_dirs/synthetic_demo

test: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff check .

test-all: setup
	$(PY) -m pytest tests --runslow $(PYTEST_ARGS)

clean-demo:
	rm -rf work_dirs/synthetic_demo data/synthetic
