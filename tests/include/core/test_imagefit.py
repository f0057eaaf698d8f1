"""The one aspect-preserving square fit and the garment colour histogram (training, evaluation and serving)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from include.core.imagefit import FitSquare, colour_histogram_u8, fit_geometry, fit_image, with_colour


def disc(width: int, height: int, colour=(20, 30, 110), background=(255, 255, 255)) -> Image.Image:
    """A circle of diameter ``min(width, height) * 0.8`` centred on a ``width x height`` canvas."""
    image = Image.new("RGB", (width, height), background)
    r = min(width, height) * 0.4
    ImageDraw.Draw(image).ellipse((width / 2 - r, height / 2 - r, width / 2 + r, height / 2 + r), fill=colour)
    return image


def extent(square: Image.Image, background: int = 200) -> tuple[int, int]:
    """Width and height of the dark shape in a square."""
    dark = np.asarray(square.convert("L")) < background
    cols, rows = np.flatnonzero(dark.any(axis=0)), np.flatnonzero(dark.any(axis=1))
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


@pytest.mark.parametrize("mode", ["pad", "crop"])
def test_a_wide_or_tall_photo_is_never_squashed(mode):
    for w, h in ((400, 150), (90, 300), (224, 224)):
        square = fit_image(disc(w, h), 128, mode)
        assert square.size == (128, 128)
        dw, dh = extent(square)
        assert abs(dw - dh) <= 2, (w, h, dw, dh)  # a squash would turn the circle into an ellipse
    squashed = disc(400, 150).resize((128, 128))
    assert abs(np.subtract(*extent(squashed))) > 20  # what the old resize did


def test_pad_keeps_everything_on_white_and_crop_keeps_the_centre():
    fit = fit_geometry(400, 100, 224, "pad")
    assert fit.size == (224, 56) and fit.box == (0, 84, 224, 140)
    padded = np.asarray(fit_image(Image.new("RGB", (400, 100), (200, 0, 0)), 224, "pad"))
    assert (padded[:84] == 255).all() and (padded[140:] == 255).all() and (padded[84:140, :, 0] == 200).all()
    assert fit_geometry(400, 100, 224, "crop").crop == (150, 0, 250, 100)
    with pytest.raises(ValueError, match="image fit"):
        fit_geometry(10, 10, 224, "squash")
    with pytest.raises(ValueError, match="empty image"):
        FitSquare(224)(Image.new("RGB", (0, 5)))


def test_the_histogram_counts_the_garment_not_the_white_backdrop():
    navy = np.asarray(fit_image(disc(300, 300, colour=(20, 30, 110)), 64)).transpose(2, 0, 1)
    hist = colour_histogram_u8(np.ascontiguousarray(navy))
    navy_bin = (0 * 4 + 0) * 4 + 1
    assert hist.argmax() == navy_bin and hist[navy_bin] > 0.99  # the white around the disc does not count
    white_tee = np.ascontiguousarray(np.asarray(disc(64, 64, colour=(250, 250, 250))).transpose(2, 0, 1))
    hist = colour_histogram_u8(white_tee)
    assert hist.argmax() == 63 and np.isclose(np.linalg.norm(hist), 1.0)  # white on white: every pixel counts


def test_the_served_vector_appends_the_weighted_histogram_and_is_unit_length():
    features, hists = np.array([[3.0, 4.0]]), np.array([[1.0, 0.0, 0.0]])
    assert np.allclose(with_colour(features, hists, 0.0), [[0.6, 0.8]])
    served = with_colour(features, hists, 0.5)
    assert served.shape == (1, 5) and np.isclose(np.linalg.norm(served), 1.0)
    assert np.allclose(served, np.array([[0.6, 0.8, 0.5, 0, 0]]) / np.sqrt(1.25))
