# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluate saved SOD saliency maps against GT maps (docs/en/method.md#segmentation-and-sod) with PySODMetrics.

Example::

    python tools/analysis_tools/sod_eval.py --pred work_dirs/vt821_pred \
        --gt data/sod/vt821/labels/test --out-json vt821.json

Several prediction folders (e.g. several methods) are evaluated one after
the other; ``--plot OUT_DIR`` overlays their precision-recall curves
(``OUT_DIR/sod_pr_curves.png``) and F-measure-vs-threshold curves
(``OUT_DIR/sod_fmeasure_curves.png``)::

    python tools/analysis_tools/sod_eval.py --pred pred_a pred_b \
        --gt data/sod/vt821/labels/test --plot work_dirs/vt821_curves
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.utils import track_iter_progress

from mmspecgene.evaluation.sod import RELEASED_WF_BETA2, SODEvaluator, format_sod_table, pair_files


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='SOD metrics (S, MAE, max/mean/adp F and E, weighted F) '
        'of saved saliency maps, computed by PySODMetrics')
    parser.add_argument(
        '--pred',
        required=True,
        nargs='+',
        help='folder(s) of uint8 grey prediction maps (several: one '
        'result each, labelled by folder name)')
    parser.add_argument(
        '--gt', required=True, help='folder of 0/1 or 0/255 GT maps')
    parser.add_argument(
        '--out-json',
        help='write the metrics to this JSON (several --pred folders: '
        '{folder name: metrics})')
    parser.add_argument(
        '--plot',
        metavar='OUT_DIR',
        help='draw PR and F-measure-vs-threshold curves of every --pred '
        'folder into OUT_DIR')
    parser.add_argument(
        '--weighted-beta2',
        type=float,
        default=None,
        help='beta^2 of weighted F (wF). Default: PySODMetrics default '
        f'(beta=1); {RELEASED_WF_BETA2} reproduces the released toolbox')
    parser.add_argument(
        '--allow-unpaired',
        action='store_true',
        help='evaluate the paired files even if some files have no partner '
        '(they are still listed)')
    return parser.parse_args(argv)


def method_names(folders):
    """Legend / json name of each prediction folder: its base name, made
    unique with the parent folder's name when needed."""
    names = [osp.basename(osp.normpath(f)) for f in folders]
    if len(set(names)) != len(names):
        names = [
            osp.join(*osp.normpath(f).split(os.sep)[-2:]) for f in folders
        ]
    if len(set(names)) != len(names):
        raise ValueError(f'--pred folders must differ, got {folders}')
    return names


def evaluate_folder(pred_dir, args):
    """Metrics and curves of one prediction folder (exits on unpaired
    files unless --allow-unpaired)."""
    pairs, unpaired_pred, unpaired_gt = pair_files(pred_dir, args.gt)
    if unpaired_pred or unpaired_gt:
        level = 'WARNING' if args.allow_unpaired else 'ERROR'
        for path in unpaired_pred:
            print(f'{level}: prediction without GT: {path}', file=sys.stderr)
        for path in unpaired_gt:
            print(f'{level}: GT without prediction: {path}', file=sys.stderr)
        print(
            f'{level}: {len(unpaired_pred)} prediction(s) and '
            f'{len(unpaired_gt)} GT file(s) have no partner (paired by file '
            f'stem)',
            file=sys.stderr)
        if not args.allow_unpaired:
            print('Pass --allow-unpaired to evaluate the paired files anyway.',
                  file=sys.stderr)
            sys.exit(1)
    if not pairs:
        print(f'ERROR: no prediction/GT pairs between {pred_dir} and '
              f'{args.gt}', file=sys.stderr)
        sys.exit(1)

    evaluator = SODEvaluator(wf_beta2=args.weighted_beta2)
    for pred_path, gt_path in track_iter_progress(pairs):
        evaluator.step_files(pred_path, gt_path)
    results = evaluator.get_results()

    wf_note = ('PySODMetrics default beta=1' if args.weighted_beta2 is None
               else f'beta2={args.weighted_beta2}')
    print()
    print(
        format_sod_table(
            results,
            title=f'{len(pairs)} images, pred: {pred_dir}, gt: {args.gt}, '
            f'wF: {wf_note}'))
    return results, evaluator.get_curves()


def main(argv=None):
    """Returns the metrics dict (one --pred) or {folder name: metrics}."""
    args = parse_args(argv)
    names = method_names(args.pred)
    metrics, curves = {}, {}
    for name, pred_dir in zip(names, args.pred):
        metrics[name], curves[name] = evaluate_folder(pred_dir, args)
    results = metrics[names[0]] if len(names) == 1 else metrics
    if args.out_json:
        out_dir = osp.dirname(osp.abspath(args.out_json))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out_json, 'w') as file:
            json.dump(results, file, indent=2)
        print(f'Metrics written to {args.out_json}')
    if args.plot:
        from mmspecgene.visualization import plot_sod_curves
        pr_file = osp.join(args.plot, 'sod_pr_curves.png')
        fm_file = osp.join(args.plot, 'sod_fmeasure_curves.png')
        plot_sod_curves(curves, pr_file, fm_file)
        print(f'PR curves drawn to {pr_file}')
        print(f'F-measure curves drawn to {fm_file}')
    return results


if __name__ == '__main__':
    main()
