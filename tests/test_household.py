"""Household simulation: visits replayed through the production decision code over a threshold sweep."""

from __future__ import annotations

import numpy as np
import pytest

from edgeface.household import HouseholdConfig, door_policy, simulate, simulate_visits, upper_bound
from edgeface.runtime.lock import LockConfig
from vectors import clustered


def test_sweep_ends_behave_and_rates_are_monotone():
    vectors, labels = clustered(people=40, per_person=12, spread=0.5, seed=3)
    config = HouseholdConfig(households=6, residents=2, stranger_visits_per_household=30)
    report = simulate(vectors, labels, config, LockConfig(), thresholds=np.array([0.05, 0.8, 1.0, 1.99]))
    rows = report["sweep"]
    assert rows[0]["stranger_visits"] == 180 and rows[0]["resident_visits"] == 12
    assert rows[0]["stranger_visits_let_in"] == 0 and rows[0]["frr_per_visit"] == 1.0  # nobody is that close
    assert rows[-1]["far_per_visit"] == 1.0 and rows[-1]["frr_per_visit"] == 0.0  # everyone matches someone
    assert [r["far_per_visit"] for r in rows] == sorted(r["far_per_visit"] for r in rows)
    assert rows[1]["frr_per_visit"] < 0.5 and rows[1]["far_per_visit"] == 0.0  # clusters: residents pass, strangers not
    visitors = {v.visitor for v in simulate_visits(vectors, labels, config) if not v.resident}  # same seed, same visits
    assert rows[0]["stranger_people_let_in"] == 0 and rows[-1]["stranger_people_let_in"] == len(visitors) > 30


def lookalike_households():
    """30 well-separated people, of whom person 29 looks like person 28, and 40 households of 3."""
    vectors, labels = clustered(people=30, per_person=12, spread=0.3, seed=5)
    vectors[labels == 29] = vectors[labels == 28] + 0.01 * vectors[labels == 29]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, labels, HouseholdConfig(households=40, residents=3, stranger_visits_per_household=60)


def test_one_lookalike_stranger_counts_as_one_person_however_often_let_in():
    vectors, labels, config = lookalike_households()
    (row,) = simulate(vectors, labels, config, LockConfig(), thresholds=np.array([0.6]))["sweep"]
    assert row["stranger_visits_let_in"] > 1 and row["stranger_people_let_in"] in (1, 2)  # 28 and 29 let in by the other


def test_upper_bound_is_clopper_pearson():
    assert upper_bound(0, 20000) == pytest.approx(1 - 0.05 ** (1 / 20000), rel=1e-6)  # about 3 / n
    assert upper_bound(2, 40000) == pytest.approx(1.58e-4, rel=0.01)
    assert upper_bound(5, 5) == 1.0


def test_a_bound_by_person_sees_that_one_lookalike_is_not_many_independent_visits():
    from edgeface.household import person_draws, subset_bootstrap_upper

    draws = person_draws(200)
    visits = np.full(200, 2000)  # 400,000 stranger visits by 200 people
    one = np.zeros(200, np.int64)
    one[7] = 25  # one lookalike let in 25 times
    many = np.zeros(200, np.int64)
    many[:25] = 1  # 25 different people let in once each
    per_visit = upper_bound(25, 400_000)
    assert per_visit == pytest.approx(9.0e-5, rel=0.05)  # the same for both: it sees 25 events either way
    assert subset_bootstrap_upper(one, visits, draws) >= 3 * 25 / 400_000 > 1.5 * per_visit  # P(drawn >= 3) ~ 8%
    assert subset_bootstrap_upper(many, visits, draws) < per_visit  # independent people: the bootstrap is no wider
    assert subset_bootstrap_upper(np.zeros(200, np.int64), visits, draws) == 0.0  # hence the sweep's max with CP


def test_sweep_bound_by_person_is_never_below_the_per_visit_bound_and_wider_for_a_lookalike():
    vectors, labels, config = lookalike_households()
    rows = simulate(vectors, labels, config, LockConfig(), thresholds=np.array([1e-4, 0.6]))["sweep"]
    assert rows[0]["stranger_visits_let_in"] == 0
    assert rows[0]["far_per_visit_upper_95_by_person"] == rows[0]["far_per_visit_upper_95"]  # the CP floor
    assert rows[1]["far_per_visit_upper_95_by_person"] > rows[1]["far_per_visit_upper_95"]


def test_door_policy_is_chosen_on_the_bound_that_resamples_strangers():
    """A threshold where one lookalike makes every let-in passes the per-visit bound but not the by-person one:
    the policy must take the stricter threshold (fail safe on people it never saw)."""
    from edgeface.household import threshold_for_target

    vectors, labels, config = lookalike_households()
    rows = simulate(vectors, labels, config, LockConfig(), thresholds=np.array([1e-4, 0.6]))["sweep"]
    target = (rows[1]["far_per_visit_upper_95"] + rows[1]["far_per_visit_upper_95_by_person"]) / 2
    assert rows[1]["far_per_visit_upper_95"] <= target < rows[1]["far_per_visit_upper_95_by_person"]
    assert threshold_for_target(rows, target)["threshold"] == 1e-4
    assert threshold_for_target(rows, 1.0)["threshold"] == 0.6
    policy = door_policy(vectors, labels, targets=(target,), sizes=[3], config=config,
                         thresholds=np.array([1e-4, 0.6]))
    assert policy["by_target"][f"{target:g}"]["3"]["threshold"] == 1e-4 and "by_person" in policy["rule"]


def test_det_plot_of_a_sweep_with_no_point_on_log_axes_is_still_written(tmp_path):
    from edgeface.household import plot_det

    vectors, labels = clustered(people=40, per_person=12, spread=0.5, seed=3)
    config = HouseholdConfig(households=3, residents=2, stranger_visits_per_household=10)
    report = simulate(vectors, labels, config, LockConfig(), thresholds=np.array([0.05, 1.99]))  # all-or-nothing
    assert all(r["far_per_visit"] == 0 or r["frr_per_visit"] == 0 for r in report["sweep"])
    plot_det({"sweep": report}, tmp_path / "det.png")
    assert (tmp_path / "det.png").stat().st_size > 1000


def test_held_out_door_check_reports_and_fails_a_policy_that_lets_strangers_in(tmp_path, capsys):
    """scripts/heldout_door_check.py: the CI gate's protocol on an export; exit 1 when a size is over the target."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from heldout_door_check import main

    vectors, labels = clustered(people=60, per_person=12, spread=0.5, seed=3)
    np.savez(tmp_path / "E.npz", embeddings=vectors, labels=labels)

    def check(threshold: float) -> tuple[int, list[str]]:
        policy = tmp_path / f"policy_{threshold}.json"
        policy.write_text(json.dumps({"by_target": {"0.0001": {"1": {"threshold": threshold}, "2": None}}}))
        code = main([str(tmp_path / "E.npz"), str(policy), "--residents", "1", "2"])
        return code, capsys.readouterr().out.splitlines()

    code, lines = check(0.8)  # clusters: no stranger is that close
    assert code == 0 and lines[1].split()[2:5] == ["0", "/", "20000"] and lines[2].split() == ["2", "none"]
    code, lines = check(1.99)  # everyone matches the resident
    assert code == 1 and lines[1].split()[2:5] == ["20000", "/", "20000"]


def test_lock_calibrate_writes_the_policy_and_the_sweep_only_where_asked(tmp_path):
    """`lock calibrate --policy-out P` writes P and no sweep report; without it the sweep goes to --out."""
    import json

    from clirunner import run_runtime_cli

    vectors, labels = clustered(people=40, per_person=12, spread=0.5, seed=3)
    np.savez(tmp_path / "E.npz", embeddings=vectors, labels=labels)
    small = ["--households", "4", "--stranger-visits", "20"]
    result = run_runtime_cli(tmp_path, "lock", "calibrate", str(tmp_path / "E.npz"), *small,
                             "--policy-out", str(tmp_path / "policy.json"))
    assert result.returncode == 0, result.stderr[-2000:]
    policy = json.loads((tmp_path / "policy.json").read_text())
    assert set(policy["by_target"]) == {"0.001", "0.0001"} and set(policy["by_target"]["0.0001"]) == {
        str(size) for size in range(1, 9)}
    assert not (tmp_path / "reports").exists()  # the sweep was not asked for
    result = run_runtime_cli(tmp_path, "lock", "calibrate", str(tmp_path / "E.npz"), *small)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "reports" / "household.json").read_text())["sweep"]
    assert (tmp_path / "reports" / "household.png").is_file()
