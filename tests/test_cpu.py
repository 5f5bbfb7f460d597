"""The CPU facts a benchmark names and training decides on, read from Linux's cpuinfo (runtime/cpu.py)."""

from edgeface.runtime.cpu import describe_cpu, native_bfloat16

EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 fma\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 fma\n"
PI4 = ("processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 asimddp\n"
       "CPU part\t: 0xd08\n\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n")
XEON = "processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bench_reports_name_the_cpu_they_ran_on(tmp_path):
    epyc = describe_cpu(write(tmp_path, "epyc", EPYC))
    assert epyc["model"] == "AMD EPYC"
    assert epyc["int8_relevant_flags"] == ["avx2"]  # no VNNI: int8 convolutions gain little
    pi = describe_cpu(write(tmp_path, "pi", PI4))
    assert pi["model"] == "Raspberry Pi 4 Model B Rev 1.4"
    assert pi["int8_relevant_flags"] == ["asimd", "asimddp"]
    missing = describe_cpu(tmp_path / "none")
    assert "model" not in missing and "int8_relevant_flags" not in missing and missing["cpu_count"] >= 1


def test_bfloat16_is_native_only_where_the_cpu_has_its_instructions(tmp_path):
    assert native_bfloat16(write(tmp_path, "xeon", XEON))
    assert not native_bfloat16(write(tmp_path, "epyc", EPYC))
    assert not native_bfloat16(write(tmp_path, "pi", PI4))
    assert not native_bfloat16(tmp_path / "absent")  # not Linux: float32
