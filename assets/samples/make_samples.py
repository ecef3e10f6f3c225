#!/usr/bin/env python3
"""Generate the sample raw testimonials that ship with the project (no real people).

Why generated: the demo (`python run.py demo`) needs photos, clips and subtitles that look
like what designers drop in the inbox, but we may not ship real people's faces or voices.
Everything here is drawn with Pillow/numpy, voiced by espeak-ng and encoded with the
ffmpeg binary from imageio-ffmpeg. Fixed seeds and bit-exact encoder flags make the run
reproducible.

    python3 assets/samples/make_samples.py            # regenerate everything
    python3 assets/samples/make_samples.py --only photos|clips
    python3 assets/samples/make_samples.py --out DIR  # write somewhere else

Needs: numpy, Pillow, imageio-ffmpeg (project dependencies) and the `espeak-ng` binary
(`apt-get install espeak-ng`) for clips and subtitles.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageFilter
from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
FPS = 30
AUDIO_RATE = 48000

# ---------------------------------------------------------------------------------------
# Small numpy painting kit: premultiplied RGBA layers, analytic soft-edged masks.
# ---------------------------------------------------------------------------------------


def rgb(hex_colour: str) -> np.ndarray:
    """'#rrggbb' -> float32 array in 0..1."""
    h = hex_colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)], dtype=np.float32)


class Layer:
    """A premultiplied RGBA float canvas; shapes are painted 'over' it with soft masks."""

    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        self.prgb = np.zeros((height, width, 3), np.float32)
        self.alpha = np.zeros((height, width), np.float32)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        self.X, self.Y = xs + 0.5, ys + 0.5

    def paint(self, mask: np.ndarray, colour: np.ndarray | float, opacity: float = 1.0) -> None:
        m = np.clip(mask, 0, 1).astype(np.float32) * opacity
        col = np.asarray(colour, np.float32)
        if col.ndim < 3:
            col = np.broadcast_to(col, (self.h, self.w, 3)) if col.ndim == 1 else col[..., None]
        self.prgb = self.prgb * (1 - m[..., None]) + np.clip(col, 0, 1) * m[..., None]
        self.alpha = self.alpha * (1 - m) + m

    def shade(self, mask: np.ndarray, factor: np.ndarray | float) -> None:
        """Multiply what is already painted (darken < 1 < lighten) inside mask."""
        m = np.clip(mask, 0, 1)[..., None]
        f = np.asarray(factor, np.float32)
        if f.ndim == 2:
            f = f[..., None]
        self.prgb = np.clip(self.prgb * (1 - m + m * f), 0, None)
        self.prgb = np.minimum(self.prgb, self.alpha[..., None])

    def to_image(self) -> Image.Image:
        a = np.clip(self.alpha, 1e-6, 1)[..., None]
        straight = np.where(a > 1e-5, self.prgb / a, 0)
        arr = np.dstack([np.clip(straight, 0, 1), np.clip(self.alpha, 0, 1)[..., None]])
        return Image.fromarray((arr * 255 + 0.5).astype(np.uint8))


def ellipse(L: Layer, cx: float, cy: float, rx: float, ry: float, soft: float = 1.2,
            angle: float = 0.0) -> np.ndarray:
    dx, dy = L.X - cx, L.Y - cy
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    d = np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)
    return np.clip((1 - d) * min(rx, ry) / soft + 0.5, 0, 1)


def blob(L: Layer, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """A gaussian falloff: soft shading spots (eye sockets, cheeks, highlights)."""
    return np.exp(-(((L.X - cx) / rx) ** 2 + ((L.Y - cy) / ry) ** 2))


def band(values: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, soft: float = 1.0) -> np.ndarray:
    """1 where lo <= values <= hi, soft edges of `soft` pixels."""
    return np.clip((values - lo) / soft + 0.5, 0, 1) * np.clip((hi - values) / soft + 0.5, 0, 1)


def np_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8))


def vgrad(h: int, w: int, top: np.ndarray, bottom: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    t = (np.linspace(0, 1, h, dtype=np.float32) ** gamma)[:, None, None]
    return np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).copy()


# ---------------------------------------------------------------------------------------
# The stylised person.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    skin: str
    hair: str
    hair_style: str  # bob | long | short | curly | bun
    outfit: str  # labcoat | blazer | sweater | shirt
    clothes: str
    inner: str
    iris: str = "#3b2618"
    lips: str = "#b4635f"
    beard: float = 0.0  # 0 none .. 1 full short beard
    light: float = -1.0  # -1 key light from the left, +1 from the right


@dataclass
class PersonLayers:
    """Separately composited so a clip can move the head over a still body."""

    back: Image.Image  # hair behind the head (moves with the head)
    body: Image.Image
    head: Image.Image  # eyes open
    head_blink: Image.Image  # eyes closed
    head_center: tuple[float, float]  # in layer coordinates
    mouth: tuple[float, float, float]  # mouth centre x, y and head unit u (layer coords)
    extra: dict = field(default_factory=dict)


def _skin_shading(L: Layer, cx: float, cy: float, u: float, light: float) -> np.ndarray:
    nx, ny = (L.X - cx) / (0.42 * u), (L.Y - cy) / (0.52 * u)
    shade = 1.06 - 0.22 * np.clip(nx**2 + 0.6 * ny**2, 0, 2.0) - 0.10 * light * np.clip(nx, -1.3, 1.3)
    return shade


def _draw_eye(L: Layer, ex: float, ey: float, u: float, p: Person, closed: bool, skin: np.ndarray) -> None:
    w, h = 0.068 * u, 0.032 * u
    t = np.clip((L.X - ex) / w, -1, 1)
    inside_x = band(L.X, ex - w, ex + w, 1.0)
    top = ey - h * (1 - t**2) ** 0.8 - 0.004 * u
    bottom = ey + h * 0.65 * (1 - t**2) ** 0.9
    if closed:
        lid = inside_x * band(L.Y, top, bottom, 1.0)
        L.paint(lid, skin * 0.86)
        lash = inside_x * band(L.Y, bottom - 0.012 * u, bottom + 0.002 * u, 1.0)
        L.paint(lash, rgb("#2a1a14"), 0.9)
        return
    almond = inside_x * band(L.Y, top, bottom, 1.0)
    L.paint(almond, rgb("#e9e2dc"))
    iris = ellipse(L, ex + 0.006 * u, ey - 0.004 * u, 0.03 * u, 0.03 * u) * almond
    L.paint(iris, rgb(p.iris))
    L.paint(ellipse(L, ex + 0.006 * u, ey - 0.004 * u, 0.014 * u, 0.014 * u) * almond, rgb("#0c0806"))
    L.paint(ellipse(L, ex - 0.004 * u, ey - 0.014 * u, 0.007 * u, 0.007 * u) * almond, rgb("#ffffff"), 0.85)
    # upper lid shadow on the eyeball and a strong lash line: the dark eye band
    L.shade(almond * band(L.Y, top, top + 0.016 * u, 2.0), 0.55)
    lash = inside_x * band(L.Y, top - 0.012 * u, top + 0.002 * u, 1.0)
    L.paint(lash, rgb("#1c120d"))
    crease = inside_x * band(L.Y, top - 0.03 * u, top - 0.022 * u, 1.5)
    L.shade(crease, 0.82)


def _draw_mouth(L: Layer, mx: float, my: float, u: float, opening: float, smile: float,
                lips_colour: np.ndarray) -> None:
    """opening: 0 closed .. 1 wide (speaking); smile: corner lift in head units."""
    w = 0.115 * u
    t = np.clip((L.X - mx) / w, -1, 1)
    inside = band(L.X, mx - w, mx + w, 1.0)
    bulge = np.clip(1 - t**2, 0, 1)
    part = my - smile * u * t**2
    o = opening * 0.085 * u
    inner_top = part - 0.22 * o * bulge**0.7
    inner_bottom = part + o * bulge**0.7
    upper_top = inner_top - 0.024 * u * bulge**0.6 - 0.004 * u * np.cos(t * 6) * bulge
    lower_bottom = inner_bottom + 0.034 * u * bulge**0.5
    L.paint(inside * band(L.Y, upper_top, lower_bottom, 1.2), lips_colour)
    L.shade(inside * band(L.Y, upper_top, part, 1.2), 0.82)  # upper lip in shadow
    L.shade(blob(L, mx, lower_bottom.max() if np.ndim(lower_bottom) else lower_bottom, 0.08 * u, 0.02 * u), 1.12)
    if opening > 0.02:
        cavity = inside * band(L.Y, inner_top, inner_bottom, 1.0)
        L.paint(cavity, rgb("#3a1414"))
        teeth = cavity * band(L.Y, inner_top - 2, inner_top + min(0.03 * u, 0.45 * o + 1), 1.0)
        L.paint(teeth * band(L.X, mx - 0.75 * w, mx + 0.75 * w, 2.0), rgb("#efe9e1"), 0.95)
        tongue = cavity * blob(L, mx, inner_bottom.max(), 0.06 * u, 0.35 * o + 1)
        L.paint(tongue, rgb("#a8464a"), 0.7)
    else:
        L.paint(inside * band(L.Y, part - 0.004 * u, part + 0.004 * u, 1.0), rgb("#5a2a28"), 0.9)
    # dimples at the corners
    for side in (-1, 1):
        L.shade(blob(L, mx + side * 1.02 * w, my - smile * u, 0.012 * u, 0.012 * u), 0.8)


def draw_person(p: Person, u: float, width: int, height: int, cx: float, cy: float,
                mouth_opening: float | None = 0.0, smile: float = 0.025) -> PersonLayers:
    """mouth_opening None leaves the mouth out: a clip pastes it per frame (see mouth_patch)."""
    """Render a person whose head (height u) is centred at (cx, cy) in a width x height layer."""
    light = p.light
    skin, hair, clothes, inner = rgb(p.skin), rgb(p.hair), rgb(p.clothes), rgb(p.inner)
    rng = np.random.default_rng(7)

    # --- hair behind the head -------------------------------------------------------
    back = Layer(width, height)
    strands = 1 + 0.07 * np.sin((back.X - cx) / (0.012 * u) + 3 * np.sin(back.Y / (0.08 * u)))
    hair_col = hair[None, None, :] * strands[..., None]
    hair_col = hair_col * (1.0 - 0.08 * light * np.clip((back.X - cx) / (0.5 * u), -1, 1))[..., None]
    if p.hair_style == "long":
        m = ellipse(back, cx, cy + 0.05 * u, 0.52 * u, 0.62 * u)
        m = np.maximum(m, band(back.X, cx - 0.5 * u, cx + 0.5 * u, 3) * band(back.Y, cy, cy + 1.05 * u, 6))
        m *= 1 - 0.5 * np.clip((back.Y - (cy + 0.85 * u)) / (0.2 * u), 0, 1)
        back.paint(m, hair_col)
    elif p.hair_style == "bob":
        m = ellipse(back, cx, cy + 0.0 * u, 0.5 * u, 0.6 * u)
        m = np.maximum(m, band(back.X, cx - 0.49 * u, cx + 0.49 * u, 3) * band(back.Y, cy, cy + 0.3 * u, 3))
        m = np.maximum(m, ellipse(back, cx, cy + 0.3 * u, 0.49 * u, 0.22 * u))
        back.paint(m, hair_col)
    elif p.hair_style == "curly":
        for k in range(46):
            a = 2 * math.pi * k / 46
            rr = 0.47 * u * (1 + 0.06 * math.sin(5 * a))
            x, y = cx + rr * math.cos(a), cy - 0.08 * u + 0.9 * rr * math.sin(a)
            if y < cy + 0.35 * u:
                back.paint(ellipse(back, x, y, 0.11 * u, 0.11 * u), hair_col)
    elif p.hair_style == "bun":
        back.paint(ellipse(back, cx, cy - 0.56 * u, 0.17 * u, 0.14 * u), hair_col)

    # --- body ------------------------------------------------------------------------
    body = Layer(width, height)
    neck = band(body.X, cx - 0.14 * u, cx + 0.14 * u, 2) * band(body.Y, cy + 0.25 * u, cy + 0.85 * u, 2)
    body.paint(neck, skin * 0.86)
    body.shade(neck * np.clip(1 - (body.Y - (cy + 0.3 * u)) / (0.28 * u), 0, 1), 0.72)  # jaw shadow
    top = cy + 0.66 * u
    y0 = cy + 1.3 * u
    # shoulders slope into arms that widen slightly towards the bottom of the frame
    half = 1.08 * u + 0.12 * u * np.clip((body.Y - y0) / u, 0, None)
    sx = (body.X - cx) / half
    sy = np.clip((y0 - body.Y) / (0.64 * u), 0, None)
    torso_d = np.abs(sx) ** 2.2 + sy**2.2
    torso = np.clip((1 - torso_d) * 30, 0, 1) * (body.Y >= top - 2)
    fold = 1 + 0.035 * np.sin((body.X - cx) / (0.09 * u) + 2 * np.sin(body.Y / (0.2 * u)))
    cloth_shade = (1.02 - 0.30 * np.clip(sx, -1.2, 1.2) ** 2 - 0.10 * light * np.clip(sx, -1, 1)) * fold
    yrel = (body.Y - cy) / u
    for side in (-1, 1):  # where the arms meet the body
        seam = band(np.abs(body.X - cx - side * 0.78 * u - side * 0.05 * (body.Y - y0)), -1, 0.012 * u, 3)
        cloth_shade = cloth_shade * (1 - 0.22 * seam * np.clip((yrel - 1.35) / 0.2, 0, 1))
    neck_hole = np.clip(((body.X - cx) / (0.2 * u)) ** 2 + ((body.Y - (cy + 0.66 * u)) / (0.16 * u)) ** 2, 0, 2)
    body.paint(torso, clothes * cloth_shade[..., None])
    if p.outfit in ("labcoat", "blazer"):
        # the V of the lapels: wide at the collar, closing lower on the chest
        hw = 0.21 * u * np.clip(1 - (body.Y - (cy + 0.68 * u)) / (0.95 * u), 0, 1)
        dist = np.abs(body.X - cx) - hw
        opening_mask = torso * band(dist, -1e9, 0, 1.5) * (yrel > 0.6)
        body.paint(opening_mask, inner * cloth_shade[..., None])
        body.shade(torso * band(dist, 0, 0.02 * u, 2) * (yrel > 0.66) * (yrel < 1.62), 0.7)
        for side in (-1, 1):  # lapel fold lines
            lap = np.abs(body.X - cx - side * (hw + 0.16 * u * np.clip((body.Y - cy - 0.7 * u) / (0.3 * u), 0, 1)))
            body.shade(torso * band(lap, -1, 0.01 * u, 2) * (yrel > 0.72) * (yrel < 1.3), 0.8)
        if p.outfit == "labcoat":
            pocket = band(body.X, cx + 0.38 * u, cx + 0.66 * u, 2) * band(body.Y, cy + 1.45 * u, cy + 1.5 * u, 2)
            body.shade(pocket * torso, 0.85)
            pen = band(body.X, cx + 0.45 * u, cx + 0.47 * u, 1) * band(body.Y, cy + 1.38 * u, cy + 1.5 * u, 1)
            body.paint(pen * torso, rgb("#1f4fa0"))
            for by in (cy + 1.75 * u, cy + 2.0 * u):
                body.paint(ellipse(body, cx, by, 0.02 * u, 0.02 * u) * torso, rgb("#d0d4d8"))
    elif p.outfit == "sweater":
        rib = band(neck_hole, 0.72, 1.0, 0.03) * torso
        body.shade(rib, 0.78)
    else:  # shirt with an open collar
        vee = band(np.abs(body.X - cx) - (0.22 * u - (body.Y - (cy + 0.66 * u)) * 0.4), -1e9, 0, 1.5)
        body.paint(torso * vee * (yrel > 0.6), skin * 0.82)
        for side in (-1, 1):
            collar = ellipse(body, cx + side * 0.2 * u, cy + 0.76 * u, 0.15 * u, 0.06 * u, angle=side * 0.55)
            body.shade(ellipse(body, cx + side * 0.21 * u, cy + 0.81 * u, 0.15 * u, 0.05 * u, angle=side * 0.55) * torso, 0.8)
            body.paint(collar * torso, clothes * 1.08)
        for k in range(3):
            body.paint(ellipse(body, cx, cy + (1.25 + 0.3 * k) * u, 0.018 * u, 0.018 * u) * torso, clothes * 0.7)
    # the head casts a soft shadow on the neck / chest
    body.shade(blob(body, cx + 0.05 * u * light, cy + 0.66 * u, 0.32 * u, 0.12 * u) * body.alpha, 0.75)

    # --- head (front): ears, face, features, hair cap ------------------------------------
    def head_layer(closed_eyes: bool) -> Layer:
        H = Layer(width, height)
        for side in (-1, 1):
            ear = ellipse(H, cx + side * 0.385 * u, cy + 0.0 * u, 0.06 * u, 0.1 * u)
            H.paint(ear, skin * (0.86 - 0.06 * side * light))
        nx = (H.X - cx) / (0.40 * u)
        ny = (H.Y - cy) / (0.5 * u)
        jaw = 1 - 0.2 * np.clip(ny, 0, 1) ** 1.6
        d = np.sqrt((nx / jaw) ** 2 + ny**2)
        face = np.clip((1 - d) * 0.4 * u / 1.2 + 0.5, 0, 1)
        H.paint(face, skin * _skin_shading(H, cx, cy, u, light)[..., None])
        fm = face
        # planes of the face: forehead and cheeks lighter, eye sockets and sides darker
        H.shade(fm * blob(H, cx, cy - 0.26 * u, 0.22 * u, 0.1 * u), 1.10)
        for side in (-1, 1):
            H.shade(fm * blob(H, cx + side * 0.2 * u, cy + 0.14 * u, 0.085 * u, 0.07 * u), 1.08)
            H.paint(fm * blob(H, cx + side * 0.21 * u, cy + 0.16 * u, 0.07 * u, 0.05 * u), rgb("#e08a80"), 0.16)
            H.shade(fm * blob(H, cx + side * 0.15 * u, cy - 0.03 * u, 0.11 * u, 0.065 * u), 0.72)
            H.shade(fm * blob(H, cx + side * 0.06 * u, cy + 0.05 * u, 0.025 * u, 0.09 * u), 0.9)
        # nose: bridge highlight, tip, shadow beneath, nostrils
        H.shade(fm * blob(H, cx - 0.005 * u * light, cy + 0.06 * u, 0.028 * u, 0.12 * u), 1.16)
        H.shade(fm * blob(H, cx, cy + 0.165 * u, 0.05 * u, 0.03 * u), 1.08)
        H.shade(fm * blob(H, cx + 0.01 * u, cy + 0.205 * u, 0.07 * u, 0.018 * u), 0.72)
        for side in (-1, 1):
            H.shade(fm * blob(H, cx + side * 0.032 * u, cy + 0.19 * u, 0.014 * u, 0.009 * u), 0.6)
        # chin and the line between cheek and mouth
        H.shade(fm * blob(H, cx, cy + 0.43 * u, 0.09 * u, 0.04 * u), 1.06)
        H.shade(fm * blob(H, cx, cy + 0.39 * u, 0.07 * u, 0.015 * u), 0.88)
        # beard / stubble
        if p.beard > 0:
            ramp = np.clip((H.Y - (cy + 0.1 * u)) / (0.12 * u), 0, 1) ** 1.5
            beard_zone = fm * ramp * (1 - 0.8 * blob(H, cx, cy + 0.3 * u, 0.12 * u, 0.045 * u))
            beard_zone *= 1 - 0.6 * np.clip((np.abs(nx) - 0.75) / 0.25, 0, 1) * (ny < 0.5)
            grain = 0.9 + 0.2 * np.asarray(Image.fromarray((rng.random((height, width)) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2)), np.float32) / 255
            H.paint(beard_zone * grain, hair * 1.15, 0.6 * p.beard)
            mous = fm * blob(H, cx, cy + 0.255 * u, 0.1 * u, 0.018 * u)
            H.paint(mous, hair, 0.7 * p.beard)
        # brows
        for side in (-1, 1):
            bx = cx + side * 0.15 * u
            t = np.clip((H.X - bx) / (0.085 * u), -1, 1)
            arch = cy - 0.115 * u - 0.02 * u * (1 - t**2) + 0.01 * u * side * t
            thick = 0.024 * u * (1 - 0.4 * (side * t + 1) / 2)
            m = band(H.X, bx - 0.085 * u, bx + 0.085 * u, 2) * band(H.Y, arch - thick, arch + thick * 0.6, 1.5)
            H.paint(m * fm, hair * 0.8, 0.92)
        for side in (-1, 1):
            _draw_eye(H, cx + side * 0.145 * u, cy - 0.02 * u, u, p, closed_eyes, skin)
        if mouth_opening is not None:
            _draw_mouth(H, cx, cy + 0.3 * u, u, mouth_opening, smile, rgb(p.lips))
        # hair cap over the forehead
        if p.hair_style != "none":
            outer = ellipse(H, cx, cy - 0.1 * u, 0.445 * u, 0.5 * u)
            if p.hair_style in ("bob",):
                window = ellipse(H, cx + 0.02 * u, cy + 0.22 * u, 0.37 * u, 0.5 * u)
                # a fringe: make the window start lower, with a wavy edge
                edge = cy - 0.2 * u + 0.015 * u * np.sin((H.X - cx) / (0.03 * u))
                window = window * np.clip((H.Y - edge) / 1.5, 0, 1)
            elif p.hair_style == "curly":
                window = ellipse(H, cx, cy + 0.16 * u, 0.37 * u, 0.53 * u)
                outer = np.maximum(outer, 0)
            elif p.hair_style == "bun":
                window = ellipse(H, cx - 0.03 * u, cy + 0.14 * u, 0.38 * u, 0.53 * u)
            elif p.hair_style == "long":
                window = ellipse(H, cx + 0.06 * u, cy + 0.14 * u, 0.36 * u, 0.52 * u)
            else:  # short, side part
                window = ellipse(H, cx + 0.02 * u, cy + 0.15 * u, 0.39 * u, 0.54 * u)
                outer = ellipse(H, cx, cy - 0.08 * u, 0.43 * u, 0.48 * u) * np.clip((cy + 0.02 * u - H.Y) / 2, 0, 1)
            cap = outer * (1 - window)
            strand = 1 + 0.08 * np.sin((H.X - cx) / (0.01 * u) + 4 * np.sin(H.Y / (0.05 * u)))
            sheen = 1 + 0.25 * blob(H, cx - 0.12 * u * light, cy - 0.4 * u, 0.14 * u, 0.05 * u)
            H.paint(cap, hair * (strand * sheen)[..., None] * (1 - 0.1 * light * np.clip(nx, -1, 1))[..., None])
            if p.hair_style == "curly":
                for k in range(18):
                    a = math.pi + math.pi * k / 17
                    x, y = cx + 0.4 * u * math.cos(a), cy - 0.12 * u + 0.45 * u * math.sin(a)
                    H.paint(ellipse(H, x, y, 0.085 * u, 0.085 * u) * (1 - window * 0.8), hair * 1.08)
            # soft shadow of the hair on the forehead
            H.shade(face * (1 - cap) * blob(H, cx, cy - 0.33 * u, 0.3 * u, 0.06 * u), 0.85)
        return H

    head = head_layer(False)
    blink = head_layer(True)
    return PersonLayers(
        back=back.to_image(), body=body.to_image(), head=head.to_image(), head_blink=blink.to_image(),
        head_center=(cx, cy), mouth=(cx, cy + 0.3 * u, u),
    )


def mouth_patch(p: Person, u: float, opening: float, smile: float) -> tuple[Image.Image, tuple[int, int]]:
    """A small RGBA patch with skin + mouth, to redraw the mouth on each video frame."""
    w, h = int(0.34 * u), int(0.26 * u)
    L = Layer(w, h)
    mx, my = w / 2, h * 0.4
    _draw_mouth(L, mx, my, u, opening, smile, rgb(p.lips))
    return L.to_image(), (int(mx), int(my))


# ---------------------------------------------------------------------------------------
# Settings (backgrounds). Each returns float RGB HxWx3, then gets blurred (depth of field).
# ---------------------------------------------------------------------------------------


def _rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour: np.ndarray, alpha: float = 1.0) -> None:
    h, w = img.shape[:2]
    a, b = int(max(0, y0)), int(min(h, y1))
    c, d = int(max(0, x0)), int(min(w, x1))
    if a < b and c < d:
        img[a:b, c:d] = img[a:b, c:d] * (1 - alpha) + colour * alpha


def _soft_spot(img: np.ndarray, cx: float, cy: float, r: float, colour: np.ndarray, strength: float) -> None:
    h, w = img.shape[:2]
    x0, x1 = int(max(0, cx - 3 * r)), int(min(w, cx + 3 * r))
    y0, y1 = int(max(0, cy - 3 * r)), int(min(h, cy + 3 * r))
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    g = np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (r * r)))[..., None] * strength
    img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - g) + colour * g


def _disc(img: np.ndarray, cx: float, cy: float, r: float, colour: np.ndarray, alpha: float) -> None:
    h, w = img.shape[:2]
    x0, x1 = int(max(0, cx - r - 2)), int(min(w, cx + r + 2))
    y0, y1 = int(max(0, cy - r - 2)), int(min(h, cy + r + 2))
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    m = np.clip(r - np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2) + 0.5, 0, 1)[..., None] * alpha
    img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - m) + colour * m


def scene_lab(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    img = vgrad(h, w, rgb("#dfe8ee"), rgb("#b9c7d1"))
    s = h / 1000
    for x in np.arange(-0.1, 1.1, 0.33):  # ceiling light panels
        _soft_spot(img, (x + 0.15) * w, 0.02 * h, 120 * s, rgb("#ffffff"), 0.9)
    # shelves with glassware
    for shelf_y in (0.30, 0.48):
        _rect(img, 0, shelf_y * h, w, shelf_y * h + 14 * s, rgb("#8c99a3"))
        x = rng.uniform(0, 40) * s
        while x < w:
            bw = rng.uniform(30, 70) * s
            bh = rng.uniform(60, 150) * s
            col = [rgb("#7fb3d5"), rgb("#f5b041"), rgb("#82e0aa"), rgb("#f1948a"), rgb("#d6eaf8"), rgb("#ffffff")][rng.integers(0, 6)]
            _rect(img, x, shelf_y * h - bh, x + bw, shelf_y * h, col * 0.95, 0.8)
            _rect(img, x + 0.15 * bw, shelf_y * h - bh * 0.45, x + 0.85 * bw, shelf_y * h, col * 0.75, 0.7)
            x += bw + rng.uniform(15, 80) * s
    # bench: dark worktop, white cabinets, equipment boxes
    _rect(img, 0, 0.66 * h, w, 0.69 * h, rgb("#2e3338"))
    _rect(img, 0, 0.69 * h, w, h, rgb("#e8ecef"))
    for x in np.arange(0, w, 260 * s):
        _rect(img, x, 0.69 * h, x + 6 * s, h, rgb("#b7c0c7"))
    for _ in range(5):
        x = rng.uniform(0, w)
        bw, bh = rng.uniform(120, 260) * s, rng.uniform(90, 200) * s
        _rect(img, x, 0.66 * h - bh, x + bw, 0.66 * h, rgb("#f4f6f7"))
        _rect(img, x + 0.1 * bw, 0.66 * h - bh * 0.8, x + 0.6 * bw, 0.66 * h - bh * 0.45, rgb("#34495e"))
        _disc(img, x + 0.8 * bw, 0.66 * h - bh * 0.65, 8 * s, rgb("#2ecc71"), 1.0)
    return img


def scene_bioreactor(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    img = vgrad(h, w, rgb("#eef2f4"), rgb("#c9d3d9"))
    s = h / 1000
    for x in (0.2, 0.55, 0.9):
        _soft_spot(img, x * w, 0.0, 150 * s, rgb("#ffffff"), 0.9)
    # two steel vessels, brushed metal shading across the cylinder
    for vx, vw in ((0.05, 0.22), (0.3, 0.16)):
        x0, x1 = vx * w, (vx + vw) * w
        xs = np.linspace(-1, 1, int(x1 - x0))
        metal = (0.55 + 0.35 * np.cos(xs * 1.4) ** 2 + 0.18 * np.exp(-((xs + 0.45) / 0.08) ** 2))[None, :, None]
        y0, y1 = int(0.18 * h), int(0.86 * h)
        img[y0:y1, int(x0) : int(x0) + metal.shape[1]] = metal * rgb("#c8ced3")[None, None, :]
        _rect(img, x0, y0 - 20 * s, x1, y0, rgb("#8a959d"))
        _rect(img, x0 + 0.4 * (x1 - x0), 0.05 * h, x0 + 0.48 * (x1 - x0), y0, rgb("#9aa5ad"))  # pipe
        _rect(img, x0 + 0.7 * (x1 - x0), 0.3 * h, x0 + 0.74 * (x1 - x0), 0.75 * h, rgb("#e4ecef"), 0.8)  # level gauge
        _disc(img, x0 + 0.35 * (x1 - x0), 0.3 * h, 26 * s, rgb("#aeb8bf"), 1.0)  # sight glass
        _rect(img, x0, 0.6 * h, x1, 0.6 * h + 10 * s, rgb("#9aa5ad"))  # weld seam
    # control panel with status lights
    _rect(img, 0.5 * w, 0.32 * h, 0.64 * w, 0.62 * h, rgb("#2c3e50"))
    for i in range(4):
        for j in range(3):
            col = [rgb("#2ecc71"), rgb("#f1c40f"), rgb("#3498db")][(i + j) % 3]
            _disc(img, (0.52 + 0.035 * i) * w, (0.38 + 0.07 * j) * h, 9 * s, col, 1.0)
    _rect(img, 0, 0.86 * h, w, h, rgb("#9aa8b1"))
    return img


def scene_office(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    img = vgrad(h, w, rgb("#d9d2c8"), rgb("#b8ada0"))  # warm wall
    s = h / 1000
    wx0, wx1, wy0, wy1 = 0.04 * w, 0.5 * w, 0.08 * h, 0.78 * h
    win = vgrad(int(wy1 - wy0), int(wx1 - wx0), rgb("#9cc9ef"), rgb("#e9f3fb"))
    img[int(wy0) : int(wy1), int(wx0) : int(wx1)] = win
    # skyline outside the window
    x = wx0
    while x < wx1:
        bw = rng.uniform(50, 140) * s
        top = rng.uniform(0.35, 0.6) * h
        tone = rng.uniform(0.55, 0.8)
        _rect(img, x, top, min(x + bw, wx1), wy1, rgb("#8fa3b5") * tone + 0.15)
        for yy in np.arange(top + 15 * s, wy1 - 10 * s, 28 * s):
            for xx in np.arange(x + 10 * s, min(x + bw, wx1) - 10 * s, 24 * s):
                _rect(img, xx, yy, xx + 10 * s, yy + 14 * s, rgb("#dfe9f2"), float(rng.uniform(0.1, 0.3)))
        x += bw + rng.uniform(5, 30) * s
    for mx in np.linspace(wx0, wx1, 4):  # mullions
        _rect(img, mx - 6 * s, wy0, mx + 6 * s, wy1, rgb("#f2efe9"))
    _rect(img, wx0, wy0 - 8 * s, wx1, wy0 + 8 * s, rgb("#f2efe9"))
    _rect(img, wx0, wy1 - 8 * s, wx1, wy1 + 14 * s, rgb("#f2efe9"))
    # light spilling from the window, a plant and a shelf on the right
    _soft_spot(img, 0.3 * w, 0.5 * h, 420 * s, rgb("#fffaf0"), 0.35)
    for k in range(14):
        a = rng.uniform(-2.5, -0.6)
        _soft_spot(img, 0.58 * w + 140 * s * math.cos(a), 0.62 * h + 160 * s * math.sin(a), 45 * s, rgb("#3d7a3a"), 0.9)
    _rect(img, 0.54 * w, 0.7 * h, 0.62 * w, 0.86 * h, rgb("#e6e0d6"))
    _rect(img, 0.72 * w, 0.3 * h, 0.98 * w, 0.32 * h, rgb("#6b5846"))
    x = 0.73 * w
    while x < 0.97 * w:
        bw = rng.uniform(14, 30) * s
        col = [rgb("#8e44ad"), rgb("#c0392b"), rgb("#2c3e50"), rgb("#d35400"), rgb("#16a085")][rng.integers(0, 5)]
        _rect(img, x, 0.3 * h - rng.uniform(80, 120) * s, x + bw, 0.3 * h, col * 0.9)
        x += bw + 2 * s
    _rect(img, 0, 0.86 * h, w, h, rgb("#7d6b5a"))  # desk edge
    return img


def scene_city(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    img = vgrad(h, w, rgb("#8fbde6"), rgb("#f4d9b8"), 0.8)  # late afternoon sky
    s = h / 1000
    x = -30 * s
    palette = [rgb(c) for c in ("#c9a27e", "#b5654a", "#e0c9a6", "#8d5b4c", "#d8b26a", "#a7826b")]
    while x < w:
        bw = rng.uniform(180, 300) * s
        top = rng.uniform(0.12, 0.3) * h
        col = palette[rng.integers(0, len(palette))]
        _rect(img, x, top, x + bw, h, col)
        steps = 4  # Brussels stepped gable
        for k in range(steps):
            inset = (k + 1) * bw / (2 * steps + 1)
            _rect(img, x + inset, top - (k + 1) * 34 * s, x + bw - inset, top - k * 34 * s, col)
        for yy in np.arange(top + 40 * s, 0.8 * h, 120 * s):
            for xx in np.arange(x + 30 * s, x + bw - 50 * s, 75 * s):
                _rect(img, xx, yy, xx + 40 * s, yy + 70 * s, rgb("#3c4a57"))
                _rect(img, xx + 4 * s, yy + 4 * s, xx + 36 * s, yy + 30 * s, rgb("#f6e7c8"), 0.35)
        _rect(img, x, top, x + 5 * s, h, col * 0.7)
        x += bw
    _rect(img, 0, 0.8 * h, w, h, rgb("#7a7068"))  # cobbles
    for _ in range(40):  # warm bokeh from shop windows and lamps
        _disc(img, rng.uniform(0, w), rng.uniform(0.55, 0.85) * h, rng.uniform(10, 26) * s, rgb("#ffd89a"), 0.55)
    _soft_spot(img, 0.8 * w, 0.1 * h, 380 * s, rgb("#fff1d6"), 0.45)
    return img


def scene_park(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    img = vgrad(h, w, rgb("#bfe0f5"), rgb("#e9f4f9"))
    s = h / 1000
    for _ in range(160):  # canopy
        x, y = rng.uniform(0, w), rng.uniform(-0.05, 0.55) * h
        r = rng.uniform(50, 140) * s
        tone = rng.uniform(0.55, 1.0)
        _disc(img, x, y, r, rgb("#4f8a3c") * tone, 0.85)
    for _ in range(4):  # trunks
        x = rng.uniform(0, w)
        _rect(img, x, 0.3 * h, x + rng.uniform(25, 50) * s, 0.72 * h, rgb("#5b4636"))
    img[int(0.62 * h) :] = vgrad(h - int(0.62 * h), w, rgb("#8cbf5a"), rgb("#5f9440"))
    _rect(img, 0, 0.76 * h, w, 0.84 * h, rgb("#d8c7a3"), 0.8)  # gravel path
    for _ in range(60):  # sunlight through leaves
        _disc(img, rng.uniform(0, w), rng.uniform(0, 0.6) * h, rng.uniform(8, 30) * s, rgb("#fffbe0"), 0.6)
    _soft_spot(img, 0.15 * w, 0.05 * h, 420 * s, rgb("#fff6d8"), 0.55)
    return img


def scene_library(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    img = vgrad(h, w, rgb("#6b4a33"), rgb("#3e2a1d"))
    s = h / 1000
    colours = [rgb(c) for c in ("#8e2b2b", "#1f4e5f", "#c9a55c", "#3b5e3a", "#6d3b6b", "#d8cbb0", "#a0522d")]
    for sy in np.arange(0.12, 0.95, 0.2):
        _rect(img, 0, sy * h, w, sy * h + 16 * s, rgb("#8a5e3c"))
        x = 0.0
        while x < w:
            bw = rng.uniform(16, 40) * s
            bh = rng.uniform(110, 170) * s
            col = colours[rng.integers(0, len(colours))] * rng.uniform(0.7, 1.1)
            _rect(img, x, sy * h - bh, x + bw, sy * h, col)
            _rect(img, x + 0.2 * bw, sy * h - bh * 0.8, x + 0.8 * bw, sy * h - bh * 0.75, rgb("#e8d9a8"), 0.5)
            x += bw + rng.uniform(0, 4) * s
    _soft_spot(img, 0.75 * w, 0.2 * h, 450 * s, rgb("#ffd9a0"), 0.5)
    _soft_spot(img, 0.2 * w, 0.7 * h, 380 * s, rgb("#ffcf88"), 0.25)
    return img


SCENES = {
    "lab": scene_lab, "bioreactor": scene_bioreactor, "office": scene_office,
    "city": scene_city, "park": scene_park, "library": scene_library,
}


def render_background(scene: str, w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = SCENES[scene](w, h, rng)
    img = np_image(arr)
    return img.filter(ImageFilter.GaussianBlur(radius=max(w, h) / 260))


def finish(img: Image.Image, seed: int, light_from: float, grain: float = 0.011) -> Image.Image:
    """Vignette, gentle S-curve, warm light wash and film grain: the 'photo' look."""
    arr = np.asarray(img, np.float32) / 255
    h, w = arr.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xs / w - 0.5) ** 2 + (ys / h - 0.5) ** 2) / 0.5
    arr *= (1 - 0.28 * r2)[..., None]
    arr *= (1 + 0.06 * light_from * (0.5 - xs / w))[..., None]
    arr = arr + 0.08 * (arr - arr**2) * (arr - 0.5) * -4  # soft S-curve
    arr = 0.5 * arr + 0.5 * np.clip(arr * np.array([1.02, 1.0, 0.97], np.float32), 0, 1)
    rng = np.random.default_rng(seed)
    arr += rng.normal(0, grain, (h, w, 1)).astype(np.float32)
    return np_image(arr)


def soft_shadow(silhouette: Image.Image, u: float, strength: float) -> tuple[Image.Image, int]:
    """A blurred dark copy of the silhouette, padded so the blur is not cut at the layer edge."""
    radius = max(4.0, u * 0.12)
    pad = int(3 * radius)
    big = Image.new("L", (silhouette.width + 2 * pad, silhouette.height + 2 * pad), 0)
    big.paste(silhouette, (pad, pad))
    blur = big.filter(ImageFilter.GaussianBlur(radius=radius))
    shade = Image.new("RGBA", big.size, (20, 18, 16, 0))
    shade.putalpha(blur.point(lambda v: int(v * strength)))
    return shade, pad


def compose_person(bg: Image.Image, layers: PersonLayers, offset: tuple[int, int],
                   head_img: Image.Image | None = None, shadow: bool = True) -> Image.Image:
    """Background, soft drop shadow, hair, body, head: in that order."""
    out = bg.convert("RGBA")
    if shadow:
        sil = Image.new("L", layers.body.size, 0)
        for lay in (layers.back, layers.body, layers.head):
            sil = Image.fromarray(np.maximum(np.asarray(sil), np.asarray(lay.getchannel("A"))))
        shade, pad = soft_shadow(sil, layers.mouth[2], 0.45)
        u = layers.mouth[2]
        out.alpha_composite(shade, (offset[0] - pad + int(u * 0.1), offset[1] - pad + int(u * 0.05)))
    out.alpha_composite(layers.back, offset)
    out.alpha_composite(layers.body, offset)
    out.alpha_composite(head_img or layers.head, offset)
    return out.convert("RGB")


# ---------------------------------------------------------------------------------------
# Photos
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoSpec:
    id: str
    person: Person
    scene: str
    size: tuple[int, int]  # displayed size (w, h)
    head: tuple[float, float, float]  # head centre x, y as share of w/h; head height as share of h
    exif_rotate: bool = False  # store sideways with EXIF Orientation=6


PEOPLE = {
    "aiko-tanaka": Person(skin="#f1cdb0", hair="#1b1512", hair_style="bob", outfit="labcoat",
                          clothes="#f4f6f8", inner="#7da4c9", iris="#2a1a12", lips="#c0676a", light=-1),
    "james-carter": Person(skin="#8a5a3f", hair="#1a1210", hair_style="short", outfit="shirt",
                           clothes="#4a78b0", inner="#ffffff", iris="#20140d", lips="#7a4438", beard=0.5, light=1),
    "priya-sharma": Person(skin="#c68e66", hair="#16100d", hair_style="long", outfit="blazer",
                           clothes="#23364f", inner="#e9e4dc", iris="#2b1b10", lips="#9e4f4c", light=-1),
    "lukas-weber": Person(skin="#efc8aa", hair="#a0733f", hair_style="short", outfit="sweater",
                          clothes="#2f6f6a", inner="#2f6f6a", iris="#3d6b8f", lips="#b56b62", beard=0.35, light=1),
    "camille-tremblay": Person(skin="#f3d2bb", hair="#6b3a22", hair_style="curly", outfit="shirt",
                               clothes="#c2474f", inner="#ffffff", iris="#4c6a3a", lips="#b85a5f", light=-1),
    "youssef-benali": Person(skin="#b98560", hair="#1c1410", hair_style="short", outfit="blazer",
                             clothes="#3a4049", inner="#cfe0ef", iris="#2a1a10", lips="#8e5046", beard=0.8, light=1),
}

PHOTOS = [
    PhotoSpec("aiko-tanaka", PEOPLE["aiko-tanaka"], "lab", (2400, 1800), (0.40, 0.40, 0.30)),
    PhotoSpec("priya-sharma", PEOPLE["priya-sharma"], "office", (2400, 1800), (0.62, 0.35, 0.27)),
    PhotoSpec("lukas-weber", PEOPLE["lukas-weber"], "city", (1800, 2400), (0.5, 0.36, 0.22)),
    PhotoSpec("camille-tremblay", PEOPLE["camille-tremblay"], "park", (1800, 2400), (0.44, 0.38, 0.2), exif_rotate=True),
    PhotoSpec("youssef-benali", PEOPLE["youssef-benali"], "library", (2400, 1800), (0.36, 0.4, 0.29)),
]


def render_photo(spec: PhotoSpec, seed: int) -> Image.Image:
    w, h = spec.size
    bg = render_background(spec.scene, w, h, seed)
    u = spec.head[2] * h
    hx, hy = spec.head[0] * w, spec.head[1] * h
    lw = int(2.5 * u)
    left = int(hx - lw / 2)
    top = int(max(0, hy - 0.85 * u))
    lh = h - top
    layers = draw_person(spec.person, u, lw, lh, hx - left, hy - top, mouth_opening=0.28, smile=0.035)
    img = compose_person(bg, layers, (left, top))
    img = img.filter(ImageFilter.GaussianBlur(radius=0.6))  # lens softness, hides pixel edges
    return finish(img, seed, spec.person.light * -1)


def save_photo(img: Image.Image, path: Path, exif_rotate: bool) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Embracing Openness sample generator"  # Make
    exif[0x0110] = "make_samples.py"  # Model
    exif[0x9003] = "2026:09:14 10:30:00"  # DateTimeOriginal, fixed for reproducibility
    if exif_rotate:
        # stored landscape, to be rotated 90 degrees clockwise for display (EXIF 6)
        img = img.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6
    else:
        exif[0x0112] = 1
    img.save(path, "JPEG", quality=86, optimize=True, subsampling=2, exif=exif.tobytes())


# ---------------------------------------------------------------------------------------
# Clips: espeak-ng voice, mouth driven by the audio envelope, ffmpeg H.264 + AAC.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipSpec:
    id: str
    person: Person
    scene: str
    size: tuple[int, int]
    head: tuple[float, float, float]
    voice: str  # espeak-ng voice
    speed: int  # words per minute
    pitch: int
    spoken: str  # what espeak-ng reads (kana for Japanese: espeak-ng spells kanji out)
    lead: float  # seconds of silence before speech
    duration: float
    cues: dict[str, list[str]]  # lang -> cue texts; joined they are the quote in calendar.yaml


CLIPS = [
    ClipSpec(
        "aiko-tanaka", PEOPLE["aiko-tanaka"], "lab", (1280, 720), (0.36, 0.40, 0.34),
        voice="ja+f3", speed=165, pitch=62,
        spoken="アイメックでのけんきゅうで、ベルギーのひらかれたきょうりょくのちからを、じっかんしました。",
        lead=0.7, duration=7.5,
        cues={
            "ja": ["imecでの研究で、", "ベルギーの開かれた協力の力を", "実感しました。"],
            "en": ["Working at imec", "showed me how open", "Belgian collaboration really is."],
        },
    ),
    ClipSpec(
        "james-carter", PEOPLE["james-carter"], "bioreactor", (1280, 720), (0.64, 0.40, 0.34),
        voice="en-us+m3", speed=155, pitch=40,
        spoken="Belgium turned our vaccine research, into doses for the world, in months.",
        lead=0.8, duration=7.0,
        cues={"en": ["Belgium turned our vaccine research", "into doses for the world", "in months."]},
    ),
    ClipSpec(
        "camille-tremblay", PEOPLE["camille-tremblay"], "park", (1280, 720), (0.4, 0.40, 0.33),
        voice="fr+f2", speed=125, pitch=58,
        spoken="Ici, j'ai pu aimer qui je veux, au grand jour.",
        lead=0.9, duration=6.0,
        cues={
            "fr": ["Ici, j'ai pu aimer qui je veux,", "au grand jour."],
            "en": ["Here I could love whoever I want,", "openly."],
            "nl": ["Hier kon ik openlijk", "houden van wie ik wil."],
            "de": ["Hier konnte ich offen lieben,", "wen ich will."],
        },
    ),
]


def synthesise(spec: ClipSpec, workdir: Path) -> np.ndarray:
    """espeak-ng -> mono float32 at AUDIO_RATE, padded to the clip duration, with room tone."""
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng is needed for the clips: apt-get install espeak-ng")
    raw = workdir / f"{spec.id}.voice.wav"
    subprocess.run(["espeak-ng", "-v", spec.voice, "-s", str(spec.speed), "-p", str(spec.pitch),
                    "-a", "160", "-w", str(raw), spec.spoken], check=True)
    with wave.open(str(raw)) as wf:
        rate = wf.getframerate()
        voice = np.frombuffer(wf.readframes(wf.getnframes()), np.int16).astype(np.float32) / 32768
    # resample to 48 kHz (linear is fine for a speech sample), soften the robot edge a little
    n_out = int(len(voice) * AUDIO_RATE / rate)
    voice = np.interp(np.linspace(0, len(voice) - 1, n_out), np.arange(len(voice)), voice).astype(np.float32)
    kernel = np.array([0.25, 0.5, 0.25], np.float32)
    voice = np.convolve(voice, kernel, mode="same")
    total = int(spec.duration * AUDIO_RATE)
    out = np.zeros(total, np.float32)
    start = int(spec.lead * AUDIO_RATE)
    seg = voice[: total - start - int(0.3 * AUDIO_RATE)]
    if len(seg) < len(voice):
        sys.exit(f"{spec.id}: speech ({len(voice) / AUDIO_RATE:.1f} s) does not fit in {spec.duration} s")
    peak = float(np.abs(seg).max()) or 1.0
    out[start : start + len(seg)] = seg / peak * 0.7
    rng = np.random.default_rng(11)
    tone = rng.normal(0, 1, total).astype(np.float32)
    tone = np.convolve(tone, np.ones(40, np.float32) / 40, mode="same") * 0.01  # low room rumble
    return out + tone


def envelope(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """Per-video-frame loudness in 0..1, smoothed: drives the mouth."""
    hop = AUDIO_RATE // FPS
    env = np.array([np.sqrt(np.mean(audio[i * hop : (i + 1) * hop] ** 2) + 1e-12) for i in range(n_frames)])
    env = np.clip((env - 0.02) / (np.percentile(env, 95) - 0.02 + 1e-9), 0, 1.2)
    smooth = np.convolve(env, [0.25, 0.5, 0.25], mode="same")
    return np.clip(smooth, 0, 1)


def speech_spans(audio: np.ndarray, min_gap: float = 0.12) -> list[tuple[float, float]]:
    """Voiced stretches (seconds) separated by pauses of at least min_gap."""
    hop = AUDIO_RATE // 100
    n = len(audio) // hop
    rms = np.sqrt(np.array([np.mean(audio[i * hop : (i + 1) * hop] ** 2) for i in range(n)]))
    voiced = rms > 0.03
    spans: list[list[float]] = []
    for i, v in enumerate(voiced):
        if not v:
            continue
        t = i / 100
        if spans and t - spans[-1][1] < min_gap:
            spans[-1][1] = t + 0.01
        else:
            spans.append([t, t + 0.01])
    return [(a, b) for a, b in spans if b - a > 0.05]


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(AUDIO_RATE)
        wf.writeframes(pcm.tobytes())


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def render_clip(spec: ClipSpec, out_dir: Path, workdir: Path, seed: int) -> np.ndarray:
    audio = synthesise(spec, workdir)
    wav = workdir / f"{spec.id}.wav"
    write_wav(wav, audio)
    w, h = spec.size
    n_frames = int(round(spec.duration * FPS))
    env = envelope(audio, n_frames)
    bg = finish(render_background(spec.scene, w, h, seed), seed, -spec.person.light, grain=0.0)
    u = spec.head[2] * h
    hx, hy = spec.head[0] * w, spec.head[1] * h
    lw, top = int(2.5 * u), int(max(0, hy - 0.85 * u))
    left = int(hx - lw / 2)
    layers = draw_person(spec.person, u, lw, h - top, hx - left, hy - top, mouth_opening=None, smile=0.02)
    # still parts: background + soft shadow, composited once
    base = bg.convert("RGBA")
    sil = np.maximum(np.asarray(layers.body.getchannel("A")), np.asarray(layers.head.getchannel("A")))
    shade, pad = soft_shadow(Image.fromarray(sil), u, 0.4)
    base.alpha_composite(shade, (left - pad + int(u * 0.1), top - pad + int(u * 0.05)))
    body_frame = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    body_frame.alpha_composite(layers.body, (left, top))

    # head layers cropped to the head box; rotated about the neck each frame
    hcx, hcy = layers.head_center
    box = (int(hcx - 0.75 * u), int(hcy - 0.8 * u), int(hcx + 0.75 * u), int(hcy + 1.05 * u))
    head_open, head_blink = layers.head.crop(box), layers.head_blink.crop(box)
    hair_back = layers.back.crop(box)
    pivot = (hcx - box[0], hcy + 0.5 * u - box[1])
    mouth_x, mouth_y = layers.mouth[0] - box[0], layers.mouth[1] - box[1]
    patches = {}

    rng = np.random.default_rng(seed)
    blinks = set()
    t_blink = rng.uniform(0.8, 1.6)
    while t_blink < spec.duration:
        f0 = int(t_blink * FPS)
        blinks.update(range(f0, f0 + 4))
        t_blink += rng.uniform(2.2, 3.8)

    cmd = [
        ffmpeg_exe(), "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(FPS), "-i", "-",
        "-i", str(wav),
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "slow", "-crf", "25", "-pix_fmt", "yuv420p", "-profile:v", "high",
        "-g", "60", "-threads", "1", "-tune", "film",
        "-c:a", "aac", "-b:a", "96k", "-ar", str(AUDIO_RATE), "-ac", "2",
        "-shortest", "-movflags", "+faststart", "-map_metadata", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        str(out_dir / f"{spec.id}.mp4"),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(n_frames):
        t = i / FPS
        e = float(env[i])
        opening = round(min(1.0, e * 1.1) * 8) / 8  # 9 mouth shapes, cached
        key = opening
        if key not in patches:
            patches[key] = mouth_patch(spec.person, u, opening, 0.02)
        patch, (pmx, pmy) = patches[key]
        head = (head_blink if i in blinks else head_open).copy()
        head.alpha_composite(patch, (int(mouth_x - pmx), int(mouth_y - pmy)))
        angle = 1.6 * math.sin(2 * math.pi * t / 3.3) + 0.8 * math.sin(2 * math.pi * t / 1.7 + 1) + 1.5 * e
        dx = 3 * math.sin(2 * math.pi * t / 4.1)
        dy = 1.5 * math.sin(2 * math.pi * t / 2.3) + 2 * e
        breath = 1.5 * math.sin(2 * math.pi * t / 3.9)
        frame = base.copy()
        rot_back = hair_back.rotate(angle, resample=Image.BICUBIC, center=pivot)
        rot_head = head.rotate(angle, resample=Image.BICUBIC, center=pivot)
        frame.alpha_composite(rot_back, (int(box[0] + left + dx), int(box[1] + top + dy)))
        frame.alpha_composite(body_frame, (0, int(breath)))
        frame.alpha_composite(rot_head, (int(box[0] + left + dx), int(box[1] + top + dy + breath * 0.6)))
        rgb_frame = frame.convert("RGB")
        if i == n_frames // 2 or i == int((spec.lead + 1.0) * FPS):
            rgb_frame.save(workdir / f"{spec.id}.frame{i:03d}.png")
        noise = np.random.default_rng(i).normal(0, 1.2, (h, w, 1)).astype(np.float32)
        arr = np.clip(np.asarray(rgb_frame, np.float32) + noise, 0, 255).astype(np.uint8)
        proc.stdin.write(arr.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit(f"ffmpeg failed for {spec.id}")
    return audio


# ---------------------------------------------------------------------------------------
# Subtitles: cue boundaries at real pauses in the synthetic speech.
# ---------------------------------------------------------------------------------------


def cue_times(spans: list[tuple[float, float]], weights: list[int]) -> list[tuple[float, float]]:
    """Cut the speech into len(weights) cues, at the pauses closest to the text proportions."""
    start, end = spans[0][0], spans[-1][1]
    gaps = [(spans[i][1] + spans[i + 1][0]) / 2 for i in range(len(spans) - 1)]
    total = sum(weights)
    cuts: list[float] = []
    acc = 0
    for wgt in weights[:-1]:
        acc += wgt
        target = start + (end - start) * acc / total
        best = min(gaps, key=lambda g: abs(g - target)) if gaps else target
        if abs(best - target) > 0.6 or (cuts and best <= cuts[-1] + 0.5):
            best = target
        cuts.append(best)
    bounds = [max(0.0, start - 0.1)] + cuts + [end + 0.4]
    return [(bounds[i], bounds[i + 1] - (0.04 if i < len(bounds) - 2 else 0.0)) for i in range(len(bounds) - 1)]


def joined(lang: str, chunks: list[str]) -> str:
    return ("" if lang == "ja" else " ").join(chunks)


def check_against_calendar(calendar: Path) -> None:
    """The subtitles must say exactly the quotes in calendar.yaml: fail loudly if they drifted."""
    if not calendar.exists():
        return

    data = YAML(typ="safe").load(calendar.read_text("utf-8"))
    quotes = {t["id"]: t.get("quote", {}) for t in data.get("testimonials", [])}
    for spec in CLIPS:
        for lang, chunks in spec.cues.items():
            want = quotes.get(spec.id, {}).get(lang)
            if want is not None and joined(lang, chunks) != want:
                sys.exit(f"{spec.id}.{lang}: subtitle text {joined(lang, chunks)!r} differs from calendar.yaml {want!r}")


def srt_time(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def write_subtitles(spec: ClipSpec, audio: np.ndarray, out_dir: Path) -> None:
    spans = speech_spans(audio)
    spoken = next(iter(spec.cues))
    times = cue_times(spans, [len(c) for c in spec.cues[spoken]])
    for lang, chunks in spec.cues.items():
        if len(chunks) != len(times):
            sys.exit(f"{spec.id}.{lang}: {len(chunks)} cues, expected {len(times)}")
        lines = []
        for k, ((a, b), chunk) in enumerate(zip(times, chunks), start=1):
            lines += [str(k), f"{srt_time(a)} --> {srt_time(b)}", chunk, ""]
        (out_dir / f"{spec.id}.{lang}.srt").write_text("\n".join(lines), encoding="utf-8")


# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "raw")
    parser.add_argument("--only", choices=["photos", "clips"], default=None)
    parser.add_argument("--keep-work", type=Path, default=None, help="keep WAVs and preview frames here")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    check_against_calendar(HERE.parent.parent / "calendar.yaml")
    if args.only in (None, "photos"):
        for k, spec in enumerate(PHOTOS):
            img = render_photo(spec, seed=100 + k)
            save_photo(img, args.out / f"{spec.id}.jpg", spec.exif_rotate)
            print(f"photo {spec.id}.jpg {img.size[0]}x{img.size[1]}" + (" (stored sideways, EXIF 6)" if spec.exif_rotate else ""))
    if args.only in (None, "clips"):
        with tempfile.TemporaryDirectory() as tmp:
            work = args.keep_work or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            for k, spec in enumerate(CLIPS):
                audio = render_clip(spec, args.out, work, seed=200 + k)
                write_subtitles(spec, audio, args.out)
                print(f"clip {spec.id}.mp4 {spec.size[0]}x{spec.size[1]} {spec.duration:.1f} s + {len(spec.cues)} subtitle file(s)")


if __name__ == "__main__":
    main()
