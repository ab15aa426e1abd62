# Copyright (c) mmspecgene contributors. All rights reserved.
"""Generate the small synthetic RGB-thermal datasets (pretrain / det / seg / sod / match) used by the demo and the
tests.

Example::

    python tools/misc/make_synthetic_rgbt.py --out data/synthetic --task all
    # plus 2 frames per split at camera sizes (1280x1024, 640x512) with 3-channel grey thermal
    python tools/misc/make_synthetic_rgbt.py --out data/synthetic_camera --num 4 --camera-frames 2
"""
import argparse
import json
import time

from mmengine.utils import ProgressBar

from mmspecgene.datasets.synthetic import SYNTHETIC_TASKS, make_det, make_match, make_pretrain, make_seg, make_sod

DEFAULT_NUM_TRAIN = 48


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Generate synthetic RGB-thermal datasets in mmspecgene layouts')
    parser.add_argument('--out', required=True, help='output root; task folders are created inside it')
    parser.add_argument('--task', default='all', choices=SYNTHETIC_TASKS + ('all', ), help='which dataset to write')
    parser.add_argument(
        '--num',
        type=int,
        default=DEFAULT_NUM_TRAIN,
        help='train split size; test/val get max(1, round(N/3)) and pretraining gets N + that many pairs')
    parser.add_argument('--seed', type=int, default=0, help='non-negative seed')
    parser.add_argument(
        '--camera-frames', type=int, default=0,
        help='draw the last N samples of every split at camera sizes (1280x1024, 640x512) with 3-channel grey '
        'thermal; the 1280x1024 pretraining pairs get a 640x512 thermal image')
    parser.add_argument('--overwrite', action='store_true', help='replace existing non-empty task folders')
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f'--num must be >= 1, got {args.num}')
    if args.camera_frames < 0:
        parser.error(f'--camera-frames must be >= 0, got {args.camera_frames}')
    if args.seed < 0:
        parser.error(f'--seed must be >= 0, got {args.seed}')
    return args


def main(argv=None):
    args = parse_args(argv)
    num_train = args.num
    num_test = max(1, round(num_train / 3))
    tasks = SYNTHETIC_TASKS if args.task == 'all' else (args.task, )
    jobs = dict(
        pretrain=(num_train + num_test, lambda progress: make_pretrain(
            args.out, num_train + num_test, args.seed, progress=progress, overwrite=args.overwrite,
            camera_frames=args.camera_frames)),
        det=(num_train + num_test, lambda progress: make_det(
            args.out, num_train, num_test, args.seed, progress=progress, overwrite=args.overwrite,
            camera_frames=args.camera_frames)),
        seg=(num_train + num_test, lambda progress: make_seg(
            args.out, num_train, num_test, args.seed, progress=progress, overwrite=args.overwrite,
            camera_frames=args.camera_frames)),
        sod=(num_train + num_test, lambda progress: make_sod(
            args.out, num_train, num_test, args.seed, progress=progress, overwrite=args.overwrite,
            camera_frames=args.camera_frames)),
        match=(num_train + num_test, lambda progress: make_match(
            args.out, num_train, num_test, args.seed, progress=progress, overwrite=args.overwrite,
            camera_frames=args.camera_frames)))

    start = time.perf_counter()
    progress_bar = ProgressBar(sum(jobs[task][0] for task in tasks))
    summaries = {task: jobs[task][1](progress_bar.update) for task in tasks}
    elapsed = time.perf_counter() - start
    print()
    for task, summary in summaries.items():
        print(f'[{task}] {json.dumps(summary, default=list)}')
    print(f'Wrote {", ".join(tasks)} under {args.out} in {elapsed:.1f} s (seed {args.seed})')


if __name__ == '__main__':
    main()
