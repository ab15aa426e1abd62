# Copyright (c) mmspecgene contributors. All rights reserved.
"""Registries of the ``mmspecgene`` scope, for the task no OpenMMLab host has (RGBT feature matching).

One child of each mmengine root registry: names registered here are found with ``default_scope='mmspecgene'``,
and everything of the root (runners, loops, hooks, ``LoadRGBTImagePair``, optimisers) stays reachable from this
scope. mmengine imports this module when it builds from the ``mmspecgene`` scope; the ``locations`` import
:mod:`mmspecgene.match`, which registers the matching modules. Pretraining, detection and segmentation keep
registering into their hosts (mmpretrain, mmdet, mmseg).
"""
from mmengine import registry as _root
from mmengine.registry import Registry

_LOCATIONS = ['mmspecgene.match']


def _child(root: Registry) -> Registry:
    return Registry(root.name, parent=root, scope='mmspecgene', locations=_LOCATIONS)


DATASETS = _child(_root.DATASETS)
DATA_SAMPLERS = _child(_root.DATA_SAMPLERS)
EVALUATOR = _child(_root.EVALUATOR)
FUNCTIONS = _child(_root.FUNCTIONS)
HOOKS = _child(_root.HOOKS)
INFERENCERS = _child(_root.INFERENCERS)
LOG_PROCESSORS = _child(_root.LOG_PROCESSORS)
LOOPS = _child(_root.LOOPS)
METRICS = _child(_root.METRICS)
MODELS = _child(_root.MODELS)
MODEL_WRAPPERS = _child(_root.MODEL_WRAPPERS)
OPTIMIZERS = _child(_root.OPTIMIZERS)
OPTIM_WRAPPERS = _child(_root.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(_root.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(_root.PARAM_SCHEDULERS)
RUNNERS = _child(_root.RUNNERS)
RUNNER_CONSTRUCTORS = _child(_root.RUNNER_CONSTRUCTORS)
STRATEGIES = _child(_root.STRATEGIES)
TASK_UTILS = _child(_root.TASK_UTILS)
TRANSFORMS = _child(_root.TRANSFORMS)
VISBACKENDS = _child(_root.VISBACKENDS)
VISUALIZERS = _child(_root.VISUALIZERS)
WEIGHT_INITIALIZERS = _child(_root.WEIGHT_INITIALIZERS)
