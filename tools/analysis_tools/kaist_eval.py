# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluate KAIST result files (reference ``.txt`` or COCO-results ``.json``) with the MR^-2 protocol.

Example::

    python tools/analysis_tools/kaist_eval.py --ann data/kaist/annotations/kaist_test_eval.json \
        --results MLPD_result.txt MBNet_result.txt --out-json kaist_mr.json --plot work_dirs/kaist_curves

``--plot OUT_DIR`` draws the MR-FPPI curves (log-log, MR^-2 in the legend) of every setup, all result files
overlaid, one panel per subset (all / day / night): ``OUT_DIR/mr_fppi_<setup>.png``.
"""
import argparse
import json
import os
import os.path as osp
import time

from mmspecgene.evaluation.kaist_mr import (
    SUBSETS,
    evaluate_kaist,
    format_miss_rate_table,
    load_detections,
    load_kaist_gt,
    resolve_setups,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='KAIST log-average miss rate (MR^-2) of result files')
    parser.add_argument('--ann', required=True, help='evaluator ground truth json (kaist_test_eval.json format)')
    parser.add_argument('--results', required=True, nargs='+',
                        help='result files: .txt "image_id,x,y,w,h,score" (1-based ids) or COCO results .json')
    parser.add_argument('--out-json', help='write {result stem: {setup: {all, day, night}}} miss rates (%%)')
    parser.add_argument('--setups', nargs='+', default=['reference4', 'extended8'],
                        help='setup lists (reference4, extended8) and/or setup keys (default: both lists)')
    parser.add_argument('--no-faithful-quirks', action='store_true',
                        help="do not reproduce the reference evaluator's quirks "
                        '(docs/en/method.md#evaluation-protocols)')
    parser.add_argument('--plot', metavar='OUT_DIR', help='draw the MR-FPPI curves of every setup into OUT_DIR')
    return parser.parse_args(argv)


def plot_curves(out_dir: str, curves: dict, summary: dict, setup_keys) -> dict:
    """One MR-FPPI figure per setup, every result file overlaid; returns {setup: (png path, drawn data)}."""
    from mmspecgene.visualization import plot_mr_fppi
    figures = {}
    for key in setup_keys:
        out_file = osp.join(out_dir, f'mr_fppi_{key}.png')
        drawn = plot_mr_fppi({stem: curves[stem][key] for stem in curves},
                             {stem: summary[stem][key] for stem in summary}, out_file, title=key, subsets=SUBSETS)
        figures[key] = (out_file, drawn)
        print(f'MR-FPPI curves of {key} drawn to {out_file}')
    return figures


def main(argv=None) -> dict:
    args = parse_args(argv)
    setup_keys = resolve_setups(args.setups)
    stems = [osp.splitext(osp.basename(path))[0] for path in args.results]
    if len(set(stems)) != len(stems):
        raise ValueError(f'result files must have distinct stems (they key the output json), got {stems}')
    gt = load_kaist_gt(args.ann)
    faithful_quirks = not args.no_faithful_quirks
    summary, curves = {}, {}
    for stem, path in zip(stems, args.results):
        start = time.perf_counter()
        evaluation = evaluate_kaist(gt, load_detections(path, gt), setups=setup_keys,
                                    faithful_quirks=faithful_quirks, return_curves=bool(args.plot))
        elapsed = time.perf_counter() - start
        curves[stem] = evaluation.curves
        summary[stem] = {key: {subset: evaluation.miss_rates[key][subset] for subset in SUBSETS}
                         for key in setup_keys}
        print(f'\n{path}: MR^-2 (%), faithful_quirks={faithful_quirks}, '
              f'evaluated in {elapsed:.3f} s (loading included)')
        print(format_miss_rate_table(summary[stem]))
    if args.out_json:
        out_dir = osp.dirname(osp.abspath(args.out_json))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out_json, 'w') as f:
            json.dump(summary, f, indent=2)
        print(f'\nmiss rates written to {args.out_json}')
    figures = plot_curves(args.plot, curves, summary, setup_keys) if args.plot else {}
    return dict(miss_rates=summary, figures=figures)


if __name__ == '__main__':
    main()
