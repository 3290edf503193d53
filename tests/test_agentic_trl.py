"""The TRL routes of the agentic environment: the environment_factory adapter (trl_env, trl_chat)
and the rollout_func route (trl_rollout), each exercised without TRL the way TRL 1.16 calls it;
then, opt-in, a real GRPOTrainer on SmolLM2-135M (skipped without the training extra or the
prepared model). Run the opt-in part with
`/work/venv-train/bin/python -m unittest tests.test_agentic_trl -v`."""

import support

import importlib.util
import inspect
import json
import os
import time
import typing
import unittest

from codeself.agents.agentic.env import CodeRepairEnv, EnvConfig
from codeself.agents.agentic.rewards import EpisodeRewardConfig
from codeself.agents.agentic.trl_chat import TOOL_CHAT_TEMPLATE
from codeself.agents.agentic.trl_env import EPISODE_OVER, AgenticEnvFactory, CodeSelfToolEnv, agentic_episode_return
from codeself.agents.agentic.trl_rollout import EpisodeRollout
from codeself.agents.templates import load_template
from codeself.datasets.task import load_tasks
from codeself.execution.engine import ExecutionConfig, Executor
from codeself.training.trl_trainer import dataset_rows

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
TASKS = {task.task_id: task for task in load_tasks(EXAMPLES)}
TEMPLATE = load_template("chat_default")
WRONG = "def digit_sum(n):\n    return 0\n"
RIGHT = "def digit_sum(n):\n    return sum(int(d) for d in str(n))\n"
MEAN_WRONG = "```python\ndef running_mean(values):\n    return values\n```"
MEAN_RIGHT = "```python\n" + TASKS["example/running_mean"].reference_solution + "```"
HAVE_TRL = importlib.util.find_spec("trl") is not None
TRL_REASON = ("opt-in: needs the training extra (pip install 'codeself[training]'); run with "
              "/work/venv-train/bin/python -m unittest tests.test_agentic_trl")


def row(task_id: str, **extra) -> dict:
    return {**dataset_rows([TASKS[task_id]], TEMPLATE)[0], **extra}


def trl_rewards(reward_funcs, environments, completions, **columns) -> list[float]:
    """What GRPOTrainer 1.16 sums per rollout: every reward function's value (weight 1), plus the
    environment's own `get_reward` when its class defines one (GRPOTrainer.__init__ adds it)."""
    funcs = list(reward_funcs)
    env_type = type(environments[0])
    if "get_reward" in dict(inspect.getmembers(env_type, predicate=inspect.isfunction)):
        funcs.append(lambda environments, **kwargs: [e.get_reward() for e in environments])
    columns = {**columns, "trainer_state": None, "log_extra": None, "log_metric": None}
    per_func = [func(prompts=[None] * len(completions), completions=completions, completion_ids=[[1]] * len(completions),
                     environments=environments, **columns) for func in funcs]
    return [sum(values) for values in zip(*per_func)]


class AdapterBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def factory(self, seed=0, group_size=1, **config) -> AgenticEnvFactory:
        return AgenticEnvFactory(TASKS, EnvConfig(**config), executor=self.executor, seed=seed, group_size=group_size)


class TRLAdapterTest(AdapterBase):
    def test_tool_signature_is_what_trl_reads(self):
        hints = typing.get_type_hints(CodeSelfToolEnv.submit_code)
        self.assertEqual(hints, {"code": str, "return": str})
        doc = CodeSelfToolEnv.submit_code.__doc__
        self.assertIn("Args:\n            code:", doc)
        self.assertIn("Returns:", doc)
        # TRL lists the class's functions: all public ones but reset and get_reward become tools, and a
        # get_reward would be a second reward next to agentic_episode_return
        functions = [name for name, _ in inspect.getmembers(CodeSelfToolEnv, predicate=inspect.isfunction)]
        self.assertEqual([name for name in functions if not name.startswith("_")], ["reset", "submit_code"])

    def test_tool_schema_with_transformers_where_installed(self):
        try:
            from transformers.utils import get_json_schema
        except ImportError:
            self.skipTest("transformers is not installed: the tool schema TRL builds from it is not checked")
        schema = get_json_schema(self.factory()().submit_code)
        self.assertEqual(schema["function"]["name"], "submit_code")
        self.assertEqual(schema["function"]["parameters"]["required"], ["code"])
        self.assertEqual(schema["function"]["parameters"]["properties"]["code"]["type"], "string")

    def test_episode_return_is_counted_once(self):
        factory = self.factory(max_revisions=1)
        env = factory()
        self.assertIsNone(env.reset(**row("example/digit_sum")))
        self.assertTrue(env.submit_code(RIGHT).endswith(EPISODE_OVER))
        completion = [{"role": "assistant", "content": "", "tool_calls": [{"type": "function"}]},
                      {"role": "tool", "name": "submit_code", "content": "..."},
                      {"role": "assistant", "content": "Done."}]
        self.assertEqual(env.env.trace().reward["return"], 1.0)
        self.assertEqual(trl_rewards([agentic_episode_return], [env], [completion]), [1.0])  # was 2.0

    def test_episodes_through_the_tool_and_the_reward_function(self):
        factory = self.factory(max_revisions=2)
        envs = [factory(), factory(), factory(), factory()]
        for env in envs:
            self.assertIsNone(env.reset(**row("example/digit_sum")))
        self.assertIn("Failed public test 1", envs[0].submit_code(WRONG))
        self.assertTrue(envs[0].submit_code(RIGHT).endswith(EPISODE_OVER))  # public pass ends it
        self.assertEqual(envs[0].submit_code(RIGHT), EPISODE_OVER)
        envs[1].submit_code(WRONG)  # one wrong call, then the model stops: ended by the reward function
        rewards = trl_rewards([agentic_episode_return], envs, ["", "", f"```python\n{RIGHT}```", "no code"])
        # env 0: r = [0.25, 1] -> 0.5 * 0.25 + 0.75 = 0.875; env 1: ended after r1 = 0.25 -> 0.25;
        # env 2: never called the tool, its final reply is the submission: r1 = 1 -> 1.0; env 3: no code
        self.assertEqual(rewards, [0.875, 0.25, 1.0, 0.0])
        self.assertEqual(envs[1].env.trace().stop_reason, "client")
        self.assertEqual(envs[3].env.trace().turns[0].parse_status, "no_code")
        with self.assertRaisesRegex(ValueError, "environments="):
            agentic_episode_return(completions=["x"])
        with self.assertRaisesRegex(ValueError, "use one route"):
            agentic_episode_return(environments=envs, episode_return=[1.0] * 4)

    def test_repair_start_joined_as_the_loop_joins_it(self):
        env = self.factory(mode="repair", reward=EpisodeRewardConfig("rlef"))()
        data = row("example/gcd_of_list", seed=2)
        shown = env.reset(**data)
        prompt = data["prompt"][:-1] + [{**data["prompt"][-1], "content": data["prompt"][-1]["content"] + shown}]
        loop_env = CodeRepairEnv(TASKS, self.executor, env.factory.config)  # what run_agentic.py shows
        observation, _ = loop_env.reset(seed=2, options={"task_id": "example/gcd_of_list"})
        self.assertEqual(prompt, observation["messages"])
        self.assertTrue(shown.startswith("\n\nThis program was written for the task above:"))
        self.assertIn("Failed public test", shown)

    def test_bad_rows(self):
        env = self.factory()()
        with self.assertRaisesRegex(ValueError, "task_id"):
            env.reset(prompt="no id")
        other = [{"role": "user", "content": "another template's prompt"}]
        with self.assertRaisesRegex(ValueError, "not the environment's task prompt"):
            env.reset(task_id="example/digit_sum", prompt=other)
        with self.assertRaisesRegex(ValueError, "group_size"):
            self.factory(group_size=0)

    def test_resets_without_seed_draw_fresh_reproducible_starts_shared_by_a_group(self):
        def starts(factory, resets):
            envs = [factory() for _ in range(4)]  # pool positions 0..3: groups {0, 1} and {2, 3}
            return [[(env.reset(**row("example/gcd_of_list")), env.env.state()["seed"])[::-1] for env in envs]
                    for _ in range(resets)]

        seen = starts(self.factory(mode="repair", group_size=2), 3)
        for batch in seen:
            self.assertEqual(batch[0], batch[1])  # one group, one start
            self.assertEqual(batch[2], batch[3])
            self.assertNotEqual(batch[0][0], batch[2][0])
        seeds = [batch[0][0] for batch in seen]
        self.assertEqual(len(set(seeds)), 3, "each reset draws a fresh seed")
        programs = {batch[i][1] for batch in seen for i in (0, 2)}
        self.assertGreater(len(programs), 1, "not always the same starting program")
        self.assertEqual(starts(self.factory(mode="repair", group_size=2), 3), seen)  # same seed, same run
        self.assertNotEqual([b[0][0] for b in starts(self.factory(seed=1, mode="repair", group_size=2), 1)],
                            seeds[:1])
        env = self.factory(mode="repair")()
        env.reset(**row("example/gcd_of_list", seed=7))
        self.assertEqual(env.env.state()["seed"], 7)  # a seed column wins

    @unittest.skipUnless(HAVE_TRL, "trl is not installed, so nothing can import it")
    def test_trl_is_not_imported(self):
        """In a fresh interpreter: this module's own RealTRLTest imports TRL where it is installed."""
        import subprocess
        import sys

        code = ("import sys, codeself.agents.agentic.trl_env, codeself.agents.agentic.trl_rollout, "
                "codeself.agents.agentic.trl_chat; print(sorted({'trl', 'torch', 'transformers'} & set(sys.modules)))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(support.REPO_ROOT / "src")})
        self.assertEqual((done.returncode, done.stdout.strip()), (0, "[]"), done.stderr)


class ChatTemplateTest(unittest.TestCase):
    def test_template_renders_plain_chats_as_smollm2_and_tools_in_chatml(self):
        try:
            import jinja2  # noqa: F401
        except ImportError:
            self.skipTest("jinja2 is not installed (it comes with the training extra)")
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        environment.filters["tojson"] = lambda value: json.dumps(value, ensure_ascii=False)  # as transformers does
        template = environment.from_string(TOOL_CHAT_TEMPLATE)
        chat = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
        self.assertEqual(template.render(messages=chat, add_generation_prompt=True),
                         "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
        call = {"type": "function", "function": {"name": "submit_code", "arguments": {"code": "x = 1"}}}
        chat += [{"role": "assistant", "content": "", "tool_calls": [call]},
                 {"role": "tool", "name": "submit_code", "content": "All 1 public test(s) passed."}]
        text = template.render(messages=chat, tools=[{"name": "submit_code"}], add_generation_prompt=False)
        self.assertIn('<tools>\n{"name": "submit_code"}\n</tools>', text)
        self.assertIn('<|im_start|>assistant\n<tool_call>\n{"name": "submit_code", "arguments": {"code": "x = 1"}}\n'
                      '</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nAll 1 public test(s) passed.\n'
                      '</tool_response><|im_end|>\n', text)


class ChatMLTokenizer:
    """A character-level stand-in for SmolLM2's tokenizer and chat template (1 = <|im_start|>, 2 = <|im_end|>)."""

    eos_token_id = 2
    SPECIAL = {"<|im_start|>": 1, "<|im_end|>": 2}

    def encode(self, text: str) -> list[int]:
        ids, i = [], 0
        while i < len(text):
            for marker, token in self.SPECIAL.items():
                if text.startswith(marker, i):
                    ids.append(token)
                    i += len(marker)
                    break
            else:
                ids.append(ord(text[i]) + 10)
                i += 1
        return ids

    def decode(self, ids, skip_special_tokens=False) -> str:
        names = {token: marker for marker, token in self.SPECIAL.items()}
        return "".join(("" if skip_special_tokens else names[t]) if t in names else chr(t - 10) for t in ids)

    def render(self, messages, add_generation_prompt=False) -> str:
        text = "" if messages[0]["role"] == "system" else "<|im_start|>system\nYou are SmolLM<|im_end|>\n"
        text += "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")

    def apply_chat_template(self, messages, add_generation_prompt=False, tokenize=True, return_dict=False):
        return self.encode(self.render(messages, add_generation_prompt))


class ScriptedTrainer:
    """What EpisodeRollout reads of a GRPOTrainer; each generation call answers with the next script line
    (one reply per open episode, in batch order; a reply ending in "…" is cut at the token cap: no EOS)."""

    def __init__(self, group: int, script: list[list[str]]) -> None:
        self.processing_class = ChatMLTokenizer()
        self.num_generations = self.num_generations_eval = group
        self.model = type("Model", (), {"training": True})()
        self.eos_token_ids = [2]
        self.script, self.inputs = list(script), []

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations=1):
        replies = self.script.pop(0)
        assert len(replies) == len(prompt_ids) and images is None and num_generations == 1
        self.inputs.append([list(ids) for ids in prompt_ids])
        tokenizer = self.processing_class
        return [tokenizer.encode(r[:-1]) if r.endswith("…") else tokenizer.encode(r) + [2] for r in replies], None


class RolloutTest(AdapterBase):
    def rollout(self, seed=0, **config) -> EpisodeRollout:
        return EpisodeRollout(TASKS, EnvConfig(**config), executor=self.executor, seed=seed)

    def test_two_turn_episodes_as_the_loop_renders_them(self):
        prompts = [row(t)["prompt"] for t in ["example/digit_sum"] * 2 + ["example/running_mean"] * 2]
        script = [[f"```python\n{WRONG}```", f"```python\n{RIGHT}```", MEAN_WRONG, "```python\ndef running_mean(v"
                   "…"], [f"```python\n{RIGHT}```", MEAN_RIGHT, MEAN_WRONG]]
        trainer = ScriptedTrainer(2, script)
        rollout = self.rollout(max_revisions=1)
        out = rollout(prompts, trainer)
        tokenizer = trainer.processing_class
        self.assertEqual(out["turns_used"], [2, 1, 2, 2])
        traces = rollout.last_traces
        self.assertEqual(out["episode_return"], [t.reward["return"] for t in traces])
        self.assertEqual(out["episode_return"][:2], [0.5 * 0.25 + 0.75, 1.0])  # CoCoS: 0.5 * r1 + (r2 - r1)
        self.assertEqual(agentic_episode_return(completions=[None] * 4, **{"episode_return": out["episode_return"]}),
                         out["episode_return"])
        self.assertIsNone(out["logprobs"])
        for index, trace in enumerate(traces):
            turns = [turn.completion for turn in trace.turns]
            messages = list(trace.prompt)
            for turn in trace.turns[:-1]:
                messages += [{"role": "assistant", "content": turn.completion}, {"role": "user", "content": turn.feedback}]
            # the episode's tokens are the chat the project's loop renders, ending in the last turn
            whole = tokenizer.decode(out["prompt_ids"][index] + out["completion_ids"][index])
            expected = tokenizer.render(messages, add_generation_prompt=True) + turns[-1]
            self.assertEqual(whole.removesuffix("<|im_end|>"), expected.removesuffix("…"))
            self.assertEqual(tokenizer.decode(out["prompt_ids"][index]), tokenizer.render(trace.prompt, True))
            model = [t for t, m in zip(out["completion_ids"][index], out["env_mask"][index]) if m]
            self.assertEqual(tokenizer.decode(model, skip_special_tokens=True), "".join(turns).replace("…", ""))
            self.assertEqual(len(out["env_mask"][index]), len(out["completion_ids"][index]))
        # episode 3's first turn was cut at the cap: its turn gets an end-of-turn token before the feedback
        cut = tokenizer.encode("```python\ndef running_mean(v")
        suffix = out["completion_ids"][3][len(cut):]
        self.assertEqual(suffix[:3], [2, ord("\n") + 10, 1])
        self.assertEqual(out["env_mask"][3][len(cut)], 0)
        # turn 2 was generated from the concatenated ids of the open episodes (0, 2, 3)
        self.assertEqual(trainer.inputs[1][0], out["prompt_ids"][0] + out["completion_ids"][0][:len(trainer.inputs[1][0])
                                                                                               - len(out["prompt_ids"][0])])

    def test_repair_groups_share_a_start_and_each_batch_draws_afresh(self):
        prompts = [row("example/gcd_of_list")["prompt"]] * 4
        rollout = self.rollout(mode="repair", max_revisions=0)
        firsts = []
        for _ in range(3):
            rollout(prompts, ScriptedTrainer(2, [["no code"] * 4]))
            starts = [(t.seed, t.start["code"]) for t in rollout.last_traces]
            self.assertEqual(starts[0], starts[1])
            self.assertEqual(starts[2], starts[3])
            self.assertNotEqual(starts[0][0], starts[2][0])
            firsts.append(starts[0])
        self.assertEqual(len({seed for seed, _ in firsts}), 3)
        again = self.rollout(mode="repair", max_revisions=0)
        again(prompts, ScriptedTrainer(2, [["no code"] * 4]))
        self.assertEqual((again.last_traces[0].seed, again.last_traces[0].start["code"]), firsts[0])

    def test_bad_batches(self):
        rollout = self.rollout()
        with self.assertRaisesRegex(ValueError, "none of the rollout's tasks"):
            rollout([[{"role": "user", "content": "?"}]] * 2, ScriptedTrainer(2, []))
        with self.assertRaisesRegex(ValueError, "groups of 2"):
            rollout([row("example/digit_sum")["prompt"]] * 3, ScriptedTrainer(2, []))
        twin = TASKS["example/digit_sum"].__class__(**{**TASKS["example/digit_sum"].__dict__, "task_id": "example/twin"})
        with self.assertRaisesRegex(ValueError, "example/digit_sum and example/twin have the same prompt"):
            EpisodeRollout([TASKS["example/digit_sum"], twin], executor=self.executor)



@unittest.skipUnless(HAVE_TRL, TRL_REASON)
class RealTRLTest(AdapterBase):
    """TRL 1.16's own GRPOTrainer with SmolLM2-135M (the prepared fp32 model), tiny batches. The two
    real GRPO steps go through rollout_func: with the tool template SmolLM2-135M called the tool in
    0 of 32 sampled replies (trl_env's docstring), so environment_factory episodes would never reach
    a second turn; that route is checked for its reward registration and scoring only."""

    @classmethod
    def setUpClass(cls):
        from codeself.training.model_prep import DEFAULT_MODEL_DIR, is_complete

        if not is_complete(DEFAULT_MODEL_DIR):
            raise unittest.SkipTest(f"{DEFAULT_MODEL_DIR} is not prepared: run scripts/prepare_model.py")
        super().setUpClass()
        cls.model_dir = DEFAULT_MODEL_DIR

    def trainer(self, tmp: str, **route):
        import datasets
        import torch
        import transformers
        import trl

        os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"
        tokenizer = route.pop("tokenizer", None) or transformers.AutoTokenizer.from_pretrained(self.model_dir)
        model = transformers.AutoModelForCausalLM.from_pretrained(self.model_dir, dtype=torch.float32)
        args = trl.GRPOConfig(output_dir=tmp, per_device_train_batch_size=4, num_generations=2, max_steps=2,
                              max_completion_length=24, learning_rate=1e-4, temperature=1.0, beta=0.0, seed=0,
                              logging_steps=1, save_strategy="no", report_to="none", use_cpu=True,
                              disable_tqdm=True, dataloader_num_workers=0,
                              gradient_checkpointing=False)  # 135M, short sequences: recomputing costs more
        rows = dataset_rows([TASKS["example/digit_sum"], TASKS["example/running_mean"]], TEMPLATE)
        return trl.GRPOTrainer(model=model, args=args, processing_class=tokenizer, train_dataset=datasets.Dataset.from_list(rows),
                               reward_funcs=[agentic_episode_return], **route)

    def test_environment_factory_route_counts_the_return_once(self):
        """GRPOTrainer's own reward registration and scoring (`_calculate_rewards`) on a replayed episode."""
        import tempfile

        import transformers
        from codeself.agents.agentic.trl_chat import enable_tool_calling

        tokenizer = enable_tool_calling(transformers.AutoTokenizer.from_pretrained(self.model_dir))
        with tempfile.TemporaryDirectory() as tmp:
            trainer = self.trainer(tmp, tokenizer=tokenizer, environment_factory=self.factory(max_revisions=1))
        self.assertEqual(trainer.reward_func_names, ["agentic_episode_return"])  # no get_reward column
        env = trainer._environment_pool[None][0]
        data = row("example/digit_sum")
        env.reset(**data)
        env.submit_code(RIGHT)
        trainer.environments = [env]
        completion = [{"role": "assistant", "content": "done"}]
        per_func = trainer._calculate_rewards([data], [data["prompt"]], [completion], [[1, 2]])
        self.assertEqual((per_func * trainer.reward_weights).nansum(dim=1).tolist(), [1.0])

    def test_rollout_func_route_two_grpo_steps(self):
        import tempfile

        returns = []

        class Recording(EpisodeRollout):
            def __call__(self, prompts, trainer):
                out = super().__call__(prompts, trainer)
                returns.append((len(prompts), out["episode_return"], out["turns_used"],
                                [sum(mask) for mask in out["env_mask"]]))
                return out

        rollout = Recording(TASKS, EnvConfig(max_revisions=1), executor=self.executor, seed=0)
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            trainer = self.trainer(tmp, rollout_func=rollout)
            trainer.train()
        elapsed = time.monotonic() - started
        logs = [entry for entry in trainer.state.log_history if "reward" in entry]
        self.assertEqual(trainer.state.global_step, 2)
        self.assertEqual(len(returns), 2)
        for (count, episode_returns, turns, model_tokens), log in zip(returns, logs):
            self.assertEqual(count, 4)  # TRL hands the rollout every copy of each group's prompt
            self.assertAlmostEqual(log["reward"], sum(episode_returns) / 4, places=5)  # counted once
            self.assertAlmostEqual(log["completions/mean_length"], sum(model_tokens) / 4, places=4)  # feedback masked
        self.assertIn(2, [t for _, _, turns, _ in returns for t in turns], "no episode reached its second turn")
        print(f"\n[rollout_func route: 2 GRPO steps, 4 two-turn episodes each, {elapsed:.1f} s; episode returns "
              f"{[r for _, r, _, _ in returns]}, turns {[t for _, _, t, _ in returns]}]")

    def test_multi_turn_practice_step_through_the_trainer(self):
        """train_grpo.py's multi-turn mode (max_revisions = 1; codeself.training.trl_episodes): one real
        GRPO step of two-turn CoCoS episodes, the episode return counted once, records per turn."""
        import tempfile
        from pathlib import Path

        from codeself.training import trl_run
        from codeself.training.config import GRPOConfig

        with tempfile.TemporaryDirectory() as tmp:
            tasks = Path(tmp, "tasks.jsonl")  # two train tasks, one validation task
            lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
            tasks.write_text("\n".join(lines[:2] + [lines[3]]) + "\n", encoding="utf-8")
            out = Path(tmp, "run")
            config = GRPOConfig(model=str(self.model_dir), tasks=str(tasks), max_steps=1, prompts_per_step=1,
                                num_generations=2, max_completion_tokens=24, max_revisions=1, save_every=1,
                                workers=1, gradient_checkpointing=False, output_dir=str(out))
            trl_run.run(config, quiet=True)
            [metrics] = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            rollouts = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
        self.assertEqual(len(rollouts), 2)
        for record in rollouts:
            self.assertEqual(len(record["turns"]), 2)  # no stop on a public pass: both turns, always
            r1, r2 = record["reward"]["components"]["progress"]
            self.assertAlmostEqual(record["reward"]["reward"], 0.5 * r1 + (r2 - r1))
            # what turn 2 was shown beyond the chat so far: the feedback on turn 1, as the next user message
            self.assertEqual(record["turns"][1]["shown"], [{"role": "user", "content": record["turns"][0]["feedback"]}])
        self.assertAlmostEqual(metrics["reward"], sum(r["reward"]["reward"] for r in rollouts) / 2, places=5)
        self.assertEqual(len(metrics["turns/pass_rate"]), 2)
        self.assertEqual(metrics["max_revisions"], 1)


if __name__ == "__main__":
    unittest.main()
