# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert FLIR-aligned to the mmspecgene detection layout (docs/en/dataset_prepare.md).

Two inputs are accepted.

(a) The raw aligned release (file naming unverified, hence the options)::

    <raw>/JPEGImages/<base>_PreviewData.jpeg (thermal), <raw>/JPEGImages/<base>_RGB.jpg (RGB)
    <raw>/Annotations/<base>_PreviewData.xml (or <base>.xml), VOC
    <raw>/align_train.txt, <raw>/align_validation.txt (also looked up under ImageSets/Main/); entries like
    'FLIR_00002', 'FLIR_00002_PreviewData' or with a suffix

(b) Existing COCO jsons (``--train-json/--test-json``) and image folders: each image's ``file_name`` is read under
``--visible-root`` and its ``ir_file_name`` (or ``file_name`` after ``--ir-name-replace``) under
``--infrared-root``.

Output::

    <out>/visible/{train,test}/<base>.jpg, <out>/infrared/{train,test}/<base>.jpg
    <out>/annotations/flir_{train,test}.json   categories (person, bicycle, car) = ids 1, 2, 3; ``dog`` dropped
                                               and counted; integer image ids from 1 in list order
"""
import argparse
import json
import os.path as osp

from mmspecgene.datasets.converters import (
    IMG_EXTENSIONS,
    FileItem,
    add_common_args,
    add_reencode_arg,
    convert_det_pairs,
    make_report,
    read_list,
    resolve_list,
    write_coco_json,
)
from mmspecgene.datasets.metainfo import FLIR_CLASSES

LIST_SUBDIRS = ('', 'ImageSets/Main', 'ImageSets')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='FLIR-aligned (raw VOC or COCO json) -> mmspecgene det layout')
    parser.add_argument('raw_root', help='raw root (mode a) or a base folder for relative paths (mode b)')
    parser.add_argument('--out-dir', default='data/flir_aligned', help='output root')
    parser.add_argument('--drop-labels', nargs='+', default=['dog'], help='labels dropped on purpose (counted)')
    raw = parser.add_argument_group('(a) raw aligned release')
    raw.add_argument('--image-dir', default='JPEGImages', help='image folder under raw root')
    raw.add_argument('--ann-dir', default='Annotations', help='VOC xml folder under raw root')
    raw.add_argument('--train-list', default='align_train.txt', help='train list (path or name under raw root)')
    raw.add_argument(
        '--test-list', default='align_validation.txt', help='test list (path or name under raw root)')
    raw.add_argument('--infrared-pattern', default='{}_PreviewData.jpeg', help='thermal file name of a base name')
    raw.add_argument('--visible-pattern', default='{}_RGB.jpg', help='RGB file name of a base name')
    raw.add_argument(
        '--ann-patterns',
        nargs='+',
        default=['{}_PreviewData.xml', '{}.xml', '{}_RGB.xml'],
        help='VOC file names of a base name, first existing wins')
    coco = parser.add_argument_group('(b) COCO jsons + image folders')
    coco.add_argument('--train-json', default=None, help='COCO json of the train split (selects mode b)')
    coco.add_argument('--test-json', default=None, help='COCO json of the test split (selects mode b)')
    coco.add_argument('--visible-root', default=None, help='folder of file_name (default raw root)')
    coco.add_argument('--infrared-root', default=None, help='folder of ir_file_name (default raw root)')
    coco.add_argument(
        '--ir-name-replace',
        nargs=2,
        metavar=('OLD', 'NEW'),
        default=None,
        help='derive the thermal name from file_name when a json image has no ir_file_name')
    add_common_args(parser)
    add_reencode_arg(parser)
    return parser.parse_args(argv)


def name_tags(args):
    """Suffix tags ('_PreviewData', '_RGB') that are stripped from list entries and output names."""
    tags = []
    for pattern in [args.infrared_pattern, args.visible_pattern] + list(args.ann_patterns):
        tag = osp.splitext(pattern.format(''))[0]
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def base_name(entry, tags):
    """'FLIR_00002_PreviewData.jpeg' -> 'FLIR_00002'."""
    stem = osp.basename(entry)
    if osp.splitext(stem)[1].lower() in IMG_EXTENSIONS + ('.xml', ):
        stem = osp.splitext(stem)[0]
    for tag in sorted(tags, key=len, reverse=True):
        if stem.endswith(tag):
            return stem[:-len(tag)]
    return stem


def pair_items(args, split, base, visible_src, infrared_src):
    out_name = f'{split}/{base}.jpg'
    return [
        FileItem('visible', visible_src, osp.join(args.out_dir, 'visible', out_name)),
        FileItem('infrared', infrared_src, osp.join(args.out_dir, 'infrared', out_name)),
    ]


def check_unique(bases, source):
    seen = set()
    for base in bases:
        if base in seen:
            raise ValueError(f'{source}: two entries map to the output name {base!r}')
        seen.add(base)


def raw_samples(args, split, tags):
    """Mode (a): samples from a split list."""
    list_name = args.train_list if split == 'train' else args.test_list
    list_path = resolve_list(args.raw_root, list_name, LIST_SUBDIRS)
    bases = [base_name(entry, tags) for entry in read_list(list_path)]
    check_unique(bases, list_path)
    print(f'[flir2coco] {split}: {len(bases)} entries from {list_path}', flush=True)
    image_dir = osp.join(args.raw_root, args.image_dir)
    ann_dir = osp.join(args.raw_root, args.ann_dir)
    samples = []
    for base in bases:
        ann_candidates = [osp.join(ann_dir, pattern.format(base)) for pattern in args.ann_patterns]
        ann_path = next((p for p in ann_candidates if osp.isfile(p)), ann_candidates[0])
        items = pair_items(args, split, base, osp.join(image_dir, args.visible_pattern.format(base)),
                           osp.join(image_dir, args.infrared_pattern.format(base)))
        samples.append((f'{split}/{base}', items, ann_path))
    return samples


def coco_samples(args, split, json_path, tags):
    """Mode (b): samples from a COCO json; boxes keep their iscrowd flag."""
    with open(json_path, encoding='utf-8') as f:
        coco = json.load(f)
    for key in ('images', 'annotations', 'categories'):
        if key not in coco:
            raise ValueError(f'{json_path}: missing COCO key {key!r}')
    category_names = {cat['id']: cat['name'] for cat in coco['categories']}
    objects_of = {img['id']: [] for img in coco['images']}
    for ann in coco['annotations']:
        if ann['category_id'] not in category_names:
            raise ValueError(f'{json_path}: annotation {ann.get("id")} has unknown category_id {ann["category_id"]}')
        if ann['image_id'] not in objects_of:
            raise ValueError(f'{json_path}: annotation {ann.get("id")} refers to unknown image {ann["image_id"]}')
        objects_of[ann['image_id']].append(
            dict(name=category_names[ann['category_id']], bbox=ann['bbox'], iscrowd=int(ann.get('iscrowd', 0))))
    visible_root = args.visible_root or args.raw_root
    infrared_root = args.infrared_root or args.raw_root
    bases = [base_name(img['file_name'], tags) for img in coco['images']]
    check_unique(bases, json_path)
    print(f'[flir2coco] {split}: {len(bases)} images from {json_path}', flush=True)
    samples = []
    for img, base in zip(coco['images'], bases):
        ir_name = img.get('ir_file_name')
        if ir_name is None:
            ir_name = img['file_name']
            if args.ir_name_replace is not None:
                ir_name = ir_name.replace(*args.ir_name_replace)
        items = pair_items(args, split, base, osp.join(visible_root, img['file_name']),
                           osp.join(infrared_root, ir_name))
        samples.append((f'{split}/{base}', items, objects_of[img['id']]))
    return samples


def main(argv=None):
    args = parse_args(argv)
    report = make_report('flir2coco', args)
    tags = name_tags(args)
    jsons = dict(train=args.train_json, test=args.test_json)
    from_coco = any(jsons.values())
    for split in ('train', 'test'):
        if from_coco:
            if jsons[split] is None:
                report.note(f'{split}: no json given, split not converted')
                continue
            samples = coco_samples(args, split, jsons[split], tags)
        else:
            samples = raw_samples(args, split, tags)
        images, annotations = convert_det_pairs(
            report,
            split,
            samples,
            args.out_dir,
            FLIR_CLASSES,
            args.link,
            check_size=not args.skip_size_check,
            reencode=args.reencode,
            drop_labels=args.drop_labels)
        write_coco_json(osp.join(args.out_dir, 'annotations', f'flir_{split}.json'), images, annotations,
                        FLIR_CLASSES)
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
