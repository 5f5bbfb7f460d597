"""Clipped int8 ranges for MTCNN: the ranges leave out what they say, the export carries them into the int8
file, and on real LFW pyramid levels they round P-Net closer to float than the converter's min/max does."""

import numpy as np
import pytest

from edgeface.converters.clipped_ranges import clipped_ranges, ranged_export_net, rounded_layers
from edgeface.converters.quantize import convert
from edgeface.models import mtcnn


@pytest.fixture(scope="module")
def arrays():
    return mtcnn.load_weight_arrays()


def smooth_images(count: int, size: int, seed: int) -> np.ndarray:
    """Inputs in the nets' [-1, 1] range with image-like spatial correlation (blurred noise)."""
    import cv2

    rng = np.random.default_rng(seed)
    images = [cv2.GaussianBlur(rng.uniform(-1, 1, (size, size, 3)).astype(np.float32), (5, 5), 1.5) * 2.5
              for _ in range(count)]
    return np.clip(np.stack(images), -0.99, 0.99)


def int8_outputs(model_bytes: bytes, inputs: np.ndarray) -> dict[int, np.ndarray]:
    """Dequantized outputs of an int8 TFLite model for each input, by output width."""
    from edgeface.runtime.interpreter import interpreter_from_bytes

    interpreter = interpreter_from_bytes(model_bytes, default_delegates=False)
    interpreter.allocate_tensors()
    source, = interpreter.get_input_details()
    scale, zero = source["quantization"]
    results: dict[int, list] = {}
    for x in inputs:
        interpreter.set_tensor(source["index"], np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)[None])
        interpreter.invoke()
        for details in interpreter.get_output_details():
            out_scale, out_zero = details["quantization"]
            value = (interpreter.get_tensor(details["index"])[0].astype(np.float32) - out_zero) * out_scale
            results.setdefault(value.shape[-1], []).append(value)
    return {width: np.stack(values) for width, values in results.items()}


@pytest.mark.parametrize("clip", [1e-3, 1e-2])
def test_ranges_leave_out_the_clip_fraction_at_each_end(arrays, clip):
    inputs = smooth_images(64, 24, 0)
    ranges = clipped_ranges("rnet", arrays, [inputs], clip)
    model = mtcnn.build_export_net("rnet", arrays)
    assert set(ranges) == {"input", *rounded_layers("rnet")} and "pool1" not in ranges
    from tensorflow import keras

    conv1 = np.asarray(keras.Model(model.input, model.get_layer("conv1").output)(inputs)).reshape(-1)
    low, high = ranges["conv1"]
    assert np.mean(conv1 < low) == pytest.approx(clip, rel=0.3)
    assert np.mean(conv1 > high) == pytest.approx(clip, rel=0.3)
    assert ranges["input"] == pytest.approx((float(inputs.min()), float(inputs.max())))
    assert all(lo <= 0.0 <= hi for lo, hi in ranges.values())


@pytest.mark.parametrize("net", sorted(mtcnn.LAYERS))
def test_ranged_net_is_the_export_net_where_nothing_is_clipped(arrays, net):
    size = {"pnet": 30, "rnet": 24, "onet": 48}[net]
    inputs = smooth_images(4, size, 1)
    wide = {name: (-1e4, 1e4) for name in clipped_ranges(net, arrays, [inputs], 0.0)}
    plain = mtcnn.build_export_net(net, arrays)(inputs)
    ranged = ranged_export_net(net, arrays, wide, size, size)
    for want, x in zip(zip(*[np.asarray(p) for p in plain]), inputs):
        got = ranged(x[None])
        for w, g in zip(want, got):  # same output order; the rounding step of +-1e4 over 255 levels is ~80
            assert g.shape[1:] == w.shape
            np.testing.assert_allclose(np.asarray(g)[0], w, atol=80.0)


def test_int8_file_takes_the_ranges(arrays):
    inputs = smooth_images(8, 48, 2)
    ranges = clipped_ranges("onet", arrays, [inputs], 1e-2)
    model_bytes = convert(ranged_export_net("onet", arrays, ranges), "int8", lambda: ([x[None]] for x in inputs[:2]))
    from edgeface.runtime.interpreter import interpreter_from_bytes

    interpreter = interpreter_from_bytes(model_bytes, default_delegates=False)
    by_name = {d["name"]: d for d in interpreter.get_tensor_details()}
    conv1 = next(d for name, d in by_name.items() if "conv1" in name and len(d["shape"]) == 4 and d["shape"][-1] == 32
                 and d["shape"][1] == 46 and "prelu" not in name)
    scale, zero = conv1["quantization"]
    low, high = ranges["conv1"]
    assert scale == pytest.approx((high - low) / 255, rel=0.02)
    assert (-128 - zero) * scale == pytest.approx(low, abs=2 * scale)


def test_clipped_pnet_rounds_closer_to_float_on_lfw_pyramid_levels(arrays, lfw_root):
    """The reason for the recipe, on real data: LFW images outside pairs.txt, the largest pyramid level (where
    the smallest faces are found), the P-Net face margin wherever float puts it near the stage threshold."""
    from edgeface.calibration.lfw_sets import CalibrationConfig, compose_frames, draw, pnet_levels
    from edgeface.runtime.cascade import CascadeConfig

    names = draw(lfw_root, CalibrationConfig(images=24, seed=7))
    levels = pnet_levels(compose_frames(lfw_root, names, (250, 250), 7), CascadeConfig())
    size = max(levels)
    inputs = np.stack(levels[size])
    calibration, held_out = inputs[:16], inputs[16:]
    float_margin = np.diff(np.asarray(mtcnn.build_export_net("pnet", arrays, *size)(held_out)[0]), axis=-1)[..., 0]
    near = np.abs(float_margin - np.log(0.6 / 0.4)) < 2
    assert near.sum() > 200

    def margin_error(model) -> float:
        model_bytes = convert(model, "int8", lambda: ([x[None]] for x in calibration))
        logits = int8_outputs(model_bytes, held_out)[2]
        return float(np.sqrt(np.mean((np.diff(logits, axis=-1)[..., 0] - float_margin)[near] ** 2)))

    from edgeface.converters.export import fixed_batch

    min_max = margin_error(fixed_batch(mtcnn.build_export_net("pnet", arrays, *size)))
    clipped = margin_error(ranged_export_net("pnet", arrays, clipped_ranges("pnet", arrays, [calibration]), *size))
    assert clipped < 0.9 * min_max, (clipped, min_max)


def test_convert_clips_only_the_int8_ranges(tmp_path, lfw_root):
    """`edgeface convert --mtcnn-range-clip`: the float files are the same as without it; every int8 activation
    range of R-Net is no wider than the converter's min/max, and some are narrower."""
    from edgeface.calibration.lfw_sets import CalibrationConfig
    from edgeface.converters.export import ConvertConfig, Exporter
    from edgeface.runtime.interpreter import interpreter_from_bytes

    def export(clip: float):
        config = ConvertConfig(out_dir=tmp_path / str(clip), variants=("fp32", "int8"), input_sizes=((250, 250),),
                               calibration=CalibrationConfig(images=8, max_crops=200), mtcnn_range_clip=clip,
                               lfw_root=lfw_root, split_prelu=False)  # clipped ranges are for the PRELU graph
        exporter = Exporter(config, log=lambda _: None)
        exporter.export_mtcnn()
        return {e.file: e for e in exporter.entries}, config.out_dir

    plain, plain_dir = export(0.0)
    clipped, clipped_dir = export(1e-3)
    assert plain.keys() == clipped.keys()
    for file, entry in clipped.items():
        assert (entry.sha256 == plain[file].sha256) == (entry.variant == "fp32"), file
        assert ("clipped_ranges" in (entry.calibration or "")) == (entry.variant == "int8"), file

    def activation_widths(folder) -> list[tuple[str, float]]:
        """(op, width of its output's int8 range) in graph order; both files have the same ops."""
        interpreter = interpreter_from_bytes((folder / "rnet_int8.tflite").read_bytes(), default_delegates=False)
        tensors = interpreter.get_tensor_details()
        return [(op["op_name"], tensors[op["outputs"][0]]["quantization"][0] * 255)
                for op in interpreter._get_ops_details()]

    widths, narrower = activation_widths(plain_dir), activation_widths(clipped_dir)
    assert [op for op, _ in widths] == [op for op, _ in narrower] and len(widths) >= 10
    assert all(clip <= full * 1.0001 for (_, full), (_, clip) in zip(widths, narrower))
    assert sum(clip < 0.95 * full for (_, full), (_, clip) in zip(widths, narrower)) >= 3
