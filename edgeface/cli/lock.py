"""`edgeface lock ...`: enrol, list, remove, run the lock; calibrate its policy and replay scenarios."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from edgeface.console import quiet_terminal
from edgeface.cli.common import (FullDetectOption, GalleryOption, LfwOption, LivenessOption, ModelsOption,
                                 VariantOption, fail, gallery_path, guarded, liveness_line, liveness_on,
                                 open_for_command, using_line)

lock_app = typer.Typer(no_args_is_help=True, help="The door lock: enrol people, list/remove them, run the lock loop.")


@lock_app.command("enroll")
@guarded
def lock_enroll(
    name: str = typer.Argument(..., help="the person's name"),
    images: Optional[Path] = typer.Option(None, help="folder of this person's photos"),
    camera: Optional[int] = typer.Option(None, help="camera index to take shots from"),
    shots: int = typer.Option(5, help="good embeddings to keep"),
    gallery: Optional[Path] = GalleryOption,
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    min_face_px: float = typer.Option(60.0, help="quality: shortest face side in pixels"),
    min_sharpness: float = typer.Option(15.0, help="quality: variance of the Laplacian of the aligned face"),
    add: bool = typer.Option(False, "--add", help="NAME is enrolled already: add these shots to theirs"),
    replace: bool = typer.Option(False, "--replace", help="NAME is enrolled already: replace their shots"),
) -> None:
    """Enrol NAME from photos or a camera: keeps the sharpest good single-face shots, says why others were refused.
    The shots must look like one person (and like NAME's enrolled shots with --add)."""
    from edgeface.runtime.frames import open_frames
    from edgeface.runtime.gallery import normalise_name
    from edgeface.runtime.lock import QualityConfig, collect_enrolment, enrol

    if images is None and camera is None:
        fail("give --images DIR or --camera N")
    if add and replace:
        fail("give --add or --replace, not both")
    name = normalise_name(name)  # refuse a bad name before minutes of camera work
    path = gallery_path(gallery)
    pipeline = open_for_command(models, variant)
    frames = open_frames(camera=camera, images=images)
    result = collect_enrolment(frames, pipeline, shots, QualityConfig(min_face_px=min_face_px,
                                                                       min_sharpness=min_sharpness),
                               max_frames=None if camera is None else 30 * shots)
    for label, reason in result.rejected:
        typer.echo(f"refused {label}: {reason}", err=True)
    if len(result.embeddings) == 0:
        fail(f"no usable shot of {name} ({len(result.rejected)} refused); nothing enrolled", code=1)
    person = enrol(path, name, result, pipeline, mode="add" if add else "replace" if replace else "new")
    note = "" if len(result.embeddings) >= shots else f" (only {len(result.embeddings)} of {shots} wanted)"
    typer.echo(f"enrolled {name}: {len(result.embeddings)} shots{note}, {len(result.rejected)} refused; "
               f"{len(person.embeddings)} shots in the gallery -> {path}")


@lock_app.command("list")
@guarded
def lock_list(gallery: Optional[Path] = GalleryOption) -> None:
    """Enrolled people, their number of shots and enrolment time."""
    from edgeface.runtime.gallery import load_gallery

    book = load_gallery(gallery_path(gallery))
    for person in sorted(book.people.values(), key=lambda p: p.name):
        typer.echo(f"{person.name}\t{len(person.embeddings)} shots\tenrolled {person.enrolled}")
    typer.echo(f"{len(book.people)} people (model {book.model[:12]}…)")


@lock_app.command("remove")
@guarded
def lock_remove(name: str = typer.Argument(...), gallery: Optional[Path] = GalleryOption) -> None:
    """Remove NAME from the gallery (atomic rewrite under the gallery lock; a running lock sees it within ~1 s)."""
    from edgeface.runtime.lock import remove

    left = remove(gallery_path(gallery), name)
    typer.echo(f"removed {name}; {left} people left")


@lock_app.command("run")
@guarded
def lock_run(
    camera: Optional[int] = typer.Option(None, help="camera index"),
    video: Optional[Path] = typer.Option(None, help="video file to replay"),
    images: Optional[Path] = typer.Option(None, help="folder of frames to replay (sorted by name)"),
    fps: float = typer.Option(5.0, help="--images: frame rate that times the replay"),
    gallery: Optional[Path] = GalleryOption,
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    k: int = typer.Option(3, help="unlock when the same person matches in k ..."),
    n: int = typer.Option(5, help="... of the last n frames ..."),
    window: float = typer.Option(3.0, help="... within this many seconds"),
    relock: float = typer.Option(5.0, help="seconds until the door locks again"),
    threshold: Optional[float] = typer.Option(None, help="Euclidean threshold, used as given (overrides the "
                                                         "security target)"),
    far_per_visit: float = typer.Option(1e-4, help="security target: stranger visits let in; the threshold for the "
                                                   "gallery's size comes from the models folder's door policy"),
    action: str = typer.Option("print", help="print (dry run) | command:CMD | gpio:PIN"),
    action_timeout: float = typer.Option(5.0, help="command: action: seconds before the command is killed"),
    audit: Path = typer.Option(Path("audit.jsonl"), help="append-only JSON-lines decision log (rotated at 10 MB)"),
    threads: int = typer.Option(1, help="interpreter threads"),
    report: Optional[Path] = typer.Option(None, help="write run statistics (and RSS, stage latency) as JSON"),
    liveness: str = LivenessOption,
    full_detect_every: int = FullDetectOption,
    min_face_size: Optional[float] = typer.Option(None, help="smallest face (px) searched for; a door camera's "
                                                             "visitor is >= 80 px wide in 640x480, and 80 runs "
                                                             "6 pyramid levels instead of 10 (default: the models "
                                                             "folder's, 20)"),
) -> None:
    """Run the lock: detect → align → embed → nearest enrolled person → k-of-n decision → action + audit.
    Relocks on start and on every exit; `lock enroll/remove` apply while it runs (SIGHUP: reload at once)."""
    import json

    from edgeface.runtime.actions import AuditLog, make_action
    from edgeface.runtime.frames import open_frames
    from edgeface.runtime.gallery import load_gallery
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.runtime.lock import LockConfig, Stopped, liveness_gate, operating_threshold, run_report, serve
    from edgeface.runtime.resources import rss_mb

    config = LockConfig(k=k, n=n, window_s=window, relock_s=relock, threshold=threshold,
                        far_per_visit=far_per_visit, liveness=liveness_on(liveness),
                        full_detect_every=full_detect_every)  # validates the values
    frames = open_frames(camera=camera, video=video, images=images, fps=fps)
    door = make_action(action, action_timeout)
    path = gallery_path(gallery)
    book = load_gallery(path)
    if not book.people:
        fail(f"{path}: nobody is enrolled")
    pipeline = open_for_command(models, variant, min_face_size=min_face_size, threads=threads, announce=False)
    operating = operating_threshold(pipeline, book, config)
    check = liveness_gate(pipeline, config)  # before the door is touched: no nets, no threshold → refused
    typer.echo(f"threshold {operating.threshold} ({operating.how}); {liveness_line(check)}; {using_line(pipeline)}",
               err=True)  # first line
    log = AuditLog(audit)
    rss_start = rss_mb()
    started = time.perf_counter()
    try:
        stats = serve(frames, pipeline, path, config, door, log, keep_stage_times=report is not None)
    except Stopped as signal_name:
        fail(f"stopped by {signal_name}; the door was relocked", code=143)
    finally:
        log.close()
    summary = run_report(stats, pipeline, time.perf_counter() - started, rss_start, stage_times=report is not None)
    if report is not None:
        atomic_write_json(report, summary)
    typer.echo(json.dumps(summary))


@lock_app.command("calibrate")
@guarded
def lock_calibrate(
    embeddings: Path = typer.Argument(..., help="`edgeface export-embeddings` output of LFW (every image)"),
    out: Optional[Path] = typer.Option(None, help="JSON sweep report, a DET PNG beside it (default: "
                                                  "reports/household.json; with --policy-out, only if given)"),
    households: int = typer.Option(200), residents: int = typer.Option(4), shots: int = typer.Option(5),
    stranger_visits: int = typer.Option(200, help="stranger visits per household"),
    k: int = typer.Option(3), n: int = typer.Option(5), window: float = typer.Option(3.0),
    seed: int = typer.Option(16),
    half: str = typer.Option("all", help="LFW people used: all | calibration (even positions) | test (odd)"),
    threshold: list[float] = typer.Option([], help="thresholds to sweep (repeatable; default 0.70 ... 1.20 by 0.01)"),
    policy_out: Optional[Path] = typer.Option(None, help="also write the door policy: per target (1e-3, 1e-4) and "
                                                         "household size (1-8 residents), the lock's threshold"),
) -> None:
    """Household simulation: stranger visits let in and resident visits refused over a threshold sweep."""
    import numpy as np

    from edgeface.household import HouseholdConfig, plot_det, simulate
    from edgeface.runtime.fileio import atomic_write_json, portable_path
    from edgeface.runtime.lock import LockConfig

    config = HouseholdConfig(households=households, residents=residents, shots=shots,
                             stranger_visits_per_household=stranger_visits, seed=seed, half=half)
    if half not in ("all", "calibration", "test"):
        fail(f"--half is all, calibration or test (got {half!r})")
    with np.load(embeddings, allow_pickle=False) as data:
        report = simulate(data["embeddings"], data["labels"], config, LockConfig(k=k, n=n, window_s=window),
                          np.array(sorted(threshold)) if threshold else None)
    report["embeddings"] = portable_path(embeddings)
    if out is None and policy_out is None:
        out = Path("reports/household.json")
    if out is not None:
        atomic_write_json(out, report)
        plot_det({embeddings.stem: report}, out.with_suffix(".png"))
    typer.echo(f"{'threshold':>9s} {'stranger frames':>15s} {'strangers let in':>24s} {'95% bound':>9s} "
               f"{'people':>6s} {'by person':>9s} {'residents refused':>17s}")
    for row in report["sweep"]:
        typer.echo(f"{row['threshold']:9.3f} {row['stranger_frames_matched']:15.2e} "
                   f"{row['stranger_visits_let_in']:>8d} / {row['stranger_visits']:<6d} {row['far_per_visit']:7.1e} "
                   f"{row['far_per_visit_upper_95']:9.1e} {row['stranger_people_let_in']:6d} "
                   f"{row['far_per_visit_upper_95_by_person']:9.1e} {100 * row['frr_per_visit']:16.1f}%")
    if out is not None:
        typer.echo(f"wrote {out} and {out.with_suffix('.png')}")
    if policy_out is not None:
        from edgeface.household import door_policy

        with np.load(embeddings, allow_pickle=False) as data:
            policy = door_policy(data["embeddings"], data["labels"], config=config,
                                 lock=LockConfig(k=k, n=n, window_s=window))
        policy["embeddings"] = portable_path(embeddings)
        atomic_write_json(policy_out, policy)
        for target, sizes in policy["by_target"].items():
            typer.echo(f"target {target}: " + ", ".join(
                f"{size} residents {row['threshold'] if row else 'none'}" for size, row in sizes.items()))
        typer.echo(f"wrote {policy_out} (ship it with scripts/record_door_policy.py)")


@lock_app.command("scenario")
@guarded
def lock_scenario(
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    lfw_root: Optional[Path] = LfwOption,
    out: Path = typer.Option(Path("reports/door_scenario.json"), help="JSON report"),
    households: int = typer.Option(5, help="households, each with its own residents"),
    strangers: int = typer.Option(500, help="stranger visits per household, one per LFW person with >= 5 photos who "
                                            "does not live there (at most all ~420 of them)"),
    far_per_visit: float = typer.Option(1e-4, help="the lock's security target (as `lock run`)"),
    threshold: Optional[float] = typer.Option(None, help="a fixed threshold instead of the security target"),
    seed: int = typer.Option(7),
    liveness: str = typer.Option("off", help="off (default): LFW photos are photos, and the liveness nets refuse "
                                             "most of them (measure liveness with `lock attack-scenario`) | on"),
    full_detect_every: int = FullDetectOption,
) -> None:
    """Households of 3 LFW people each enrol from some photos; visits by them (held-out photos) and by
    strangers are replayed through the lock loop; false accepts per visit with their 95% upper bound."""
    from edgeface.door_scenario import ScenarioConfig, run_scenario
    from edgeface.lfw import locate_lfw
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.runtime.lock import LockConfig

    lock = LockConfig(threshold=threshold, far_per_visit=far_per_visit, liveness=liveness_on(liveness),
                      full_detect_every=full_detect_every)
    report = run_scenario(locate_lfw(lfw_root), open_for_command(models, variant),
                          ScenarioConfig(households=households, strangers=strangers, seed=seed), lock)
    atomic_write_json(out, report)
    typer.echo(f"threshold {report['threshold']} ({report['threshold_how']})")
    typer.echo(f"resident visits {report['genuine_visits']}: let in {report['true_accepts']}, refused "
               f"{report['resident_visits_refused']}; stranger visits {report['impostor_visits']}: let in "
               f"{report['false_accepts']} (rate {report['false_accepts_per_visit']:.1e}, 95% upper bound "
               f"{report['false_accepts_upper_95']:.1e}); {report['suspected_attack_frames']} matching frames judged "
               f"not live; wrote {out}")


@lock_app.command("attack-scenario")
@guarded
def lock_attack_scenario(
    data: Path = typer.Argument(..., help="NUAA db/ folder (ClientRaw, ImposterRaw and the train/test lists)"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    out: Path = typer.Option(Path("reports/attack_scenario.json"), help="JSON report"),
    every: int = typer.Option(3, help="replay every N-th frame of each attempt"),
    visit_frames: int = typer.Option(10, help="frames per door visit (an attempt is cut into visits)"),
    far_per_visit: float = typer.Option(1e-4, help="the lock's security target (as `lock run`)"),
    liveness: str = LivenessOption,
    full_detect_every: int = FullDetectOption,
) -> None:
    """Printed photos of enrolled residents held up to the lock (NUAA test split), beside the residents' own
    live visits: attack visits let in and resident visits refused, through the production lock loop."""
    from edgeface.pad_scenario import AttackScenarioConfig, run_attack_scenario
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.runtime.lock import LockConfig

    lock = LockConfig(far_per_visit=far_per_visit, liveness=liveness_on(liveness), full_detect_every=full_detect_every)
    pipeline = open_for_command(models, variant)
    with quiet_terminal(out.with_suffix(".log")):
        report = run_attack_scenario(data, pipeline, lock, AttackScenarioConfig(every=every, visit_frames=visit_frames))
    atomic_write_json(out, report)
    typer.echo(f"liveness {liveness}: {report['subjects']} one-person households; resident visits "
               f"{report['resident_visits']}: let in {report['resident_visits_let_in']}, refused "
               f"{report['resident_visits_refused']}; printed-photo attack visits {report['attack_visits']}: let in "
               f"{report['attack_visits_let_in']} (95% upper bound {report['attack_visits_let_in_upper_95']:.3f}); "
               f"wrote {out}")
