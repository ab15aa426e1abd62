#!/usr/bin/env python
# Copyright (c) mmspecgene contributors. All rights reserved.
import os
import os.path as osp
import platform
import shutil
import sys
import warnings

from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version():
    scope = {}
    with open(osp.join('mmspecgene', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname):
    """Read a requirements file, skipping comments and blank lines."""
    if not osp.exists(fname):
        return []
    reqs = []
    with open(fname) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def add_mim_extension():
    """Expose configs/, tools/ and model-index.yml to ``mim`` in ``mmspecgene/.mim``.

    Symlinks for editable installs (``develop`` or pip's PEP 660 ``editable_wheel``), copies for wheels.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink' if platform.system() != 'Windows' else 'copy'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv or 'install' in sys.argv:
        mode = 'copy'
    else:
        return
    filenames = ['tools', 'configs', 'demo', 'model-index.yml']
    repo_path = osp.dirname(osp.abspath(__file__))
    mim_path = osp.join(repo_path, 'mmspecgene', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for filename in filenames:
        src = osp.join(repo_path, filename)
        tar = osp.join(mim_path, filename)
        if not osp.exists(src):
            continue
        if osp.isfile(tar) or osp.islink(tar):
            os.remove(tar)
        elif osp.isdir(tar):
            shutil.rmtree(tar)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, osp.dirname(tar)), tar)
        else:
            if osp.isfile(src):
                shutil.copyfile(src, tar)
            else:
                shutil.copytree(src, tar)
            if not osp.exists(tar):
                warnings.warn(f'Cannot copy file {src}.', stacklevel=2)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmspecgene',
        version=get_version(),
        description='M-SpecGene: RGB-Thermal foundation model as an OpenMMLab plugin',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='RGBT, multispectral, thermal, masked image modeling, OpenMMLab',
        packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests')),
        include_package_data=True,
        package_data={'mmspecgene': ['.mim/**/*', '.mim/*']},
        python_requires='>=3.8',
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'mim': parse_requirements('requirements/mminstall.txt'),
            'tests': parse_requirements('requirements/tests.txt'),
        },
        zip_safe=False)
