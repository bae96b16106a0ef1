#!/usr/bin/env bash
# adv_kt's test command. From a fresh machine (Python 3.11 and pip) it builds .venv, installs the pinned
# dependencies and runs every check. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; v=sys.version_info[:2]; assert v==(3,11), f"adv_kt needs Python 3.11, {sys.executable} is {v}"'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
pip install -q -c tools/constraints.txt -e ".[dev,ray]"   # exact versions: tools/constraints.txt
export ADV_KT_PRESET="${ADV_KT_PRESET:-smoke}"   # notebooks run the small CI preset
export MPLBACKEND=Agg
t0=$SECONDS
step() { echo; echo "== $1  (t=$((SECONDS-t0))s)"; }

snapshot() { { git status --porcelain -- "$@"; git diff -- "$@"; } | md5sum; }

step "1/6 nbdev_export: notebooks and adv_kt/ in sync"
before=$(snapshot adv_kt); nbdev_export; after=$(snapshot adv_kt)
if [ "$before" != "$after" ]; then git status --short -- adv_kt; echo "FAIL: nbdev_export changed adv_kt/; export and commit"; exit 1; fi

step "2/6 nbdev_clean: notebooks clean"
before=$(snapshot nbs); nbdev_clean; after=$(snapshot nbs)
if [ "$before" != "$after" ]; then git status --short -- nbs; echo "FAIL: nbdev_clean changed notebooks; clean and commit"; exit 1; fi

step "3/6 nbdev_test: every notebook"
nbdev_test --n_workers 1 --timing

step "4/6 pytest tests/"
python -m pytest tests/ -q -rs -p no:cacheprovider

step "5/6 nbval: notebooks top to bottom in a Jupyter kernel (output-cleared copies)"
python tools/nbval_copies.py nbs _nbval
python -m pytest --nbval-lax _nbval -q -p no:cacheprovider

step "6/6 docs: site built offline with Sphinx (_site/), README.md and nbs/sidebar.yml up to date with the notebooks"
# tests/test_docs_site.py (step 4) built _site and opened every page in Chromium; this reuses that build when fresh.
docs=(README.md index_files nbs/sidebar.yml)
before=$(snapshot "${docs[@]}"); python tools/docs.py --readme; after=$(snapshot "${docs[@]}")
if [ "$before" != "$after" ]; then git status --short -- "${docs[@]}"; echo "FAIL: README.md (or index_files/, nbs/sidebar.yml) is out of date; run python tools/docs.py --readme and commit"; exit 1; fi

echo; echo "All checks passed in $((SECONDS-t0))s."
