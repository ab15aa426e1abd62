# Copyright (c) mmspecgene contributors. All rights reserved.
import json
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmspecgene.datasets.synthetic import (
    SYNTHETIC_DET_CLASSES,
    SYNTHETIC_SEG_CLASSES,
    SYNTHETIC_SEG_PALETTE,
    SYNTHETIC_SOD_PALETTE,
    is_night_index,
    make_all,
    make_det,
    make_match,
    make_pretrain,
    make_seg,
    make_sod,
)
from mmspecgene.testing.scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI_PATH = REPO_ROOT / 'tools' / 'misc' / 'make_synthetic_rgbt.py'


def _read_rgb(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8, (path, image.shape)
    return image


def _read_grey(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    assert image.ndim == 2 and image.dtype == np.uint8, (path, image.shape)
    return image


def _rel_files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def _subprocess_env():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO_ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    return env


@pytest.fixture(scope='module')
def pretrain(tmp_path_factory):
    out = tmp_path_factory.mktemp('pretrain')
    return make_pretrain(str(out), num=12, seed=0)


@pytest.fixture(scope='module')
def det(tmp_path_factory):
    out = tmp_path_factory.mktemp('det')
    return make_det(str(out), num_train=24, num_test=8, seed=0)


@pytest.fixture(scope='module')
def seg(tmp_path_factory):
    out = tmp_path_factory.mktemp('seg')
    return make_seg(str(out), num_train=12, num_val=4, seed=0)


@pytest.fixture(scope='module')
def sod(tmp_path_factory):
    out = tmp_path_factory.mktemp('sod')
    return make_sod(str(out), num_train=12, num_test=4, seed=0)


def test_constants():
    assert SYNTHETIC_DET_CLASSES == ('person', 'car')
    assert SYNTHETIC_SEG_CLASSES == ('Background', 'Person', 'Car', 'Road')
    assert [tuple(c) for c in SYNTHETIC_SEG_PALETTE] == [(0, 0, 0), (220, 20, 60), (0, 0, 142), (128, 64, 128)]
    assert [tuple(c) for c in SYNTHETIC_SOD_PALETTE] == [(0, 0, 0), (150, 150, 0)]
    assert [is_night_index(i) for i in range(6)] == [False, False, True, False, False, True]


def test_pretrain_layout(pretrain):
    root = Path(pretrain['root'])
    assert root.name == 'pretrain'
    lines = (root / 'annotations' / 'pairs_train.txt').read_text().splitlines()
    assert len(lines) == pretrain['num_pairs'] == 12
    assert pretrain['num_night'] == 4 and pretrain['num_day'] == 8
    listed = []
    night_means, day_means = [], []
    for line in lines:
        rel_rgb, rel_ir = line.split(' ')
        condition, name = rel_rgb.split('/')
        assert condition in ('day', 'night') and name.endswith('.jpg') and len(name) == len('000001.jpg')
        rgb = _read_rgb(root / 'visible' / rel_rgb)
        thermal = _read_grey(root / 'infrared' / rel_ir)
        assert rgb.shape[:2] == thermal.shape == (128, 128)
        (night_means if condition == 'night' else day_means).append(rgb.mean())
        listed.append(rel_rgb)
    # The pair list covers exactly the files on disk, in both roots.
    assert _rel_files(root / 'visible') == sorted(listed) == _rel_files(root / 'infrared')
    assert max(night_means) < 30 < min(day_means)


def _load_det_split(det, split):
    with open(det['splits'][split]['ann_file']) as f:
        return json.load(f)


@pytest.mark.parametrize('split', ['train', 'test'])
def test_det_layout(det, split):
    root = Path(det['root'])
    coco = _load_det_split(det, split)
    assert Path(det['splits'][split]['ann_file']) == root / 'annotations' / f'synthetic_{split}.json'
    assert coco['categories'] == [dict(id=1, name='person'), dict(id=2, name='car')]
    assert len(coco['images']) == det['splits'][split]['num_images']
    image_ids = [image['id'] for image in coco['images']]
    assert len(set(image_ids)) == len(image_ids)
    assert len({a['id'] for a in coco['annotations']}) == len(coco['annotations'])
    assert _rel_files(root / 'visible' / split) == _rel_files(root / 'infrared' / split)
    assert len(_rel_files(root / 'visible' / split)) == len(coco['images'])
    by_image = {image_id: [] for image_id in image_ids}
    for ann in coco['annotations']:
        by_image[ann['image_id']].append(ann)
    for image in coco['images']:
        split_dir, name = image['file_name'].split('/')
        assert split_dir == split and len(name) == len('000001.jpg') and name.endswith('.jpg')
        rgb = _read_rgb(root / 'visible' / image['file_name'])
        thermal = _read_grey(root / 'infrared' / image['file_name'])
        assert rgb.shape[:2] == thermal.shape == (image['height'], image['width']) == (128, 160)
        anns = by_image[image['id']]
        assert any(a['iscrowd'] == 0 for a in anns), image['file_name']
        for ann in anns:
            x, y, w, h = ann['bbox']
            assert all(isinstance(v, float) for v in ann['bbox'])
            assert 0 <= x and 0 <= y and w > 0 and h > 0
            assert x + w <= image['width'] and y + h <= image['height']
            assert ann['area'] == pytest.approx(w * h)
            assert ann['segmentation'] == [[x, y, x + w, y, x + w, y + h, x, y + h]]
            assert ann['category_id'] in (1, 2) and ann['iscrowd'] in (0, 1)
            if ann['iscrowd'] == 0 and ann['category_id'] == 1:
                assert 13 <= w <= 41 and 29 <= h <= 81, ann
            elif ann['iscrowd'] == 0:
                assert 39 <= w <= 71 and 19 <= h <= 36, ann
    counts = [len(anns) for anns in by_image.values()]
    assert min(counts) >= 1 and max(counts) <= 5


def test_det_summary(det):
    train = det['splits']['train']
    assert train['num_images'] == 24 and train['num_night'] == 8
    coco = _load_det_split(det, 'train')
    assert train['num_instances'] == len(coco['annotations'])
    assert train['num_crowd'] == sum(a['iscrowd'] for a in coco['annotations']) > 0
    # File names are numbered across splits, so test names continue after the train ones.
    test_names = [image['file_name'] for image in _load_det_split(det, 'test')['images']]
    assert test_names[0] == 'test/000025.jpg'


def _box_contrasts(rgb, thermal, boxes, box):
    """(RGB, thermal) contrast: mean in box - mean of 5-pixel side bands (same rows) outside every box."""
    height, width = thermal.shape
    x1, y1, x2, y2 = box
    ring = np.zeros((height, width), bool)
    ring[y1:y2, max(x1 - 5, 0):x2 + 5] = True
    for ox1, oy1, ox2, oy2 in boxes:
        ring[oy1:oy2, ox1:ox2] = False
    if ring.sum() < 10:
        return None
    inside = (slice(y1, y2), slice(x1, x2))
    rgb_contrast = np.abs(rgb[inside].reshape(-1, 3).mean(0) - rgb[ring].mean(0)).mean()
    thermal_contrast = thermal[inside].mean() - thermal[ring].mean()
    return rgb_contrast, thermal_contrast


def _overlap(box, other):
    return min(box[2], other[2]) > max(box[0], other[0]) and min(box[3], other[3]) > max(box[1], other[1])


def test_det_learnable(det):
    """Warm objects are bright in thermal, some are near-invisible in RGB, night frames are dark."""
    root = Path(det['root'])
    thermal_gaps = {1: [], 2: []}
    thermal_only = dark_frames = 0
    for split in ('train', 'test'):
        coco = _load_det_split(det, split)
        for image in coco['images']:
            rgb = _read_rgb(root / 'visible' / image['file_name']).astype(np.float64)
            thermal = _read_grey(root / 'infrared' / image['file_name']).astype(np.float64)
            anns = [a for a in coco['annotations'] if a['image_id'] == image['id']]
            boxes = [tuple(int(round(v)) for v in (a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                                                   a['bbox'][1] + a['bbox'][3])) for a in anns]
            outside = np.ones(thermal.shape, bool)
            for x1, y1, x2, y2 in boxes:
                outside[y1:y2, x1:x2] = False
            for ann, box in zip(anns, boxes):
                if ann['iscrowd']:
                    continue
                x1, y1, x2, y2 = box
                thermal_gaps[ann['category_id']].append(thermal[y1:y2, x1:x2].mean() - thermal[outside].mean())
                if sum(_overlap(box, other) for other in boxes) > 1:  # overlaps a box besides its own
                    continue
                contrasts = _box_contrasts(rgb, thermal, boxes, box)
                if contrasts is None:
                    continue
                rgb_contrast, thermal_contrast = contrasts
                thermal_only += rgb_contrast < 8 and thermal_contrast > 50
            dark_frames += rgb.mean() < 30
    assert np.median(thermal_gaps[1]) > 60, thermal_gaps[1]
    assert np.median(thermal_gaps[2]) > 30, thermal_gaps[2]
    assert thermal_only >= 3
    assert dark_frames >= det['splits']['train']['num_night']


@pytest.mark.parametrize('split', ['train', 'val'])
def test_seg_layout(seg, split):
    root = Path(seg['root'])
    names = _rel_files(root / 'labels' / split)
    assert len(names) == seg['splits'][split]['num_images']
    assert names == _rel_files(root / 'visible' / split) == _rel_files(root / 'infrared' / split)
    seen = set()
    for name in names:
        assert name.endswith('.png') and len(name) == len('000001.png')
        rgb = _read_rgb(root / 'visible' / split / name)
        thermal = _read_grey(root / 'infrared' / split / name)
        label = _read_grey(root / 'labels' / split / name)
        assert rgb.shape[:2] == thermal.shape == label.shape == (128, 128)
        values = set(np.unique(label).tolist())
        assert values <= {0, 1, 2, 3, 255}, values
        seen |= values
        ignore = label == 255
        assert ignore.mean() < 0.1
        # Ignore pixels lie on object borders: each lies within 2 pixels of a Person or Car pixel.
        objects = np.isin(label, (1, 2)).astype(np.uint8)
        assert (cv2.dilate(objects, np.ones((5, 5), np.uint8))[ignore] == 1).all()
        road_rows = np.nonzero(label == 3)[0]
        assert road_rows.size and road_rows.min() > 0.5 * label.shape[0]
    assert {0, 3, 255} <= seen and seen & {1, 2}


def test_seg_learnable(seg):
    """Per class, thermal is ordered person/car > road > background; objects seen in one modality only exist."""
    root = Path(seg['root'])
    sums, counts = np.zeros(4), np.zeros(4)
    cold = thermal_only = 0
    for split in ('train', 'val'):
        for name in _rel_files(root / 'labels' / split):
            rgb = _read_rgb(root / 'visible' / split / name).astype(np.float64)
            thermal = _read_grey(root / 'infrared' / split / name).astype(np.float64)
            label = _read_grey(root / 'labels' / split / name)
            if split == 'train':
                for class_id in range(4):
                    sums[class_id] += thermal[label == class_id].sum()
                    counts[class_id] += (label == class_id).sum()
            # Each object (a Person/Car component; the ignore ring separates overlapping ones) against its surround.
            num_parts, parts = cv2.connectedComponents(np.isin(label, (1, 2)).astype(np.uint8), connectivity=4)
            for part_id in range(1, num_parts):
                part = (parts == part_id).astype(np.uint8)
                surround = (cv2.dilate(part, np.ones((7, 7), np.uint8)) == 1) & np.isin(label, (0, 3))
                if part.sum() < 40 or surround.sum() < 40:
                    continue
                part = part == 1
                rgb_contrast = np.abs(rgb[part].mean(0) - rgb[surround].mean(0)).mean()
                thermal_contrast = thermal[part].mean() - thermal[surround].mean()
                cold += rgb_contrast > 20 and abs(thermal_contrast) < 12
                thermal_only += rgb_contrast < 8 and thermal_contrast > 50
    assert counts.min() > 0
    background, person, car, road = sums / counts
    assert person > road + 50 and car > road + 15 and road > background + 20, sums / counts
    assert cold >= 3 and thermal_only >= 3, (cold, thermal_only)
    assert seg['splits']['train']['pixel_counts']['Person'] == counts[1]


@pytest.mark.parametrize('split', ['train', 'test'])
def test_sod_layout_and_saliency(sod, split):
    root = Path(sod['root'])
    assert root.parts[-2:] == ('sod', 'synthetic')
    names = _rel_files(root / 'labels' / split)
    assert len(names) == sod['splits'][split]['num_images']
    assert names == _rel_files(root / 'visible' / split) == _rel_files(root / 'infrared' / split)
    for name in names:
        rgb = _read_rgb(root / 'visible' / split / name)
        thermal = _read_grey(root / 'infrared' / split / name).astype(np.float64)
        label = _read_grey(root / 'labels' / split / name)
        assert rgb.shape[:2] == thermal.shape == label.shape
        assert set(np.unique(label).tolist()) == {0, 1}
        salient = label == 1
        assert thermal[salient].mean() > thermal[~salient].mean() + 60
        # The mask is the bright thermal region: the salient object is hot and nothing hot lies outside it.
        hot = thermal > 135
        near_mask = cv2.dilate(label, np.ones((5, 5), np.uint8)) == 1
        assert hot[salient].mean() > 0.8, name
        assert near_mask[hot].mean() > 0.95, name


def _edges(image):
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grey = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 1.5)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)).ravel()


def test_match_pairs_share_edges_not_brightness(tmp_path):
    summary = make_match(str(tmp_path), num_train=3, num_test=2, seed=0, camera_frames=1)
    root = tmp_path / 'match'
    assert summary['splits']['test']['num_camera'] == 1
    for split, num in (('train', 3), ('test', 2)):
        lines = (root / 'annotations' / f'pairs_{split}.txt').read_text().splitlines()
        assert lines == [f'{split}/{i:06d}.jpg {split}/{i:06d}.jpg' for i in range(1, num + 1)]
    rgb = _read_rgb(root / 'visible' / 'train' / '000001.jpg')
    thermal = _read_grey(root / 'infrared' / 'train' / '000001.jpg')
    assert rgb.shape == (256, 320, 3) and thermal.shape == (256, 320)
    # the last pair of a split is a camera frame (1280x1024 first) with 3-channel grey thermal
    camera = cv2.imread(str(root / 'infrared' / 'train' / '000003.jpg'), cv2.IMREAD_UNCHANGED)
    assert camera.shape == (1024, 1280, 3) and np.abs(np.diff(camera.astype(int), axis=2)).max() <= 2
    # aligned: object edges coincide (edge maps correlate), brightness does not follow the RGB luminance
    other = _read_grey(root / 'infrared' / 'train' / '000002.jpg')
    same = np.corrcoef(_edges(rgb), _edges(thermal))[0, 1]
    shuffled = np.corrcoef(_edges(rgb), _edges(other))[0, 1]
    brightness = np.corrcoef(cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY).ravel(), thermal.ravel())[0, 1]
    assert same > 0.3 and shuffled < 0.1 and abs(brightness) < same, (same, shuffled, brightness)


def test_determinism_and_variety(tmp_path):
    kwargs = dict(num_pretrain=3, num_train=3, num_test=1)
    make_all(str(tmp_path / 'a'), seed=5, **kwargs)
    make_all(str(tmp_path / 'b'), seed=5, **kwargs)
    make_all(str(tmp_path / 'c'), seed=6, **kwargs)
    files = _rel_files(tmp_path / 'a')
    assert files == _rel_files(tmp_path / 'b') == _rel_files(tmp_path / 'c')
    assert len(files) == 2 * 3 + 1 + 2 * 4 + 2 + 3 * 4 + 3 * 4 + 2 * 4 + 2
    for rel in files:
        assert (tmp_path / 'a' / rel).read_bytes() == (tmp_path / 'b' / rel).read_bytes(), rel
    images = [rel for rel in files if rel.endswith(('.jpg', '.png')) and 'labels' not in rel]
    for rel in images:
        first = cv2.imread(str(tmp_path / 'a' / rel), cv2.IMREAD_UNCHANGED)
        other_seed = cv2.imread(str(tmp_path / 'c' / rel), cv2.IMREAD_UNCHANGED)
        assert not np.array_equal(first, other_seed), rel
    sod_train = tmp_path / 'a' / 'sod' / 'synthetic' / 'infrared' / 'train'
    assert not np.array_equal(cv2.imread(str(sod_train / '000001.png')), cv2.imread(str(sod_train / '000002.png')))


def test_overwrite_and_bad_arguments(tmp_path):
    make_sod(str(tmp_path), num_train=1, num_test=1)
    with pytest.raises(FileExistsError, match='not empty'):
        make_sod(str(tmp_path), num_train=1, num_test=1)
    stale = tmp_path / 'sod' / 'synthetic' / 'labels' / 'train' / 'stale.png'
    stale.write_bytes(b'')
    summary = make_sod(str(tmp_path), num_train=2, num_test=1, overwrite=True)
    assert not stale.exists() and summary['splits']['train']['num_images'] == 2
    with pytest.raises(ValueError, match='num_train'):
        make_det(str(tmp_path / 'x'), num_train=0)
    with pytest.raises(ValueError, match='seed'):
        make_seg(str(tmp_path / 'x'), seed=-1)
    with pytest.raises(ValueError, match='size'):
        make_pretrain(str(tmp_path / 'x'), size=(16, 16))


def _load_cli():
    return load_script(CLI_PATH)


def test_cli_subprocess(tmp_path):
    out = tmp_path / 'out'
    cmd = [sys.executable, str(CLI_PATH), '--out', str(out), '--task', 'sod', '--num', '3', '--seed', '1']
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_subprocess_env(), cwd=str(REPO_ROOT))
    assert proc.returncode == 0, proc.stderr
    assert '[sod]' in proc.stdout and 'Wrote sod' in proc.stdout
    labels = out / 'sod' / 'synthetic' / 'labels'
    assert len(_rel_files(labels / 'train')) == 3 and len(_rel_files(labels / 'test')) == 1
    # Same seed through the library gives the same files.
    make_sod(str(tmp_path / 'lib'), num_train=3, num_test=1, seed=1)
    lib_labels = tmp_path / 'lib' / 'sod' / 'synthetic' / 'labels'
    assert (lib_labels / 'train' / '000001.png').read_bytes() == (labels / 'train' / '000001.png').read_bytes()


def test_cli_main(tmp_path, capsys):
    cli = _load_cli()
    out = tmp_path / 'all'
    cli.main(['--out', str(out), '--task', 'all', '--num', '2'])
    stdout = capsys.readouterr().out
    for task in ('pretrain', 'det', 'seg', 'sod', 'match'):
        assert f'[{task}]' in stdout
    # --num 2: train 2, test/val max(1, round(2 / 3)) = 1, pretraining 2 + 1 pairs.
    assert len((out / 'pretrain' / 'annotations' / 'pairs_train.txt').read_text().splitlines()) == 3
    with open(out / 'det' / 'annotations' / 'synthetic_test.json') as f:
        assert len(json.load(f)['images']) == 1
    assert len(_rel_files(out / 'seg' / 'labels' / 'train')) == 2
    assert len(_rel_files(out / 'seg' / 'labels' / 'val')) == 1
    # An existing task folder is refused unless --overwrite.
    with pytest.raises(FileExistsError, match='not empty'):
        cli.main(['--out', str(out), '--task', 'det', '--num', '2'])
    cli.main(['--out', str(out), '--task', 'det', '--num', '4', '--overwrite'])
    with open(out / 'det' / 'annotations' / 'synthetic_train.json') as f:
        assert len(json.load(f)['images']) == 4
    for bad in (['--task', 'flow'], ['--num', '0'], ['--seed', '-1']):
        with pytest.raises(SystemExit) as excinfo:
            cli.main(['--out', str(out)] + bad)
        assert excinfo.value.code == 2


def test_imports_no_host():
    code = ('import sys, mmspecgene.datasets.synthetic; '
            "assert not {'mmdet', 'mmseg', 'mmpretrain'} & set(sys.modules), sorted(sys.modules)")
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=_subprocess_env())
    assert proc.returncode == 0, proc.stderr
