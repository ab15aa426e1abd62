# Copyright (c) mmspecgene contributors. All rights reserved.
"""Dataset converter scripts on tiny fake raw trees: layout, json contents, report lines, --strict, label remapping,
symbolic-link raw trees and empty trees (their library is tested in tests/test_datasets/test_converters.py)."""
import json
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmspecgene.datasets import converters as utils
from mmspecgene.datasets import metainfo
from mmspecgene.testing.scripts import load_script

REPO = Path(__file__).resolve().parents[2]
CONVERTER_DIR = REPO / 'tools' / 'dataset_converters'
KAIST_EVAL_JSON = REPO.parent / 'shared' / 'data' / 'kaist_eval' / 'KAIST_annotation.json'


def load(name):
    """Import a converter script as a module."""
    return load_script(CONVERTER_DIR / f'{name}.py', f'converter_{name}')


def write_image(path, height=6, width=8, value=100):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = 'JPEG' if path.suffix.lower() in ('.jpg', '.jpeg') else 'PNG'
    Image.fromarray(np.full((height, width, 3), value, np.uint8)).save(path, format=fmt)


def write_label(path, label):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(label, np.uint8), mode='L').save(path)


def read_label(path):
    return np.asarray(Image.open(path))


def load_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def voc_xml(path, objects, size=(8, 6)):
    body = ''.join(f'<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>'
                   f'<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>' for name, (x1, y1, x2, y2) in objects)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'<annotation><size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>'
                    f'{body}</annotation>')


def report_text(report):
    return '\n'.join(report.lines())


def test_converters_use_the_metainfo_class_tuples():
    """One source of class tuples: the datasets' METAINFO and the converters' categories come from metainfo."""
    pytest.importorskip('mmdet', reason='mmdet is not installed')
    from mmspecgene.det.datasets import FLIRAlignedDataset, KAISTDataset, LLVIPDataset, RGBTSyntheticDetDataset
    for dataset, classes in ((KAISTDataset, metainfo.KAIST_CLASSES), (LLVIPDataset, metainfo.LLVIP_CLASSES),
                             (FLIRAlignedDataset, metainfo.FLIR_CLASSES),
                             (RGBTSyntheticDetDataset, metainfo.SYNTHETIC_DET_CLASSES)):
        assert dataset.METAINFO['classes'] is classes
    for name, classes in (('kaist2coco', 'KAIST_CLASSES'), ('llvip2coco', 'LLVIP_CLASSES'),
                          ('flir2coco', 'FLIR_CLASSES')):
        assert getattr(load(name), classes) is getattr(metainfo, classes)


# ---------------------------------------------------------------------- KAIST
def make_kaist(root):
    for set_id, video, frame in [('set00', 'V000', 'I00001'), ('set00', 'V000', 'I00002'), ('set06', 'V000', 'I00019'),
                                 ('set06', 'V000', 'I00039')]:
        write_image(root / 'images' / set_id / video / 'visible' / f'{frame}.jpg')
        write_image(root / 'images' / set_id / video / 'lwir' / f'{frame}.jpg')
    write_image(root / 'images/set00/V000/visible/I00003.jpg')  # thermal missing
    write_image(root / 'images/set00/V000/visible/I00004.jpg')
    write_image(root / 'images/set00/V000/lwir/I00004.jpg', height=7)  # size mismatch
    header = '% bbGt version=3\n'
    anns = {
        'set00/V000/I00001': 'person 1 1 3 4 0 0 0 0 0 0 0\npeople 2 0 4 5 1 0 0 0 0 0 0\n',
        'set00/V000/I00002': '',
        'set00/V000/I00003': '',
        'set00/V000/I00004': '',
        'set06/V000/I00019': 'person 1 1 2 5 2 0 0 0 0 0 0\nperson? 0 0 3 3 0 0 0 0 0 0 0\n',
        'set06/V000/I00039': 'cyclist 1 1 2 3 1 0 0 0 0 0 0\nperson 4 1 2 4 0 0 0 0 0 1 0\n',
    }
    for frame, text in anns.items():
        path = root / 'annotations' / (frame + '.txt')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + text)
    (root / 'train-all-02.txt').write_text('set00/V000/I00001\nset00_V000_I00002\nset00/V000/I00003\n'
                                           'set00/V000/I00004\n')
    (root / 'imageSets').mkdir()
    (root / 'imageSets' / 'test-all-20.txt').write_text('set06/V000/I00019\nset06_V000_I00039\n')


def test_kaist2coco(tmp_path):
    kaist = load('kaist2coco')
    raw, out = tmp_path / 'raw', tmp_path / 'out'
    make_kaist(raw)
    report = kaist.main([str(raw), '--out-dir', str(out)])
    text = report_text(report)
    assert report.written == {'train': 2, 'test': 2}
    assert 'missing partner: 1' in text and 'size mismatch: 1' in text and 'skipped: 2' in text
    assert (out / 'visible/set00/V000/I00002.jpg').is_file() and (out / 'infrared/set00/V000/I00002.jpg').is_file()
    assert not (out / 'visible/set00/V000/I00003.jpg').exists()
    assert not (out / 'visible/set00/V000/I00004.jpg').exists()

    train = load_json(out / 'annotations/kaist_train.json')
    assert train['categories'] == [dict(id=1, name='person')]
    assert [(img['id'], img['file_name'], img['width'], img['height']) for img in train['images']] == [
        (0, 'set00/V000/I00001.jpg', 8, 6), (1, 'set00/V000/I00002.jpg', 8, 6)]
    assert [(a['id'], a['image_id'], a['category_id'], a['iscrowd'], a['bbox']) for a in train['annotations']] == [
        (1, 0, 1, 0, [1.0, 1.0, 3.0, 4.0]), (2, 0, 1, 1, [2.0, 0.0, 4.0, 5.0])]
    assert train['annotations'][0]['segmentation'] == [[1.0, 1.0, 4.0, 1.0, 4.0, 5.0, 1.0, 5.0]]

    test = load_json(out / 'annotations/kaist_test.json')
    assert [img['file_name'] for img in test['images']] == ['set06/V000/I00019.jpg', 'set06/V000/I00039.jpg']
    # person? -> ignored, cyclist -> ignored, person with the bbGt ignore flag -> ignored
    assert [a['iscrowd'] for a in test['annotations']] == [0, 1, 1, 1]

    gt = load_json(out / 'annotations/kaist_test_eval.json')
    assert [(img['id'], img['im_name'], img['width'], img['height']) for img in gt['images']] == [
        (0, 'set06/V000/I00019', 8, 6), (1, 'set06/V000/I00039', 8, 6)]
    assert gt['annotations'][0] == dict(
        id=0, image_id=0, category_id=1, bbox=[1, 1, 2, 5], height=5, occlusion=2, ignore=0)
    assert [(a['ignore'], a['occlusion']) for a in gt['annotations']] == [(0, 2), (1, 0), (1, 1), (1, 0)]
    assert [c['name'] for c in gt['categories']] == ['__ignore__', 'person', 'cyclist', 'people', 'person?']

    # an existing evaluator json is copied as is and kaist_test.json is built from it
    eval_copy = tmp_path / 'improved.json'
    gt['annotations'][0]['bbox'] = [0, 0, 3, 3]
    eval_copy.write_text(json.dumps(gt))
    out2 = tmp_path / 'out2'
    kaist.main([str(raw), '--out-dir', str(out2), '--splits', 'test', '--test-eval-json', str(eval_copy),
                '--link', 'hardlink'])
    assert (out2 / 'annotations/kaist_test_eval.json').read_text() == eval_copy.read_text()
    test2 = load_json(out2 / 'annotations/kaist_test.json')
    assert test2['annotations'][0]['bbox'] == [0.0, 0.0, 3.0, 3.0]
    assert [a['iscrowd'] for a in test2['annotations']] == [0, 1, 1, 1]
    assert osp.samefile(raw / 'images/set06/V000/lwir/I00019.jpg', out2 / 'infrared/set06/V000/I00019.jpg')

    with pytest.raises(utils.ConversionError, match='I00003: missing partner'):
        kaist.main([str(raw), '--out-dir', str(tmp_path / 'out3'), '--strict'])


def test_kaist2coco_bad_inputs(tmp_path):
    kaist = load('kaist2coco')
    raw = tmp_path / 'raw'
    make_kaist(raw)
    bad_eval = tmp_path / 'bad.json'
    bad_eval.write_text(json.dumps(dict(images=[dict(id=0, im_name='set06/V000/I00039')], annotations=[],
                                        categories=[])))
    with pytest.raises(ValueError, match='order differs from the test list'):
        kaist.main([str(raw), '--out-dir', str(tmp_path / 'o1'), '--splits', 'test', '--test-eval-json',
                    str(bad_eval)])
    (raw / 'annotations/set06/V000/I00019.txt').write_text('% bbGt version=3\ndog 1 1 2 2 0 0 0 0 0 0 0\n')
    with pytest.raises(ValueError, match="I00019.txt:2: unknown label 'dog'"):
        kaist.main([str(raw), '--out-dir', str(tmp_path / 'o2'), '--splits', 'test'])
    (raw / 'test-all-20.txt').write_text('set06-V000-I00019\n')
    with pytest.raises(ValueError, match='bad frame entry'):
        kaist.main([str(raw), '--out-dir', str(tmp_path / 'o3'), '--splits', 'test'])


def test_kaist_eval_json_schema_matches_standard_file(tmp_path):
    if not KAIST_EVAL_JSON.is_file():
        pytest.skip(f'real KAIST evaluator json not found at {KAIST_EVAL_JSON}')
    kaist = load('kaist2coco')
    standard = load_json(KAIST_EVAL_JSON)
    frames = [img['im_name'] for img in standard['images']]
    assert kaist.load_eval_json(str(KAIST_EVAL_JSON), frames) is not None
    boxes_of = kaist.eval_boxes(standard)
    assert sum(len(b) for b in boxes_of.values()) == len(standard['annotations'])
    images = [dict(id=img['id'], file_name=img['im_name'] + '.jpg', height=img['height'], width=img['width'])
              for img in standard['images']]
    rebuilt = kaist.build_eval_json(images, boxes_of)
    assert rebuilt['categories'] == standard['categories']
    assert rebuilt['images'] == standard['images']
    assert rebuilt['annotations'] == standard['annotations']


# ---------------------------------------------------------------------- LLVIP
def make_llvip(raw):
    for split, stem in [('train', '010001'), ('train', '010003'), ('test', '190001')]:
        write_image(raw / 'visible' / split / f'{stem}.jpg')
        write_image(raw / 'infrared' / split / f'{stem}.jpg', height=7 if stem == '010003' else 6)
        voc_xml(raw / 'Annotations' / f'{stem}.xml', [('person', (1, 2, 5, 6)), ('person', (0, 0, 2, 3))])
    write_image(raw / 'visible/train/010002.jpg')  # thermal missing
    write_image(raw / 'infrared/train/010004.jpg')  # visible missing
    write_image(raw / 'visible/train/010005.jpg')
    write_image(raw / 'infrared/train/010005.jpg')  # annotation missing


def test_llvip2coco(tmp_path):
    llvip = load('llvip2coco')
    raw, out = tmp_path / 'raw', tmp_path / 'out'
    make_llvip(raw)
    report = llvip.main([str(raw), '--out-dir', str(out)])
    text = report_text(report)
    assert report.written == {'train': 1, 'test': 1}
    assert 'missing partner: 2' in text and 'size mismatch: 1' in text and 'missing annotation: 1' in text
    assert 'train/010004: visible missing' in text
    train = load_json(out / 'annotations/llvip_train.json')
    assert train['images'] == [dict(id=1, file_name='train/010001.jpg', width=8, height=6)]
    assert train['categories'] == [dict(id=1, name='person')]
    assert [(a['id'], a['image_id'], a['category_id'], a['bbox'], a['area']) for a in train['annotations']] == [
        (1, 1, 1, [1.0, 2.0, 4.0, 4.0], 16.0), (2, 1, 1, [0.0, 0.0, 2.0, 3.0], 6.0)]
    assert (out / 'infrared/test/190001.jpg').is_file()
    # --skip-size-check only checks existence
    report = llvip.main([str(raw), '--out-dir', str(tmp_path / 'o2'), '--skip-size-check'])
    assert report.written == {'train': 2, 'test': 1}
    with pytest.raises(utils.ConversionError, match='--strict'):
        llvip.main([str(raw), '--out-dir', str(tmp_path / 'o3'), '--strict'])


def test_llvip2coco_png_frames_need_reencode(tmp_path):
    """PNG frames do not fit the layout's .jpg names: skipped, naming the flag that exists, then re-encoded."""
    pytest.importorskip('cv2')
    llvip = load('llvip2coco')
    raw = tmp_path / 'raw'
    for sub in ('visible', 'infrared'):
        write_image(raw / sub / 'test' / '190002.png')
    voc_xml(raw / 'Annotations' / '190002.xml', [('person', (1, 2, 5, 6))])
    report = llvip.main([str(raw), '--out-dir', str(tmp_path / 'o1'), '--splits', 'test'])
    assert report.written == {'test': 0}
    assert 'suffix mismatch: 1' in report_text(report) and 'pass --reencode' in report_text(report)
    report = llvip.main([str(raw), '--out-dir', str(tmp_path / 'o2'), '--splits', 'test', '--reencode'])
    assert report.written == {'test': 1}
    for sub in ('visible', 'infrared'):
        assert Image.open(tmp_path / 'o2' / sub / 'test' / '190002.jpg').format == 'JPEG'


def test_flir2coco_png_thermal_needs_reencode(tmp_path):
    pytest.importorskip('cv2')
    flir = load('flir2coco')
    raw = tmp_path / 'raw'
    make_flir(raw)
    write_image(raw / 'JPEGImages' / 'FLIR_00001_PreviewData.png')
    args = [str(raw), '--infrared-pattern', '{}_PreviewData.png']
    report = flir.main(args + ['--out-dir', str(tmp_path / 'o1')])
    assert report.written['train'] == 0
    assert 'suffix mismatch: 1' in report_text(report) and 'pass --reencode' in report_text(report)
    report = flir.main(args + ['--out-dir', str(tmp_path / 'o2'), '--reencode'])
    assert report.written['train'] == 1
    assert Image.open(tmp_path / 'o2' / 'infrared' / 'train' / 'FLIR_00001.jpg').format == 'JPEG'


# ----------------------------------------------------------------------- FLIR
def make_flir(raw):
    for base in ('FLIR_00001', 'FLIR_00003'):
        write_image(raw / 'JPEGImages' / f'{base}_PreviewData.jpeg')
        write_image(raw / 'JPEGImages' / f'{base}_RGB.jpg')
        voc_xml(raw / 'Annotations' / f'{base}_PreviewData.xml',
                [('car', (0, 0, 4, 4)), ('dog', (1, 1, 2, 2)), ('bicycle', (2, 2, 5, 5)), ('person', (1, 0, 3, 6))])
    write_image(raw / 'JPEGImages' / 'FLIR_00002_PreviewData.jpeg')  # RGB missing
    voc_xml(raw / 'Annotations' / 'FLIR_00002_PreviewData.xml', [])
    (raw / 'ImageSets/Main').mkdir(parents=True)
    (raw / 'ImageSets/Main/align_train.txt').write_text('FLIR_00001_PreviewData\nFLIR_00002\n')
    (raw / 'ImageSets/Main/align_validation.txt').write_text('FLIR_00003_PreviewData.jpeg\n')


def test_flir2coco_raw_voc(tmp_path):
    flir = load('flir2coco')
    raw, out = tmp_path / 'raw', tmp_path / 'out'
    make_flir(raw)
    report = flir.main([str(raw), '--out-dir', str(out)])
    text = report_text(report)
    assert report.written == {'train': 1, 'test': 1}
    assert 'dropped labels: dog 2' in text and 'missing partner: 1' in text
    assert 'train/FLIR_00002: visible missing' in text
    assert (out / 'visible/train/FLIR_00001.jpg').read_bytes() == (raw / 'JPEGImages/FLIR_00001_RGB.jpg').read_bytes()
    assert (out / 'infrared/test/FLIR_00003.jpg').read_bytes() == (
        raw / 'JPEGImages/FLIR_00003_PreviewData.jpeg').read_bytes()
    train = load_json(out / 'annotations/flir_train.json')
    assert train['categories'] == [dict(id=1, name='person'), dict(id=2, name='bicycle'), dict(id=3, name='car')]
    assert [a['category_id'] for a in train['annotations']] == [3, 2, 1]
    assert train['images'][0]['file_name'] == 'train/FLIR_00001.jpg'
    assert 'ir_file_name' not in train['images'][0]
    assert load_json(out / 'annotations/flir_test.json')['images'][0]['file_name'] == 'test/FLIR_00003.jpg'
    with pytest.raises(utils.ConversionError, match='FLIR_00002'):
        flir.main([str(raw), '--out-dir', str(tmp_path / 'o2'), '--strict'])
    voc_xml(raw / 'Annotations' / 'FLIR_00003_PreviewData.xml', [('truck', (0, 0, 4, 4))])
    with pytest.raises(ValueError, match="unknown label 'truck'"):
        flir.main([str(raw), '--out-dir', str(tmp_path / 'o3')])


def test_flir2coco_from_coco(tmp_path):
    flir = load('flir2coco')
    raw, out = tmp_path / 'raw', tmp_path / 'out'
    write_image(raw / 'rgb/train/FLIR_00010_RGB.jpg')
    write_image(raw / 'thermal/train/FLIR_00010_PreviewData.jpeg')
    coco = dict(
        images=[dict(id=7, file_name='train/FLIR_00010_RGB.jpg', width=8, height=6)],
        annotations=[
            dict(id=1, image_id=7, category_id=0, bbox=[0, 0, 2, 2], iscrowd=0),
            dict(id=2, image_id=7, category_id=5, bbox=[1, 1, 2, 2], iscrowd=1),
            dict(id=3, image_id=7, category_id=9, bbox=[1, 1, 2, 2], iscrowd=0),
        ],
        categories=[dict(id=0, name='car'), dict(id=5, name='person'), dict(id=9, name='dog')])
    (raw / 'train.json').write_text(json.dumps(coco))
    report = flir.main([
        str(raw), '--out-dir', str(out), '--train-json', str(raw / 'train.json'), '--visible-root',
        str(raw / 'rgb'), '--infrared-root', str(raw / 'thermal'), '--ir-name-replace', '_RGB.jpg',
        '_PreviewData.jpeg'
    ])
    assert report.written == {'train': 1} and report.dropped_labels == {'dog': 1}
    train = load_json(out / 'annotations/flir_train.json')
    assert [(a['category_id'], a['iscrowd']) for a in train['annotations']] == [(3, 0), (1, 1)]
    assert train['images'] == [dict(id=1, file_name='train/FLIR_00010.jpg', width=8, height=6)]
    assert (out / 'infrared/train/FLIR_00010.jpg').is_file()


# ------------------------------------------------------------------- RGBT550K
def make_rgbt550k(raw):
    for ir_rel, rgb_rel in [('subA/x1.jpg', 'subA/x1.jpg'), ('subB/ir/y1.png', 'subB/rgb/y1.png'),
                            ('subC/seq/infrared/z.jpg', 'subC/seq/visible/z.jpg')]:
        write_image(raw / 'ir' / ir_rel)
        write_image(raw / 'rgb' / rgb_rel)
    write_image(raw / 'ir/subA/x2.jpg')  # RGB missing
    write_image(raw / 'ir/subA/x3.jpg')
    write_image(raw / 'rgb/subA/x3.jpg', width=9)  # size mismatch
    write_image(raw / 'rgb/subA/orphan.jpg')  # thermal missing
    write_image(raw / 'rgb/subA/x4.jpg')
    (raw / 'ir/subA/x4.jpg').write_bytes(b'not an image')  # unreadable


def test_rgbt550k_pairs(tmp_path):
    pairs = load('rgbt550k_pairs')
    raw = tmp_path / 'RGBT_CLEAN_v6'
    make_rgbt550k(raw)
    expected = ['subA/x1.jpg subA/x1.jpg', 'subB/rgb/y1.png subB/ir/y1.png',
                'subC/seq/visible/z.jpg subC/seq/infrared/z.jpg']
    out = tmp_path / 'none'
    report = pairs.main([str(raw), '--out-dir', str(out), '--link', 'none'])
    text = report_text(report)
    assert (out / 'annotations/pairs_train.txt').read_text().splitlines() == expected
    assert not (out / 'visible').exists() and not (out / 'infrared').exists()
    assert 'missing partner: 2' in text and 'size mismatch: 1' in text and 'unreadable: 1' in text
    assert 'subA/x2.jpg: visible missing' in text and 'rgb/subA/orphan.jpg: thermal missing' in text
    assert '3 pairs written' in text and 'pairs whose RGB path differs from the thermal path: 2' in text

    out = tmp_path / 'linked'
    pairs.main([str(raw), '--out-dir', str(out), '--link', 'hardlink'])
    assert (out / 'annotations/pairs_train.txt').read_text().splitlines() == expected
    for line in expected:
        rgb_rel, ir_rel = line.split()
        assert osp.samefile(out / 'visible' / rgb_rel, raw / 'rgb' / rgb_rel)
        assert osp.samefile(out / 'infrared' / ir_rel, raw / 'ir' / ir_rel)
    with pytest.raises(utils.ConversionError, match='--strict'):
        pairs.main([str(raw), '--out-dir', str(tmp_path / 'strict'), '--link', 'none', '--strict'])


# ----------------------------------------------------------------- SemanticRT
SEMANTICRT_LABEL = np.array([[0, 12, 255, 1]] * 6, np.uint8).repeat(2, axis=1)


def make_semanticrt(raw):
    label = SEMANTICRT_LABEL
    for name in ('a', 'b', 'd', 'e'):
        write_image(raw / 'rgb' / f'{name}.jpg')
        write_image(raw / 'thermal' / f'{name}.jpg', height=7 if name == 'd' else 6)
        write_label(raw / 'labels' / f'{name}.png', label if name != 'b' else np.where(label == 12, 13, label))
    write_image(raw / 'rgb/c.jpg')  # thermal missing
    write_label(raw / 'labels/c.png', label)
    write_image(raw / 'rgb/f.jpg')
    write_image(raw / 'thermal/f.png')  # needs re-encoding
    write_label(raw / 'labels/f.png', label)
    (raw / 'train.txt').write_text('a\nb.jpg\n')
    (raw / 'val.txt').write_text('rgb/c.jpg\nf\n')
    (raw / 'test.txt').write_text('d\ne\n')


def test_semanticrt2mmspecgene(tmp_path):
    conv = load('semanticrt2mmspecgene')
    raw, out = tmp_path / 'raw', tmp_path / 'out'
    label = SEMANTICRT_LABEL
    make_semanticrt(raw)
    report = conv.main([str(raw), '--out-dir', str(out)])
    text = report_text(report)
    assert report.written == {'train': 2, 'val': 0, 'test': 1}
    assert 'files with out-of-range label values: 1' in text and 'train/b: [13]' in text
    assert 'labels holding 255 (ignore): 3' in text  # a, b, e (d, c, f are skipped before reading)
    assert 'val/c: infrared missing' in text and 'size mismatch: 1' in text
    assert 'suffix mismatch: 1' in text and 'pass --reencode' in text
    np.testing.assert_array_equal(read_label(out / 'labels/train/a.png'), label)
    assert (out / 'visible/test/e.jpg').is_file() and (out / 'infrared/train/a.jpg').is_file()
    pytest.importorskip('cv2')
    report = conv.main([str(raw), '--out-dir', str(out), '--splits', 'val', '--reencode'])
    assert report.written == {'val': 1}
    assert Image.open(out / 'infrared/val/f.jpg').format == 'JPEG'
    with pytest.raises(utils.ConversionError, match=r'train/b: label values \[13\] out of range'):
        conv.main([str(raw), '--out-dir', str(tmp_path / 'o2'), '--splits', 'train', '--strict'])


# ---------------------------------------------------------------------- MVSeg
def make_mvseg(raw):
    seq = raw / 'data' / 'seqA'
    label = np.full((6, 8), 25, np.uint8)
    write_image(seq / 'visible/00001v.jpg')
    write_image(seq / 'infrared/00001i.jpg')
    write_label(seq / 'label/00001X.png', label)
    write_image(seq / 'visible/00002v.jpg')
    write_image(seq / 'infrared/00002i.png')  # png thermal frame
    write_label(seq / 'label/00002X.png', label)
    write_image(seq / 'visible/00003v.jpg')  # unlabelled frame: not converted
    write_label(seq / 'label/00004X.png', np.full((6, 8), 26, np.uint8))  # both images missing
    (raw / 'train.txt').write_text('seqA\n')
    (raw / 'test.txt').write_text('seqMissing\n')


def test_mvseg2mmspecgene(tmp_path):
    conv = load('mvseg2mmspecgene')
    raw, out = tmp_path / 'MVSeg_Dataset', tmp_path / 'out'
    seq = raw / 'data' / 'seqA'
    make_mvseg(raw)
    report = conv.main([str(raw), '--out-dir', str(out)])
    text = report_text(report)
    assert report.written == {'train': 1, 'test': 0}
    assert 'suffix mismatch: 1' in text and 'pass --convert-png-to-jpg' in text
    assert 'missing sequence folder: 1' in text and 'test/seqMissing' in text
    assert 'train/seqA/00004: visible missing' in text
    assert (out / 'visible/train/seqA/00001.jpg').is_file() and (out / 'infrared/train/seqA/00001.jpg').is_file()
    assert (out / 'labels/train/seqA/00001.png').read_bytes() == (seq / 'label/00001X.png').read_bytes()
    assert not (out / 'visible/train/seqA/00003.jpg').exists()
    pytest.importorskip('cv2')
    report = conv.main([str(raw), '--out-dir', str(out), '--splits', 'train', '--convert-png-to-jpg'])
    assert report.written == {'train': 2}
    assert Image.open(out / 'infrared/train/seqA/00002.jpg').format == 'JPEG'


# ------------------------------------------------------------------------ FMB
def make_fmb(raw):
    for name, value in (('0001', 14), ('0002', 20)):
        write_image(raw / 'train/Visible' / f'{name}.png')
        write_image(raw / 'train/Infrared' / f'{name}.png')
        write_label(raw / 'train/Label' / f'{name}.png', np.full((6, 8), value, np.uint8))
    write_image(raw / 'train/Visible/0003.png')
    write_image(raw / 'train/Infrared/0003.png')  # label missing


def test_fmb2mmspecgene_subprocess(tmp_path):
    raw, out = tmp_path / 'raw', tmp_path / 'out'
    make_fmb(raw)
    script = str(CONVERTER_DIR / 'fmb2mmspecgene.py')
    env = dict(os.environ, PYTHONPATH=str(REPO))  # the converter imports this checkout's mmspecgene
    result = subprocess.run(
        [sys.executable, script, str(raw), '--out-dir', str(out), '--splits', 'train', '--report-file',
         str(tmp_path / 'report.json')],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=env)
    assert result.returncode == 0, result.stderr
    full_report = load_json(tmp_path / 'report.json')
    assert full_report['written'] == {'train': 2}
    assert full_report['out_of_range'] == [dict(key='train/0002', values=[20])]
    assert '[fmb2mmspecgene] written: train 2 (total 2)' in result.stdout
    assert 'train/0003: label missing' in result.stdout
    assert 'train/0002: [20]' in result.stdout
    assert sorted(os.listdir(out / 'labels/train')) == ['0001.png', '0002.png']
    result = subprocess.run([sys.executable, script, str(raw), '--out-dir', str(out), '--splits', 'train', '--strict'],
                            capture_output=True, text=True, cwd=str(tmp_path), env=env)
    assert result.returncode != 0 and 'ConversionError' in result.stderr


@pytest.mark.parametrize('name', ['fmb2mmspecgene', 'mvseg2mmspecgene'])
def test_seg_converters_write_grey_rgb_labels_as_one_band(tmp_path, name):
    """A grey label saved as a 3-band PNG would load as (H, W, 3) in mmseg: it is written as one band."""
    raw, out = tmp_path / 'raw', tmp_path / 'out'
    (make_fmb if name == 'fmb2mmspecgene' else make_mvseg)(raw)
    label = np.arange(48, dtype=np.uint8).reshape(6, 8) % 14
    src = raw / ('train/Label/0001.png' if name == 'fmb2mmspecgene' else 'data/seqA/label/00001X.png')
    Image.fromarray(np.dstack([label] * 3), 'RGB').save(src)
    report = load(name).main([str(raw), '--out-dir', str(out), '--splits', 'train'])
    assert 'labels stored with equal colour bands (written as one band): 1' in report_text(report)
    dst = out / ('labels/train/0001.png' if name == 'fmb2mmspecgene' else 'labels/train/seqA/00001.png')
    with Image.open(dst) as img:
        assert img.mode == 'L'
    np.testing.assert_array_equal(read_label(dst), label)


# ------------------------------------------------------------------------ SOD
SOD_GT = np.zeros((6, 8), np.uint8)
SOD_GT[2:4, 2:6] = 255


def make_vt5000(raw):
    gt = SOD_GT
    for split in ('Train', 'Test'):
        write_image(raw / split / 'RGB/1.jpg')
        write_image(raw / split / 'T/1.jpg')
        write_label(raw / split / 'GT/1.png', gt)
    soft = gt.copy()
    soft[0, 0] = 200  # out of range on the 0/255 scale, thresholded to 1
    soft[0, 1] = 128  # an anti-aliased edge value: background, as for PySODMetrics (GT > 128)
    write_image(raw / 'Train/RGB/2.jpg')
    write_image(raw / 'Train/T/2.jpg')
    write_label(raw / 'Train/GT/2.png', soft)
    write_image(raw / 'Test/RGB/3.jpg')  # partners missing


def test_vt_sod2mmspecgene(tmp_path):
    conv = load('vt_sod2mmspecgene')
    raw, out = tmp_path / 'VT5000', tmp_path / 'sod'
    gt = SOD_GT
    make_vt5000(raw)
    report = conv.main([str(raw), '--set', 'vt5000', '--out-dir', str(out)])
    text = report_text(report)
    assert report.written == {'train': 2, 'test': 1}
    assert 'train/2: [128, 200]' in text and 'test/3: infrared missing' in text
    assert 'GT on the 0/255 scale (stored as 0/1): 3' in text
    np.testing.assert_array_equal(read_label(out / 'vt5000/labels/train/1.png'), gt // 255)
    expected = gt // 255
    expected[0, 0] = 1
    np.testing.assert_array_equal(read_label(out / 'vt5000/labels/train/2.png'), expected)
    assert (out / 'vt5000/visible/test/1.jpg').is_file() and (out / 'vt5000/infrared/train/2.jpg').is_file()
    # idempotent: converting the converted (0/1) set again keeps the labels
    conv_raw = tmp_path / 'VT821'
    for role, folder in (('visible', 'RGB'), ('infrared', 'T'), ('labels', 'GT')):
        (conv_raw / folder).mkdir(parents=True)
        for name in ('1', '2'):
            src = out / 'vt5000' / role / 'train' / (name + ('.png' if role == 'labels' else '.jpg'))
            os.link(src, conv_raw / folder / src.name)
    report = conv.main([str(conv_raw), '--set', 'vt821', '--out-dir', str(out), '--link', 'hardlink'])
    assert report.written == {'test': 2} and report.out_of_range == []
    assert osp.samefile(out / 'vt821/labels/test/2.png', out / 'vt5000/labels/train/2.png')
    with pytest.raises(utils.ConversionError, match=r'label values \[128, 200\] out of range'):
        conv.main([str(raw), '--set', 'vt5000', '--out-dir', str(tmp_path / 'o2'), '--split-dirs', 'train=Train',
                   '--strict'])


# -------------------------------------------------------- symlinked raw trees
def link_tree(real, linked, depth):
    """Rebuild the raw tree ``real`` at ``linked`` as users do to avoid copying it: folders above ``depth`` are real
    folders, every entry at ``depth`` (the subset folders, or files) is a symbolic link to ``real``'s, and each
    linked folder holds a link loop (``loop -> .``)."""
    linked.mkdir(parents=True, exist_ok=True)
    for entry in sorted(real.iterdir()):
        if entry.is_dir() and depth > 1:
            link_tree(entry, linked / entry.name, depth - 1)
            continue
        if entry.is_dir():
            (entry / 'loop').symlink_to('.', target_is_directory=True)
        (linked / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())


def output_files(root):
    """{relative path: bytes} of every file under ``root`` (json files compared as parsed data)."""
    files = {}
    for path in sorted(Path(root).rglob('*')):
        if path.is_file():
            files[str(path.relative_to(root))] = load_json(path) if path.suffix == '.json' else path.read_bytes()
    return files


# converter, tree builder, depth of the linked subset folders, extra arguments
LINKED_CASES = [
    ('kaist2coco', make_kaist, 2, []),
    ('llvip2coco', make_llvip, 2, []),
    ('flir2coco', make_flir, 1, []),
    ('rgbt550k_pairs', make_rgbt550k, 2, []),
    ('semanticrt2mmspecgene', make_semanticrt, 1, []),
    ('mvseg2mmspecgene', make_mvseg, 2, []),
    ('fmb2mmspecgene', make_fmb, 1, ['--splits', 'train']),
    ('vt_sod2mmspecgene', make_vt5000, 1, ['--set', 'vt5000']),
]


@pytest.mark.parametrize('name,make,depth,extra', LINKED_CASES, ids=[case[0] for case in LINKED_CASES])
def test_converters_follow_symlinked_subset_folders(tmp_path, name, make, depth, extra):
    """Every converter gives the same output and report on a raw tree whose subset folders are symbolic links
    (each holding a link loop) as on the real tree."""
    conv = load(name)
    real, linked = tmp_path / 'real', tmp_path / 'linked'
    make(real)
    link_tree(real, linked, depth)
    assert any(p.is_symlink() and p.is_dir() for p in linked.rglob('*'))
    reports = [conv.main([str(raw), '--out-dir', str(tmp_path / f'out_{raw.name}')] + extra) for raw in (real, linked)]
    assert reports[0].written == reports[1].written and sum(reports[0].written.values()) > 0
    assert ({reason: len(items) for reason, items in reports[0].skipped.items()} ==
            {reason: len(items) for reason, items in reports[1].skipped.items()})
    assert output_files(tmp_path / 'out_real') == output_files(tmp_path / 'out_linked')


def test_rgbt550k_pairs_symlinked_subsets_loops_and_broken_links(tmp_path):
    """Subset folders as links (the case that found 0 images and exited 0), a link loop up to the tree root, a
    second link to one subset and a broken link: each real folder is scanned once and every skip is reported."""
    pairs = load('rgbt550k_pairs')
    store, raw = tmp_path / 'disk2', tmp_path / 'RGBT_CLEAN_v6'
    make_rgbt550k(store)
    for tree in ('ir', 'rgb'):
        (raw / tree).mkdir(parents=True)
        for subset in sorted((store / tree).iterdir()):
            (raw / tree / subset.name).symlink_to(subset, target_is_directory=True)
    (store / 'ir/subB/ir/up').symlink_to('..', target_is_directory=True)  # a loop: subB/ir/up/ir/up/...
    (raw / 'ir/subZ').symlink_to(store / 'ir/subA', target_is_directory=True)  # a second link to subA
    (store / 'ir/subA/gone.jpg').symlink_to(store / 'nowhere.jpg')  # broken
    out = tmp_path / 'out'
    report = pairs.main([str(raw), '--out-dir', str(out), '--link', 'hardlink'])
    text = report_text(report)
    assert (out / 'annotations/pairs_train.txt').read_text().splitlines() == [
        'subA/x1.jpg subA/x1.jpg', 'subB/rgb/y1.png subB/ir/y1.png', 'subC/seq/visible/z.jpg subC/seq/infrared/z.jpg']
    assert osp.samefile(out / 'infrared/subB/ir/y1.png', store / 'ir/subB/ir/y1.png')
    assert not (out / 'infrared/subB/ir/y1.png').is_symlink()
    assert 'missing partner: 2' in text and 'broken link: 1' in text and 'ir/subA/gone.jpg' in text
    assert f'{raw / "ir" / "subB/ir/up"} not scanned' in text and f'{raw / "ir" / "subZ"} not scanned' in text
    with pytest.raises(utils.ConversionError, match='gone.jpg: broken link'):
        pairs.main([str(raw), '--out-dir', str(tmp_path / 'strict'), '--link', 'none', '--strict'])


def test_empty_or_missing_raw_trees_are_errors(tmp_path):
    """A scan that finds nothing names the folder and what it looked for; the converters stop instead of writing
    empty lists and jsons."""
    raw = tmp_path / 'raw'
    (raw / 'ir/subA').mkdir(parents=True)
    (raw / 'rgb/subA').mkdir(parents=True)
    (raw / 'ir/subA/dead.jpg').symlink_to(tmp_path / 'nowhere.jpg')
    (raw / 'rgb/subA/readme.txt').write_text('no images here')
    pairs = load('rgbt550k_pairs')
    with pytest.raises(utils.ConversionError, match=rf'no RGBT550K thermal images .* found in {raw / "ir"} .*1 broken'):
        pairs.main([str(raw), '--out-dir', str(tmp_path / 'o1')])
    write_image(raw / 'ir/subA/x.jpg')
    with pytest.raises(utils.ConversionError, match=rf'no RGBT550K RGB images .* found in {raw / "rgb"}'):
        pairs.main([str(raw), '--out-dir', str(tmp_path / 'o2')])
    write_image(raw / 'rgb/subA/y.jpg')  # images on both sides, but no pair
    with pytest.raises(utils.ConversionError, match='no RGB-thermal pair found'):
        pairs.main([str(raw), '--out-dir', str(tmp_path / 'o3')])
    assert not (tmp_path / 'o3/annotations/pairs_train.txt').exists()
    (raw / 'ir/broken').symlink_to(tmp_path / 'gone', target_is_directory=True)
    with pytest.raises(FileNotFoundError, match='folder .*broken is a broken link'):
        pairs.main([str(raw), '--out-dir', str(tmp_path / 'o4'), '--infrared-dir', 'ir/broken'])

    llvip = tmp_path / 'llvip'
    (llvip / 'visible/train').mkdir(parents=True)
    (llvip / 'infrared/train').mkdir(parents=True)
    with pytest.raises(utils.ConversionError, match=rf'no LLVIP train visible images .* found in {llvip}'):
        load('llvip2coco').main([str(llvip), '--out-dir', str(tmp_path / 'o5'), '--splits', 'train'])
    semanticrt = tmp_path / 'semanticrt'
    for folder in ('rgb', 'thermal', 'labels'):
        (semanticrt / folder).mkdir(parents=True)
    with pytest.raises(utils.ConversionError, match=rf'no SemanticRT visible files .* found in {semanticrt / "rgb"}'):
        load('semanticrt2mmspecgene').main([str(semanticrt), '--out-dir', str(tmp_path / 'o6')])
    fmb = tmp_path / 'fmb'
    for folder in ('Visible', 'Infrared', 'Label'):
        (fmb / 'train' / folder).mkdir(parents=True)
    with pytest.raises(utils.ConversionError, match='train: no images found in .*Visible'):
        load('fmb2mmspecgene').main([str(fmb), '--out-dir', str(tmp_path / 'o7'), '--splits', 'train'])
    with pytest.raises(FileNotFoundError, match='test visible files folder .*test/Visible is not found'):
        load('fmb2mmspecgene').main([str(fmb), '--out-dir', str(tmp_path / 'o8'), '--splits', 'test'])
