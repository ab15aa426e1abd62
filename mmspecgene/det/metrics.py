# Copyright (c) mmspecgene contributors. All rights reserved.
"""COCO bbox mAP with the RGBT datasets' label rule."""
from typing import Dict, List

from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS


@METRICS.register_module()
class RGBTCocoMetric(CocoMetric):
    """Host ``CocoMetric`` (pycocotools) whose label ``i`` is the json category named ``classes[i]``.

    The RGBT detection datasets give a box the position of its category name in ``METAINFO['classes']``, whatever
    the order of the json's ``categories``; the host metric maps labels back to category ids in json order. This
    metric maps them by name instead, so a json listing its categories in another order scores correctly.
    """

    def compute_metrics(self, results: List) -> Dict[str, float]:
        if self.cat_ids is None and self._coco_api is not None:
            id_of_name = {cat['name']: cat_id for cat_id, cat in self._coco_api.cats.items()}
            missing = [name for name in self.dataset_meta['classes'] if name not in id_of_name]
            if missing:
                raise ValueError(f'{type(self).__name__}: classes {missing} are not categories of the evaluation '
                                 f'json (it has {sorted(id_of_name)})')
            self.cat_ids = [id_of_name[name] for name in self.dataset_meta['classes']]
        return super().compute_metrics(results)
