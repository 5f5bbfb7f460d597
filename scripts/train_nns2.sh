#!/usr/bin/env bash
# The NNS2 FaceNet recipe, end to end: align → teacher targets → LFW de-duplication → training → export.
# Usage: scripts/train_nns2.sh RAW_DIR WORK_DIR [EPOCHS]
#   RAW_DIR holds the public face sets as fetched (docs/TRAINING.md says from where):
#     celeba_test/*.jpg, celeba_10k/celebA/*.jpg, utkface/data/UTKFace/unlabeled/*.jpg,
#     fairface/fair_face/{train,val}/*.jpg (from v6 on)
#   WORK_DIR receives aligned crops, teacher targets, the run folder and logs (never commit it).
# Each step skips what an earlier, complete run of it already wrote, so the script can be re-run to resume.
set -euo pipefail
raw=${1:?RAW_DIR}; work=${2:?WORK_DIR}; epochs=${3:-6}
labels=${EDGEFACE_TRAIN_LABELS:-$(dirname "$0")/../../shared/data/train}
mkdir -p "$work/aligned"
prepare() {  # name images_dir [identities.csv]
  local out="$work/aligned/$1.npz"
  [ -f "$out" ] && return 0
  edgeface train prepare "$2" "$out" ${3:+--identities "$3"} --jobs 2
}
prepare celeba_test "$raw/celeba_test" "$labels/celeba_test_crops_trung_identities.csv"
prepare celeba_10k "$raw/celeba_10k/celebA" "$labels/celeba_first10k_karthik_identities.csv"
prepare utkface "$raw/utkface/data/UTKFace/unlabeled"
prepare fairface "$raw/fairface/fair_face"
sets=("$work/aligned/fairface.npz" "$work/aligned/celeba_test.npz" "$work/aligned/celeba_10k.npz" "$work/aligned/utkface.npz")
for s in "${sets[@]}"; do
  [ -f "${s%.npz}.mobilefacenet.npz" ] || edgeface train teacher "$s"
done
edgeface train dedup "${sets[@]}" --cache "$work/lfw_mobilefacenet.npz"
resume=(); [ -f "$work/run/checkpoint.npz" ] && resume=(--resume)
edgeface train run "${sets[@]}" --out "$work/run" --epochs "$epochs" "${resume[@]}"
echo "done: ship the weights with  scripts/ship_nns2.sh $work/run/best.weights.h5 $work/run"
