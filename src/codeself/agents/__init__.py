"""Agents: prompt templates, code parsing, generation backends and rollout records.

Flow: `templates.render_prompt(template, task.public_view())` -> a backend's `generate` ->
`parsing.parse_completion` -> the sandbox -> the reward -> `rollout.Rollout`, orchestrated by
`pipeline.produce_rollouts` and `rollout_run.run_rollouts` (scripts/run_rollouts.py).
Submodules are imported on use; this package imports nothing heavy.
"""
