"""Procedurally rendered shapes: 32×32 RGB images whose generating latents are known.

Each image shows one object — a circle, square, triangle, cross or star — on a plain background.
The latents are, in order, ``LATENT_NAMES``: the shape class (content) and the position, scale,
rotation, object hue and background hue (style).

Geometry lives in normalised image coordinates: x runs left to right and y top to bottom over
[-1, 1], so one pixel is ``2 / size`` wide. An object's radius is ``OBJECT_RADIUS * scale``, and
its edge is anti-aliased over one pixel, which makes the image a continuous function of every
continuous latent (finite differences through :func:`render` are meaningful).
"""

import numpy as np

from sslgeom.data.io import Dataset

LATENT_NAMES = ("shape", "pos_x", "pos_y", "scale", "rotation", "object_hue", "background_hue")
CONTENT_LATENTS = ("shape",)
STYLE_LATENTS = tuple(name for name in LATENT_NAMES if name not in CONTENT_LATENTS)
SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "star")
# How latent recovery encodes the latents: periodic ones by (cos, sin), categorical ones one-hot.
LATENT_PERIODS = {"rotation": 2 * np.pi, "object_hue": 1.0, "background_hue": 1.0}
CATEGORICAL_LATENTS = CONTENT_LATENTS

POSITION_RANGE = (-0.4, 0.4)
SCALE_RANGE = (0.6, 1.0)
# The prior of each style latent: uniform on this interval.
STYLE_RANGES = {
    "pos_x": POSITION_RANGE,
    "pos_y": POSITION_RANGE,
    "scale": SCALE_RANGE,
    "rotation": (0.0, 2.0 * np.pi),
    "object_hue": (0.0, 1.0),
    "background_hue": (0.0, 1.0),
}
# Objects 6–10 px in radius at 32 px, large enough for their shape to be learnable; a scale-1
# object at the largest offset reaches the border, so it stays in view.
OBJECT_RADIUS = 0.6
OBJECT_SATURATION, OBJECT_VALUE = 0.85, 0.95
BACKGROUND_SATURATION, BACKGROUND_VALUE = 0.6, 0.35
# Images rendered per vectorised batch, to bound the float64 temporaries (~10 per pixel).
RENDER_BATCH = 2048

_SHAPE, _POS_X, _POS_Y, _SCALE, _ROTATION, _OBJECT_HUE, _BACKGROUND_HUE = range(len(LATENT_NAMES))


def sample_latents(n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` latent vectors (float64, n×7) with the shape classes as balanced as possible."""
    shapes = rng.permutation(np.arange(n) % len(SHAPE_CLASSES))
    style = [rng.uniform(*STYLE_RANGES[name], size=n) for name in STYLE_LATENTS]
    return np.column_stack([shapes.astype(np.float64), *style])


def render(latents: np.ndarray, size: int = 32) -> np.ndarray:
    """Render latents (n×7) as float32 RGB images (n×size×size×3) in [0, 1]."""
    latents = np.asarray(latents, dtype=np.float64)
    if latents.ndim != 2 or latents.shape[1] != len(LATENT_NAMES):
        raise ValueError(f"latents must have shape (n, {len(LATENT_NAMES)}), got {latents.shape}")
    images = np.empty((len(latents), size, size, 3), dtype=np.float32)
    for start in range(0, len(latents), RENDER_BATCH):
        batch = latents[start : start + RENDER_BATCH]
        images[start : start + len(batch)] = _render_batch(batch, size)
    return images


def object_coverage(latents: np.ndarray, size: int = 32) -> np.ndarray:
    """The fraction of each pixel covered by the object (float64, n×size×size, in [0, 1])."""
    latents = np.asarray(latents, dtype=np.float64)
    shape_index = np.rint(latents[:, _SHAPE]).astype(np.int64)
    if np.any((shape_index < 0) | (shape_index >= len(SHAPE_CLASSES))):
        raise ValueError(f"shape latents must be integers in [0, {len(SHAPE_CLASSES)})")
    pixel_centres = (np.arange(size) + 0.5) * (2.0 / size) - 1.0
    dx = pixel_centres[None, None, :] - latents[:, _POS_X, None, None]
    dy = pixel_centres[None, :, None] - latents[:, _POS_Y, None, None]
    radius = (OBJECT_RADIUS * latents[:, _SCALE])[:, None, None]
    cos = np.cos(latents[:, _ROTATION])[:, None, None]
    sin = np.sin(latents[:, _ROTATION])[:, None, None]
    # Pixel offsets in the object's canonical frame, where the object has radius 1.
    u = (cos * dx + sin * dy) / radius
    v = (cos * dy - sin * dx) / radius
    distance = np.empty((len(latents), size, size))
    for index, canonical_sdf in enumerate(_CANONICAL_SDFS):
        members = shape_index == index
        distance[members] = canonical_sdf(u[members], v[members]) * radius[members]
    return np.clip(0.5 - distance / (2.0 / size), 0.0, 1.0)


def hsv_to_rgb(hue: np.ndarray, saturation: float, value: float) -> np.ndarray:
    """Convert hues in [0, 1) of any shape, at one saturation and value, to RGB (shape + (3,))."""
    # k cycles through the six hue sectors; this closed form is continuous in hue.
    k = (np.array([5.0, 3.0, 1.0]) + 6.0 * np.asarray(hue)[..., None]) % 6.0
    return value - value * saturation * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def make_shapes(n_train: int, n_test: int, seed: int, size: int = 32) -> Dataset:
    """Sample and render a shapes dataset; the labels are the shape classes."""
    rng = np.random.default_rng(seed)
    train_latents = sample_latents(n_train, rng).astype(np.float32)
    test_latents = sample_latents(n_test, rng).astype(np.float32)
    return Dataset(
        name="shapes",
        train_images=_to_uint8(render(train_latents, size)),
        train_labels=train_latents[:, _SHAPE].astype(np.int64),
        test_images=_to_uint8(render(test_latents, size)),
        test_labels=test_latents[:, _SHAPE].astype(np.int64),
        train_latents=train_latents,
        test_latents=test_latents,
        latent_names=LATENT_NAMES,
        class_names=SHAPE_CLASSES,
        generator={"kind": "shapes", "size": size},
    )


def _render_batch(latents: np.ndarray, size: int) -> np.ndarray:
    coverage = object_coverage(latents, size)[..., None]
    object_rgb = hsv_to_rgb(latents[:, _OBJECT_HUE], OBJECT_SATURATION, OBJECT_VALUE)
    background_rgb = hsv_to_rgb(
        latents[:, _BACKGROUND_HUE], BACKGROUND_SATURATION, BACKGROUND_VALUE
    )
    background_rgb = background_rgb[:, None, None, :]
    return background_rgb + coverage * (object_rgb[:, None, None, :] - background_rgb)


def _to_uint8(images: np.ndarray) -> np.ndarray:
    return np.rint(images * 255.0).astype(np.uint8)


# Signed distances in the canonical frame (object radius 1; negative inside), after Inigo
# Quilez's 2D distance functions. Each takes coordinate arrays u, v and returns one of their shape.


def _circle_sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.hypot(u, v) - 1.0


def _box_sdf(u: np.ndarray, v: np.ndarray, half_width: float, half_height: float) -> np.ndarray:
    qu = np.abs(u) - half_width
    qv = np.abs(v) - half_height
    outside = np.hypot(np.maximum(qu, 0.0), np.maximum(qv, 0.0))
    return outside + np.minimum(np.maximum(qu, qv), 0.0)


def _square_sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _box_sdf(u, v, 0.8, 0.8)


def _triangle_sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Equilateral triangle with circumradius 1, centred on its centroid."""
    k = np.sqrt(3.0)
    half_side = k / 2.0
    pu = np.abs(u) - half_side
    pv = v + half_side / k
    fold = pu + k * pv > 0.0
    pu, pv = np.where(fold, (pu - k * pv) / 2.0, pu), np.where(fold, (-k * pu - pv) / 2.0, pv)
    pu = pu - np.clip(pu, -2.0 * half_side, 0.0)
    return -np.hypot(pu, pv) * np.sign(pv)


def _cross_sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.minimum(_box_sdf(u, v, 1.0, 0.3), _box_sdf(u, v, 0.3, 1.0))


def _star_sdf(u: np.ndarray, v: np.ndarray, inner_ratio: float = 0.45) -> np.ndarray:
    """Five-pointed star with outer radius 1 and inner radius ``inner_ratio``."""
    k1 = np.array([0.809016994375, -0.587785252292])  # (cos 36°, −sin 36°)
    k2 = np.array([-k1[0], k1[1]])
    pu = np.abs(u)
    pv = v
    for ku, kv in (k1, k2):  # reflect into one of the ten symmetric wedges
        reflection = 2.0 * np.maximum(ku * pu + kv * pv, 0.0)
        pu, pv = pu - reflection * ku, pv - reflection * kv
    pu = np.abs(pu)
    pv = pv - 1.0
    bu, bv = -inner_ratio * k1[1], inner_ratio * k1[0] - 1.0
    h = np.clip((pu * bu + pv * bv) / (bu * bu + bv * bv), 0.0, 1.0)
    return np.hypot(pu - bu * h, pv - bv * h) * np.sign(pv * bu - pu * bv)


_CANONICAL_SDFS = (_circle_sdf, _square_sdf, _triangle_sdf, _cross_sdf, _star_sdf)
