#!/usr/bin/env bash
# docs/TRAINING.md's shipping checklist for new NNS2 weights, in order, as one command: everything that embeds a
# face is measured again. Run from the repo root with the toolchain installed; LFW at $EDGEFACE_LFW or
# ../shared/data/lfw. Two chains share the machine: the float reference (TensorFlow: all of LFW and its tail)
# runs beside the deployed chain (LiteRT: convert, export, door policy, gates, card, scenarios).
#
# Usage: scripts/ship_checklist.sh CANDIDATE_DIR WORK_DIR [NUAA_DB]
#   CANDIDATE_DIR: a kept candidate (scripts/keep_candidate.py), e.g. training/candidates/v6run5; it warm-started
#     from the shipped weights, whose card leads the recipe chain (--after-card).
#   WORK_DIR: outside the repo; gets E.npz / F.npz (all of LFW, deployed and float), the soak video and gallery,
#     and one log per step (progress and library chatter stay out of the terminal).
#   NUAA_DB: the NUAA photo-attack database (ClientRaw/, ImposterRaw/ and the split lists); with it the attack
#     scenarios run too.
# Prints one line per step with its time; stops at the first failing step (set -e), the repo then holds what
# the steps before it wrote: `git status` shows it, `git checkout -- .` undoes it.
# Afterwards: README's tables and docs/TRAINING.md by hand, then `pytest -q -ra` (its gates read what this wrote).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 CANDIDATE_DIR WORK_DIR [NUAA_DB]" >&2; exit 2; }
candidate=$1 work=$2 nuaa=${3:-}
[ -f "$candidate/student.weights.h5" ] || { echo "$candidate: no student.weights.h5 (keep_candidate.py makes it)" >&2; exit 2; }
[ -z "$nuaa" ] || [ -d "$nuaa/ClientRaw" ] || { echo "$nuaa: not a NUAA database (no ClientRaw/)" >&2; exit 2; }
cd "$(dirname "$0")/.."
lfw=${EDGEFACE_LFW:-../shared/data/lfw}
[ -d "$lfw/lfw-deepfunneled" ] || { echo "$lfw: no lfw-deepfunneled/ (set EDGEFACE_LFW)" >&2; exit 2; }
mkdir -p "$work"
step() {  # step NAME COMMAND...: run it with its output in WORK_DIR/NAME.log, print its time
  local name=$1; shift
  local start=$SECONDS
  if "$@" > "$work/$name.log" 2>&1; then
    echo "$(date +%T) $name: done in $((SECONDS - start)) s"
  else
    echo "$(date +%T) $name: FAILED (exit $?), see $work/$name.log" >&2; tail -5 "$work/$name.log" >&2; return 1
  fi
}

step ship scripts/ship_nns2.sh --mirror-fusion "$candidate/student.weights.h5" \
  --after-card edgeface/weights/nns2_facenet.json "$candidate"
(
  step float_export edgeface export-embeddings "$lfw/lfw-deepfunneled" "$work/F.npz" --embedder nns2
  step float_allpairs edgeface eval-allpairs "$work/F.npz" --out reports/allpairs_nns2_float.json
) &
float_chain=$!
step convert edgeface convert --int8
step export edgeface export-embeddings "$lfw/lfw-deepfunneled" "$work/E.npz" --models models
step door_policy edgeface lock calibrate "$work/E.npz" --half calibration --stranger-visits 2000 \
  --policy-out reports/door_policy_nns2_int8.json
step record_policy python scripts/record_door_policy.py reports/door_policy_nns2_int8.json nns2
step convert_again edgeface convert --int8
step heldout python scripts/heldout_door_check.py "$work/E.npz"
step allpairs edgeface eval-allpairs "$work/E.npz" --out reports/allpairs_nns2_int8.json
step household edgeface lock calibrate "$work/E.npz" --out reports/household_nns2_int8.json
step compare edgeface eval --compare --models models --variant int8 --out reports/compare_int8.json
wait "$float_chain" || { echo "the float reference chain failed" >&2; exit 1; }
step card python scripts/write_model_card.py --deployed --allpairs-int8 reports/allpairs_nns2_int8.json \
  --door-policy reports/door_policy_nns2_int8.json --allpairs-float reports/allpairs_nns2_float.json \
  --compare reports/compare_int8.json
step scenario edgeface lock scenario --models models
step scenario_liveness_on edgeface lock scenario --models models --liveness on --strangers 0 \
  --out reports/door_scenario_lfw_liveness_on.json   # README: pasted LFW photos are refused as photos
step workflow python scripts/lfw_workflow_eval.py --models models
if [ -n "$nuaa" ]; then
  for mode in off on; do
    step "attack_liveness_$mode" edgeface lock attack-scenario "$nuaa" --models models --liveness "$mode" \
      --out "reports/attack_scenario_nuaa_liveness_$mode.json"
  done
  for every in 1 10; do
    step "attack_full_detect_every_$every" edgeface lock attack-scenario "$nuaa" --models models \
      --full-detect-every "$every" --out "reports/attack_scenario_nuaa_full_detect_every_$every.json"
  done
fi
[ -f "$work/soak.avi" ] || step soak_video python scripts/make_soak_video.py "$work/soak.avi" --lfw "$lfw"
rm -f "$work/gallery.json" "$work/soak_audit.jsonl"
step soak_enroll edgeface lock enroll "Colin Powell" --images "$lfw/lfw-deepfunneled/Colin_Powell" \
  --gallery "$work/gallery.json" --models models
step soak /usr/bin/time -v edgeface lock run --video "$work/soak.avi" --models models --gallery "$work/gallery.json" \
  --report reports/soak.json --audit "$work/soak_audit.jsonl"
grep -h "Maximum resident" "$work/soak.log" || true
echo "$(date +%T) checklist done; bench re-runs only where speed can have changed (the weights alone cannot)"
echo "bench-tracking's visit counts do change with the weights: re-run it (edgeface convert --fp16 --dynamic --int8"
echo "--edgetpu --input-size 640x480 --out bench_models; edgeface bench-tracking) on a quiet machine, for its frames/s"
