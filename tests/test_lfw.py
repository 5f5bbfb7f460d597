import pytest

from edgeface import lfw


def test_official_pairs(lfw_root):
    pairs = lfw.parse_pairs(lfw_root / "pairs.txt")
    assert len(pairs) == 6000
    assert {p.fold for p in pairs} == set(range(10))
    assert sum(p.same for p in pairs) == 3000
    assert all(sum(1 for p in pairs if p.fold == f and p.same) == 300 for f in range(10))
    names = lfw.pair_images(pairs)
    assert len(names) == 7701
    lfw.check_images_exist(lfw_root, names)
    people = lfw.parse_people(lfw_root / "people.txt")
    assert len(people) > 5000 and all(n > 0 for n in people.values())


def test_malformed_pairs_are_reported_with_line_number(tmp_path):
    bad = tmp_path / "pairs.txt"
    bad.write_text("1\t1\nAlice\t1\t2\nBob\t1\tCarol\tx\n")
    with pytest.raises(lfw.LfwError, match=r"pairs.txt:3: malformed"):
        lfw.parse_pairs(bad)
    bad.write_text("1\t2\nAlice\t1\t2\n")
    with pytest.raises(lfw.LfwError, match="expected 5 lines"):
        lfw.parse_pairs(bad)
    bad.write_text("ten folds\n")
    with pytest.raises(lfw.LfwError, match="header"):
        lfw.parse_pairs(bad)


def test_missing_image_is_named(tmp_path):
    (tmp_path / lfw.IMAGES_SUBDIR).mkdir()
    with pytest.raises(lfw.LfwError, match="Nobody_0001.jpg"):
        lfw.check_images_exist(tmp_path, ["Nobody/Nobody_0001.jpg"])


def test_locate_lfw_explains_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv(lfw.LFW_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(lfw.LfwError, match="EDGEFACE_LFW"):
        lfw.locate_lfw()
