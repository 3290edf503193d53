"""CodeSelf: execution-feedback reinforcement learning on Python coding tasks.

The package is standard-library only. Optional heavy dependencies (the `training` extra)
are imported lazily by the code paths that need them; see `codeself.optional`.
"""

__version__ = "0.1.0"
