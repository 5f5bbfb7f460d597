"""On LFW: the lock's default security target holds for people its door policy was not calibrated on.

The door policy (operating_points.json, copied into every manifest) was calibrated on the households of the
LFW people at even positions of the sorted name list; here the int8 models of this test session embed every
photo of the other half's people with >= 5 photos (about 3,200 images) and households of them are replayed
through the production decision code at the policy's thresholds.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgeface import lfw
from edgeface.household import held_out_check, upper_bound
from edgeface.runtime.lock import LockConfig

pytestmark = pytest.mark.lfw


@pytest.fixture(scope="module")
def held_out_embeddings(models_dir, lfw_root):
    from edgeface.facesets import embed_images
    from edgeface.runtime.pipeline import open_runtime

    pipeline = open_runtime(models_dir, "int8")
    people = lfw.people_images(lfw_root)
    names = sorted(people)
    chosen = [(index, name) for index, name in enumerate(names) if index % 2 == 1 and len(people[name]) >= 5]
    paths = [path for _, name in chosen for path in people[name]]
    label_of = {path: index for index, name in chosen for path in people[name]}
    vectors, labels = [], []
    for path, faces, error in embed_images(paths, pipeline, "central", progress=False):
        if not error:
            vectors.append(faces[0].vector)
            labels.append(label_of[path])
    return pipeline, np.stack(vectors), np.array(labels)


@pytest.mark.parametrize("residents", [1, 4])
def test_default_target_holds_on_people_the_policy_never_saw(held_out_embeddings, residents):
    pipeline, vectors, labels = held_out_embeddings
    lock = LockConfig()
    target = f"{lock.far_per_visit:g}"
    threshold = pipeline.door_policy["by_target"][target][str(residents)]
    row = held_out_check(vectors, labels, threshold, residents, lock)
    let_in, visits = row["stranger_visits_let_in"], row["stranger_visits"]
    assert visits == 20000
    assert let_in / visits <= lock.far_per_visit, (
        f"{let_in} of {visits} stranger visits let in at {threshold} (95% upper bound {upper_bound(let_in, visits):.1e})")
