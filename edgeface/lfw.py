"""LFW on disk: where it is, its pairs.txt / people.txt, and image paths. The metrics live in `protocol`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgeface.runtime.errors import EdgefaceError

LFW_ENV = "EDGEFACE_LFW"
IMAGES_SUBDIR = "lfw-deepfunneled"


class LfwError(EdgefaceError, RuntimeError):
    """LFW is missing or one of its files is malformed; the message says what and where."""


@dataclass(frozen=True)
class Pair:
    fold: int
    same: bool
    name_a: str
    index_a: int
    name_b: str
    index_b: int

    @property
    def images(self) -> tuple[str, str]:
        return image_name(self.name_a, self.index_a), image_name(self.name_b, self.index_b)


def image_name(name: str, index: int) -> str:
    """Relative path of one LFW image: Name/Name_0001.jpg."""
    return f"{name}/{name}_{index:04d}.jpg"


def default_candidates() -> list[Path]:
    here = Path(__file__).resolve()
    return [Path.cwd() / "../shared/data/lfw", here.parents[2] / "shared/data/lfw", here.parents[1] / "../shared/data/lfw"]


def locate_lfw(option: str | os.PathLike | None = None) -> Path:
    """The LFW root (holding pairs.txt and lfw-deepfunneled/): --lfw option, then $EDGEFACE_LFW, then ../shared/data/lfw."""
    tried: list[str] = []
    chosen = [Path(option)] if option else []
    if not chosen and os.environ.get(LFW_ENV):
        chosen = [Path(os.environ[LFW_ENV])]
    for candidate in chosen or default_candidates():
        tried.append(str(candidate))
        if (candidate / "pairs.txt").is_file() and (candidate / IMAGES_SUBDIR).is_dir():
            return candidate.resolve()
    raise LfwError(
        "LFW not found (looked in: " + ", ".join(tried) + "). Download LFW deep-funneled "
        "(lfw-deepfunneled/ with Name/Name_0001.jpg images) and the official pairs.txt from the LFW site, put "
        f"both in one folder, and pass it with --lfw DIR or set {LFW_ENV}=DIR."
    )


def parse_pairs(path: Path) -> list[Pair]:
    """Parse View-2 pairs.txt: a header 'folds<TAB>n', then per fold n same-person and n different-person lines.
    A View-1 file (pairsDevTrain.txt, pairsDevTest.txt) has the header 'n' alone: one fold."""
    lines = [line.rstrip("\n") for line in Path(path).read_text().splitlines() if line.strip()]
    if not lines:
        raise LfwError(f"{path}: empty pairs file")
    try:
        header = [int(v) for v in lines[0].split()]
        folds, per_fold = header if len(header) == 2 else (1, *header)
    except ValueError:
        raise LfwError(f"{path}:1: header must be '<folds> <pairs per fold>', got {lines[0]!r}") from None
    expected = 1 + folds * 2 * per_fold
    if len(lines) != expected:
        raise LfwError(f"{path}: expected {expected} lines for {folds} folds x 2 x {per_fold}, found {len(lines)}")
    pairs = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        fold = (number - 2) // (2 * per_fold)
        same = ((number - 2) % (2 * per_fold)) < per_fold
        try:
            if same and len(fields) == 3:
                pairs.append(Pair(fold, True, fields[0], int(fields[1]), fields[0], int(fields[2])))
            elif not same and len(fields) == 4:
                pairs.append(Pair(fold, False, fields[0], int(fields[1]), fields[2], int(fields[3])))
            else:
                raise ValueError
        except ValueError:
            kind = "'name i j'" if same else "'name_a i name_b j'"
            raise LfwError(f"{path}:{number}: malformed line {line!r} (expected {kind})") from None
    return pairs


def parse_people(path: Path) -> dict[str, int]:
    """people.txt: name -> number of images (the fold headers are skipped)."""
    people: dict[str, int] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        fields = line.split()
        if len(fields) == 2:
            try:
                people[fields[0]] = int(fields[1])
            except ValueError:
                raise LfwError(f"{path}:{number}: malformed line {line!r}") from None
        elif len(fields) not in (0, 1):
            raise LfwError(f"{path}:{number}: malformed line {line!r}")
    return people


def people_images(root: Path) -> dict[str, list[Path]]:
    """Every person's image files in the deep-funneled folder, people and files in name order."""
    folder = root / IMAGES_SUBDIR
    return {p.name: sorted(p.glob("*.jpg")) for p in sorted(folder.iterdir()) if p.is_dir()}


def pair_images(pairs: list[Pair]) -> list[str]:
    """Distinct image paths named by the pairs, in first-seen order."""
    return list(dict.fromkeys(name for pair in pairs for name in pair.images))


def check_images_exist(root: Path, names: list[str]) -> None:
    missing = [name for name in names if not (root / IMAGES_SUBDIR / name).is_file()]
    if missing:
        raise LfwError(f"{len(missing)} LFW image(s) named in pairs are missing under {root / IMAGES_SUBDIR}, "
                       f"e.g. {missing[0]}")
