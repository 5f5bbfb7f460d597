"""Package layout, discovered rather than listed by hand (metadata and dependencies are in pyproject.toml).

Why a setup.py: the user-facing folders `runtime/`, `converters/` and `calibration/` sit beside `edgeface/` in the
checkout but install as `edgeface.runtime` etc.; `[tool.setuptools.packages.find]` cannot rename a folder, so
the packages under each folder are discovered here and prefixed. Package data is every file SHA256SUMS names, so
a weights file can never be shipped in the checkout yet left out of the wheel.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
FOLDERS = {"edgeface": "edgeface", "edgeface.runtime": "runtime", "edgeface.converters": "converters",
           "edgeface.calibration": "calibration"}


def discovered_packages() -> list[str]:
    packages = []
    for name, folder in FOLDERS.items():
        packages.append(name)
        packages += [f"{name}.{sub}" for sub in find_packages(str(HERE / folder))]
    return packages


def shipped_weights() -> list[str]:
    sums = HERE / "edgeface" / "weights" / "SHA256SUMS"
    names = [line.split(maxsplit=1)[1].strip() for line in sums.read_text().splitlines() if line.strip()]
    return ["SHA256SUMS", "README.md", *names]


setup(package_dir=FOLDERS, packages=discovered_packages(), package_data={"edgeface.weights": shipped_weights()})
