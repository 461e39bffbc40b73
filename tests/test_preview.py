from conftest import run_cli
from PIL import Image


def test_preview_writes_one_labelled_png_per_encoder(tmp_path):
    result = run_cli(
        "preview", "--dataset", "wine", "--encoders", "pixel,supertml-ef,gadf:colormap=viridis",
        "--rows", "3", "--out", "previews", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (tmp_path / "previews").iterdir())
    assert files == ["wine-gadf_colormap_viridis.png", "wine-pixel.png", "wine-supertml-ef.png"]
    assert (
        "supertml-ef" in result.stdout and "previewed at" in result.stdout
    )  # 32 px is too small for text
    picture = Image.open(tmp_path / "previews" / "wine-pixel.png")
    assert picture.mode == "RGB" and picture.width > 3 * 160  # three rows side by side, enlarged
    colors = (
        Image.open(tmp_path / "previews" / "wine-gadf_colormap_viridis.png")
        .convert("RGB")
        .getcolors(1 << 16)
    )
    assert len(colors) > 20  # a colormap, not gray


def test_preview_of_an_unknown_encoder_is_a_one_line_error(tmp_path):
    from conftest import assert_one_line_error

    assert_one_line_error(
        run_cli("preview", "--encoders", "pixl", cwd=tmp_path), "unknown encoder 'pixl'"
    )
