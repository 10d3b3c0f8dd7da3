#!/usr/bin/env bash
# Build casework with its ingest path compiled by mypyc and install it into a venv of its own
# (default .venv-compiled), with the extras the test suite needs (dev, dask), so it can run against it.
# The build runs in a copy of the tree: mypyc writes its extension modules beside the sources,
# and in src/ they would shadow the editable install's Python files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv-compiled}"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp -r "$root/pyproject.toml" "$root/README.md" "$root/src" "$work/"
find "$work/src" -name '__pycache__' -prune -exec rm -rf {} +
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
HATCH_BUILD_HOOKS_ENABLE=1 "$venv/bin/python" -m pip wheel -q --no-deps -w "$work/dist" "$work"
wheel="$(ls "$work"/dist/casework-*.whl)"
# A rebuild has the same version as the build it replaces: reinstall it, then its extras.
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"
"$venv/bin/python" -m pip install -q "${wheel}[dev,dask]"
# Say so when the build came out pure Python (a failed hook must not pass unseen).
"$venv/bin/python" -c 'import casework.ingest as m, sys; sys.exit(0 if m.__file__.endswith(".so") else "casework.ingest is not compiled: " + m.__file__)'
echo "compiled casework installed in $venv"
