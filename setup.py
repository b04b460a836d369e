"""The lint's hot paths in C, built where a compiler is; the package works without them.

Everything else about the package is in pyproject.toml.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pytest_finetune._native",
            sources=[
                "native/native.c",
                "native/departures.c",
                "native/chats.c",
                "native/runs.c",
                "native/lines.c",
            ],
            include_dirs=["native"],
            depends=["native/native.h", "native/xxhash.h"],
            # A machine with no C compiler installs the pure-Python pass (same findings).
            optional=True,
        )
    ]
)
