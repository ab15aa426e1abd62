# Copyright (c) mmspecgene contributors. All rights reserved.
"""What a conversion tells its user: the report (written, skipped with reasons, dropped labels, out-of-range label
values), the error for ``--strict`` violations, and a progress bar."""
import json
import os
import os.path as osp
from collections import Counter, OrderedDict
from typing import Iterator, List, Optional, Sequence, TypeVar

# Skip reasons printed by the report.
MISSING_PARTNER = 'missing partner'
SIZE_MISMATCH = 'size mismatch'
UNREADABLE = 'unreadable'
BAD_LABEL = 'bad label'
SUFFIX_MISMATCH = 'suffix mismatch'
MISSING_ANNOTATION = 'missing annotation'
BROKEN_LINK = 'broken link'

T = TypeVar('T')


class ConversionError(RuntimeError):
    """Raised for a ``--strict`` violation, an input with nothing to convert or an output that cannot be written."""


def dump_json(obj, path: str, indent: Optional[int] = None) -> None:
    """Write ``obj`` as json, creating the parent folder."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=indent)


class ConversionReport:
    """Counts written samples, skipped samples (with reasons), dropped labels and out-of-range label values.

    Args:
        name (str): converter name printed in front of every line.
        strict (bool): raise :class:`ConversionError` on the first skip or out-of-range label value.
        max_examples (int): examples printed per skip reason (all are kept for :meth:`dump`).
    """

    def __init__(self, name: str, strict: bool = False, max_examples: int = 10):
        self.name = name
        self.strict = strict
        self.max_examples = max_examples
        self.written = Counter()  # split -> samples written
        self.counts = OrderedDict()  # free counters, e.g. 'train boxes'
        self.skipped = OrderedDict()  # reason -> [(key, detail)]
        self.dropped_labels = Counter()  # label name -> boxes dropped
        self.out_of_range = []  # [(key, [values])]
        self.notes = []

    # ----------------------------------------------------------------- recording
    def add_written(self, split: str, num: int = 1) -> None:
        self.written[split] += num

    def count(self, name: str, num: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + num

    def skip(self, key: str, reason: str, detail: str = '') -> None:
        """Record a skipped sample; with ``strict`` raise instead."""
        if self.strict:
            raise ConversionError(f'[{self.name}] --strict: {key}: {reason}: {detail}')
        self.skipped.setdefault(reason, []).append((key, detail))

    def drop_label(self, label: str, num: int = 1) -> None:
        """Record boxes of a label that is deliberately not converted (e.g. FLIR ``dog``)."""
        self.dropped_labels[label] += num

    def add_out_of_range(self, key: str, values: Sequence[int], allowed: str) -> None:
        """Record label values outside the allowed set; with ``strict`` raise instead."""
        values = [int(v) for v in values]
        if self.strict:
            raise ConversionError(f'[{self.name}] --strict: {key}: label values {values} out of range '
                                  f'(allowed {allowed})')
        self.out_of_range.append((key, values))

    def note(self, msg: str) -> None:
        self.notes.append(msg)

    @property
    def num_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    # ------------------------------------------------------------------- output
    def _examples(self, items: list, indent: str) -> List[str]:
        out = [f'{indent}{line}' for line in items[:self.max_examples]]
        if len(items) > self.max_examples:
            out.append(f'{indent}... {len(items) - self.max_examples} more')
        return out

    def lines(self) -> List[str]:
        """Return the report as text lines, each starting with ``[name]``."""
        tag = f'[{self.name}]'
        written = ', '.join(f'{split} {num}' for split, num in self.written.items()) or 'nothing'
        out = [f'{tag} written: {written} (total {sum(self.written.values())})']
        out += [f'{tag} {name}: {num}' for name, num in self.counts.items()]
        out.append(f'{tag} skipped: {self.num_skipped}')
        for reason, items in self.skipped.items():
            out.append(f'{tag}   {reason}: {len(items)}')
            out += self._examples([f'{key}: {detail}' for key, detail in items], f'{tag}     ')
        dropped = ', '.join(f'{label} {num}' for label, num in sorted(self.dropped_labels.items()))
        out.append(f'{tag} dropped labels: {dropped or "none"}')
        out.append(f'{tag} files with out-of-range label values: {len(self.out_of_range)}')
        out += self._examples([f'{key}: {values}' for key, values in self.out_of_range], f'{tag}   ')
        out += [f'{tag} note: {msg}' for msg in self.notes]
        return out

    def print(self) -> None:
        print('\n'.join(self.lines()), flush=True)

    def dump(self, path: str) -> None:
        """Write the full report (every skipped key) as json."""
        dump_json(
            dict(
                name=self.name,
                written=dict(self.written),
                counts=dict(self.counts),
                skipped={reason: [dict(key=k, detail=d) for k, d in items]
                         for reason, items in self.skipped.items()},
                dropped_labels=dict(self.dropped_labels),
                out_of_range=[dict(key=k, values=v) for k, v in self.out_of_range],
                notes=self.notes), path, indent=1)

    def finish(self, report_file: Optional[str] = None) -> None:
        """Print the report and optionally dump it."""
        self.print()
        if report_file:
            self.dump(report_file)


def iter_progress(items: Sequence[T]) -> Iterator[T]:
    """Yield ``items`` while advancing an mmengine ProgressBar."""
    from mmengine.utils import ProgressBar
    items = list(items)
    if not items:
        return
    bar = ProgressBar(len(items))
    for item in items:
        yield item
        bar.update()
    print(flush=True)
