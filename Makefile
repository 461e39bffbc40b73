# One command each, on a fresh machine: `make demo` runs the quick benchmark, `make test` the test suite.
# Both create the virtual environment .venv on first use (torch, timm, ... from PyPI).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED_DATA := $(abspath ../shared/data)
export TABBENCH_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),)

.PHONY: demo test lint format clean browser ocr

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	# TINTOlib, the reference of the literature encoders' parity tests, pins pandas<3 and
	# pillow<13; its own code runs on the newer ones, so it is installed without its pins.
	$(BIN)/python -m pip install --quiet --no-deps tintolib==1.3.1
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tabbench run --folds 3 --encoders pixel --backbones resnet18 \
		--baselines logreg,knn,random-forest,extra-trees,hist-gbm,xgboost,lightgbm,catboost,mlp,tabular-nn

test: $(STAMP) lint browser ocr
	$(BIN)/python -m pytest -q

# The published page's test drives Debian's Chromium through chromedriver (selenium is in [dev]).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "installing Debian's chromium and chromium-driver for the browser test"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "warning: no chromium/chromedriver and no apt-get: the browser test will be skipped"; fi

# The SuperTML legibility test reads the text images back with Debian's tesseract-ocr.
ocr:
	@if command -v tesseract >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "installing Debian's tesseract-ocr for the text legibility test"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr fonts-dejavu-core >/dev/null; \
	else echo "warning: no tesseract and no apt-get: the text legibility test will be skipped"; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build dist *.egg-info results
