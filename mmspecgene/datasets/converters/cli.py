# Copyright (c) mmspecgene contributors. All rights reserved.
"""Command-line options shared by every converter in ``tools/dataset_converters/``."""
import argparse
from typing import Sequence

from .files import LINK_MODES
from .report import ConversionReport


def add_common_args(parser: argparse.ArgumentParser, link_choices: Sequence[str] = LINK_MODES) -> None:
    """Add ``--link --skip-size-check --strict --report-file --max-examples``."""
    link_help = 'how files reach the output layout: copy or hard link (never a symlink)'
    if 'none' in link_choices:
        link_help += '; none: write no image, only the list relative to the raw trees'
    parser.add_argument('--link', choices=list(link_choices), default='copy', help=link_help)
    parser.add_argument(
        '--skip-size-check',
        action='store_true',
        help='check existence only, do not compare the H×W of the partners (faster)')
    parser.add_argument('--strict', action='store_true', help='any skipped sample or out-of-range label is an error')
    parser.add_argument('--report-file', default=None, help='also write the full report (every skip) as json')
    parser.add_argument('--max-examples', type=int, default=10, help='examples printed per skip reason')


def add_reencode_arg(parser: argparse.ArgumentParser, flag: str = '--reencode') -> None:
    """Add the flag that re-encodes images whose raw format differs from the layout's suffix."""
    parser.add_argument(
        flag,
        action='store_true',
        help='re-encode images whose raw format differs from the documented suffix (otherwise they are skipped '
        'and reported)')


def make_report(name: str, args: argparse.Namespace) -> ConversionReport:
    """The report of converter ``name`` configured by :func:`add_common_args`' options."""
    return ConversionReport(name, strict=args.strict, max_examples=args.max_examples)
