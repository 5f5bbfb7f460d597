#!/usr/bin/env bash
# Ship trained NNS2 weights: copy them into edgeface/weights (atomically), record their sha256, evaluate them on
# the 6,000 LFW pairs (float MTCNN, with and without flip), record the LFW operating point the lock and the
# converter's manifest use, and rewrite the model card from those measurements.
# Usage: scripts/ship_nns2.sh [--mirror-fusion] WEIGHTS.h5 RUN_DIR [RUN_DIR ...]
#   RUN_DIRs: the training run(s) that made the weights, oldest first (a warm-started run after the run it
#   started from); their config.json and log.jsonl go into the model card. Put `--after-card CARD.json` first
#   where the first run warm-started from shipped weights whose run folders are gone: that card's stages lead
#   the chain (e.g. --after-card edgeface/weights/nns2_facenet.json, read before it is rewritten).
#   --mirror-fusion: the lock embeds each face with its mirror image (docs/TRAINING.md); the thresholds are
#   recorded for that, and the door policy must then be calibrated again (README, "How safe is the door").
set -euo pipefail
fusion=()
if [ "${1:-}" = "--mirror-fusion" ]; then fusion=(--mirror-fusion); shift; fi
weights=${1:?WEIGHTS.h5}; shift
[ $# -ge 1 ] || { echo "usage: $0 [--mirror-fusion] WEIGHTS.h5 RUN_DIR [RUN_DIR ...]" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
target="$repo/edgeface/weights/nns2_facenet.weights.h5"
cp "$weights" "$target.partial" && mv "$target.partial" "$target"
cd "$repo"
python -c 'from scripts.record_operating_point import update_sums; update_sums("nns2_facenet.weights.h5")'
edgeface eval --embedder nns2 --out reports/eval_nns2.json
python scripts/record_operating_point.py reports/eval_nns2.json nns2 "${fusion[@]}"
python scripts/write_model_card.py "$@" reports/eval_nns2.json
echo "shipped $(sha256sum "$target" | cut -c1-16)…; re-convert (edgeface convert --int8) and re-run the gates"
