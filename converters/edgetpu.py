"""`edgeface edgetpu-check`: what in a TFLite model would keep it (or part of it) off a Coral Edge TPU.

Without the compiler, this reads the graph and reports every op the Edge TPU does not run, every float tensor
between ops, every dynamic shape, a batch other than 1, more than one subgraph (a multi-signature file: the
compiler answers "More than one subgraph is not supported" and leaves the rest on the CPU), and models too big for
the on-chip parameter memory.
Rules follow Coral's published operation list and model requirements; TRANSPOSE is absent from that list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SUPPORTED_OPS = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "EXPAND_DIMS", "FULLY_CONNECTED",
    "L2_NORMALIZATION", "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MUL", "PACK", "PAD",
    "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SQUEEZE", "STRIDED_SLICE",
    "SUB", "SUM", "SQUARED_DIFFERENCE", "TANH", "TRANSPOSE_CONV",
}
INTEGER_TYPES = {np.dtype(np.int8), np.dtype(np.uint8)}
ON_CHIP_PARAMETER_BYTES = 8 * 1024 * 1024  # parameters beyond this stream from host memory (slower, still mapped)


@dataclass
class EdgeTpuReport:
    model: str
    ops: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [f"{self.model}: {'OK, every op maps to the Edge TPU' if self.ok else 'NOT fully Edge-TPU-ready'}",
                 "  ops: " + ", ".join(f"{op} x{n}" for op, n in sorted(self.ops.items()))]
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def check_model(path: str | Path) -> EdgeTpuReport:
    from edgeface.runtime.interpreter import interpreter_from_bytes

    path = Path(path)
    report = EdgeTpuReport(str(path))
    interpreter = interpreter_from_bytes(path.read_bytes(), default_delegates=False)
    signatures = interpreter.get_signature_list()
    if len(signatures) > 1:
        report.problems.append(f"{len(signatures)} signatures ({', '.join(sorted(signatures))}): the Edge TPU "
                               "compiler supports one subgraph; only the first is checked here")
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    for op in interpreter._get_ops_details():  # noqa: SLF001 - the public API has no per-op listing
        name = op["op_name"]
        report.ops[name] = report.ops.get(name, 0) + 1
        if name not in SUPPORTED_OPS:
            report.problems.append(f"op {name} (#{op['index']}) is not supported by the Edge TPU")
        for index in list(op["inputs"]) + list(op["outputs"]):
            if index < 0:
                continue
            tensor = tensors[index]
            dtype = np.dtype(tensor["dtype"])
            if dtype not in INTEGER_TYPES and dtype != np.int32:  # int32: biases and reshape shapes
                report.problems.append(f"tensor {tensor['name']!r} of op {name} is {dtype.name}, not int8/uint8")
            signature = tensor.get("shape_signature", tensor["shape"])
            if any(int(v) < 0 for v in signature):
                report.problems.append(f"tensor {tensor['name']!r} has a dynamic shape {list(signature)}")
    for detail in interpreter.get_input_details():
        shape = detail.get("shape_signature", detail["shape"])
        if len(shape) and int(shape[0]) != 1:
            report.problems.append(f"input {detail['name']!r} has batch {int(shape[0])}; the Edge TPU needs batch 1")
    size = path.stat().st_size
    if size > ON_CHIP_PARAMETER_BYTES:
        report.warnings.append(f"model is {size / 2**20:.1f} MiB; parameters beyond ~8 MiB stream from host memory")
    report.problems = list(dict.fromkeys(report.problems))
    return report
