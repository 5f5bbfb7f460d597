"""`edgeface info`: what a model is: parameters, MACs per face, input, preprocessing."""

from __future__ import annotations

from pathlib import Path

from edgeface.runtime.errors import UsageError

KERAS_MODELS = {
    "nns2": "NNS2 FaceNet (float, Keras)",
    "pnet": "MTCNN P-Net (float, Keras; shown at a 12x12 window)",
    "rnet": "MTCNN R-Net (float, Keras)",
    "onet": "MTCNN O-Net (float, Keras)",
}


def _keras_model(name: str):
    from edgeface.models import facenet, mtcnn

    if name == "nns2":
        return facenet.build_nns2(), facenet.PREPROCESSING
    builders = {"pnet": lambda: mtcnn.build_pnet(12, 12), "rnet": mtcnn.build_rnet, "onet": mtcnn.build_onet}
    model = builders[name]()
    mtcnn.set_weights(model, name, mtcnn.load_weight_arrays())
    return model, "RGB, (x - 127.5) / 128"


def describe_model(name_or_path: str) -> str:
    if name_or_path in KERAS_MODELS:
        from edgeface.models.facenet import count_macs

        model, preprocessing = _keras_model(name_or_path)
        shape = tuple(model.input.shape[1:])
        return "\n".join([
            KERAS_MODELS[name_or_path],
            f"parameters      {model.count_params():,}",
            f"MACs per input  {count_macs(model):,}",
            f"input           {shape}",
            f"outputs         {[tuple(o.shape[1:]) for o in model.outputs]}",
            f"preprocessing   {preprocessing}",
        ])
    path = Path(name_or_path)
    if path.suffix != ".tflite" or not path.is_file():
        raise UsageError(f"{name_or_path}: not a known model name ({', '.join(KERAS_MODELS)}) or a .tflite file")
    from edgeface.runtime.interpreter import interpreter_from_bytes, static_shape
    from edgeface.runtime.manifest import MANIFEST_NAME, load_manifest

    interpreter = interpreter_from_bytes(path.read_bytes(), default_delegates=False)
    lines = [f"{path} ({path.stat().st_size:,} bytes)"]
    for kind, details in (("input", interpreter.get_input_details()), ("output", interpreter.get_output_details())):
        for d in details:
            scale, zero = d.get("quantization", (0.0, 0))
            quant = f" scale {scale:.6g} zero {zero}" if scale else ""
            lines.append(f"{kind:15s} {d['name']} {static_shape(d)} {d['dtype'].__name__}{quant}")
    ops: dict[str, int] = {}
    for op in interpreter._get_ops_details():  # noqa: SLF001
        ops[op["op_name"]] = ops.get(op["op_name"], 0) + 1
    lines.append("ops             " + ", ".join(f"{k} x{v}" for k, v in sorted(ops.items())))
    if (path.parent / MANIFEST_NAME).is_file():
        entry = next((e for e in load_manifest(path.parent, verify=False).models if e.file == path.name), None)
        if entry:
            lines.append(f"preprocessing   {entry.preprocessing}")
            if entry.accuracy:
                lines.append(f"accuracy        {entry.accuracy}")
    return "\n".join(lines)
