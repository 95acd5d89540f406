# suitlib — two commands on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: demo demo-manufacturer test test-slow bench setup system-deps clean

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) system-deps

# libcoap's command-line tools are the real peer for the CoAP interop tests.
system-deps:
	@if ! command -v coap-client-notls >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcoap3-bin) >/dev/null 2>&1 \
	      || echo "warning: could not install libcoap3-bin; CoAP interop tests will fail" >&2; \
	  else echo "warning: libcoap3-bin missing and not root; CoAP interop tests will fail" >&2; fi; \
	fi

test: setup
	$(VPY) -m pytest -q -n $(JOBS) --dist loadgroup

test-slow: setup
	$(VPY) -m pytest -q -n $(JOBS) -m slow

# The whole journey: keys, delta, signed envelope, CoAP server, a mote through two power cuts,
# then a failing self-test reverted and reported.
demo: setup
	$(VPY) scripts/journey.py

# The manufacturer flow alone: keys, create, sign (incl. threshold), verify, inspect.
demo-manufacturer: setup
	$(VPY) scripts/demo.py

bench: setup
	$(VPY) -m pip install -q -e '.[bench]'
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(VPY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
