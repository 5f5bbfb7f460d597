import cv2
import numpy as np
import pytest

from edgeface.runtime.images import ImageError, as_rgb, read_rgb


def write(path, image, ext=".png"):
    ok, data = cv2.imencode(ext, image)
    assert ok
    path.write_bytes(data.tobytes())
    return path


def test_missing_empty_and_corrupt_files(tmp_path):
    with pytest.raises(ImageError, match="no such image"):
        read_rgb(tmp_path / "none.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_rgb(tmp_path / "empty.jpg")
    (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    with pytest.raises(ImageError, match="not a readable image"):
        read_rgb(tmp_path / "junk.jpg")
    good = write(tmp_path / "good.jpg", np.full((40, 40, 3), 128, np.uint8), ".jpg")
    (tmp_path / "truncated.jpg").write_bytes(good.read_bytes()[:60])
    with pytest.raises(ImageError):
        read_rgb(tmp_path / "truncated.jpg")


def test_grey_alpha_and_16_bit_become_rgb(tmp_path):
    grey = read_rgb(write(tmp_path / "g.png", np.full((8, 9), 77, np.uint8)))
    assert grey.shape == (8, 9, 3) and grey.dtype == np.uint8 and (grey == 77).all()
    bgra = np.zeros((5, 5, 4), np.uint8)
    bgra[..., 0] = 255  # blue in BGR(A) order
    rgb = read_rgb(write(tmp_path / "a.png", bgra))
    assert rgb[0, 0].tolist() == [0, 0, 255]
    deep = read_rgb(write(tmp_path / "d.png", np.full((4, 4, 3), 65535, np.uint16)))
    assert deep.dtype == np.uint8 and (deep == 255).all()


def test_frames_from_a_dead_camera():
    with pytest.raises(ImageError, match="empty frame"):
        as_rgb(None)
    with pytest.raises(ImageError, match="empty frame"):
        as_rgb(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(ImageError, match="pixel type"):
        as_rgb(np.zeros((4, 4, 3), np.float64))


def test_huge_images_are_refused_and_cmyk_becomes_rgb(tmp_path):
    from PIL import Image

    huge = write(tmp_path / "huge.png", np.zeros((5000, 5000), np.uint8))  # 25 MP, over the 24 MP limit
    with pytest.raises(ImageError, match="too large"):
        read_rgb(huge)
    Image.new("CMYK", (30, 20), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")  # pure red in CMYK
    rgb = read_rgb(tmp_path / "cmyk.jpg")
    assert rgb.shape == (20, 30, 3)
    assert rgb[10, 15, 0] > 200 and rgb[10, 15, 1] < 60 and rgb[10, 15, 2] < 60


def png_bomb(path, width: int, height: int) -> None:
    """A tiny PNG whose header promises width x height RGB pixels (zeros compress about 1000:1)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def test_decompression_bomb_is_refused_from_its_header(tmp_path):
    """A 0.4 MB PNG of 12000x12000 (432 MB decoded) is refused before decoding: peak memory stays far below the
    decoded size (`edgeface.runtime.resources.peak_rss_mb` of a fresh process)."""
    import subprocess
    import sys

    png_bomb(tmp_path / "bomb.png", 12000, 12000)
    code = ("import sys\nfrom edgeface.runtime.images import read_rgb, ImageError\n"
            "from edgeface.runtime.resources import peak_rss_mb\n"
            "try:\n    read_rgb(sys.argv[1])\nexcept ImageError as e:\n    print(e)\n"
            "print(peak_rss_mb())")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "bomb.png")], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    message, peak = result.stdout.strip().splitlines()
    assert "too large" in message and "before decoding" in message
    assert float(peak) < 250, f"peak RSS {peak} MB: the image was decoded"
