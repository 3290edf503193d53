"""Batched multi-turn generation: turn k of every open episode in one backend call gives the
episodes one-at-a-time decoding gives (same requests, same per-sample seeds)."""

import support

import hashlib
import importlib.util
import json
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from codeself.agents.agentic import agents
from codeself.agents.agentic.agents import ModelAgent
from codeself.agents.agentic.env import CachedExecutor, EnvConfig
from codeself.agents.agentic.loop import produce_episodes
from codeself.agents.agentic.trace import read_traces
from codeself.agents.backends.base import Generation
from codeself.agents.backends.mock import DEFAULT_FAILURE_WEIGHTS, MockBackend, MockConfig
from codeself.datasets.task import load_tasks
from codeself.execution.engine import ExecutionConfig, Executor

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
NO_LOOPS = {name: weight for name, weight in DEFAULT_FAILURE_WEIGHTS.items() if name != "infinite_loop"}
HAVE_TORCH = all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers"))


class PromptStampedMock(MockBackend):
    """The mock's seeded completion plus a comment naming the chat it answered (so a reply handed
    to the wrong episode of a batch would show); records every call's requests."""

    def __init__(self) -> None:
        super().__init__(MockConfig(failure_weights=NO_LOOPS))  # no timeouts to wait for
        self.calls: list[list] = []

    def generate(self, requests):
        self.calls.append(list(requests))
        out = []
        for request, samples in zip(requests, super().generate(requests)):
            digest = hashlib.sha256(json.dumps(request.prompt).encode()).hexdigest()[:12]
            out.append([Generation(g.completion + f"\n# answers {digest}\n", metadata=g.metadata) for g in samples])
        return out


def play(agent, tasks, executor, config, samples=3, threads=2):
    jobs = [(task, index) for task in tasks for index in range(samples)]
    return [item.deterministic_json() for item in
            produce_episodes(jobs, tasks, executor, agent, config, 7, "hash", threads)]


class BatchedEpisodesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1))
        cls.cached = CachedExecutor(cls.executor)
        cls.tasks = list(load_tasks(str(EXAMPLES)))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def test_batched_equals_one_at_a_time_and_decodes_turn_by_turn(self):
        for mode in ("solve", "repair"):
            with self.subTest(mode=mode):
                config = EnvConfig(mode=mode, max_revisions=2)  # stops on a public pass: episodes leave early
                single = ModelAgent(PromptStampedMock(), batched=False)
                batched = ModelAgent(PromptStampedMock(), batched=True)
                batched.episodes_per_batch = 5  # 24 episodes: batches of 5, the last of 4
                one_by_one = play(single, self.tasks, self.cached, config)
                together = play(batched, self.tasks, self.cached, config)
                self.assertEqual(len(together), 24)
                self.assertEqual(together, one_by_one)
                self.assertEqual({len(call) for call in single.backend.calls}, {1})
                turns = sum(len(record["turns"]) for record in together)
                self.assertEqual(sum(len(call) for call in batched.backend.calls), turns)
                self.assertLess(len(batched.backend.calls), len(single.backend.calls) / 2)
                self.assertEqual(len(batched.backend.calls[0]), 5)
                for call in batched.backend.calls:  # one turn per call: every request has that turn's seed
                    self.assertEqual(len({request.seed for request in call}), 1)
                self.assertTrue(any(len(record["turns"]) == 1 for record in together), "no episode left early")
                self.assertTrue(any(len(record["turns"]) == 3 for record in together), "no episode used every turn")

    def test_requests_are_those_of_act(self):
        agent = ModelAgent(PromptStampedMock(), batched=True)
        task = self.tasks[0]
        observation = {"turn": 1, "messages": [{"role": "user", "content": "hi"}]}
        single = agent.act(task, observation, sample_index=2, seed=3)
        [request] = agent.backend.calls[-1]
        batch = agent.act_batch([(task, observation, 2), (self.tasks[1], observation, 0)], seed=3)
        self.assertEqual(agent.backend.calls[-1][0], request)
        self.assertEqual(batch[0], single)

    def test_run_agentic_batches_hf_turns_unless_told_not_to(self):
        """run_agentic.py with `hf` (a stand-in named hf: no torch here) batches by default,
        `--no-batch-turns` decodes one call per turn, and the traces are the same."""
        class LocalModel(PromptStampedMock):
            name = "hf"

        script = support.load_script("run_agentic")
        made = []
        with tempfile.TemporaryDirectory() as tmp, mock.patch.object(
                agents, "create_backend", lambda name, options: made.append(LocalModel()) or made[-1]):
            traces = {}
            for name, extra in (("batched", ()), ("single", ("--no-batch-turns",))):
                out = Path(tmp, f"{name}.jsonl")
                code, _, err = support.run_in_process(script, "--tasks", EXAMPLES, "--backend", "hf", "--workers", "1",
                                                      "--quiet", "--samples-per-task", "2", "--limit", "4",
                                                      "--trace-output", out, *extra)
                self.assertEqual(code, 0, err)
                traces[name] = [record.deterministic_json() for record in read_traces(out)]
                sidecar = json.loads(Path(f"{out}.config.json").read_text(encoding="utf-8"))
                self.assertEqual(sidecar["batch_turns"], name == "batched")
        self.assertEqual(traces["batched"], traces["single"])
        batched, single = ([len(call) for call in backend.calls] for backend in made)
        self.assertEqual(sum(batched), sum(single))  # every turn decoded once either way
        self.assertEqual((batched[0], set(single)), (8, {1}))  # 4 tasks x 2 samples at turn 0

    def test_first_turns_reused_are_the_decoded_ones(self):
        """A feedback ablation's `none` run replaying the `tests` run's first turns writes the traces
        decoding again would (but for the reuse mark), and sends no first-turn request."""
        from codeself.agents.agentic.agents import FirstTurnReuse, check_first_turn_source

        config = EnvConfig(max_revisions=1, stop_when_public_pass=False, feedback="tests")
        ablation = EnvConfig(max_revisions=1, stop_when_public_pass=False, feedback="none")
        with tempfile.TemporaryDirectory() as tmp:
            first = Path(tmp, "tests.jsonl")
            records = [item.to_json() for item in produce_episodes(
                [(task, i) for task in self.tasks for i in range(2)], self.tasks, self.cached,
                ModelAgent(PromptStampedMock(), batched=True), config, 7, "hash", 2)]
            first.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            decoded = ModelAgent(PromptStampedMock(), batched=True)
            reused = FirstTurnReuse(ModelAgent(PromptStampedMock(), batched=True), str(first))
            again = play(decoded, self.tasks, self.cached, ablation, samples=2)
            replayed = play(reused, self.tasks, self.cached, ablation, samples=2)
            for record in replayed:
                self.assertTrue(record["turns"][0]["metadata"].pop("first_turn_reused"))
                self.assertNotIn("first_turn_reused", record["turns"][1]["metadata"])
            self.assertEqual(replayed, again)
            self.assertNotEqual([r["turns"][1]["shown"] for r in records], [r["turns"][1]["shown"] for r in again])
            sent = [request for call in reused.agent.backend.calls for request in call]
            self.assertEqual(len(sent), len(replayed))  # second turns only
            self.assertTrue(all(request.prompt[-1]["role"] == "user" and len(request.prompt) > 1 for request in sent))
            sidecar = {"agent": decoded.describe(), "seed": 7, "env": config.to_json()}
            check_first_turn_source(str(first), sidecar, decoded, 7, ablation)
            for bad, message in (({**sidecar, "seed": 8}, "another seed"),
                                 ({**sidecar, "agent": {"model": "other"}}, "another agent"),
                                 ({**sidecar, "env": {**config.to_json(), "template": "chat_format_example"}},
                                  "another template")):
                with self.subTest(message=message), self.assertRaisesRegex(ValueError, message):
                    check_first_turn_source(str(first), bad, decoded, 7, ablation)
            with self.assertRaisesRegex(ValueError, "solve mode only"):
                check_first_turn_source(str(first), sidecar, decoded, 7, EnvConfig(mode="repair"))


@unittest.skipUnless(HAVE_TORCH, "opt-in: needs the training extra (torch, transformers); "
                                 "run with /work/venv-train/bin/python")
class BatchedRealModelTest(unittest.TestCase):
    """SmolLM2-135M (outputs/models/smollm2-135m-instruct): tiny episodes, a few tokens per turn."""

    def test_batched_episodes_equal_one_at_a_time(self):
        from codeself.agents.backends.hf import HFBackend
        from codeself.agents.templates import load_template
        from codeself.training.model_prep import DEFAULT_MODEL_DIR, is_complete

        if not is_complete(DEFAULT_MODEL_DIR):
            self.skipTest(f"no model at {DEFAULT_MODEL_DIR}: run scripts/prepare_model.py")
        backend = HFBackend(str(DEFAULT_MODEL_DIR), temperature=0.8, top_p=0.95, max_tokens=12)
        stop = load_template("chat_default").stop
        config = EnvConfig(max_revisions=1, stop_when_public_pass=False)
        tasks = list(load_tasks(str(EXAMPLES)))[:2]
        with Executor(ExecutionConfig(workers=1)) as executor:
            cached = CachedExecutor(executor)
            one_by_one = play(ModelAgent(backend, stop, batched=False), tasks, cached, config, samples=2, threads=1)
            together = play(ModelAgent(backend, stop, batched=True), tasks, cached, config, samples=2)
        self.assertEqual([len(record["turns"]) for record in together], [2] * 4)
        self.assertEqual(together, one_by_one)
        completions = [turn["completion"] for record in together for turn in record["turns"]]
        self.assertGreater(len(set(completions)), 1, "every sample the same: seeds are not per sample")


if __name__ == "__main__":
    unittest.main()
