"""setup.py for reasoner-kit: reads settings.ini the nbdev-2 way and builds the pybind11 tree core.

Run through the Makefile (`make test` / `make run`), or by hand: `pip install -e ".[dev]"`.
"""
from configparser import ConfigParser
from pathlib import Path
import setuptools
from pybind11.setup_helpers import Pybind11Extension, build_ext

cfg_all = ConfigParser(delimiters=['='])
cfg_all.read('settings.ini')
cfg = cfg_all['DEFAULT']
for k in 'version description keywords author author_email license git_url lib_name'.split():
    assert k in cfg, f"settings.ini is missing `{k}`: add it under [DEFAULT]"

licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
lic = licenses[cfg['license']]
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = cfg.get('requirements', '').split()
dev_requirements = cfg.get('dev_requirements', '').split()
gpu_requirements = cfg.get('gpu_requirements', '').split()
min_python = cfg['min_python']

# The compiled tree core (csrc/): bookkeeping for many search trees at once; see nbs/31_tree.ipynb.
sources = sorted(str(p) for p in Path('csrc').glob('*.cpp'))
ext_modules = [Pybind11Extension('reasoner_kit._ctree', sources, include_dirs=['csrc'],
                                 cxx_std=17, extra_compile_args=['-O3'])] if sources else []

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=Path('README.md').read_text() if Path('README.md').exists() else cfg['description'],
    long_description_content_type='text/markdown',
    license=lic[0],
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title(),
                 'License :: ' + lic[1]] +
                ['Programming Language :: Python :: ' + v for v in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    author=cfg['author'], author_email=cfg['author_email'],
    keywords=cfg['keywords'],
    packages=setuptools.find_packages(include=['reasoner_kit', 'reasoner_kit.*']),
    include_package_data=True,
    install_requires=requirements,
    extras_require={'dev': dev_requirements, 'gpu': gpu_requirements},
    python_requires='>=' + min_python,
    ext_modules=ext_modules,
    cmdclass={'build_ext': build_ext},
    zip_safe=False,
    entry_points={'console_scripts': cfg.get('console_scripts', '').split(),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
