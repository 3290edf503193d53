"""Reporting: statistics (`stats`), SVG charts (`svg`), the final paired comparison
(`compare`) and the reproducibility manifest (`manifest`). Standard library only; import the
submodule you need."""
