# Copyright (c) mmspecgene contributors. All rights reserved.
"""The benchmark CLIs run end to end at tiny sizes and print their ratios (no assertion on wall time)."""
import os.path as osp
import re

from mmspecgene.testing.scripts import run_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_benchmark_masking_prints_kept_counts_and_ratio():
    out = run_script(['tools/analysis_tools/benchmark_masking.py', '--batch-size', '4', '--dim', '32', '--iters',
                      '1', '--warmup', '0', '--breakdown'], REPO)
    # both methods keep 19 tokens per modality with disjoint visible sets
    assert re.search(r'released port: kept rgb/thermal per image = 19/19, overlap = 0', out)
    assert re.search(r'mmspecgene clean, eager CMSS: kept rgb/thermal per image = 19/19, overlap = 0', out)
    assert re.search(r'mmspecgene clean, eager CMSS\s*:\s*[\d.]+ ms/iter\s+speed-up\s+[\d.]+x', out)
    assert 'compiled' not in out and 'breakdown' in out


def test_benchmark_pretrain_pipeline_prints_ratios():
    out = run_script(['tools/analysis_tools/benchmark_pretrain.py', '--skip-train', '--num-images', '2',
                      '--image-hw', '64', '80', '--pipeline-repeats', '1', '--img-size', '32'], REPO)
    assert re.search(r'speed-up crop-aware / today\s*:\s*[\d.]+x', out)
    assert re.search(r'cost pair / stock image\s*:\s*[\d.]+x', out)
    assert re.search(r'cores per GPU at 1902/s\s*: crop-aware [\d.]+, today [\d.]+', out)
    # the stock baseline is mmpretrain's shipped MAE pipeline: cv2 load, then RandomResizedCrop (Pillow)
    assert 'LoadImageFromFile' in out and 'RandomResizedCrop' in out
    assert 'LoadRGBTRandomResizedCrop' in out and 'LoadRGBTImagePair' in out and '80x64 camera JPEG' in out


def test_benchmark_pretrain_loader_mode_on_a_data_dir(synthetic_root):
    out = run_script(['tools/analysis_tools/benchmark_pretrain.py', '--skip-train', '--loader', '--data',
                      f'{synthetic_root}/pretrain', '--workers', '1', '--loader-batch', '4', '--loader-batches', '2',
                      '--loader-warmup', '1', '--loader-rounds', '1', '--img-size', '32'], REPO)
    assert re.search(r'whole DataLoader: --data .*pretrain, 1 workers \(persistent\)', out)
    assert re.search(r'crop-aware pair \(shipped\)\s*:\s*[\d.]+ pairs/s', out)
