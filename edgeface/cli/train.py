"""`edgeface train ...`: align face sets, cache teacher targets, remove LFW near-duplicates, train the NNS2."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgeface.console import quiet_terminal
from edgeface.cli.common import LfwOption, guarded

train_app = typer.Typer(no_args_is_help=True, help="Train the NNS2 FaceNet (recipe: docs/TRAINING.md).")


@train_app.command("prepare")
@guarded
def train_prepare(
    images_dir: Path = typer.Argument(..., help="folder of face images (any layout)"),
    out: Path = typer.Argument(..., help="aligned crop cache to write (.npz)"),
    identities: Optional[Path] = typer.Option(None, help="CSV file,identity (e.g. ../shared/data/train/*.csv)"),
    jobs: int = typer.Option(2, help="parallel processes"),
    min_face_size: float = typer.Option(20.0, min=12.0, help="smallest face searched, px (20: the runtime's; 40 "
                                        "aligns large-face sets in a little over half the time)"),
) -> None:
    """Align a face set with our MTCNN into a 112x112 crop cache (mirrored border for tight crops)."""
    from edgeface.training.prepare import PrepareConfig, prepare_in_processes

    counts = prepare_in_processes(images_dir, out, identities, jobs, PrepareConfig(min_face_size=min_face_size))
    typer.echo(f"{out}: aligned={counts['aligned']} failed={counts['failed']}")


@train_app.command("teacher")
@guarded
def train_teacher(sets: list[Path] = typer.Argument(..., help="aligned crop caches")) -> None:
    """Cache MobileFaceNet targets (crop and mirror) for each aligned set."""
    from edgeface.training.teachers import cache_teacher

    for aligned in sets:
        typer.echo(f"wrote {cache_teacher(aligned)}")


@train_app.command("dedup")
@guarded
def train_dedup(
    sets: list[Path] = typer.Argument(..., help="aligned crop caches (with teacher targets)"),
    lfw_root: Optional[Path] = LfwOption,
    threshold: float = typer.Option(0.4, help="Euclidean teacher distance under which a crop is an LFW copy"),
    cache: Path = typer.Option(Path("runs/lfw_mobilefacenet.npz"), help="LFW teacher embeddings cache"),
) -> None:
    """Mark training crops that are near-duplicates of any LFW image; training skips them."""
    from edgeface.lfw import locate_lfw
    from edgeface.training.dedup import lfw_teacher_embeddings, mark_duplicates

    vectors = lfw_teacher_embeddings(locate_lfw(lfw_root), cache)
    for aligned in sets:
        typer.echo(f"{aligned}: {mark_duplicates(aligned, vectors, threshold)} near-duplicates of LFW removed")


@train_app.command("run")
@guarded
def train_run(
    sets: list[Path] = typer.Argument(..., help="aligned crop caches (teacher targets + dedup done)"),
    out: Path = typer.Option(Path("runs/nns2"), help="run folder: log.jsonl, checkpoints, best weights"),
    epochs: float = typer.Option(10.0),
    batch_size: int = typer.Option(128),
    learning_rate: float = typer.Option(2e-3),
    weight_embedding: float = typer.Option(1.0, help="distillation: 1 - cos(projected student, teacher)"),
    weight_similarity: float = typer.Option(10.0, help="distillation: MSE of in-batch similarity matrices"),
    weight_triplet: float = typer.Option(0.0, help="FaceNet triplet loss, online semi-hard mining"),
    weight_softmax: float = typer.Option(0.0, help="cosine softmax over training identities (its class weights start "
                                                   "at each identity's mean embedding under the starting student)"),
    softmax_margin: float = typer.Option(0.0, help="CosFace margin on that softmax's true-class cosine, e.g. 0.35"),
    bfloat16: Optional[bool] = typer.Option(None, "--bfloat16/--no-bfloat16",
                                            help="mixed bfloat16; default: on where the CPU has AVX512-BF16 or "
                                                 "AMX-BF16 (elsewhere it is emulated, about 4x slower)"),
    dev_every: int = typer.Option(1000, help="steps between LFW-dev checks"),
    seed: int = typer.Option(20261121),
    resume: bool = typer.Option(False, help="continue from the run folder's last checkpoint"),
    init_weights: Optional[Path] = typer.Option(None, help="warm start from a student .weights.h5 (fresh schedule)"),
    init_projection: Optional[Path] = typer.Option(None, help="with --init-weights: the teacher projection from the "
                                                              "checkpoint.npz of the run that made them"),
    jitter: float = typer.Option(0.0, help="scale/shift augmentation, fraction of the crop (e.g. 0.05)"),
    warmup_steps: int = typer.Option(300, help="linear learning-rate warm-up before the cosine decay"),
    mirror_fused_targets: bool = typer.Option(False, help="a crop and its mirror share the flip-fused teacher target"),
    online_teacher: bool = typer.Option(False, help="the teacher embeds each augmented view as the student sees it"),
    mixup: float = typer.Option(0.0, help="with --online-teacher: fraction of each batch blended with another face"),
    weight_hard_pairs: float = typer.Option(0.0, help="match the teacher's similarity on the hardest in-batch pairs"),
    hard_pair_fraction: float = typer.Option(0.02, help="share of different-face (and same-face) pairs counted hard"),
    weight_genuine_pairs: float = typer.Option(0.0, help="match the teacher's similarity on same-person pairs "
                                                         "(batches then group 16 identities x 4 faces)"),
    weight_neighbours: float = typer.Option(0.0, help="match the teacher's softmax over each face's in-batch "
                                                      "neighbours (batches then group 16 identities x 4 faces)"),
    neighbour_temperature: float = typer.Option(0.05, help="temperature of that softmax"),
    dev_tail: bool = typer.Option(False, help="at each dev check also log TAR at FAR 1e-3..1e-5 over every pair of "
                                              "LFW's View-1 images, alone and mirror-fused, and keep "
                                              "best_tail.weights.h5 by the mirror-fused TAR (the lock's mode)"),
    continue_schedule: bool = typer.Option(False, help="with --init-weights/--init-projection from a run kept mid-way: "
                                                       "go on with its schedule from the step its checkpoint "
                                                       "records (same schedule flags), not a fresh one"),
    fused_student: bool = typer.Option(False, help="with --mirror-fused-targets: each crop and its mirror pass the "
                                                   "student and their fused embedding (what a mirror-fusing lock "
                                                   "compares) is distilled; a step holds batch-size/2 crops"),
    lfw_root: Optional[Path] = LfwOption,
) -> None:
    """Train the NNS2 FaceNet (distillation by default; triplet/softmax selectable)."""
    from edgeface.training.train import TrainConfig, Trainer

    config = TrainConfig(sets=[str(s) for s in sets], out_dir=str(out), epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, weight_embedding=weight_embedding,
                         weight_similarity=weight_similarity, weight_triplet=weight_triplet,
                         weight_softmax=weight_softmax, softmax_margin=softmax_margin, bfloat16=bfloat16,
                         dev_every=dev_every, seed=seed,
                         lfw_root=str(lfw_root) if lfw_root else None, warmup_steps=warmup_steps,
                         init_weights=str(init_weights) if init_weights else None, jitter=jitter,
                         init_projection=str(init_projection) if init_projection else None,
                         mirror_fused_targets=mirror_fused_targets, online_teacher=online_teacher, mixup=mixup,
                         weight_hard_pairs=weight_hard_pairs, hard_pair_fraction=hard_pair_fraction,
                         weight_genuine_pairs=weight_genuine_pairs, weight_neighbours=weight_neighbours,
                         neighbour_temperature=neighbour_temperature,
                         dev_tail=dev_tail, continue_schedule=continue_schedule, fused_student=fused_student)
    with quiet_terminal(out / "train.log"):
        trainer = Trainer(config)
        typer.echo(f"{len(trainer.data)} crops ({trainer.data.removed_duplicates} LFW near-duplicates removed), "
                   f"{trainer.data.num_classes} identities, {trainer.total_steps} steps"
                   + (f" (continued from step {trainer.start_step})" if trainer.start_step else ""), err=True)
        result = trainer.run(resume=resume)
    typer.echo(str(result))
