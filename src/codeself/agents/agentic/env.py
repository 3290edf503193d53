"""A Gymnasium-shaped multi-turn coding environment: write → public-test feedback → revise → submit.

    env = CodeRepairEnv(tasks, executor, EnvConfig(max_revisions=1))
    observation, info = env.reset(seed=0, options={"task_id": "mbpp/11"})
    observation, reward, terminated, truncated, info = env.step(reply)   # reply: the model's text
    ...
    record = env.trace(backend="mock", model="mock-reference")          # the episode, hidden tests included

(No dependency on gymnasium: the signatures are its `Env`'s, the spaces are plain strings/dicts.)

Modes (`ENV_MODES`): *solve* starts from the task's chat prompt; *repair* starts from a buggy
program — a mutant of the reference solution screened in the sandbox to fail at least one public
test (`mock.pick_mutant` with `PublicFailureScreen`), shown with its public-test output (CodeArena).
A repair category (`options={"category": ...}` or `EnvConfig.repair_categories`: syntax, logic,
type_error, algorithmic, security) picks another kind of start, with provenance: categories.py.

Each step parses the reply (`parse_for_task`: by the task's language), runs the program against
every test of the task, and keeps two views of the result apart: the model's (`feedback.public_run`: public tests
only) and the analyst's (hidden outcomes, r_t, reward), which only `trace()` returns. The
observation and `info` never carry hidden-test data; the reward necessarily reflects hidden tests.

Episode end: `terminated` when every public test passes and `stop_when_public_pass` is set (the
model would submit; RLEF stops there too) — never for a task with no public test, whose episodes
use every turn and are told that nothing checked their answers; `truncated` when the 1 + `max_revisions` turns are
used. Either way the last program is the submission the hidden tests judge. Rewards: see
rewards.py; each step returns its penalties, the last step adds the episode reward.

Execution results are cached per (task id, sha256 of the program) in `CachedExecutor`, so the
repair start (already run while screening) and identical resubmissions are not executed twice.

Across episodes (practice.py): `curriculum` picks the task of a reset without a task id from the
agent's recent rewards per category (curriculum.py); `memory` appends the best passing answer of
a train-split practice episode of the same task or category to the first message (memory.py).
Both are off by default; a server's sessions share one `Practice`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from codeself.agents.agentic import feedback as fb
from codeself.agents.agentic.cache import CachedExecutor  # noqa: F401 - imported from here by its users
from codeself.agents.agentic.memory import MEMORY_SCOPES
from codeself.agents.agentic.practice import Practice, practice_json
from codeself.agents.agentic.rewards import (EpisodeRewardConfig, step_penalty, terminal_reward, tests_passed_fraction,
                                             turn_components)
from codeself.agents.agentic.trace import (EpisodeTrace, TurnTrace, code_diff, episode_id, normalise_code)
from codeself.agents.backends.base import derive_seed
from codeself.agents.agentic import categories
from codeself.agents.backends.mock import MutantScreen
from codeself.parsing_languages import parse_for_task
from codeself.agents.templates import PromptTemplate, canonical_json, load_template, render_prompt
from codeself.datasets.task import Task

ENV_MODES = ("solve", "repair")
RESET_OPTIONS = ("task_id", "mode", "sample_index", "category")


@dataclass(frozen=True)
class EnvConfig:
    """The field metadata is the help of the flags of scripts/run_agentic.py and serve_env.py
    (`codeself.cli.add_episode_flags`)."""

    mode: str = field(default="solve", metadata={  # options={"mode": ...} of reset() overrides it per episode
        "help": "default mode of reset(): solve (from the prompt) or repair (from a buggy program)"})
    max_revisions: int = field(default=1, metadata={  # an episode has at most 1 + max_revisions turns
        "help": "model turns after the first (0 = a single attempt)"})
    stop_when_public_pass: bool = field(default=True, metadata={
        "help": "end an episode once every public test passes (turn off to measure regressions of correct programs)",
        "default_help": "on"})
    feedback: str = field(default="tests", metadata={  # feedback.FEEDBACK_MODES
        "help": "tests (public-test report), generic (CoCoS's fixed 'there might be an error' instruction, no "
                "execution output) or none (the task is asked again)"})
    reward: EpisodeRewardConfig = field(default_factory=EpisodeRewardConfig)
    template: str = field(default="chat_default", metadata={"help": "chat prompt template (configs/prompts)"})
    repair_categories: tuple[str, ...] = field(default=(), metadata={  # categories.py; options={"category"} overrides
        "flag": "--repair-category", "help": "repair mode: draw each start's category from these (repeatable: "
        f"{', '.join(categories.REPAIR_CATEGORIES)})", "default_help": "none: the older logic-mutation start"})
    algorithmic_weight: float = field(default=1.0, metadata={  # categories.efficiency_gain
        "help": "algorithmic repair episodes: weight of the measured_efficiency gain (submission - start) added to R"})
    curriculum: str | None = field(default=None, metadata={  # curriculum.py; reset(options={"task_id"}) overrides
        "help": "pick each reset's task from recent rewards per category: a rule (rolling, balanced: their defaults) "
                "or a curriculum TOML (configs/curriculum)", "default_help": "off: uniform draw"})
    memory: str = field(default="off", metadata={"choices": MEMORY_SCOPES,  # memory.py
        "help": "show the best passing answer of a train-split practice episode of the same task or family in "
                "later episodes' first message"})
    max_failures_shown: int = 3  # failing public tests described per feedback message
    value_chars: int = 300  # each test source / value / message cut to this (head + tail kept)
    max_feedback_chars: int = 2000  # the whole feedback message cut to this

    def __post_init__(self) -> None:
        if self.mode not in ENV_MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {', '.join(ENV_MODES)}")
        if isinstance(self.max_revisions, bool) or not isinstance(self.max_revisions, int) or self.max_revisions < 0:
            raise ValueError(f"--max-revisions must be an integer >= 0 (0 = a single attempt), got {self.max_revisions!r}")
        if self.feedback not in fb.FEEDBACK_MODES:
            raise ValueError(f"unknown feedback {self.feedback!r}; choose one of {', '.join(fb.FEEDBACK_MODES)}")
        if categories.check_categories(self.repair_categories) and self.mode != "repair":
            raise ValueError("--repair-category needs --mode repair (the default mode of reset() here is solve)")
        if not self.algorithmic_weight >= 0:
            raise ValueError(f"algorithmic_weight must be >= 0, got {self.algorithmic_weight}")
        for name in ("max_failures_shown", "value_chars", "max_feedback_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.memory not in MEMORY_SCOPES:
            raise ValueError(f"unknown memory {self.memory!r}; choose one of {', '.join(MEMORY_SCOPES)}")
        if self.curriculum is not None:
            from codeself.agents.agentic.curriculum import load_curriculum
            load_curriculum(self.curriculum)  # a bad rule or TOML fails here, in one line

    @property
    def max_turns(self) -> int:
        return 1 + self.max_revisions

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "max_revisions": self.max_revisions,
                "stop_when_public_pass": self.stop_when_public_pass, "feedback": self.feedback,
                "reward": self.reward.to_json(), "template": self.template,
                "max_failures_shown": self.max_failures_shown, "value_chars": self.value_chars,
                "max_feedback_chars": self.max_feedback_chars,
                **practice_json(self.curriculum, self.memory),  # absent when off: earlier hashes unchanged
                **({"repair_categories": list(self.repair_categories), "algorithmic_weight": self.algorithmic_weight}
                   if self.repair_categories else {})}

    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.to_json()).encode("utf-8")).hexdigest()


class PublicFailureScreen(MutantScreen):
    """Keeps only mutants that fail a public test (or fail before any test runs): a repair
    episode must start from a program whose public-test output shows something wrong."""

    def failed(self, result: Any) -> bool:
        return result.phase in ("syntax", "import") or result.public["passed"] < result.public["total"]


@dataclass
class _Judged:
    """One program's execution, split into what the model may see and what it may not."""

    code: str | None
    parse_status: str
    result: Any  # ExecutionResult, None for no code
    public: fb.PublicRun
    progress: float


@dataclass
class _Episode:
    task: Task
    mode: str
    seed: int
    sample_index: int
    first_message: str
    messages: list[dict[str, str]]
    shown: list[dict[str, str]]  # messages added since the last reply
    r0: float = 0.0
    start: dict[str, Any] | None = None
    first_category: str | None = None
    category: str = ""  # practice.py: the repair category of the start, else the task's
    recalled: Any = None  # the memory entry shown, if any
    repair: Any = None  # categories.RepairStart of a repair episode
    gain: dict[str, float] | None = None  # an algorithmic episode's efficiency gain
    previous_code: str | None = None
    turns: list[TurnTrace] = field(default_factory=list)
    last: _Judged | None = None
    done: bool = False
    stop_reason: str = ""
    terminal: float = 0.0
    components: list[dict[str, float]] = field(default_factory=list)  # each turn's component terms c_t


class CodeRepairEnv:
    """See the module docstring. Not thread-safe: one episode at a time per instance."""

    def __init__(self, tasks: Mapping[str, Task] | Iterable[Task], executor: Any, config: EnvConfig | None = None,
                 *, template: PromptTemplate | None = None, practice: Practice | None = None) -> None:
        # a dict is shared, not copied: a server makes one environment per session over one task set
        self.tasks = tasks if isinstance(tasks, dict) else (
            dict(tasks) if isinstance(tasks, Mapping) else {task.task_id: task for task in tasks})
        if not self.tasks:
            raise ValueError("the environment needs at least one task")
        self.config = config or EnvConfig()
        self.template = template or load_template(self.config.template)
        if self.template.kind != "chat":
            raise ValueError(f"template {self.template.name!r} is a {self.template.kind} template; "
                             "multi-turn episodes need a chat template (e.g. chat_default)")
        self.executor = executor if isinstance(executor, CachedExecutor) else CachedExecutor(executor)
        self.screen = PublicFailureScreen(self.executor)
        self.practice = practice or Practice.of(self.tasks, self.config)
        self._hash = self.config.hash()  # the episode ids the memory records (trace()'s default)
        self._rng = random.Random()
        self._episode: _Episode | None = None

    # -- Gymnasium API --------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None) -> tuple[dict, dict]:
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise ValueError(f"unknown reset option(s) {', '.join(unknown)}; allowed: {', '.join(RESET_OPTIONS)}")
        if seed is not None:
            self._rng = random.Random(seed)
        else:
            seed = self._rng.randrange(2 ** 31)
        sample_index = options.get("sample_index", 0)
        if isinstance(sample_index, bool) or not isinstance(sample_index, int) or sample_index < 0:
            raise ValueError(f"sample_index must be an integer >= 0, got {sample_index!r}")
        task, mode, repair = categories.select(self, options, seed, sample_index)
        prompt = render_prompt(self.template, task.public_view())
        first_message = prompt[-1]["content"]
        episode = _Episode(task, mode, seed, sample_index, first_message, list(prompt), list(prompt))
        if mode == "repair":
            self._start_repair(episode, repair)
        episode.category, episode.recalled, note = self.practice.begin(task, episode.start)
        if note is not None:  # memory: appended to the first user message (and to what `none` asks again)
            episode.first_message = episode.messages[-1]["content"] + "\n\n" + note
            episode.messages[-1] = {"role": "user", "content": episode.first_message}
            episode.shown = list(episode.messages)
        self._episode = episode
        info = {"task_id": task.task_id, "mode": mode, "seed": seed, "sample_index": sample_index,
                "max_turns": self.config.max_turns}
        if episode.repair is not None:  # category and provenance (categories.py); never the reference or tests
            info["repair"] = episode.repair.info()
        return self._observation(), {**info, "category": episode.category} if self.practice.active else info

    def step(self, action: str) -> tuple[dict, float, bool, bool, dict]:
        episode = self._episode
        if episode is None:
            raise ValueError("call reset() before step()")
        if episode.done:
            raise ValueError("the episode is over; call reset() to start another")
        if not isinstance(action, str):
            raise ValueError(f"an action is the model's reply as a string, got {type(action).__name__}")
        judged = self._judge(episode.task, action)
        turn = len(episode.turns) + 1
        identical = judged.code is not None and normalise_code(judged.code) == normalise_code(episode.previous_code)
        # no public tests: nothing to stop on (a vacuous pass would end every such episode after turn 1)
        terminated = self.config.stop_when_public_pass and judged.public.tested and judged.public.all_passed
        truncated = not terminated and turn >= self.config.max_turns
        reward = step_penalty(self.config.reward, identical=identical, no_code=judged.code is None)
        terms = turn_components(self.config.reward, episode.task, judged.code, judged.parse_status, judged.result,
                                turn=turn, previous_code=episode.previous_code)
        if terms:  # a reward_config is set: its weighted components join the step's reward
            reward += sum(terms.values())
            episode.components.append(terms)
        episode.last, episode.done = judged, terminated or truncated
        message = self._feedback(episode, judged)
        if episode.first_category is None:
            episode.first_category = fb.error_category(_summary(judged.result), judged.parse_status)
        if episode.done:
            episode.stop_reason = "public_pass" if terminated else "max_turns"
            progress = [t.progress for t in episode.turns] + [judged.progress]
            episode.terminal = self._terminal(episode, progress)
            reward += episode.terminal
        episode.turns.append(self._turn_trace(episode, turn, action, judged, identical, message, reward))
        episode.messages.append({"role": "assistant", "content": action})
        episode.shown = [] if episode.done else [{"role": "user", "content": message}]
        episode.messages += episode.shown
        episode.previous_code = judged.code if judged.code is not None else episode.previous_code
        if episode.done:
            self._finish(episode)
        info = {"turn": turn, "parse_status": judged.parse_status, "identical_to_previous": identical,
                "public": {"passed": judged.public.passed, "total": judged.public.total}, "feedback": message}
        if episode.done:
            info["stop_reason"] = episode.stop_reason
        return self._observation(), reward, terminated, truncated, info

    # -- episode pieces -------------------------------------------------------------------------
    def _choose_task(self, task_id: Any, seed: int) -> Task:
        if task_id is None:
            if (chosen := self.practice.choose_task(seed)) is not None:
                return self.tasks[chosen]
            return self.tasks[random.Random(derive_seed(seed, "env-task")).choice(sorted(self.tasks))]
        if not isinstance(task_id, str) or task_id not in self.tasks:
            raise ValueError(f"unknown task_id {task_id!r} ({len(self.tasks)} task(s) loaded, "
                             f"e.g. {next(iter(self.tasks))!r})")
        return self.tasks[task_id]

    def _start_repair(self, episode: _Episode, repair: categories.RepairStart | None) -> None:
        task = episode.task  # without a category: the older logic start (categories.repair_start)
        mutation = episode.repair = repair or categories.repair_start(task, None, episode.seed, episode.sample_index,
                                                                      self.executor, self.screen)
        judged = self._judge(task, "```python\n" + mutation.code + "```\n")
        message = fb.REPLY_WITH_PROGRAM if self.config.feedback == "none" else self._feedback(episode, judged)
        content = fb.repair_message(episode.first_message, mutation.code, message)
        episode.first_message = content  # what feedback `none` asks again
        episode.messages[-1] = {"role": "user", "content": content}
        episode.shown = list(episode.messages)
        episode.r0, episode.previous_code = judged.progress, judged.code
        episode.first_category = fb.error_category(_summary(judged.result), judged.parse_status)
        episode.start = {"code": judged.code, "mutation": mutation.description, "feedback": message,
                         "public_tests": _public_list(judged.public), "execution": _summary(judged.result),
                         "progress": judged.progress, "category": mutation.category, "provenance": mutation.provenance}

    def _terminal(self, episode: _Episode, progress: list[float]) -> float:
        """R (rewards.py), plus an algorithmic episode's efficiency gain (categories.efficiency_gain)."""
        value = terminal_reward(self.config.reward, progress, episode.r0, _hidden_passed(episode.last))
        if episode.repair is not None and episode.repair.category == "algorithmic":
            start = self.executor.run(episode.task, episode.start["code"])  # cached since screening
            episode.gain = categories.efficiency_gain(self.config.algorithmic_weight, episode.task, start,
                                                      episode.last.code, episode.last.result)
            value += episode.gain["term"] if episode.gain is not None else 0.0
        return value

    def _judge(self, task: Task, reply: str) -> _Judged:
        parsed = parse_for_task(task, reply)  # by the task's language (Python: parse_completion)
        result = self.executor.run(task, parsed.code) if parsed.code is not None else None
        progress = tests_passed_fraction(result.public, result.hidden) if result is not None else 0.0
        return _Judged(parsed.code, parsed.parse_status, result, fb.public_run(result, len(task.public_tests)),
                       progress)

    def _feedback(self, episode: _Episode, judged: _Judged) -> str:
        config = self.config
        return fb.render_feedback(config.feedback, episode.task.public_view(), judged.public, episode.first_message,
                                  max_failures=config.max_failures_shown, value_chars=config.value_chars,
                                  max_chars=config.max_feedback_chars)

    def _turn_trace(self, episode: _Episode, turn: int, action: str, judged: _Judged, identical: bool,
                    message: str, reward: float) -> TurnTrace:
        hidden = [{"index": t.index, "passed": t.passed, "error_type": t.error_type}
                  for t in (judged.result.tests if judged.result is not None else ()) if t.kind == "hidden"]
        timing = {"execution_s": round(judged.result.duration_s, 6)} if judged.result is not None else {}
        return TurnTrace(turn=turn, shown=episode.shown, completion=action, code=judged.code,
                         parse_status=judged.parse_status, diff=code_diff(episode.previous_code, judged.code),
                         identical_to_previous=identical, public_tests=_public_list(judged.public),
                         feedback=message, execution=_summary(judged.result), hidden_tests=hidden,
                         progress=judged.progress, reward=reward, timing=timing)

    def _observation(self) -> dict[str, Any]:
        episode = self._episode
        assert episode is not None
        last = episode.last
        public = None
        if self.config.feedback == "tests" and last is not None:
            public = {"passed": last.public.passed, "total": last.public.total}
        return {"task_id": episode.task.task_id, "mode": episode.mode, "turn": len(episode.turns),
                "max_turns": self.config.max_turns, "messages": [dict(m) for m in episode.messages],
                "feedback": self._pending_feedback(), "code": episode.previous_code, "public": public,
                "done": episode.done}

    def _pending_feedback(self) -> str | None:
        """The feedback the model is about to answer (None in solve mode before the first turn)."""
        episode = self._episode
        if episode.done:
            return None
        if episode.turns:
            return episode.shown[-1]["content"]
        return episode.start["feedback"] if episode.start is not None else None

    # -- beyond Gymnasium -----------------------------------------------------------------------
    def end(self) -> float:
        """End the episode now (the client stops early, e.g. the model stopped calling its tool):
        the last program is the submission; returns the episode reward R added to the last turn."""
        episode = self._episode
        if episode is None or not episode.turns:
            raise ValueError("end() needs an episode with at least one turn")
        if episode.done:
            return 0.0
        progress = [t.progress for t in episode.turns]
        episode.terminal = self._terminal(episode, progress)
        last = episode.turns[-1]
        episode.turns[-1] = dataclasses.replace(last, reward=last.reward + episode.terminal)
        episode.done, episode.stop_reason, episode.shown = True, "client", []
        self._finish(episode)
        return episode.terminal

    def _finish(self, episode: _Episode) -> None:
        """Tell the practice (stats, curriculum, memory) how the finished episode went."""
        result = episode.last.result
        self.practice.finish(episode.task, episode.start, episode_return=sum(t.reward for t in episode.turns),
                             passed=bool(result is not None and result.passed), code=episode.last.code,
                             efficiency=getattr(result, "efficiency", None), shown=episode.recalled,
                             episode_id=episode_id(episode.task.task_id, episode.sample_index, self._hash,
                                                   episode.seed), turn=len(episode.turns))

    @property
    def done(self) -> bool:
        return self._episode is not None and self._episode.done

    def state(self) -> dict[str, Any]:
        """Model-safe episode state (no hidden-test data): for GET /state."""
        if self._episode is None:
            return {"task_id": None, "turn": 0, "done": False, "rewards": []}
        episode = self._episode
        rewards = [turn.reward for turn in episode.turns]
        return {"task_id": episode.task.task_id, "mode": episode.mode, "seed": episode.seed,
                "sample_index": episode.sample_index, "turn": len(episode.turns), "max_turns": self.config.max_turns,
                "done": episode.done, "stop_reason": episode.stop_reason or None, "rewards": rewards,
                "return": sum(rewards)}

    def trace(self, *, backend: str = "external", model: str = "unknown", config_hash: str | None = None,
              metadata: dict[str, Any] | None = None) -> EpisodeTrace:
        """The finished episode as a trace record (hidden-test outcomes included: analysis only)."""
        episode = self._episode
        if episode is None or not episode.done:
            raise ValueError("trace() needs a finished episode")
        last = episode.last
        hash_ = config_hash or self.config.hash()
        final = {"turn": len(episode.turns), "passed": bool(last.result is not None and last.result.passed),
                 "public_total": last.public.total,
                 "public_passed": last.public.all_passed if last.public.tested else None,
                 "hidden_passed": _hidden_passed(last),
                 "status": _summary(last.result)["status"],
                 "error_category": fb.error_category(_summary(last.result), last.parse_status)}
        penalties = sum(t.reward for t in episode.turns) - episode.terminal
        reward = {"name": self.config.reward.name, "return": sum(t.reward for t in episode.turns),
                  "terminal": episode.terminal, "penalties": penalties,
                  "progress": [t.progress for t in episode.turns], "r0": episode.r0}
        if self.config.reward.reward_config is not None:
            reward["components"] = [dict(terms) for terms in episode.components]
        if episode.gain is not None:
            reward["efficiency_gain"] = dict(episode.gain)
        if self.practice.active:
            metadata = {**Practice.trace_metadata(episode.category, episode.recalled), **(metadata or {})}
        return EpisodeTrace(
            episode_id=episode_id(episode.task.task_id, episode.sample_index, hash_, episode.seed),
            task_id=episode.task.task_id, sample_index=episode.sample_index, split=episode.task.split,
            mode=episode.mode, backend=backend, model=model, template=self.template.name, config_hash=hash_,
            seed=episode.seed, env=self.config.to_json(), prompt=_first_prompt(episode), start=episode.start,
            turns=list(episode.turns), turns_used=len(episode.turns), stop_reason=episode.stop_reason, final=final,
            first_error_category=episode.first_category or "no_code", reward=reward, metadata=dict(metadata or {}),
            timing={})

    def close(self) -> None:
        """Nothing to release: the executor belongs to the caller."""


def _first_prompt(episode: _Episode) -> list[dict[str, str]]:
    return [dict(m) for m in episode.turns[0].shown] if episode.turns else []


def _summary(result: Any) -> dict[str, Any]:
    """The execution summary kept in traces (status and counts include hidden tests)."""
    if result is None:
        return {"status": "failed", "phase": "syntax", "error_type": None, "error_category": "no_code",
                "public": None, "hidden": None, "isolation": None, "executed": False}
    record = {"status": result.status, "phase": result.phase, "error_type": result.error_type,
              "public": dict(result.public), "hidden": dict(result.hidden), "isolation": result.isolation,
              "executed": True}
    # the execution result's own category (None when passed: codeself.execution.errors), else derived
    derived = None if result.passed else fb.error_category(record)
    record["error_category"] = getattr(result, "error_category", derived)
    if getattr(result, "efficiency", None) is not None:  # ExecutionConfig.efficiency, passing answers only
        record["efficiency"] = result.efficiency
    return record


def _hidden_passed(judged: _Judged) -> bool:
    result = judged.result
    return result is not None and result.phase == "done" and result.hidden["passed"] == result.hidden["total"]


def _public_list(run: fb.PublicRun) -> list[dict[str, Any]]:
    return [{"index": o.index, "passed": o.passed, "error_type": o.error_type, "message": o.message}
            for o in run.outcomes]
