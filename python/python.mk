# The Python package, for the top-level Makefile: `include python/python.mk`.
#   make python        build and install `winnow` for $(PYTHON) with pip,
#                      from these sources, without network
#   make test-python   the binding's tests (tests/cli/test_python.sh)
# Debian marks its python3 as externally managed (PEP 668): the package goes
# to /usr/local with --break-system-packages unless PIP_FLAGS says
# otherwise (e.g. PYTHON=.venv/bin/python PIP_FLAGS=).
PYTHON    ?= /usr/bin/python3
PIP_FLAGS ?= $(shell $(PYTHON) -c 'import sys,sysconfig,os; \
  print("--break-system-packages" if sys.prefix == sys.base_prefix and \
  os.path.exists(os.path.join(sysconfig.get_path("stdlib"), \
  "EXTERNALLY-MANAGED")) else "")' 2>/dev/null)

.PHONY: python test-python

python: deps
	@scripts/install-deps.sh python
	$(PYTHON) -m pip install --no-build-isolation --no-index --no-deps \
	  $(PIP_FLAGS) ./python

test-python: deps-test build
	@WINNOW=$(BUILD)/winnow BUILD=$(BUILD) sh tests/cli/test_python.sh
