# Copyright (c) mmspecgene contributors. All rights reserved.
"""Plugin rules: no host import from `import mmspecgene`; task packages register into their own host."""
import subprocess
import sys

import pytest

HOSTS = ('mmdet', 'mmseg', 'mmpretrain')


def _modules_after(code: str) -> set:
    out = subprocess.run([sys.executable, '-c', code + '\nimport sys\nprint(" ".join(sorted(sys.modules)))'],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_mmspecgene_imports_no_host():
    loaded = _modules_after('import mmspecgene')
    assert not loaded & set(HOSTS + ('mmengine', 'mmcv', 'torch'))
    for pkg in ('mmspecgene.models', 'mmspecgene.datasets', 'mmspecgene.evaluation', 'mmspecgene.engine',
                'mmspecgene.visualization', 'mmspecgene.apis'):
        loaded = _modules_after(f'import {pkg}')
        assert not loaded & set(HOSTS), (pkg, loaded & set(HOSTS))


@pytest.mark.parametrize('task,host,others', [
    ('pretrain', 'mmpretrain', ('mmdet', 'mmseg')),
    ('det', 'mmdet', ('mmseg', 'mmpretrain')),
    ('seg', 'mmseg', ('mmdet', 'mmpretrain')),
    ('match', 'mmengine', ('mmdet', 'mmseg', 'mmpretrain')),
])
def test_task_package_needs_only_its_host(task, host, others):
    """With the other hosts made unimportable, the task package still imports and registers."""
    block = '; '.join(f'sys.modules[{name!r}] = None' for name in others)
    loaded = _modules_after(f'import sys; {block}\nimport mmspecgene.{task}')
    assert host in loaded and f'mmspecgene.{task}' in loaded


EXPECTED = dict(
    det=dict(MODELS=['RGBTViTDet', 'RGBTSimpleFPN', 'RGBTDetDataPreprocessor', 'SpecGeneLN2d'],
             DATASETS=['RGBTCocoDataset', 'KAISTDataset', 'LLVIPDataset', 'FLIRAlignedDataset',
                       'RGBTSyntheticDetDataset'],
             METRICS=['KAISTMissRateMetric', 'RGBTCocoMetric', 'CocoMetric'],
             HOOKS=['RGBTDetVisualizationHook'],
             OPTIM_WRAPPER_CONSTRUCTORS=['RGBTLayerDecayOptimWrapperConstructor'],
             TRANSFORMS=['LoadRGBTImagePair', 'RGBTPad', 'RGBOnly', 'ThermalOnly', 'PairedPhotoMetricDistortion']),
    seg=dict(MODELS=['RGBTViTSeg', 'RGBTSegDataPreProcessor', 'Feature2Pyramid', 'UPerHead'],
             DATASETS=['SemanticRTDataset', 'MVSegDataset', 'FMBDataset', 'VT5000Dataset', 'VT1000Dataset',
                       'VT821Dataset', 'VIRGBT1500Dataset', 'RGBTSyntheticSegDataset', 'RGBTSyntheticSODDataset'],
             METRICS=['RGBTIoUMetric', 'SODMetric'],
             HOOKS=['RGBTSegVisualizationHook'],
             OPTIM_WRAPPER_CONSTRUCTORS=['RGBTLayerDecayOptimWrapperConstructor'],
             TRANSFORMS=['LoadRGBTImagePair', 'RGBTPad', 'PairedPhotoMetricDistortion']),
    pretrain=dict(MODELS=['SpecGeneMAE', 'RGBTMAEViT', 'RGBTMAEDecoder', 'RGBTMAEPlainDecoder', 'RGBTMAEHead',
                          'GMMCMSSMasking', 'ReleasedGMMCMSSMasking', 'OverlappingGMMCMSSMasking', 'RandomRGBTMasking',
                          'RGBTSelfSupDataPreprocessor'],
                  DATASETS=['RGBTPairDataset', 'RGBTTarPairDataset'],
                  HOOKS=['RGBTMaskingHook'],
                  OPTIM_WRAPPER_CONSTRUCTORS=['RGBTLayerDecayOptimWrapperConstructor'],
                  TRANSFORMS=['LoadRGBTImagePair', 'RGBTRandomResizedCrop', 'LoadRGBTRandomResizedCrop',
                              'SelectModality']),
    match=dict(MODELS=['RGBTMatcher', 'RGBTViTMatch', 'RGBTMatchDataPreprocessor'],
               DATASETS=['RGBTMatchDataset', 'RGBTExternalMatchDataset'],
               METRICS=['RGBTMatchingMetric'],
               OPTIM_WRAPPER_CONSTRUCTORS=['RGBTLayerDecayOptimWrapperConstructor'],
               LOOPS=['IterBasedTrainLoop'],
               TRANSFORMS=['LoadRGBTMatchPair', 'RGBTHomographyWarp', 'RGBTRandomHomographyWarp',
                           'PackRGBTMatchInputs', 'LoadRGBTImagePair']),
)


@pytest.mark.parametrize('task', sorted(EXPECTED))
def test_names_resolve_in_host_scope(task):
    import importlib

    from mmengine.registry import DefaultScope

    from mmspecgene.utils import TASK_SCOPES, register_all_modules
    register_all_modules(task, init_default_scope=False)
    registry_mod = importlib.import_module(f'{TASK_SCOPES[task]}.registry')
    with DefaultScope.overwrite_default_scope(TASK_SCOPES[task]):
        for registry_name, names in EXPECTED[task].items():
            registry = getattr(registry_mod, registry_name)
            for name in names:
                assert registry.get(name) is not None, f'{name} not found from {TASK_SCOPES[task]}.{registry_name}'


def test_register_into_refuses_collisions():
    from mmengine.registry import Registry

    from mmspecgene.utils.registration import register_into
    registry = Registry('tmp')

    class Alpha:
        pass

    register_into(registry, Alpha)
    register_into(registry, Alpha)  # idempotent for the same class
    other = type('Alpha', (), {})
    with pytest.raises(KeyError, match='already registered'):
        register_into(registry, other)
