"""The hardened LLM judge (`codeself.rewards.judge`) as the reward component `llm_judge`.

Off by default: a reward config has it only when it has a `[components.llm_judge]` table, and
at weight 0 it is never asked (`only_when_weighted`). Its settings are `JudgeConfig`'s fields
but `enabled` (weight > 0 is the switch) and `weight` (every component's key, refused above
`MAX_JUDGE_WEIGHT` when the config loads, so tests dominate the reward); `api_key_env = ""`
means no key. It counts only on answers that pass every test (`applies_to = "passing"`; a
failing answer is never sent). Its value is the judge's score in [0, 1]; a **judge failure**
(a reply outside the closed output, a reply cut off, a request that failed or timed out) is
logged by the judge and gives no value, so the term is 0 and the diagnostic `judge_failure`
names the reason: a failure is excluded, never scored as a neutral value. Diagnostics on every
record that reaches it: `llm_judge` (the JudgeOutcome) and `judge_failure` (reason or None).

Why a process-wide judge per settings with a reply cache: the same program of the same task
gets the same reward within a run (the first reply is reused, failures included, so a flaky
reply cannot give one copy a bonus and another none), identical samples cost one request, and
one client bounds the requests in flight (`concurrency`) however many consumers score at once.
A consumer holding a batch (the TRL reward) calls `prefetch_components`, which sends the
batch's passing answers together, `concurrency` at a time; the others score an answer when it
comes (one request per newly seen program).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from codeself.rewards.judge import MAX_JUDGE_WEIGHT, JudgeConfig, JudgeItem, JudgeOutcome, LLMJudge, _api_key
from codeself.rewards.registry import Answer, RewardComponent, Scored, Setting, register_component

NAME = "llm_judge"
NOT_SETTINGS = ("enabled", "weight")  # enabled: weight > 0; weight: every component's own key
CACHE_SIZE = 65536  # replies kept per judge (least recently used dropped first)
# settings whose flag help reads wrong as a TOML key (the flag turns renaming off)
HELP = {"rename_identifiers": "rename the program's own identifiers before the judge sees it (default true)"}
_Key = tuple[str, str | None, bool]


def _settings() -> tuple[Setting, ...]:
    """JudgeConfig's fields as component settings (one source for names, defaults and help)."""
    return tuple(Setting(item.name, "" if item.default is None else item.default,
                         HELP.get(item.name, item.metadata["help"]))
                 for item in dataclasses.fields(JudgeConfig) if item.name not in NOT_SETTINGS)


def judge_config(weight: float, settings: Mapping[str, Any]) -> JudgeConfig:
    """The JudgeConfig of a `[components.llm_judge]` table (validated by JudgeConfig); weight
    above MAX_JUDGE_WEIGHT is refused. JudgeConfig.weight is unused here (the registry applies
    the component's weight), so it is set to the maximum, which every weight allowed is <=."""
    if weight > MAX_JUDGE_WEIGHT:
        raise ValueError(f"'weight' must be <= {MAX_JUDGE_WEIGHT} so that tests dominate the reward, got {weight:g}")
    values = {**settings, "api_key_env": settings.get("api_key_env") or None}
    return JudgeConfig(enabled=weight > 0, weight=MAX_JUDGE_WEIGHT, **values)


def _check(weight: float, settings: Mapping[str, Any]) -> None:
    config = judge_config(weight, settings)
    if config.enabled:
        _api_key(config.api_key_env)  # a named variable that is unset: refused now, not mid-run


class _JudgeRun:
    """One judge client and its reply cache (module docstring); safe to use from many threads:
    a program already sent is waited for, never sent twice."""

    def __init__(self, config: JudgeConfig) -> None:
        self.judge = LLMJudge(config)
        self.lock = threading.Lock()
        self.replies: OrderedDict[_Key, Future] = OrderedDict()

    def outcomes(self, answers: Sequence[Answer]) -> list[JudgeOutcome]:
        keys = [_key(answer) for answer in answers]
        mine: dict[_Key, tuple[Future, JudgeItem]] = {}
        with self.lock:
            for key, answer in zip(keys, answers):
                if key in self.replies:
                    self.replies.move_to_end(key)
                elif key not in mine:
                    mine[key] = (Future(), _item(answer))
                    self.replies[key] = mine[key][0]
            futures = [self.replies[key] for key in keys]
            while len(self.replies) > CACHE_SIZE:
                self.replies.popitem(last=False)
        if mine:
            try:
                outcomes = self.judge.judge_many([item for _, item in mine.values()])
            except BaseException as error:  # not a judge failure (those are outcomes): do not keep it
                with self.lock:
                    for key in mine:
                        self.replies.pop(key, None)
                for future, _ in mine.values():
                    future.set_exception(error)
                raise
            for (future, _), outcome in zip(mine.values(), outcomes):
                future.set_result(outcome)
        return [future.result() for future in futures]


def _key(answer: Answer) -> _Key:
    code = None if answer.code is None else hashlib.sha256(answer.code.encode("utf-8")).hexdigest()
    return answer.task.task_id, code, answer.passed


def _item(answer: Answer) -> JudgeItem:
    task = answer.task
    keep = (task.entry_point,) if task.entry_point else ()
    return JudgeItem(task.task_id, answer.code, task.prompt, keep, answer.passed, task.language)


_RUNS: dict[tuple[tuple[str, Any], ...], _JudgeRun] = {}
_RUNS_LOCK = threading.Lock()


def _run(settings: Mapping[str, Any]) -> _JudgeRun:
    key = tuple(sorted(settings.items()))
    with _RUNS_LOCK:
        if key not in _RUNS:
            _RUNS[key] = _JudgeRun(judge_config(MAX_JUDGE_WEIGHT, settings))
        return _RUNS[key]


def reset_judges() -> None:
    """Close every judge client and forget every cached reply (tests; a new run in one process)."""
    with _RUNS_LOCK:
        runs = list(_RUNS.values())
        _RUNS.clear()
    for run in runs:
        run.judge.close()


def _score(answer: Answer, settings: Mapping[str, Any]) -> Scored:
    outcome = _run(settings).outcomes([answer])[0]
    failure = outcome.reason if outcome.status == "failure" else None
    value = outcome.score if outcome.status == "scored" and answer.passed else None
    return Scored(value, {"llm_judge": outcome.to_json(), "judge_failure": failure})


def _prefetch(answers: Sequence[Answer], settings: Mapping[str, Any]) -> None:
    passing = [answer for answer in answers if answer.passed]
    if passing:
        _run(settings).outcomes(passing)


LLM_JUDGE = register_component(RewardComponent(
    NAME, _score, applies_to="passing", value_range=(0.0, 1.0), settings=_settings(),
    doc=f"passing samples: the hardened LLM judge's score (rating - 1) / 4 in [0, 1]; weight <= "
        f"{MAX_JUDGE_WEIGHT}; a judge failure gives no term (diagnostic judge_failure)",
    check=_check, prefetch=_prefetch, only_when_weighted=True))
