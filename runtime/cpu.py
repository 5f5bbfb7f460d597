"""What the CPU can do, read once from Linux's /proc/cpuinfo.

Why: whether int8 beats float (XNNPACK) and whether bfloat16 training pays both hang on instruction sets, and
speed ratios measured on one CPU do not carry over to another. What cannot be read is left out, never guessed.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")

# Instruction sets that decide whether int8 beats float on a CPU (XNNPACK): x86 VNNI / AVX-512 / AVX2, Arm dot
# product and i8mm.
INT8_RELEVANT_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimd", "asimddp", "i8mm")


def _first_fields(cpuinfo: str | Path) -> dict[str, str] | None:
    """The first value of each cpuinfo key (lower-cased), or None where the file cannot be read."""
    try:
        lines = Path(cpuinfo).read_text().splitlines()
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    return fields


def _flags(fields: dict[str, str]) -> set[str]:
    """The instruction-set flags among cpuinfo's fields (x86 `flags`, Arm `Features`)."""
    return set((fields.get("flags") or fields.get("features") or "").split())


def cpu_flags(cpuinfo: str | Path = CPUINFO) -> set[str]:
    """The instruction-set flags of the first CPU; empty where unreadable."""
    return _flags(_first_fields(cpuinfo) or {})


def describe_cpu(cpuinfo: str | Path = CPUINFO) -> dict:
    """The CPU a measurement ran on: machine, core count, model name and the int8-relevant instruction sets."""
    described: dict = {"machine": platform.machine(), "cpu_count": os.cpu_count()}
    fields = _first_fields(cpuinfo)
    if fields is None:
        return described
    model = fields.get("model name") or fields.get("model") or fields.get("hardware")
    if model:
        described["model"] = model
    flags = _flags(fields)
    described["int8_relevant_flags"] = [flag for flag in INT8_RELEVANT_FLAGS if flag in flags]
    return described


def native_bfloat16(cpuinfo: str | Path = CPUINFO) -> bool:
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX-BF16).

    Why: mixed bfloat16 trained the student 1.4x faster than float32 on an AVX512-BF16 Xeon, but 4.2x slower
    on a 2-core AMD EPYC without AVX-512, where TensorFlow emulates it (22.2 s against 5.3 s per step of 128)."""
    return bool(cpu_flags(cpuinfo) & {"avx512_bf16", "amx_bf16"})
