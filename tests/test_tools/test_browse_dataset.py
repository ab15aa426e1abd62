# Copyright (c) mmspecgene contributors. All rights reserved.
"""tools/analysis_tools/browse_dataset.py on camera-size frames that the test pipelines resize: the ground truth is
drawn where the objects are on the drawn (resized) image."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.visualization import SegLocalVisualizer

from mmspecgene.testing.scripts import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLI = osp.join(REPO, 'tools', 'analysis_tools', 'browse_dataset.py')
DET_CFG = osp.join(REPO, 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py')
SEG_CFG = osp.join(REPO, 'configs/seg/upernet/upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py')
SOD_CFG = osp.join(REPO, 'configs/sod/upernet/upernet-sod_rgbt-vit-tiny_1xb4-300i_synthetic.py')


@pytest.fixture(scope='module')
def browse():
    return load_script(CLI)


def _drawn_and_plain(browse, cfg_file, split, options, out_dir):
    """Run the CLI, then rebuild the plain canvases (no annotations) of the same samples."""
    browse.main([cfg_file, '--split', split, '--output-dir', out_dir, '--num', '2', '--cfg-options', *options])
    cfg = Config.fromfile(cfg_file)
    cfg.merge_from_dict(dict(kv.split('=', 1) for kv in options))
    init_default_scope(cfg.default_scope)
    dataset = browse.build_browse_dataset(cfg, split)
    drawn = [cv2.imread(f)[..., ::-1] for f in sorted(glob.glob(osp.join(out_dir, '*.png')))]
    plain = [browse.canvas_of(dataset[i], cfg.default_scope)[0] for i in range(2)]
    return dataset, drawn, plain


def test_det_test_split_boxes_on_the_resized_drawing(browse, camera_root, tmp_path):
    data = osp.join(camera_root, 'det') + '/'
    options = [f'test_dataloader.dataset.data_root={data}']
    dataset, drawn, plain = _drawn_and_plain(browse, DET_CFG, 'test', options, str(tmp_path))
    ann = json.load(open(osp.join(data, 'annotations', 'synthetic_test.json')))
    images = {img['id']: img for img in ann['images']}
    assert sorted((img['width'], img['height']) for img in images.values()) == [(640, 512), (1280, 1024)]
    num_checked = 0
    for index, (drawing, canvas) in enumerate(zip(drawn, plain)):
        assert drawing.shape == canvas.shape == (160, 320, 3)  # 160 px LSJ square, RGB‖thermal
        changed = np.abs(drawing.astype(int) - canvas.astype(int)).sum(-1) > 60
        # box outlines and labels only: the image itself is drawn unchanged at its own scale
        assert changed.mean() < 0.25
        info = dataset.get_data_info(index)
        img = images[info['img_id']]
        scale = 160 / max(img['width'], img['height'])  # Resize(160, 160, keep_ratio)
        for obj in ann['annotations']:
            if obj['image_id'] != info['img_id'] or obj['iscrowd']:
                continue
            x, y, w, h = (v * scale for v in obj['bbox'])
            for offset in (0, 160):  # both halves
                ys = np.arange(int(y + 0.25 * h), int(y + 0.75 * h) + 1)
                for edge in (x + offset, x + w + offset):  # left and right edges of the scaled box
                    cols = slice(max(int(round(edge)) - 2, 0), int(round(edge)) + 3)
                    hit = changed[ys, cols].any(axis=1).mean()
                    assert hit > 0.8, f'{img["file_name"]} ann {obj["id"]}: edge x={edge:.1f} not drawn ({hit:.2f})'
                bottom = int(round(y + h))
                xs = np.arange(int(x + 0.25 * w + offset), int(x + 0.75 * w + offset) + 1)
                assert changed[max(bottom - 2, 0):bottom + 3, xs].any(axis=0).mean() > 0.8
                num_checked += 1
    assert num_checked >= 4


@pytest.mark.parametrize('cfg_file, task, split', [(SEG_CFG, 'seg', 'val'), (SOD_CFG, 'sod/synthetic', 'test')])
def test_seg_test_split_label_map_follows_the_resize(browse, camera_root, tmp_path, cfg_file, task, split):
    data = osp.join(camera_root, task) + '/'
    options = [f'{split}_dataloader.dataset.data_root={data}']
    dataset, drawn, plain = _drawn_and_plain(browse, cfg_file, split, options, str(tmp_path))
    for index, (drawing, canvas) in enumerate(zip(drawn, plain)):
        # Resize(512, 128, keep_ratio): 1280x1024 and 640x512 both become 160x128
        assert drawing.shape == canvas.shape == (128, 320, 3)
        gt = dataset[index]['data_samples'].gt_sem_seg.data[0].numpy()
        label = cv2.imread(dataset.get_data_info(index)['seg_map_path'], cv2.IMREAD_UNCHANGED)
        expected = cv2.resize(label, (160, 128), interpolation=cv2.INTER_NEAREST)
        assert gt.shape == (128, 160) and (gt == expected).mean() > 0.97
        # both halves are blended with the palette colour of the resized label map (class names are written over a
        # few pixels); the visualiser is a process-wide instance: take the alpha it drew with
        alpha = SegLocalVisualizer.get_instance(Config.fromfile(cfg_file).visualizer.name).alpha
        palette = np.asarray(dataset.metainfo['palette'] + [[0, 0, 0]] * (256 - len(dataset.metainfo['palette'])))
        labelled = gt != 255
        for half in (slice(0, 160), slice(160, 320)):
            expected_colour = (1 - alpha) * canvas[:, half] + alpha * palette[gt]
            close = np.abs(drawing[:, half] - expected_colour).max(-1) <= 3
            assert close[labelled].mean() > 0.9


MATCH_CFG = osp.join(REPO, 'configs/match/loftr/loftr_rgbt-vit-tiny_1xb4-3000i_synthetic.py')


def test_match_train_split_draws_the_warped_pair_and_its_correspondences(browse, camera_root, tmp_path):
    data = osp.join(camera_root, 'match') + '/'
    out_dir = str(tmp_path / 'new_folder')
    browse.main([MATCH_CFG, '--split', 'train', '--output-dir', out_dir, '--num', '2', '--cfg-options',
                 f'train_dataloader.dataset.data_root={data}'])
    cfg = Config.fromfile(MATCH_CFG)
    cfg.train_dataloader.dataset.data_root = data
    init_default_scope('mmspecgene')
    dataset = browse.build_browse_dataset(cfg, 'train')
    drawn = sorted(glob.glob(osp.join(out_dir, '*.png')))
    assert len(drawn) == min(2, len(dataset)) and all(cv2.imread(path) is not None for path in drawn)
    item = dataset[0]
    assert tuple(item['inputs'].shape) == (6, 128, 160)  # camera frames resized to the config's 160 x 128
    assert browse.draw_match_sample(item, str(tmp_path / 'again.png'), 'again') > 10


def test_wrapped_test_sets_get_their_annotations_resized_too(browse, camera_root):
    """The VT SOD configs test on a ConcatDataset: every wrapped pipeline loads its labels before the resize."""
    cfg = Config.fromfile(SOD_CFG)
    single = cfg.test_dataloader.dataset
    single.data_root = osp.join(camera_root, 'sod', 'synthetic') + '/'
    cfg.test_dataloader.dataset = dict(type='ConcatDataset', datasets=[single, dict(single)])
    init_default_scope('mmseg')
    dataset = browse.build_browse_dataset(cfg, 'test')
    assert len(dataset) == 2 * len(dataset.datasets[0])
    for index in (0, len(dataset) - 1):  # a sample of each wrapped set
        item = dataset[index]
        assert item['data_samples'].gt_sem_seg.data.shape[-2:] == item['inputs'].shape[-2:]
