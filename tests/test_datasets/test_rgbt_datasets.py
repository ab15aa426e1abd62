# Copyright (c) mmspecgene contributors. All rights reserved.
"""Dataset classes: explicit paired paths, label order from METAINFO, and clear errors on bad input."""
import json
import os
import os.path as osp
import shutil

import pytest

from mmspecgene.utils import register_all_modules


def _det_dataset(root, ann_file, cls='RGBTSyntheticDetDataset', **kwargs):
    register_all_modules('det')
    from mmdet.registry import DATASETS
    return DATASETS.build(dict(type=cls, data_root=root, ann_file=ann_file,
                               data_prefix=dict(img='visible/', ir='infrared/'), pipeline=[], **kwargs))


def _write_json(path, data):
    with open(path, 'w') as f:
        json.dump(data, f)
    return str(path)


def test_det_dataset_paths_and_labels(synthetic_root):
    root = osp.join(synthetic_root, 'det')
    ds = _det_dataset(root, 'annotations/synthetic_train.json')
    info = ds.get_data_info(0)
    assert info['img_path'].startswith(osp.join(root, 'visible'))
    assert info['ir_path'] == info['img_path'].replace(osp.join(root, 'visible'), osp.join(root, 'infrared'))
    assert osp.exists(info['ir_path'])
    labels = {inst['bbox_label'] for i in range(len(ds)) for inst in ds.get_data_info(i)['instances']}
    assert labels == {0, 1}


def test_det_label_order_follows_metainfo_not_json(synthetic_root, tmp_path):
    root = osp.join(synthetic_root, 'det')
    data = json.load(open(osp.join(root, 'annotations', 'synthetic_train.json')))
    data['categories'] = list(reversed(data['categories']))  # json order car, person
    ann = _write_json(tmp_path / 'reordered.json', data)
    ds = _det_dataset(root, ann)
    person_id = next(c['id'] for c in data['categories'] if c['name'] == 'person')
    first = next(a for a in data['annotations'] if a['category_id'] == person_id and not a.get('iscrowd'))
    info = next(ds.get_data_info(i) for i in range(len(ds)) if ds.get_data_info(i)['img_id'] == first['image_id'])
    assert 0 in {inst['bbox_label'] for inst in info['instances']}  # person is label 0 (METAINFO position)
    with pytest.raises(ValueError, match='category order'):
        _det_dataset(root, ann, check_category_order=True)


def test_det_errors_name_file_and_value(synthetic_root, tmp_path):
    root = osp.join(synthetic_root, 'det')
    data = json.load(open(osp.join(root, 'annotations', 'synthetic_train.json')))
    empty = tmp_path / 'empty.json'
    empty.write_text('')
    with pytest.raises(ValueError, match='empty.json'):
        _det_dataset(root, str(empty))
    broken = tmp_path / 'broken.json'
    broken.write_text('{"images": [')
    with pytest.raises(ValueError, match='broken.json'):
        _det_dataset(root, str(broken))
    with pytest.raises(ValueError, match='lacks COCO keys'):
        _det_dataset(root, _write_json(tmp_path / 'nokeys.json', dict(images=data['images'])))
    extra = dict(data, categories=data['categories'] + [dict(id=9, name='dog')])
    extra['annotations'] = data['annotations'] + [dict(data['annotations'][0], id=99999, category_id=9)]
    with pytest.raises(ValueError, match="'dog'"):
        _det_dataset(root, _write_json(tmp_path / 'dog.json', extra))
    ds = _det_dataset(root, str(tmp_path / 'dog.json'), ignore_unknown_categories=True)
    assert len(ds) > 0
    unknown_id = dict(data, annotations=data['annotations'] + [dict(data['annotations'][0], id=88888,
                                                                     category_id=42)])
    with pytest.raises(ValueError, match='category_id=42'):
        _det_dataset(root, _write_json(tmp_path / 'unknown.json', unknown_id))
    with pytest.raises(FileNotFoundError, match='missing.json'):
        _det_dataset(root, str(tmp_path / 'missing.json'))
    for key in ('id', 'file_name', 'width', 'height'):
        images = [dict(img) for img in data['images']]
        del images[2][key]
        path = _write_json(tmp_path / f'no_{key}.json', dict(data, images=images))
        with pytest.raises(ValueError, match=rf"images\[2\] of .*no_{key}\.json lacks \['{key}'\]"):
            _det_dataset(root, path)


def test_missing_thermal_file_is_reported_by_the_loader(synthetic_root, tmp_path):
    from mmspecgene.datasets.transforms import LoadRGBTImagePair
    root = str(tmp_path / 'det')
    shutil.copytree(osp.join(synthetic_root, 'det'), root)
    ds = _det_dataset(root, 'annotations/synthetic_test.json')
    info = ds.get_data_info(0)
    os.remove(info['ir_path'])
    with pytest.raises(FileNotFoundError, match=osp.basename(info['ir_path'])):
        LoadRGBTImagePair()(dict(info))


def test_seg_dataset_pairs_and_missing_partner(synthetic_root, tmp_path):
    register_all_modules('seg')
    from mmseg.registry import DATASETS
    cfg = dict(type='RGBTSyntheticSegDataset', data_root=osp.join(synthetic_root, 'seg'),
               data_prefix=dict(img_path='visible/val', ir_path='infrared/val', seg_map_path='labels/val'),
               pipeline=[])
    ds = DATASETS.build(cfg)
    assert len(ds) > 0 and ds.metainfo['classes'] == ('Background', 'Person', 'Car', 'Road')
    info = ds.get_data_info(0)
    assert osp.exists(info['ir_path']) and osp.exists(info['seg_map_path'])
    root = str(tmp_path / 'seg')
    shutil.copytree(osp.join(synthetic_root, 'seg'), root)
    os.remove(osp.join(root, 'infrared', 'val', osp.basename(info['ir_path'])))
    with pytest.raises(FileNotFoundError, match=osp.basename(info['ir_path'])):
        DATASETS.build(dict(cfg, data_root=root))
    with pytest.raises(KeyError, match='ir_path'):
        DATASETS.build(dict(cfg, data_prefix=dict(img_path='visible/val', seg_map_path='labels/val')))


def test_pair_dataset_list_and_mirror(synthetic_root, tmp_path):
    register_all_modules('pretrain')
    from mmpretrain.registry import DATASETS
    root = osp.join(synthetic_root, 'pretrain')
    listed = DATASETS.build(dict(type='RGBTPairDataset', data_root=root, ann_file='annotations/pairs_train.txt',
                                 pipeline=[]))
    mirrored = DATASETS.build(dict(type='RGBTPairDataset', data_root=root, pipeline=[]))
    assert len(listed) == len(mirrored) > 0
    assert {listed.get_data_info(i)['ir_path'] for i in range(len(listed))} == \
        {mirrored.get_data_info(i)['ir_path'] for i in range(len(mirrored))}
    bad = tmp_path / 'pairs.txt'
    bad.write_text('a.jpg b.jpg\nonly_one_field.jpg\n')
    with pytest.raises(ValueError, match='pairs.txt:2'):
        DATASETS.build(dict(type='RGBTPairDataset', data_root=root, ann_file=str(bad), pipeline=[]))
    missing = tmp_path / 'missing_pairs.txt'
    missing.write_text('day/nope.jpg day/nope.jpg\n')
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        DATASETS.build(dict(type='RGBTPairDataset', data_root=root, ann_file=str(missing), pipeline=[]))


def test_pair_dataset_mirror_follows_linked_subsets_once(synthetic_root, tmp_path):
    """Mirrored roots built from symbolic links (subset folders linked in, one link loop) list every pair once."""
    register_all_modules('pretrain')
    from mmpretrain.registry import DATASETS
    src = osp.join(synthetic_root, 'pretrain')
    for modality in ('visible', 'infrared'):
        (tmp_path / modality).mkdir()
        for subset in sorted(os.listdir(osp.join(src, modality))):
            os.symlink(osp.join(src, modality, subset), tmp_path / modality / subset)
    os.symlink(tmp_path / 'visible', tmp_path / 'visible' / 'loop')  # a loop: visible/loop -> visible
    plain = DATASETS.build(dict(type='RGBTPairDataset', data_root=src, pipeline=[]))
    linked = DATASETS.build(dict(type='RGBTPairDataset', data_root=str(tmp_path), pipeline=[]))
    assert len(linked) == len(plain) > 0
    rel = [osp.relpath(linked.get_data_info(i)['img_path'], tmp_path / 'visible') for i in range(len(linked))]
    assert rel == [osp.relpath(plain.get_data_info(i)['img_path'], osp.join(src, 'visible'))
                   for i in range(len(plain))]
    (tmp_path / 'empty' / 'visible').mkdir(parents=True)
    (tmp_path / 'empty' / 'infrared').mkdir()
    with pytest.raises(Exception, match='no visible images'):
        DATASETS.build(dict(type='RGBTPairDataset', data_root=str(tmp_path / 'empty'), pipeline=[]))
