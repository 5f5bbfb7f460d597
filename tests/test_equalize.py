"""Channel equalization before int8 export: the float nets must not change, and the ranges must even out."""

import numpy as np
import pytest

from edgeface.converters.equalize import activation_ranges, chains, equalize
from edgeface.models import mtcnn

INPUT_SHAPES = {"pnet": (6, 30, 40, 3), "rnet": (64, 24, 24, 3), "onet": (32, 48, 48, 3)}


def test_chains_follow_each_prelu_to_the_weight_layers_it_feeds():
    assert chains("pnet") == [("conv1", "prelu1", ["conv2"]), ("conv2", "prelu2", ["conv3"]),
                              ("conv3", "prelu3", ["conv4-1", "conv4-2"])]
    assert chains("rnet")[-2:] == [("conv3", "prelu3", ["fc4"]), ("fc4", "prelu4", ["fc5-1", "fc5-2"])]
    assert chains("onet")[-2:] == [("conv4", "prelu4", ["fc5"]), ("fc5", "prelu5", ["fc6-1", "fc6-2", "fc6-3"])]
    assert [len(chains(net)) for net in ("pnet", "rnet", "onet")] == [3, 4, 5]


@pytest.fixture(scope="module")
def arrays():
    return mtcnn.load_weight_arrays()


@pytest.mark.parametrize("net", sorted(mtcnn.LAYERS))
def test_equalized_net_computes_the_same_function(arrays, net):
    inputs = np.random.default_rng(0).uniform(-1, 1, INPUT_SHAPES[net]).astype(np.float32)
    equalized = equalize(net, arrays, activation_ranges(net, arrays, [inputs]))
    before = mtcnn.build_export_net(net, arrays)(inputs)
    after = mtcnn.build_export_net(net, equalized)(inputs)
    for old, new in zip(before, after):
        np.testing.assert_allclose(np.asarray(new), np.asarray(old), rtol=1e-4, atol=1e-4)
    untouched = [key for key in arrays if not key.startswith(net)]
    assert all(equalized[key] is arrays[key] for key in untouched)


@pytest.mark.parametrize("net", sorted(mtcnn.LAYERS))
def test_strength_one_half_takes_the_geometric_mean_of_each_channel_and_the_widest(arrays, net):
    """Channel c's range r_c becomes r_c / (r_c / r_max)^0.5 = sqrt(r_c · r_max); a channel that barely fires
    (r_c < r_max / 1000) is widened by at most sqrt(1000), so no weight is blown up by a dead channel."""
    inputs = np.random.default_rng(1).uniform(-1, 1, INPUT_SHAPES[net]).astype(np.float32)
    before = activation_ranges(net, arrays, [inputs])
    after = activation_ranges(net, equalize(net, arrays, before, strength=0.5), [inputs])
    for layer, spread in before.items():
        widest = spread.max()
        expected = spread / np.sqrt(np.maximum(spread, 1e-3 * widest) / widest)
        np.testing.assert_allclose(after[layer], expected, rtol=1e-3, atol=1e-6 * widest)
        assert after[layer].min() / widest > spread.min() / widest or spread.min() == widest
