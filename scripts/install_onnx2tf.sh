#!/usr/bin/env bash
# onnx2tf for `edgeface convert --from-onnx`, in an environment of its own: onnx2tf pins TensorFlow 2.19, NumPy 1.x
# and protobuf 4, which cannot share edgeface's environment (TensorFlow 2.21). tf2onnx comes along so the tests
# can make an ONNX model from a TFLite one. Usage: scripts/install_onnx2tf.sh [VENV_DIR]  (default .venv-onnx2tf)
set -euo pipefail
venv=${1:-"$(cd "$(dirname "$0")/.." && pwd)/.venv-onnx2tf"}
if [ ! -x "$venv/bin/onnx2tf" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q onnx2tf==1.29.24 tf2onnx==1.17.0
fi
echo "onnx2tf: $venv/bin/onnx2tf (edgeface finds it as .venv-onnx2tf in the current folder or an editable checkout; else export EDGEFACE_ONNX2TF=$venv/bin/onnx2tf)"
