# Copyright (c) mmspecgene contributors. All rights reserved.
"""The one local checkpoint loader of mmspecgene: an allow-list of pickle globals, full unpickling only on request.

torch >= 2.6 loads with ``weights_only=True`` by default, which refuses the ``HistoryBuffer`` and numpy objects
that every mmengine runner checkpoint holds (message hub, RNG state), so mmengine 0.10's own loader cannot resume,
``load_from`` or ``init_cfg=Pretrained`` the checkpoints it writes. :func:`load_checkpoint_file` keeps torch's
weights-only unpickler and admits exactly the globals of :func:`allowed_checkpoint_globals` on top of torch's own
(tensors, storages, ``OrderedDict``). A file whose pickle needs anything else is refused with
:class:`UnsafeCheckpointError`, naming the file and the global, before that global is ever called.

Full pickle loading (which runs whatever code the file names) takes an explicit opt-in: ``trust_code=True``, the
environment variable ``MMSPECGENE_TRUST_CHECKPOINT_CODE=1`` or the tools' ``--trust-checkpoint-code`` flag.

:func:`register_local_checkpoint_loader` makes this loader mmengine's local-path scheme through
``CheckpointLoader.register_scheme``; ``mmspecgene.pretrain|det|seg`` call it on import.
"""
import argparse
import functools
import inspect
import os
import os.path as osp
import pickle
import re
from typing import Callable, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV = 'MMSPECGENE_TRUST_CHECKPOINT_CODE'
TRUST_FLAG = '--trust-checkpoint-code'

# objects on which a pickled ``getattr`` may look up a public method (mmengine pickles HistoryBuffer's
# statistics methods as ``getattr(HistoryBuffer, 'mean')``)
_GETATTR_TARGETS = (HistoryBuffer, )


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint's pickle needs a global outside the allow-list (it could run code when unpickled)."""


def _allowlisted_getattr(obj, name: str):
    """``getattr`` for pickles: only public functions defined on an allow-listed class."""
    if (not any(obj is target for target in _GETATTR_TARGETS) or not isinstance(name, str) or name.startswith('_')
            or not inspect.isfunction(vars(obj).get(name))):
        owner = getattr(obj, '__qualname__', type(obj).__name__)
        raise pickle.UnpicklingError(f'builtins.getattr({owner}, {name!r})')
    return getattr(obj, name)


@functools.lru_cache(maxsize=1)
def allowed_checkpoint_globals() -> Tuple[Union[Callable, Tuple[Callable, str]], ...]:
    """Globals admitted on top of torch's weights-only defaults (tensors, storages, ``OrderedDict``, ``_codecs``).

    These are what an mmengine runner checkpoint pickles: ``HistoryBuffer`` (message hub), numpy arrays, scalars
    and dtypes (under both the numpy 2 ``numpy._core`` and the numpy 1 ``numpy.core`` names), and ``getattr``,
    resolved by :func:`_allowlisted_getattr` only.
    """
    multiarray = (np._core if hasattr(np, '_core') else np.core).multiarray
    dtype_classes = {type(np.dtype(code)) for code in np.typecodes['All'] if code not in 'OV'}
    allowed = [HistoryBuffer, np.ndarray, np.dtype, *sorted(dtype_classes, key=lambda c: c.__name__),
               (_allowlisted_getattr, 'builtins.getattr')]
    for package in ('numpy._core', 'numpy.core'):
        allowed += [(multiarray._reconstruct, f'{package}.multiarray._reconstruct'),
                    (multiarray.scalar, f'{package}.multiarray.scalar')]
    return tuple(allowed)


def trust_checkpoint_code_from_env() -> bool:
    """Whether ``MMSPECGENE_TRUST_CHECKPOINT_CODE`` asks for full pickle loading (``1``, ``true``, ``yes``)."""
    return os.environ.get(TRUST_ENV, '').strip().lower() in ('1', 'true', 'yes')


def _offending_globals(filename: str, error: Exception) -> List[str]:
    """The globals of ``filename`` outside the allow-list (static scan, nothing is called), else torch's reason."""
    try:
        with torch.serialization.safe_globals(list(allowed_checkpoint_globals())):
            found = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(filename))
    except (ValueError, RuntimeError, pickle.UnpicklingError):  # legacy (non-zip) file, unreadable record
        found = []
    if found:
        return found
    message = str(error)
    match = (re.search(r'GLOBAL (\S+)', message) or re.search(r"but got <class '([^']+)'>", message)
             or re.search(r'WeightsUnpickler error:\s*([^\n]+)', message))
    return [match.group(1)] if match else [message.splitlines()[0] if message else repr(error)]


def _refusal_reason(names: List[str]) -> str:
    """Why the globals are refused: numpy object/structured arrays get their own wording."""
    if any(name.endswith(('ObjectDType', 'VoidDType')) for name in names):
        return ('numpy arrays of dtype object or of a structured (void) dtype, which may hold arbitrary pickled '
                'Python objects (plain numeric arrays load)')
    return 'not on the allow-list of checkpoint globals'


def load_checkpoint_file(filename: Union[str, os.PathLike],
                         map_location='cpu',
                         trust_code: Optional[bool] = None) -> Mapping:
    """Load a local checkpoint dict, unpickling only allow-listed globals.

    Args:
        filename (str | PathLike): A local file (``~`` is expanded).
        map_location: As for ``torch.load``.
        trust_code (bool, optional): Unpickle everything (``weights_only=False``): the file may run code.
            ``None`` reads ``MMSPECGENE_TRUST_CHECKPOINT_CODE``.

    Returns:
        dict: The checkpoint.

    Raises:
        FileNotFoundError: No such file.
        UnsafeCheckpointError: The pickle needs a global outside :func:`allowed_checkpoint_globals`.
        TypeError: The file holds no dict.
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename!r} (only local files are supported)')
    if trust_code is None:
        trust_code = trust_checkpoint_code_from_env()
    if trust_code:
        print_log(f'loading {filename} with full unpickling ({TRUST_FLAG} / {TRUST_ENV}=1): its pickle may run '
                  'code', logger='current', level=30)
        ckpt = torch.load(filename, map_location=map_location, weights_only=False)
    else:
        try:
            with torch.serialization.safe_globals(list(allowed_checkpoint_globals())):
                ckpt = torch.load(filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as err:
            names = _offending_globals(filename, err)
            raise UnsafeCheckpointError(
                f'refusing to load checkpoint {filename}: its pickle needs {", ".join(names)}: '
                f'{_refusal_reason(names)} (the allow-list holds tensors, OrderedDict, numeric numpy arrays and '
                'scalars, mmengine HistoryBuffer and its public methods); unpickling it could run arbitrary code. '
                'If you trust where '
                f'the file comes from, load it with {TRUST_FLAG} or {TRUST_ENV}=1 (see docs/en/faq.md).') from None
    if not isinstance(ckpt, Mapping):
        raise TypeError(f'{filename!r}: expected a dict checkpoint, got {type(ckpt).__name__}')
    return ckpt


class _TrustCheckpointCode(argparse.Action):

    def __call__(self, parser, namespace, values, option_string=None):
        os.environ[TRUST_ENV] = '1'  # also reaches dataloader workers and launched subprocesses
        setattr(namespace, self.dest, True)


def add_trust_checkpoint_code_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-checkpoint-code`` to a tool's parser; given, it sets ``MMSPECGENE_TRUST_CHECKPOINT_CODE=1``."""
    parser.add_argument(
        TRUST_FLAG,
        action=_TrustCheckpointCode,
        nargs=0,
        default=False,
        help='unpickle checkpoints fully, even when their pickle names code outside the allow-list of tensors, '
        'numpy arrays and mmengine HistoryBuffer: such a file can run any code; use it only for files you trust')


def load_from_local_allowlisted(filename: str, map_location=None) -> Mapping:
    """mmengine ``CheckpointLoader`` scheme for local paths (logged as the ``local_allowlisted`` backend)."""
    return load_checkpoint_file(filename, map_location=map_location)


def register_local_checkpoint_loader() -> None:
    """Make :func:`load_from_local_allowlisted` mmengine's loader for local paths (idempotent).

    mmengine's ``''`` scheme is its local loader; replacing a registered prefix takes ``force=True`` by design.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_allowlisted, force=True)
