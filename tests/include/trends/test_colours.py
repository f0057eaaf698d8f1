from __future__ import annotations

from include.synth.apparel import Design, jpeg_bytes, render_product
from include.trends.colours import dominant_colours, nearest_name
from tests.conftest import jpeg_bytes as solid_jpeg


def test_garment_colours_ignore_the_background():
    red = render_product(Design("tshirt", "Red", "White", "solid", "horizontal", 20))
    colours = dominant_colours(jpeg_bytes(red))
    assert colours[0][0] == "red" and colours[0][1] > 0.6
    navy = render_product(Design("shirt", "Navy", "White", "stripes", "vertical", 14))
    names = [n for n, _ in dominant_colours(jpeg_bytes(navy))]
    assert names[:2] == ["navy", "white"]  # the stripes, not the grey of their blended edges


def test_named_colours_and_bad_input():
    assert nearest_name((30, 40, 90)) == "navy" and nearest_name((250, 250, 250)) == "white"
    assert dominant_colours(solid_jpeg((40, 140, 72)))[0][0] == "green"  # no background: the whole picture
    assert dominant_colours(b"not an image") == []
