"""Only the optional C half of the points' text layout (src/gradcli/_layout.c,
with its table src/gradcli/_pow10.h): everything else is in pyproject.toml.
``optional=True``: without a C compiler the build goes on and NumPy does the
same work (pointsio._layout)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("gradcli._layout", ["src/gradcli/_layout.c"], optional=True,
                             include_dirs=["src/gradcli"], depends=["src/gradcli/_pow10.h"],
                             extra_compile_args=["-O2"])])
