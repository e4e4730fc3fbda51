# nwbview: two commands on a fresh machine.
#   make demo   create .venv, install nwbview, make the demo session and run the main job on it
#   make test   install what the tests need (Python packages; Xvfb + Mesa, Chromium through apt-get) and run pytest
#   make bench  run the benchmarks (figures printed; record them in BENCHMARKS.md)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
EXT    := extensions/ndx-video-calibration
OUT    ?= demo-output
# extras the tests need beyond the core (comma-separated, e.g. napari,stream)
TEST_EXTRAS ?= stream,dandi,napari,distributed,converters,interop,inspector,notebook,browser

.PHONY: demo test bench install install-test sysdeps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml $(EXT)/pyproject.toml
	$(PIP) install --quiet -e $(EXT) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e ".$(if $(TEST_EXTRAS),[$(TEST_EXTRAS)])" --group dev
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test sysdeps

# Xvfb and Mesa's GL for the napari tests, Chromium and its driver for the browser tests (no browser
# downloads: Debian's packages): installed with apt-get when missing and we are root.
sysdeps:
	@if command -v xvfb-run >/dev/null 2>&1 && ldconfig -p | grep -q 'libGL.so.1' && ldconfig -p | grep -q 'libEGL.so.1'; then \
	  :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing xvfb and Mesa GL (apt-get)"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    xvfb xauth libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
	    libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0 \
	    libxcb-shape0 libxcb-cursor0 libdbus-1-3 libfontconfig1 >/dev/null; \
	else \
	  echo "note: xvfb-run or Mesa GL is missing and this is not a root Debian machine: napari tests will be skipped"; \
	fi
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and chromium-driver for the browser tests (apt-get)"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
	  echo "note: chromium or chromedriver is missing and this is not a root Debian machine: browser tests will be skipped"; \
	fi

NV := $(VENV)/bin/nwbview
SESSION := $(OUT)/demo_session.nwb

demo: install
	$(NV) demo --output-dir $(OUT)
	$(NV) calibrate $(SESSION) --landmarks $(OUT)/demo_landmarks.csv --overwrite
	$(NV) kinematics $(SESSION) --tracking pose --csv $(OUT)/kinematics.csv --write --overwrite
	$(NV) heatmap $(SESSION) --kind occupancy -o $(OUT)/occupancy.png --write --overwrite
	$(NV) heatmap $(SESSION) --kind signal --signal lfp-power -o $(OUT)/theta_by_position.png --write --overwrite
	$(NV) heatmap $(SESSION) --kind movement --egocentric --intervals running_bouts -o $(OUT)/movement.png --write --overwrite
	$(NV) export $(SESSION) -o $(OUT)/clip.mp4 --start 20 --stop 40 --head-direction --events running_bouts
	$(NV) snapshot $(SESSION) --time 30 -o $(OUT)/snapshot.png --head-direction
	$(NV) info $(SESSION)
	@echo
	@echo "demo outputs are in $(OUT)/:"
	@ls -1 $(OUT)

test: install-test
	@if command -v xvfb-run >/dev/null 2>&1; then \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) -m pytest $(PYTEST_ARGS); \
	else \
	  $(PY) -m pytest $(PYTEST_ARGS); \
	fi

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(OUT) .pytest_cache build dist src/*.egg-info
