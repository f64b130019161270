#!/usr/bin/env bash
# Re-resolve the dependency lock, requirements/constraints.txt, from pyproject.toml.
# Run it after changing a dependency in pyproject.toml (tests/test_lock.py fails until you do).
# It keeps every pin that still satisfies pyproject; `bash scripts/lock.sh --upgrade` moves every
# package to its newest allowed version (then run the whole suite before committing the lock).
# pip-tools runs in a throwaway venv, so the project's .venv is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "scripts/lock.sh: needs python3 to be Python 3.11 (the project's)" >&2; exit 2; }
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/python" -m pip install -q 'pip-tools==7.6.2'
CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" "$tools/bin/pip-compile" --quiet \
  --all-extras --strip-extras --no-emit-index-url --no-emit-find-links \
  --output-file requirements/constraints.txt "$@" pyproject.toml
echo "wrote requirements/constraints.txt"
