# The README's two commands: `make run` (install, then run the quarter on the demo data) and
# `make test` (install, then run the tests). Both create .venv on first use, from this repo's files only.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
QUARTER ?= 2025Q2

.PHONY: install run test demo-data benchmark clean calibration

$(BIN)/ipeval: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(BIN)/ipeval

install: $(BIN)/ipeval

run: install
	$(BIN)/ipeval run --quarter $(QUARTER)

test: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest

demo-data: install
	$(BIN)/ipeval demo-data

benchmark: install
	$(BIN)/python benchmarks/bench_quarter.py

clean:
	rm -rf outputs/20* outputs/.cache outputs/.staging

# docs/methodology.md section 12 in one command (the development files are not in the repository:
# point CALIBRATION_DIR at them; the series they hold are listed in params/calibration/development_series.csv)
CALIBRATION_DIR ?= ../shared/calibration
calibration: install
	nice $(BIN)/ipeval calibrate $(CALIBRATION_DIR)/m3_yearly_dev.csv $(CALIBRATION_DIR)/m3_quarterly_dev.csv --out outputs/calibration
