"""Folders of PNG / JPEG images, read with PIL into memory, and the centre-crop-and-resize
they share with `celeb_a`.

Layouts of `folder:PATH` (hidden entries, starting with '.', and files with other
extensions are ignored; class folders are not searched recursively):

    PATH/*.png                       unlabelled
    PATH/<class>/*.png               labelled: sorted class names -> labels 0..K-1
    PATH/train/..., PATH/test/...    the stored train and test splits, each laid out as above

Every image becomes RGB, or stays gray (one channel) when all images of the folder are
grayscale. With `image_size`, each image is centre-cropped to a square and resized to
image_size x image_size (PIL bicubic); without it, all images must already have one size.

The whole folder is decoded once into one uint8 array and kept (a small cache keyed
by the folder's file listing and `image_size`): this reader is meant for datasets that
fit in memory.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')

# PIL modes that hold one gray channel (with or without alpha).
_GRAY_MODES = frozenset({'1', 'L', 'LA'})


@dataclasses.dataclass(frozen=True, eq=False)
class FolderImages:
    """The decoded images of one folder.

    Attributes:
        splits: stored split name ('train' and 'test', or 'all' when the folder has
            no train/ and test/ subfolders) -> (images uint8 (N, H, W, C), labels int32 (N,) or None).
        class_names: the class folder names (label k is class_names[k]), or None.
    """

    splits: dict[str, tuple[np.ndarray, np.ndarray | None]]
    class_names: tuple[str, ...] | None


def centre_crop_resize(image: np.ndarray, size: int, crop: int | None = None) -> np.ndarray:
    """Returns the centred `crop` x `crop` square of uint8 `image` (H, W, C) resized to `size` x `size`.

    `crop` defaults to min(H, W), the largest centred square. The resize is PIL's
    bicubic, which antialiases when shrinking; a crop already of `size` is returned as is.
    """
    from PIL import Image

    h, w = image.shape[:2]
    crop = min(h, w) if crop is None else crop
    top, left = (h - crop) // 2, (w - crop) // 2
    square = image[top : top + crop, left : left + crop]
    if crop == size:
        return np.ascontiguousarray(square)
    # PIL wants (H, W) for one channel.
    resized = Image.fromarray(square[..., 0] if square.shape[-1] == 1 else square).resize(
        (size, size), Image.Resampling.BICUBIC
    )
    return np.asarray(resized, dtype=np.uint8).reshape(size, size, square.shape[-1])


def load_folder(path: str, image_size: int | None = None) -> FolderImages:
    """Scans and decodes the image folder `path` (layouts in the module docstring).

    Raises ValueError naming the problem: missing folder, no images, images next to
    class folders, an unreadable image, differing sizes without `image_size`.
    """
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        raise ValueError(f'Image folder {path} does not exist or is not a folder.')
    subdirs, files = _entries(path)
    if {'train', 'test'} <= set(subdirs):
        if files or set(subdirs) - {'train', 'test'}:
            raise ValueError(
                f'Image folder {path} has train/ and test/ subfolders, so it must hold nothing '
                f'else; found {", ".join(sorted(set(subdirs) - {"train", "test"}) + files)}.'
            )
        listing = {s: _scan_root(os.path.join(path, s)) for s in ('train', 'test')}
        if (listing['train'][0][1] is None) != (listing['test'][0][1] is None):
            raise ValueError(
                f'Image folder {path}: one of train/ and test/ has class subfolders and the '
                f'other has not; lay both out the same way.'
            )
    else:
        listing = {'all': _scan_root(path)}
    # The key holds every file's size and modification time, so an edited folder
    # is read again rather than served stale from the cache.
    key = tuple((split, tuple((f, c, *_stamp(f)) for f, c in entries)) for split, entries in listing.items())
    return _decode_listing(path, key, image_size)


def _stamp(file: str) -> tuple[int, int]:
    stat = os.stat(file)
    return stat.st_mtime_ns, stat.st_size


def _entries(directory: str) -> tuple[list[str], list[str]]:
    """Returns the sorted (subfolder names, image file names) of `directory`, hidden ones skipped."""
    subdirs, files = [], []
    for name in sorted(os.listdir(directory)):
        if name.startswith('.'):
            continue
        if os.path.isdir(os.path.join(directory, name)):
            subdirs.append(name)
        elif name.lower().endswith(IMAGE_EXTENSIONS):
            files.append(name)
    return subdirs, files


def _scan_root(root: str) -> list[tuple[str, str | None]]:
    """Returns [(image path, class name or None)] of one split's folder."""
    subdirs, files = _entries(root)
    if subdirs and files:
        raise ValueError(
            f'Image folder {root} has class subfolders ({", ".join(subdirs)}) and also images '
            f'directly inside it ({", ".join(files[:3])}{", ..." if len(files) > 3 else ""}); '
            f'move every image into its class folder.'
        )
    if not subdirs:
        if not files:
            raise ValueError(
                f'No images found in {root}; accepted extensions: {", ".join(IMAGE_EXTENSIONS)} (any letter case).'
            )
        return [(os.path.join(root, f), None) for f in files]
    entries = []
    for name in subdirs:
        class_files = _entries(os.path.join(root, name))[1]
        if not class_files:
            raise ValueError(
                f'Class folder {os.path.join(root, name)} has no images; accepted extensions: '
                f'{", ".join(IMAGE_EXTENSIONS)}.'
            )
        entries += [(os.path.join(root, name, f), name) for f in class_files]
    return entries


@functools.lru_cache(maxsize=4)
def _decode_listing(path: str, key: tuple, image_size: int | None) -> FolderImages:
    """Decodes the files of `key` (from `load_folder`) into a `FolderImages`."""
    names = sorted({c for _, entries in key for _, c, *_ in entries if c is not None})
    labels_of = {name: k for k, name in enumerate(names)}
    files = [f for _, entries in key for f, *_ in entries]
    images = _decode_images(path, files, image_size)
    splits, start = {}, 0
    for split, entries in key:
        stop = start + len(entries)
        labels = np.array([labels_of[c] for _, c, *_ in entries], np.int32) if names else None
        splits[split] = (images[start:stop], labels)
        start = stop
    return FolderImages(splits, tuple(names) if names else None)


def _decode_images(path: str, files: list[str], image_size: int | None) -> np.ndarray:
    """Returns the images of `files` as one uint8 (N, H, W, C) array, C = 1 if all are gray."""
    images, all_gray = [], True
    for f in files:
        image, gray = _read_rgb(f)
        all_gray &= gray
        if image_size is not None:
            image = centre_crop_resize(image, image_size)
        elif images and image.shape != images[0].shape:
            (h0, w0), (h, w) = images[0].shape[:2], image.shape[:2]
            raise ValueError(
                f'Images in {path} have different sizes: {files[0]} is {h0}x{w0} and {f} is '
                f'{h}x{w} (height x width). Pass image_size to centre-crop and resize them all '
                f'to one square size (config field image_size, e.g. --set image_size=64).'
            )
        images.append(image)
    stacked = np.stack(images)
    # A gray image converted to RGB has three equal channels: keep one.
    return np.ascontiguousarray(stacked[..., :1]) if all_gray else stacked


def _read_rgb(file: str) -> tuple[np.ndarray, bool]:
    """Returns (uint8 (H, W, 3) RGB pixels, whether the file is grayscale) of one image file."""
    from PIL import Image

    try:
        with Image.open(file) as image:
            return np.asarray(image.convert('RGB'), dtype=np.uint8), image.mode in _GRAY_MODES
    except (OSError, SyntaxError, ValueError) as e:  # PIL's errors for broken files
        raise ValueError(f'Cannot read image {file}: {type(e).__name__}: {e}') from e
