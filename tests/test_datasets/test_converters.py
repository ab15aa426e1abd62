# Copyright (c) mmspecgene contributors. All rights reserved.
"""The converters' library (``mmspecgene.datasets.converters``): COCO helpers, label checks, file transfer, sample
checks and link-following folder scans. The converter scripts are tested in tests/test_tools/."""
import os.path as osp

import numpy as np
import pytest

from mmspecgene.datasets import converters


def write_png(path, height=6, width=8):
    """A real (H, W) PNG, readable by the header checks."""
    converters.write_label(np.zeros((height, width), np.uint8), str(path))


def test_rectangle_polygon_and_coco_annotation():
    ann = converters.coco_annotation(1, 0, 2, [1, 2, 3, 4], iscrowd=1)
    assert ann['segmentation'] == [[1.0, 2.0, 4.0, 2.0, 4.0, 6.0, 1.0, 6.0]]
    assert ann['area'] == 12.0 and ann['iscrowd'] == 1 and ann['bbox'] == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match='ids must be >= 1'):
        converters.write_coco_json('/nonexistent/x.json', [], [dict(ann, id=0)], ('person', ))


def test_index_label_fn():
    check = converters.index_label_fn(13)
    result = check(np.array([[0, 12], [255, 13]], np.uint8))
    assert result.rewritten is None and result.out_of_range.tolist() == [13]
    assert result.counters == ['labels holding 255 (ignore)'] and result.allowed == '0..12 or 255'
    result = check(np.array([[0, 1]], np.int32))
    assert result.rewritten.dtype == np.uint8 and result.out_of_range.size == 0 and result.counters == []
    result = check(np.array([[0, 300]], np.int32))  # does not fit uint8: nothing to write, reported
    assert result.rewritten is None and result.out_of_range.tolist() == [300]


def test_transfer_hardlink_and_copy(tmp_path):
    src = tmp_path / 'a.png'
    write_png(src)
    dst = tmp_path / 'out' / 'a.png'
    converters.transfer_file(str(src), str(dst), 'hardlink')
    assert osp.samefile(src, dst) and not osp.islink(dst)
    converters.transfer_file(str(src), str(dst), 'copy')  # replaces the link by a copy
    assert not osp.samefile(src, dst) and dst.read_bytes() == src.read_bytes()


def test_check_and_convert_sample_results(tmp_path):
    """check_sample / convert_sample return a CheckedSample (size None when not read) or None when skipped."""
    report = converters.ConversionReport('t')
    write_png(tmp_path / 'v.png', height=6, width=8)
    write_png(tmp_path / 'i.png', height=6, width=8)
    write_png(tmp_path / 'l.png', height=6, width=8)
    items = [converters.FileItem('visible', str(tmp_path / 'v.png'), str(tmp_path / 'out/v.png')),
             converters.FileItem('infrared', str(tmp_path / 'i.png'), str(tmp_path / 'out/i.png'))]
    assert converters.check_sample(report, 'a', items) == converters.CheckedSample((6, 8), {})
    assert converters.check_sample(report, 'a', items, check_size=False) == converters.CheckedSample(None, {})
    assert converters.convert_sample(report, 'a', 'train', items, 'copy').size == (6, 8)
    assert (tmp_path / 'out/i.png').is_file() and report.written == {'train': 1}
    missing = [items[0], converters.FileItem('infrared', None, str(tmp_path / 'out/x.png'))]
    assert converters.convert_sample(report, 'b', 'train', missing, 'copy') is None
    assert report.written == {'train': 1} and 'b: infrared missing' in '\n'.join(report.lines())
    labelled = items + [converters.FileItem('label', str(tmp_path / 'l.png'), str(tmp_path / 'out/l.png'))]
    checked = converters.check_sample(report, 'c', labelled, label_fn=converters.index_label_fn(2))
    assert checked.size == (6, 8) and checked.labels == {'label': None}  # valid uint8 label: the raw file is kept
    write_png(tmp_path / 'l.png', height=7)
    assert converters.check_sample(report, 'd', labelled) is None
    assert report.skipped[converters.SIZE_MISMATCH] == [('d', 'images 8x6 vs label 8x7')]


def test_scan_tree_follows_links_once(tmp_path):
    real = tmp_path / 'real'
    (real / 'a/b').mkdir(parents=True)
    for name in ('a/x.jpg', 'a/b/y.PNG', 'notes.txt'):
        (real / name).touch()
    root = tmp_path / 'root'
    root.mkdir()
    (root / 'linked').symlink_to(real, target_is_directory=True)
    (real / 'a/b/back').symlink_to(root, target_is_directory=True)  # loop through the scan root
    (real / 'a/gone.jpg').symlink_to(tmp_path / 'nowhere.jpg')
    scan = converters.scan_tree(str(root), 'images')
    assert scan.files == ['linked/a/b/y.PNG', 'linked/a/x.jpg']
    assert scan.revisited == [('linked/a/b/back', '.')] and scan.broken == ['linked/a/gone.jpg']
    assert scan.by_stem() == {
        'linked/a/b/y': str(root / 'linked/a/b/y.PNG'), 'linked/a/x': str(root / 'linked/a/x.jpg')}
    report = converters.ConversionReport('t')
    converters.report_scan(report, scan, 'ir/')
    assert [key for key, _ in report.skipped[converters.BROKEN_LINK]] == ['ir/linked/a/gone.jpg']
    assert len(report.notes) == 1 and 'linked/a/b/back not scanned' in report.notes[0]
    assert converters.scan_tree(str(real / 'a'), 'images', recursive=False).files == ['x.jpg']
    (real / 'a/x.png').touch()
    with pytest.raises(ValueError, match='ambiguous files'):
        converters.scan_tree(str(real / 'a'), 'images', recursive=False).by_stem()
    (tmp_path / 'empty').mkdir()
    with pytest.raises(converters.ConversionError, match=r'no thermal images \(.jpg, .jpeg.*\) found in .*empty'):
        converters.scan_tree(str(tmp_path / 'empty'), 'thermal images')
    assert converters.scan_tree(str(tmp_path / 'empty'), 'thermal images', allow_empty=True).files == []
    with pytest.raises(FileNotFoundError, match='thermal images folder .*missing is not found'):
        converters.scan_tree(str(tmp_path / 'missing'), 'thermal images')
