# Copyright (c) mmspecgene contributors. All rights reserved.
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

from ..models.rgbt_normalize import RGBTPreprocessorMixin


@MODELS.register_module()
class RGBTSegDataPreProcessor(RGBTPreprocessorMixin, SegDataPreProcessor):
    """mmseg preprocessor for (6, H, W) [RGB | T] inputs.

    The stock one accepts 6 mean values but skips the channel swap unless the input has 3 channels;
    here ``to_rgb=(bool, bool)`` is applied per half, explicitly. ``to_rgb=(False, False)`` with the
    ImageNet R,G,B statistics applied positionally is the released ``official-compat`` convention.
    Padding to ``size`` uses ``pad_val`` (after normalisation) and ``seg_pad_val``.

    A test batch must hold inputs of one size (frames of another aspect ratio resize to another shape): the
    stock preprocessor asserts it without naming the images; here the error names every image and its size.
    Test-time padding is not offered, because padding changes what a ViT's global attention sees.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        if not training:
            check_one_test_size(data, type(self).__name__)
        return super().forward(data, training)


def check_one_test_size(data: dict, owner: str) -> None:
    """Raise a ValueError naming each image and its (H, W) when the batch's inputs differ in size."""
    inputs = data['inputs']
    if not isinstance(inputs, (list, tuple)):
        return
    shapes = [tuple(x.shape[-2:]) for x in inputs]
    if len(set(shapes)) <= 1:
        return
    samples = data.get('data_samples') or [None] * len(inputs)
    listed = ', '.join(f'{s.metainfo.get("img_path", i) if s is not None else i} {h}x{w}'
                       for i, (s, (h, w)) in enumerate(zip(samples, shapes)))
    raise ValueError(f'{owner}: a test batch holds inputs of different sizes after the test pipeline ({listed}); '
                     'set test_dataloader.batch_size=1 (val_dataloader too), or resize every image to one size in '
                     'the test pipeline')
