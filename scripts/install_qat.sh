#!/usr/bin/env bash
# Quantization-aware training for `edgeface convert --qat`: tf-keras + tensorflow-model-optimization, into the
# active Python environment (the one with edgeface's toolchain).
# tensorflow-model-optimization 0.8.1 (the latest) declares numpy~=1.23 and absl-py~=1.2, and tf-keras declares
# `tensorflow` rather than `tensorflow-cpu`: installed the usual way they would downgrade NumPy and pull in a
# second, 600 MB TensorFlow. Both run on the toolchain's NumPy 2 / TensorFlow-CPU 2.21 (tests/test_qat.py checks
# it), so they are installed without their declared dependencies, plus the small ones they really use.
set -euo pipefail
python=${PYTHON:-python3}
"$python" -m pip install -q --no-deps "tf-keras==2.21.0" "tensorflow-model-optimization==0.8.1" "dm-tree==0.1.10"
"$python" -m pip install -q "attrs>=18.2" "six>=1.14" "wrapt>=1.11"
"$python" -c "import tf_keras, tensorflow_model_optimization as m; print('QAT ready: tf-keras', tf_keras.__version__, '+ tfmot', m.__version__)"
