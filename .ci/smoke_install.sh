#!/usr/bin/env bash
# The install as a newcomer makes it, used from outside the checkout (where the checkout cannot shadow it):
#   toolchain venv (active, non-editable):  edgeface convert --int8, edgeface align
#   fresh runtime-only venv (`pip install .`): no TensorFlow, edgeface compare --models on the converted folder
# Usage: .ci/smoke_install.sh  (with the toolchain venv active; LFW from $EDGEFACE_LFW or ../shared/data/lfw)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
lfw=${EDGEFACE_LFW:-$repo/../shared/data/lfw}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
python - <<'PY'
import edgeface, edgeface.runtime, pathlib, os
for module in (edgeface, edgeface.runtime):
    assert "site-packages" in module.__file__, f"{module.__name__} is not the installed package: {module.__file__}"
print("smoke: edgeface imported from", pathlib.Path(edgeface.__file__).parent)
PY
start=$SECONDS
edgeface convert --int8 --out X --lfw "$lfw" --input-size 640x480 --calibration-images 20 --agreement-images 20
test -s X/facenet_int8.tflite && test -s X/manifest.json
echo "smoke: convert --int8 from outside the checkout: $((SECONDS - start)) s; $(ls X/*.tflite | wc -l) models"

mkdir -p in/Person
cp "$lfw"/lfw-deepfunneled/Aaron_Peirsol/Aaron_Peirsol_000[12].jpg in/Person/
edgeface align in aligned >/dev/null 2>&1
test -s aligned/Person/Aaron_Peirsol_0001.png && test -s aligned/Person/Aaron_Peirsol_0002.png
echo "smoke: align wrote $(ls aligned/Person | wc -l) crops"

python3 -m venv runtime-venv
runtime-venv/bin/pip install -q --upgrade pip
runtime-venv/bin/pip install -q "$repo"
if runtime-venv/bin/python -c "import tensorflow" 2>/dev/null; then
  echo "smoke: the runtime-only install brought TensorFlow" >&2; exit 1
fi
runtime-venv/bin/edgeface compare --models X in/Person/Aaron_Peirsol_0001.jpg in/Person/Aaron_Peirsol_0002.jpg
echo "smoke: runtime-only install (no TensorFlow) compared with the converted models"
