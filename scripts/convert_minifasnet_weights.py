"""One-time conversion of the MiniFASNet anti-spoofing weights (PyTorch legacy .pth) into
edgeface/weights/minifasnet.npz, without PyTorch.

The two files come from minivision-ai/Silent-Face-Anti-Spoofing (Apache-2.0), commit b6d5f04a,
`resources/anti_spoof_models/2.7_80x80_MiniFASNetV2.pth` and `4_0_0_80x80_MiniFASNetV1SE.pth`. They are in
PyTorch's legacy serialisation: a few pickles (magic number, protocol, system info, the state dict with
persistent storage ids, the storage keys) followed by each storage's raw little-endian data. Only what a
state dict of float tensors needs is recognised; any other pickled class is refused, so nothing runs.

    python scripts/convert_minifasnet_weights.py 2.7_80x80_MiniFASNetV2.pth 4_0_0_80x80_MiniFASNetV1SE.pth

Keys in the npz: `<net>/<pytorch parameter name>` with net `v2_scale2.7` or `v1se_scale4.0`; the product
reads it with np.load(allow_pickle=False).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "edgeface" / "weights" / "minifasnet.npz"
NETS = {"2.7_80x80_MiniFASNetV2.pth": "v2_scale2.7", "4_0_0_80x80_MiniFASNetV1SE.pth": "v1se_scale4.0"}
MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "DoubleStorage": np.float64,
          "HalfStorage": np.float16, "IntStorage": np.int32}


class _Storage:
    def __init__(self, dtype, numel: int) -> None:
        self.dtype, self.numel, self.data = dtype, numel, None


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = DTYPES[name]


def _rebuild_tensor(storage: _Storage, offset: int, size, stride, *_ignored):
    return ("tensor", storage, int(offset), tuple(size), tuple(stride))


class _StateDictUnpickler(pickle.Unpickler):
    def __init__(self, file) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel, *_ = pid
        assert kind == "storage", pid
        return self.storages.setdefault(key, _Storage(storage_type.dtype, int(numel)))


def read_legacy_state_dict(data: bytes) -> dict[str, np.ndarray]:
    stream = io.BytesIO(data)
    restricted = lambda: _StateDictUnpickler(stream)  # noqa: E731
    if restricted().load() != MAGIC:
        raise ValueError("not a legacy PyTorch file (magic number)")
    restricted().load()  # protocol version
    restricted().load()  # system info
    unpickler = _StateDictUnpickler(stream)
    state = unpickler.load()
    keys = restricted().load()
    for key in keys:
        storage = unpickler.storages[key]
        numel = int(np.frombuffer(stream.read(8), "<i8")[0])
        assert numel == storage.numel, (key, numel, storage.numel)
        itemsize = np.dtype(storage.dtype).itemsize
        storage.data = np.frombuffer(stream.read(numel * itemsize), np.dtype(storage.dtype).newbyteorder("<"))
    if stream.read(1):
        raise ValueError("trailing bytes after the last storage")
    arrays = {}
    for name, (_tag, storage, offset, size, stride) in state.items():
        itemsize = storage.data.itemsize
        view = np.lib.stride_tricks.as_strided(storage.data[offset:], size, [s * itemsize for s in stride])
        arrays[name.removeprefix("module.")] = np.array(view, dtype=np.float32 if storage.dtype != np.int64 else np.int64)
    return arrays


def main(paths: list[str]) -> None:
    arrays: dict[str, np.ndarray] = {}
    for path in map(Path, paths):
        data = path.read_bytes()
        print(f"{path.name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
        net = NETS[path.name]
        for name, value in read_legacy_state_dict(data).items():
            if name.endswith("num_batches_tracked"):
                continue
            arrays[f"{net}/{name}"] = value
    if {n.split("/")[0] for n in arrays} != set(NETS.values()):
        raise SystemExit(f"need both files: {', '.join(NETS)}")
    buffer = io.BytesIO()
    np.savez(buffer, **dict(sorted(arrays.items())))
    OUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUT}: {len(arrays)} arrays, {sum(a.size for a in arrays.values()):,} values, "
          f"sha256 {hashlib.sha256(buffer.getvalue()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
