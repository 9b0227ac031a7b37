"""The PNG fallback of the flow picture: its own SVG rasterised by Pillow.

:func:`~.flow_picture.graph_svg` writes a small subset of SVG (translated
groups of rectangles, polygons, polylines, lines and monospace text), so
this reads exactly that subset back and draws it with Pillow's ImageDraw and
the DejaVu fonts matplotlib ships: the same picture on every machine, with
no system library.  A general SVG renderer (resvg) drew the same picture at
five times the cost, more than the rest of the view together; anything
outside the subset (a ``<title>``, a ``<g>`` without a transform) is skipped.

>>> svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
...        '<rect x="1" y="1" width="30" height="10" fill="#d62728" stroke="#333333"/></svg>')
>>> svg_png(svg)[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
import math
import os
import re
import xml.etree.ElementTree as ElementTree
from functools import lru_cache

import matplotlib
from PIL import Image, ImageColor, ImageDraw, ImageFont

from .flow_picture import MARK_COLOURS, colour_table

FONT_FOLDER = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
PNG_PIXELS = 600_000  # a larger picture is scaled down: the fallback of an SVG need not cost more than the view
_NAMESPACE = "{http://www.w3.org/2000/svg}"


@lru_cache(maxsize=None)
def font(size: float, bold: bool) -> ImageFont.FreeTypeFont:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    return ImageFont.truetype(os.path.join(FONT_FOLDER, name), max(1, round(size)))


@lru_cache(maxsize=1)
def palette() -> Image.Image:
    """Every colour the picture uses: the colour map (every other step), the marks' colours, and greys for text edges."""
    colours = [ImageColor.getrgb(colour) for colour in colour_table()[::2]]
    colours += [ImageColor.getrgb(colour) for colour in MARK_COLOURS]
    colours += [(grey, grey, grey) for grey in range(0, 256, 4)][:256 - len(colours)]
    image = Image.new("P", (1, 1))
    image.putpalette([channel for colour in colours for channel in colour])
    return image


def numbers(text: str) -> list[float]:
    return [float(number) for number in re.findall(r"-?[\d.]+", text)]


def svg_png(svg: str) -> bytes:
    """Rasterise an SVG written by :func:`~.flow_picture.graph_svg` to PNG bytes."""
    root = ElementTree.fromstring(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    zoom = min(1.0, math.sqrt(PNG_PIXELS / (width * height)))
    image = Image.new("RGB", (max(1, round(width * zoom)), max(1, round(height * zoom))), "white")
    draw = ImageDraw.Draw(image)
    _draw_children(draw, root, 0.0, 0.0, zoom)
    buffer = io.BytesIO()
    # Mapped onto the picture's own colours, it encodes in a tenth of the time, at half the size.
    image.quantize(palette=palette(), dither=Image.Dither.NONE).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _draw_children(draw: ImageDraw.ImageDraw, parent, dx: float, dy: float, zoom: float) -> None:
    for element in parent:
        tag = element.tag.removeprefix(_NAMESPACE)
        if tag == "g":
            shift = numbers(element.get("transform", "")) or [0.0, 0.0]
            _draw_children(draw, element, dx + shift[0], dy + shift[1], zoom)
        elif element.get("visibility") != "hidden":
            _draw_element(draw, tag, element, dx, dy, zoom)


def _draw_element(draw: ImageDraw.ImageDraw, tag: str, element, dx: float, dy: float, zoom: float) -> None:
    def place(x: float, y: float) -> tuple[float, float]:
        return (x + dx) * zoom, (y + dy) * zoom

    fill = element.get("fill")
    fill = None if fill in (None, "none") else fill
    stroke = element.get("stroke")
    line_width = max(1, round(float(element.get("stroke-width", "1")) * zoom))
    if tag == "rect":
        if element.get("width", "").endswith("%"):
            return  # the white background
        x, y = float(element.get("x", 0)), float(element.get("y", 0))
        corner = place(x, y) + place(x + float(element.get("width")), y + float(element.get("height")))
        draw.rounded_rectangle(corner, radius=float(element.get("rx", 0)) * zoom, fill=fill,
                               outline=stroke, width=line_width if stroke else 0)
    elif tag in ("polygon", "polyline"):
        values = numbers(element.get("points"))
        points = [place(x, y) for x, y in zip(values[::2], values[1::2])]
        if tag == "polygon":
            draw.polygon(points, fill=fill, outline=stroke, width=line_width if stroke else 0)
        else:
            draw.line(points, fill=stroke, width=line_width, joint="curve")
    elif tag == "line":
        start = place(float(element.get("x1")), float(element.get("y1")))
        draw.line(start + place(float(element.get("x2")), float(element.get("y2"))), fill=stroke, width=line_width)
    elif tag == "text" and element.text:
        size = float(element.get("font-size", "11")) * zoom
        anchor = "ms" if element.get("text-anchor") == "middle" else "ls"
        draw.text(place(float(element.get("x")), float(element.get("y"))), element.text, anchor=anchor,
                  fill=fill or "black", font=font(size, element.get("font-weight") == "bold"))
