#!/usr/bin/env bash
# Create (or update) the project's virtual environment at .venv with the pinned, tested OpenMMLab stack.
# Idempotent: a second run on the same machine only checks the pins (mmcv comes from pip's wheel cache).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${MMSPECGENE_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
STAMP=$VENV/.mmspecgene-setup
REQ_HASH=$(cat requirements/*.txt setup.py tools/setup_env.sh model-index.yml 2>/dev/null | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_HASH" ]; then
  echo "[setup_env] $VENV is up to date"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
CONSTRAINT=(-c "$ROOT/requirements/constraints.txt")

echo "[setup_env] 1/5 torch, torchvision and build tools"
"${PIP[@]}" install -q "${CONSTRAINT[@]}" -r requirements/build.txt

echo "[setup_env] 2/5 mmcv 2.1.0 with CPU ops (built once, then reused from pip's wheel cache)"
if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops" >/dev/null 2>&1; then
  WRAP=$(mktemp -d)/gxx20
  # torch 2.14 headers need C++20, mmcv's setup.py appends -std=c++17 after user flags: the last -std wins.
  printf '#!/bin/sh\nexec g++ "$@" -std=c++20\n' >"$WRAP"
  chmod +x "$WRAP"
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} CXX="$WRAP" \
    CFLAGS="-DNDEBUG -O3 -fwrapv -g0" \
    "${PIP[@]}" install -q --no-build-isolation "${CONSTRAINT[@]}" mmcv==2.1.0
fi

echo "[setup_env] 3/5 OpenMMLab hosts and runtime libraries"
"${PIP[@]}" install -q "${CONSTRAINT[@]}" -r requirements/mminstall.txt -r requirements/runtime.txt \
  -r requirements/tests.txt

echo "[setup_env] 4/5 openmim and pysodmetrics without their declared pins (requirements/nodeps.txt)"
"${PIP[@]}" install -q "${CONSTRAINT[@]}" -r requirements/mim.txt
"${PIP[@]}" install -q "${CONSTRAINT[@]}" --no-deps -r requirements/nodeps.txt

echo "[setup_env] 5/5 mmspecgene (editable, no deps)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
# mim looks for <site-packages>/mmspecgene/.mim; a PEP 660 editable install has no such folder, so point it at
# the checkout (the same files the editable finder imports). setup.py links configs/, tools/ and demo/ into .mim.
SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
[ -e "$SITE/mmspecgene" ] || ln -s "$ROOT/mmspecgene" "$SITE/mmspecgene"

"$VENV/bin/python" - <<'PY'
import torch, mmcv, mmengine, mmdet, mmseg, mmpretrain
assert torch.__version__.startswith('2.14.1'), torch.__version__
print('[setup_env] torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__,
      'mmdet', mmdet.__version__, 'mmseg', mmseg.__version__, 'mmpretrain', mmpretrain.__version__)
PY
echo "$REQ_HASH" >"$STAMP"
