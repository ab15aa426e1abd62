# Copyright (c) mmspecgene contributors. All rights reserved.
"""Missing-modality simulation: drop the RGB or the thermal half of the H×W×6 [RGB | T] stack and fill it.

One class per fill strategy, all with the same drop logic (:class:`_ModalityDropout`):

* :class:`MeanFillModalityDropout`: the dropped half becomes the per-channel pixel mean of the data preprocessor,
  i.e. exactly **zero after normalisation** (the usual "absent input" of a normalised network);
* :class:`CopyFillModalityDropout`: the dropped half is made from the other one (thermal <- grey of the RGB
  image, replicated to 3 channels; RGB <- the thermal half as it is), as when one camera stands in for the other;
* :class:`NoiseFillModalityDropout`: Gaussian noise with the preprocessor's mean and std per channel (standard
  normal after normalisation, clipped to the 0-255 pixel range), a dead or saturated sensor.

Put the transform last before the ``Pack*Inputs`` step: mean and noise fills write float32 pixels, which the
packing step and the RGBT data preprocessors take as they are. :func:`add_missing_modality` inserts it into a
config's test pipeline (``tools/test.py --missing-modality``, ``tools/analysis_tools/robustness_eval.py``).
"""
import copy
from abc import abstractmethod
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

from ...models.rgbt_normalize import _six_values
from .loading import MODALITY_CHANNELS

MODALITIES = tuple(MODALITY_CHANNELS)  # ('rgb', 'thermal')


def _loader_order(values: Sequence[float], to_rgb: Tuple[bool, bool]) -> np.ndarray:
    """6 preprocessor-order values (after its per-half ``to_rgb`` reversal) -> the loader's BGR|BGR order."""
    if isinstance(to_rgb, bool) or len(to_rgb) != 2:
        raise ValueError(f'to_rgb must be a pair (rgb_half, thermal_half) of bools, got {to_rgb!r}')
    values = np.asarray(values, dtype=np.float32)
    rgb, thermal = values[:3], values[3:]
    return np.concatenate([rgb[::-1] if to_rgb[0] else rgb, thermal[::-1] if to_rgb[1] else thermal])


class _ModalityDropout(BaseTransform):
    """Drop one modality of an H×W×6 [RGB | T] image with probability ``prob`` and fill it (subclasses fill).

    Args:
        prob (float): Probability that a sample loses a modality (1 = always, e.g. for evaluation).
        modality (str | Sequence[str]): The modality to drop (``'rgb'`` or ``'thermal'``), or several, of which
            one is drawn uniformly per dropped sample.

    Added keys: ``missing_modality`` (``'rgb'``, ``'thermal'`` or None when nothing was dropped).
    """

    def __init__(self, prob: float = 0.5, modality: Union[str, Sequence[str]] = MODALITIES):
        if not 0 <= prob <= 1:
            raise ValueError(f'{type(self).__name__}: prob must be in [0, 1], got {prob}')
        modalities = (modality, ) if isinstance(modality, str) else tuple(modality)
        unknown = [m for m in modalities if m not in MODALITIES]
        if unknown or not modalities:
            raise ValueError(f'{type(self).__name__}: modality must be one or more of {MODALITIES}, got {modality!r}')
        self.prob = float(prob)
        self.modalities = modalities

    @abstractmethod
    def fill(self, img: np.ndarray, modality: str) -> np.ndarray:
        """Return an H×W×3 replacement for the ``modality`` half of ``img`` (H×W×6); each fill class defines it."""

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 6:
            raise ValueError(f'{type(self).__name__} expects an H×W×6 [RGB | T] image, got shape {img.shape} '
                             f"({results.get('img_path')})")
        results['missing_modality'] = None
        if self.prob < 1 and np.random.rand() >= self.prob:
            return results
        modality = self.modalities[np.random.randint(len(self.modalities))]
        start, end = MODALITY_CHANNELS[modality]
        filled = self.fill(img, modality)
        out = img.astype(np.result_type(img.dtype, filled.dtype), copy=True)
        out[..., start:end] = filled
        results['img'] = out
        results['missing_modality'] = modality
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, modality={self.modalities})'


class _StatsFill(_ModalityDropout):
    """A fill defined by the data preprocessor's statistics (6 values in its order, with its ``to_rgb``).

    Args:
        mean, std (Sequence[float], optional): 6 values as given to the RGBT data preprocessor.
        rgb_mean, rgb_std, thermal_mean, thermal_std (Sequence[float], optional): 3 values each instead.
        to_rgb (tuple[bool, bool]): The preprocessor's per-half channel reversal.
    """
    needs_std = False

    def __init__(self,
                 prob: float = 0.5,
                 modality: Union[str, Sequence[str]] = MODALITIES,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 rgb_mean: Optional[Sequence[float]] = None,
                 rgb_std: Optional[Sequence[float]] = None,
                 thermal_mean: Optional[Sequence[float]] = None,
                 thermal_std: Optional[Sequence[float]] = None,
                 to_rgb: Tuple[bool, bool] = (True, True)):
        super().__init__(prob, modality)
        self.to_rgb = tuple(bool(v) for v in to_rgb) if not isinstance(to_rgb, bool) else to_rgb
        self.mean = _loader_order(_six_values('mean', mean, rgb_mean, thermal_mean), self.to_rgb)
        self.std = None
        if self.needs_std:
            self.std = _loader_order(_six_values('std', std, rgb_std, thermal_std), self.to_rgb)
            if self.std.min() <= 0:
                raise ValueError(f'{type(self).__name__}: std values must be positive, got {self.std.tolist()}')

    def __repr__(self) -> str:
        stats = f', mean={self.mean.tolist()}' + (f', std={self.std.tolist()}' if self.std is not None else '')
        return f'{super().__repr__()[:-1]}{stats} (loader BGR order))'


@TRANSFORMS.register_module()
class MeanFillModalityDropout(_StatsFill):
    """Fill the dropped half with the per-channel pixel mean: it is exactly 0 after normalisation (float32)."""

    def fill(self, img: np.ndarray, modality: str) -> np.ndarray:
        start, end = MODALITY_CHANNELS[modality]
        return np.broadcast_to(self.mean[start:end], img.shape[:2] + (3, ))


@TRANSFORMS.register_module()
class NoiseFillModalityDropout(_StatsFill):
    """Fill the dropped half with N(mean, std²) per channel, clipped to [0, 255] (float32).

    After normalisation the half is standard-normal noise (truncated at the pixel range).

    Args:
        seed (int, optional): Draw each sample's noise from a generator seeded with ``(seed, sample_idx)``, so an
            evaluation gives the same numbers on every run, with any number of workers. None draws from numpy's
            global state (seeded per worker by mmengine's ``randomness``), e.g. for training augmentation.
        **kwargs: As :class:`_StatsFill`.
    """
    needs_std = True

    def __init__(self, *args, seed: Optional[int] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seed = None if seed is None else int(seed)
        self._rng: Optional[np.random.Generator] = None

    def transform(self, results: dict) -> dict:
        if self.seed is not None:
            if 'sample_idx' not in results:
                raise KeyError(f'{type(self).__name__}(seed={self.seed}) seeds each sample by its sample_idx, which '
                               f"{results.get('img_path')} lacks")
            self._rng = np.random.default_rng([self.seed, int(results['sample_idx'])])
        return super().transform(results)

    def fill(self, img: np.ndarray, modality: str) -> np.ndarray:
        start, end = MODALITY_CHANNELS[modality]
        shape = img.shape[:2] + (3, )
        noise = (self._rng.standard_normal(shape, dtype=np.float32) if self.seed is not None else
                 np.random.standard_normal(shape).astype(np.float32))
        return np.clip(noise * self.std[start:end] + self.mean[start:end], 0, 255)

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, seed={self.seed})'


@TRANSFORMS.register_module()
class CopyFillModalityDropout(_ModalityDropout):
    """Fill the dropped half from the other one (dtype kept).

    Missing thermal: the luminance of the RGB half (BGR -> grey), replicated to 3 channels, like a grey thermal
    frame. Missing RGB: the thermal half as it is (a grey thermal frame is already 3 identical channels).
    """

    def fill(self, img: np.ndarray, modality: str) -> np.ndarray:
        if modality == 'rgb':
            return img[..., 3:6]
        rgb = np.ascontiguousarray(img[..., 0:3])
        grey = cv2.cvtColor(rgb if rgb.dtype == np.uint8 else rgb.astype(np.float32), cv2.COLOR_BGR2GRAY)
        return np.repeat(grey[..., None], 3, axis=2).astype(img.dtype, copy=False)


FILL_TRANSFORMS = dict(mean='MeanFillModalityDropout', copy='CopyFillModalityDropout', noise='NoiseFillModalityDropout')
_STATS_KEYS = ('mean', 'std', 'rgb_mean', 'rgb_std', 'thermal_mean', 'thermal_std', 'to_rgb')


def modality_dropout_cfg(preprocessor_cfg: dict, fill: str = 'mean', prob: float = 1.0,
                         modality: Union[str, Sequence[str]] = MODALITIES, seed: Optional[int] = None) -> dict:
    """The transform config of fill ``fill`` (``mean``/``copy``/``noise``) with a preprocessor's statistics
    (``seed``: the noise fill's per-sample seed)."""
    if fill not in FILL_TRANSFORMS:
        raise ValueError(f'fill must be one of {sorted(FILL_TRANSFORMS)}, got {fill!r}')
    step = dict(type=FILL_TRANSFORMS[fill], prob=prob, modality=modality)
    if fill == 'noise' and seed is not None:
        step['seed'] = seed
    if fill != 'copy':
        step.update({key: copy.deepcopy(preprocessor_cfg[key]) for key in _STATS_KEYS if key in preprocessor_cfg})
        if fill == 'mean':
            for key in ('std', 'rgb_std', 'thermal_std'):
                step.pop(key, None)
    return step


def _pipelines_of(dataset_cfg: dict, where: str) -> list:
    """Every ``pipeline`` list of a dataset config, through wrappers (``dataset``/``datasets``)."""
    if 'pipeline' in dataset_cfg:
        return [dataset_cfg['pipeline']]
    if 'dataset' in dataset_cfg:
        return _pipelines_of(dataset_cfg['dataset'], where + '.dataset')
    if 'datasets' in dataset_cfg:
        return [p for i, d in enumerate(dataset_cfg['datasets']) for p in _pipelines_of(d, f'{where}.datasets[{i}]')]
    raise KeyError(f'{where} has no pipeline (nor a wrapped dataset with one)')


def add_missing_modality(cfg, modality: str, fill: str = 'mean', dataloader: str = 'test_dataloader'):
    """Insert a prob-1 drop of ``modality`` before the ``Pack*`` step of ``cfg[dataloader]``'s pipelines, in place.

    The fill statistics come from ``cfg.model.data_preprocessor``; the noise fill is seeded per sample (seed 0),
    so an evaluation repeats exactly. The copy fill, which carries the other camera's geometry, goes before a
    matching pipeline's homography warp, so that the filled half still relates to the other by the ground truth.
    Returns ``cfg``.
    """
    if modality not in MODALITIES:
        raise ValueError(f'missing modality must be one of {MODALITIES}, got {modality!r}')
    preprocessor = cfg['model'].get('data_preprocessor')
    if preprocessor is None and fill != 'copy':
        raise KeyError(f'{fill!r} fill needs model.data_preprocessor (mean/std) in the config')
    step = modality_dropout_cfg(preprocessor or {}, fill, prob=1.0, modality=modality, seed=0)
    for pipeline in _pipelines_of(cfg[dataloader]['dataset'], f'{dataloader}.dataset'):
        types = [str(t['type']).rsplit('.', 1)[-1] for t in pipeline]
        packs = [i for i, name in enumerate(types) if name.startswith('Pack')]
        if not packs:
            raise ValueError(f'{dataloader} pipeline has no Pack*Inputs step to insert the modality drop before: '
                             f'{types}')
        warps = [i for i, name in enumerate(types) if name.endswith('HomographyWarp')]
        pipeline.insert(warps[0] if fill == 'copy' and warps else packs[-1], copy.deepcopy(step))
    return cfg
