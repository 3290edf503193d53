"""Tasks: the canonical record, loaders for foreign formats, splits and validation."""

from codeself.datasets.task import SCHEMA_VERSION, SPLITS, PublicTask, Task, load_tasks

__all__ = ["SCHEMA_VERSION", "SPLITS", "PublicTask", "Task", "load_tasks"]
