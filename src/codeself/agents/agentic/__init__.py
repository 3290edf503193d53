"""Multi-turn self-debugging: generate → public-test feedback → revise → submit, judged by hidden tests.

| module            | job                                                                     |
|-------------------|-------------------------------------------------------------------------|
| `env`             | `CodeRepairEnv`: the Gymnasium-shaped environment (solve / repair modes) |
| `feedback`        | what the model is told: public tests only                               |
| `rewards`         | episode rewards (CoCoS progressive, RLEF terminal, penalties)           |
| `trace`           | the per-episode trace record and its model-visible fields               |
| `agents`, `mock_reviser` | who plays the model: mock reviser, replay, openai/hf backends    |
| `loop`            | `run_agentic`: episodes through the environment, traces out             |
| `report`          | the strategy report (Markdown + SVG) from traces                        |
| `viewer`          | Markdown and self-contained HTML views of traces                        |
| `server`          | the environment over HTTP (OpenEnv-shaped JSON)                         |
| `trl_env`         | the adapter for TRL's `GRPOTrainer(environment_factory=...)`            |

Nothing here imports an optional package at import time.
"""
