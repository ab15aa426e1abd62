# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert the raw KAIST multispectral pedestrian download to the mmspecgene layout (docs/en/dataset_prepare.md).

Raw::

    <raw>/images/setXX/V00Y/{visible,lwir}/I#####.jpg
    <raw>/annotations/setXX/V00Y/I#####.txt      bbGt: '% bbGt version=3', then
                                                  'label x y w h occ xv yv wv hv ign ang' per box
    <raw>/train-all-02.txt, <raw>/test-all-20.txt lines 'set00/V000/I00001' or 'set00_V000_I00001'
                                                  (also looked up under imageSets/ and ImageSets/)

Output::

    <out>/visible/setXX/V00Y/I#####.jpg, <out>/infrared/setXX/V00Y/I#####.jpg
    <out>/annotations/kaist_train.json, kaist_test.json   COCO, class person; people/cyclist/person? and boxes
                                                          with the bbGt ignore flag -> iscrowd=1
    <out>/annotations/kaist_test_eval.json                KAISTPed evaluator ground truth (im_name, bbox xywh,
                                                          height, occlusion, ignore; category 1 = person)

Image ids of kaist_test.json equal those of kaist_test_eval.json (0-based, list order). With ``--test-eval-json``
an existing evaluator json (e.g. the improved test annotations) is copied, checked against the test list, and
kaist_test.json is built from it so both files hold the same ground truth.
"""
import argparse
import json
import os.path as osp
import re
import shutil

from mmspecgene.datasets.converters import (
    FileItem,
    add_common_args,
    convert_det_pairs,
    dump_json,
    make_report,
    read_list,
    resolve_list,
    valid_box,
    write_coco_json,
)
from mmspecgene.datasets.metainfo import KAIST_CLASSES

PERSON = 'person'
DEFAULT_IGNORE_LABELS = ('people', 'cyclist', 'person?')
EVAL_CATEGORIES = [
    dict(id=0, name='__ignore__'),
    dict(id=1, name='person'),
    dict(id=2, name='cyclist'),
    dict(id=3, name='people'),
    dict(id=4, name='person?'),
]
FRAME_RE = re.compile(r'^(set\d{2})[/_](V\d{3})[/_](I\d{5})$')
LIST_SUBDIRS = ('', 'imageSets', 'ImageSets')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='KAIST raw download -> mmspecgene detection layout')
    parser.add_argument('raw_root', help='raw KAIST root holding images/ (and usually annotations/ and lists)')
    parser.add_argument('--out-dir', default='data/kaist', help='output root')
    parser.add_argument('--ann-dir', default=None, help='bbGt annotation root (default <raw>/annotations)')
    parser.add_argument('--train-ann-dir', default=None, help='train annotations, e.g. sanitized (default --ann-dir)')
    parser.add_argument(
        '--test-ann-dir', default=None, help='test annotations, e.g. the improved ones (default --ann-dir)')
    parser.add_argument('--train-list', default='train-all-02.txt', help='train list (path or name under raw root)')
    parser.add_argument('--test-list', default='test-all-20.txt', help='test list (path or name under raw root)')
    parser.add_argument(
        '--test-eval-json',
        default=None,
        help='existing KAISTPed evaluator json to copy as kaist_test_eval.json (kaist_test.json is then built '
        'from it instead of the test txt annotations)')
    parser.add_argument(
        '--ignore-labels',
        nargs='+',
        default=list(DEFAULT_IGNORE_LABELS),
        help='labels converted to ignored person boxes (iscrowd=1 / ignore=1); other labels than person and these '
        'raise an error')
    parser.add_argument('--splits', nargs='+', default=['train', 'test'], choices=['train', 'test'])
    add_common_args(parser)
    return parser.parse_args(argv)


def normalize_frame(entry: str, list_path: str) -> str:
    """'set00_V000_I00001' / 'set00/V000/I00001(.jpg)' -> 'set00/V000/I00001'."""
    stem = osp.splitext(entry)[0] if entry.lower().endswith(('.jpg', '.png', '.txt')) else entry
    match = FRAME_RE.match(stem)
    if match is None:
        raise ValueError(f'{list_path}: bad frame entry {entry!r}, expected like set00/V000/I00001 or '
                         'set00_V000_I00001')
    return '/'.join(match.groups())


def parse_bbgt(path: str, ignore_labels) -> list:
    """Parse a bbGt v3 file into [dict(label, bbox xywh, occlusion, ignore)].

    Raises:
        ValueError: an unknown label, a non-numeric field or an occlusion outside 0..2.
    """
    boxes = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('%'):
                continue
            tokens = line.split()
            label = tokens[0]
            if label != PERSON and label not in ignore_labels:
                raise ValueError(f'{path}:{line_no}: unknown label {label!r}; expected {PERSON!r} or one of '
                                 f'{list(ignore_labels)} (see --ignore-labels)')
            if len(tokens) < 6:
                raise ValueError(f'{path}:{line_no}: expected "label x y w h occ ...", got {line!r}')
            try:
                values = [float(t) for t in tokens[1:]]
            except ValueError as err:
                raise ValueError(f'{path}:{line_no}: non-numeric field in {line!r}') from err
            bbox = [int(v) if v.is_integer() else v for v in values[:4]]
            occlusion = values[4]
            if occlusion not in (0, 1, 2):
                raise ValueError(f'{path}:{line_no}: occlusion {occlusion:g} not in 0/1/2')
            ign_flag = len(values) > 9 and values[9] != 0
            boxes.append(
                dict(label=label, bbox=bbox, occlusion=int(occlusion), ignore=int(label != PERSON or ign_flag)))
    return boxes


def frame_samples(args, frames, boxes_of):
    """(key, [visible, infrared] FileItems, det objects or a missing annotation path) per frame."""
    samples = []
    for frame in frames:
        set_id, video, name = frame.split('/')
        items = [
            FileItem('visible', osp.join(args.raw_root, 'images', set_id, video, 'visible', name + '.jpg'),
                     osp.join(args.out_dir, 'visible', frame + '.jpg')),
            FileItem('infrared', osp.join(args.raw_root, 'images', set_id, video, 'lwir', name + '.jpg'),
                     osp.join(args.out_dir, 'infrared', frame + '.jpg')),
        ]
        boxes = boxes_of[frame]
        if isinstance(boxes, str):  # path of the missing annotation file
            samples.append((frame, items, boxes))
        else:
            samples.append((frame, items, [dict(name=PERSON, bbox=b['bbox'], iscrowd=b['ignore']) for b in boxes]))
    return samples


def read_txt_boxes(frames, ann_dir, ignore_labels):
    """frame -> parsed bbGt boxes, or the expected txt path when it is missing (skipped later)."""
    boxes_of = {}
    for frame in frames:
        path = osp.join(ann_dir, frame + '.txt')
        boxes_of[frame] = parse_bbgt(path, ignore_labels) if osp.isfile(path) else path
    return boxes_of


def eval_boxes(eval_gt):
    """frame -> boxes (bbox, occlusion, ignore) of an evaluator json; any non-person category is ignored."""
    boxes_of = {img['im_name']: [] for img in eval_gt['images']}
    names = {img['id']: img['im_name'] for img in eval_gt['images']}
    for ann in eval_gt['annotations']:
        ignore = int(bool(ann['ignore']) or ann.get('category_id', 1) != 1)
        boxes_of[names[ann['image_id']]].append(
            dict(bbox=ann['bbox'], occlusion=ann['occlusion'], ignore=ignore))
    return boxes_of


def build_eval_json(images, boxes_of):
    """KAISTPed evaluator json (schema of the standard KAIST_annotation.json) with the COCO image ids."""
    eval_images, annotations = [], []
    for img in images:
        frame = osp.splitext(img['file_name'])[0]
        eval_images.append(dict(id=img['id'], im_name=frame, height=img['height'], width=img['width']))
        for box in boxes_of[frame]:
            if not valid_box(box['bbox']):
                continue
            annotations.append(
                dict(
                    id=len(annotations),
                    image_id=img['id'],
                    category_id=1,
                    bbox=box['bbox'],
                    height=box['bbox'][3],
                    occlusion=box['occlusion'],
                    ignore=box['ignore']))
    info = dict(dataset='KAIST Multispectral Pedestrian Benchmark', converted_by='mmspecgene kaist2coco')
    return dict(info=info, images=eval_images, annotations=annotations, categories=EVAL_CATEGORIES)


def load_eval_json(path, test_frames):
    """Load and check an evaluator json; its ``im_name`` order must equal the test list order."""
    with open(path, encoding='utf-8') as f:
        eval_gt = json.load(f)
    for key in ('images', 'annotations', 'categories'):
        if key not in eval_gt:
            raise ValueError(f'{path}: missing key {key!r} of the KAISTPed evaluator format')
    names = [img.get('im_name') for img in eval_gt['images']]
    if names != test_frames:
        differing = [i for i, (name, frame) in enumerate(zip(names, test_frames)) if name != frame]
        first = differing[0] if differing else min(len(names), len(test_frames))
        raise ValueError(f'{path}: im_name order differs from the test list ({len(names)} vs {len(test_frames)} '
                         f'frames; first difference at position {first})')
    ids = [img['id'] for img in eval_gt['images']]
    if ids != list(range(len(ids))):
        raise ValueError(f'{path}: image ids must be 0..{len(ids) - 1} in list order')
    for ann in eval_gt['annotations']:
        for key in ('image_id', 'bbox', 'height', 'occlusion', 'ignore'):
            if key not in ann:
                raise ValueError(f'{path}: annotation {ann.get("id")} lacks {key!r}')
    return eval_gt


def main(argv=None):
    args = parse_args(argv)
    report = make_report('kaist2coco', args)
    ann_dir = args.ann_dir or osp.join(args.raw_root, 'annotations')
    ann_dirs = dict(train=args.train_ann_dir or ann_dir, test=args.test_ann_dir or ann_dir)
    list_names = dict(train=args.train_list, test=args.test_list)
    ann_out = osp.join(args.out_dir, 'annotations')
    for split in args.splits:
        list_path = resolve_list(args.raw_root, list_names[split], LIST_SUBDIRS)
        frames = [normalize_frame(entry, list_path) for entry in read_list(list_path)]
        print(f'[kaist2coco] {split}: {len(frames)} frames from {list_path}', flush=True)
        from_eval = split == 'test' and args.test_eval_json is not None
        if from_eval:
            eval_gt = load_eval_json(args.test_eval_json, frames)
            boxes_of = eval_boxes(eval_gt)
            image_ids = [img['id'] for img in eval_gt['images']]
        else:
            boxes_of = read_txt_boxes(frames, ann_dirs[split], args.ignore_labels)
            image_ids = None
        images, annotations = convert_det_pairs(
            report,
            split,
            frame_samples(args, frames, boxes_of),
            args.out_dir,
            KAIST_CLASSES,
            args.link,
            check_size=not args.skip_size_check,
            first_image_id=0,
            image_ids=image_ids)
        report.count(f'{split} ignored boxes (iscrowd=1)', sum(ann['iscrowd'] for ann in annotations))
        write_coco_json(osp.join(ann_out, f'kaist_{split}.json'), images, annotations, KAIST_CLASSES)
        if from_eval:
            eval_out = osp.join(ann_out, 'kaist_test_eval.json')
            if osp.realpath(args.test_eval_json) != osp.realpath(eval_out):
                shutil.copyfile(args.test_eval_json, eval_out)
            report.note(f'kaist_test_eval.json copied from {args.test_eval_json}; kaist_test.json built from it')
            if len(images) != len(frames):
                report.note(f'the evaluator json lists {len(frames) - len(images)} test frames whose images were '
                            'skipped (absent from kaist_test.json)')
        elif split == 'test':
            dump_json(build_eval_json(images, boxes_of), osp.join(ann_out, 'kaist_test_eval.json'))
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
