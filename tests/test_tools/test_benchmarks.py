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


def test_benchmark_pretrain_pipeline_prints_ratio():
    out = run_script(['tools/analysis_tools/benchmark_pretrain.py', '--skip-train', '--num-images', '2',
                      '--image-hw', '64', '80', '--pipeline-repeats', '1', '--img-size', '32'], REPO)
    assert re.search(r'cost ratio pair / single\s*:\s*[\d.]+x', out)
    assert 'RGBTRandomResizedCrop' in out and 'LoadRGBTImagePair' in out
