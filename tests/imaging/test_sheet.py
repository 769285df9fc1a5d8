"""contact_sheet: grid size, thumbnails, labels, truncation, empty sheet, real presets."""

import math

import numpy as np
import pytest
from PIL import Image

from bot.assets.presets import PresetCatalog
from bot.imaging.sheet import PADDING, contact_sheet

BACKGROUND = (32, 34, 37)
TEXT = (235, 235, 235)


def solid(colour, size=(64, 48)) -> Image.Image:
    return Image.new("RGB", size, colour)


def cell_box(index: int, *, thumb: int, label: int, cols: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the thumbnail of cell index, computed independently."""
    row, col = divmod(index, cols)
    left = PADDING + col * (thumb + PADDING)
    top = PADDING + row * (thumb + label + PADDING)
    return left, top, left + thumb, top + thumb


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img).astype(int)


@pytest.mark.parametrize(
    ("count", "cols", "rows"), [(1, 1, 1), (4, 4, 1), (11, 4, 3), (14, 4, 4)]
)
def test_size_follows_columns_rows_thumb_label_and_padding(count, cols, rows):
    items = [(f"p{i}", solid((i * 20, 0, 0))) for i in range(count)]
    sheet = contact_sheet(items, thumb=50, columns=4, label_height=20)
    assert sheet.mode == "RGB"
    assert sheet.size == (cols * 50 + (cols + 1) * PADDING, rows * (50 + 20) + (rows + 1) * PADDING)


def test_other_thumb_and_column_counts():
    items = [(str(i), solid((0, 0, 0))) for i in range(7)]
    sheet = contact_sheet(items, thumb=33, columns=3, label_height=0)
    assert sheet.size == (3 * 33 + 4 * PADDING, 3 * 33 + 4 * PADDING)


def test_cells_show_their_images_in_order():
    items = [("red", solid((220, 20, 30))), ("blue", solid((20, 40, 210), (30, 90)))]
    sheet = pixels(contact_sheet(items, thumb=40, columns=2, label_height=16))
    for index, (_, image) in enumerate(items):
        left, top, right, bottom = cell_box(index, thumb=40, label=16, cols=2)
        cell = sheet[top:bottom, left:right]
        assert np.abs(cell.mean(axis=(0, 1)) - image.getpixel((0, 0))).max() <= 2
        assert tuple(sheet[(top + bottom) // 2, (left + right) // 2]) == image.getpixel((0, 0))


def test_thumbnails_are_centre_cropped_squares():
    strip = Image.new("RGB", (300, 100), (0, 200, 0))  # green | red | green
    strip.paste((200, 0, 0), (100, 0, 200, 100))
    tall = Image.new("RGB", (100, 300), (0, 200, 0))  # green / blue / green
    tall.paste((0, 0, 200), (0, 100, 100, 200))
    sheet = pixels(contact_sheet([("wide", strip), ("tall", tall)], thumb=60, columns=2))
    for index, colour in enumerate([(200, 0, 0), (0, 0, 200)]):
        left, top, right, bottom = cell_box(index, thumb=60, label=28, cols=2)
        inner = sheet[top + 3 : bottom - 3, left + 3 : right - 3]  # Lanczos may ring at edges
        assert np.abs(inner - colour).max() <= 3


def test_non_rgb_inputs_are_converted():
    grey = Image.new("L", (20, 20), 128)
    clear = Image.new("RGBA", (20, 20), (0, 0, 0, 0))  # transparent becomes white
    sheet = pixels(contact_sheet([("grey", grey), ("clear", clear)], thumb=20, columns=2))
    assert tuple(sheet[PADDING + 10, PADDING + 10]) == (128, 128, 128)
    assert tuple(sheet[PADDING + 10, 2 * PADDING + 30]) == (255, 255, 255)


def test_labels_are_drawn_under_each_cell():
    items = [("starry-night", solid((0, 0, 0))), ("great-wave", solid((0, 0, 0)))]
    sheet = pixels(contact_sheet(items, thumb=80, columns=2, label_height=24, text=TEXT))
    for index in range(2):
        left, _, right, bottom = cell_box(index, thumb=80, label=24, cols=2)
        band = sheet[bottom : bottom + 24, left:right]
        inked = (band != BACKGROUND).any(axis=2)
        assert inked.sum() > 40
        assert (np.abs(band - TEXT).max(axis=2) <= 10).any()  # the text colour itself


def test_empty_name_draws_no_label():
    sheet = pixels(contact_sheet([("", solid((0, 0, 0)))], thumb=40, label_height=20))
    assert (sheet[PADDING + 40 :, :] == BACKGROUND).all()


def test_long_name_is_cut_short_inside_its_cell():
    long_name = "the-most-extraordinarily-long-preset-name-anyone-ever-typed-" * 3
    items = [(long_name, solid((0, 0, 0))), ("", solid((0, 0, 0)))]
    thumb, label = 60, 24
    sheet = pixels(contact_sheet(items, thumb=thumb, columns=2, label_height=label))
    band = sheet[PADDING + thumb : PADDING + thumb + label]
    inked_columns = np.flatnonzero((band != BACKGROUND).any(axis=(0, 2)))
    assert inked_columns.size, "the long name was not drawn at all"
    assert inked_columns.min() >= PADDING
    assert inked_columns.max() < PADDING + thumb  # nothing in the gap or the next cell
    assert inked_columns.max() > PADDING + thumb * 0.75  # it fills the cell: cut, not dropped


def test_long_name_ends_in_an_ellipsis():
    """The cut label is the short prefix plus an ellipsis: its last glyph is a low dotted row."""
    thumb, label = 60, 24
    name = "abcdefghijklmnopqrstuvwxyz" * 4
    sheet = pixels(contact_sheet([(name, solid((0, 0, 0)))], thumb=thumb, label_height=label))
    band = (sheet[PADDING + thumb :, :] != BACKGROUND).any(axis=2)
    cols = np.flatnonzero(band.any(axis=0))
    tail = band[:, cols.max() - 2 : cols.max() + 1]  # the final dot of the ellipsis
    rows = np.flatnonzero(tail.any(axis=1))
    assert rows.max() - rows.min() <= 4  # a dot, not a letter


def test_no_items_gives_a_small_no_presets_image():
    sheet = contact_sheet([], thumb=160, label_height=28)
    assert sheet.mode == "RGB"
    assert sheet.width <= 160 + 2 * PADDING + 40 and sheet.height <= 28 + 2 * PADDING + 8
    inked = (pixels(sheet) != BACKGROUND).any(axis=2)
    assert inked.sum() > 50  # the words are drawn
    lonely = contact_sheet([("x", solid((0, 0, 0)))], thumb=160, label_height=28)
    assert not np.array_equal(pixels(sheet)[: lonely.height], pixels(lonely)[: sheet.height])


@pytest.mark.parametrize("bad", [{"thumb": 0}, {"columns": 0}, {"label_height": -1}])
def test_rejects_nonsense_geometry(bad):
    with pytest.raises(ValueError):
        contact_sheet([("a", solid((0, 0, 0)))], **bad)


def test_real_preset_paintings(preset_image):
    catalog = PresetCatalog.builtin()
    items = [(preset.slug, preset_image(preset.slug)) for preset in catalog]
    assert len(items) == 11
    sheet = contact_sheet(items)
    rows = math.ceil(11 / 4)
    assert sheet.size == (4 * 160 + 5 * PADDING, rows * (160 + 28) + (rows + 1) * PADDING)
    array = pixels(sheet)
    for index, (_, painting) in enumerate(items):
        side = min(painting.size)
        left, top = (painting.width - side) // 2, (painting.height - side) // 2
        want = pixels(painting.crop((left, top, left + side, top + side))).mean(axis=(0, 1))
        x0, y0, x1, y1 = cell_box(index, thumb=160, label=28, cols=4)
        got = array[y0:y1, x0:x1].mean(axis=(0, 1))
        assert np.abs(got - want).max() <= 4, catalog.names()[index]
