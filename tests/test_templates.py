import tempfile
import unittest
from pathlib import Path

import support  # noqa: F401

from codeself.agents.templates import (TEMPLATE_FIELDS, available_templates, config_hash, load_template,
                                       render_prompt, template_from_dict, unescape_stop, with_stop_strings)
from codeself.parsing import parse_completion
from codeself.datasets.task import PublicTask, Task

TASK = Task(task_id="mbpp/1", source="mbpp", prompt="Add two numbers.", entry_point="add", starter_code="",
            public_tests=("assert add(1, 2) == 3",), hidden_tests=("assert add(40, 2) == 42  # SECRET",),
            setup_code="", reference_solution="def add(a, b):\n    return a + b  # REFERENCE\n",
            split="test", metadata={})
PUBLIC = TASK.public_view()


def chat(user: str, **extra) -> dict:
    return {"name": "t", "kind": "chat", "system": "sys", "user": user, **extra}


class RenderTest(unittest.TestCase):
    def test_bundled_templates(self):
        self.assertIn("chat_default", available_templates())
        self.assertIn("completion_default", available_templates())

    def test_chat_default_renders_public_fields_only(self):
        messages = render_prompt(load_template("chat_default"), PUBLIC)
        self.assertEqual([m["role"] for m in messages], ["system", "user"])
        user = messages[1]["content"]
        self.assertTrue(user.startswith("Add two numbers.\n\nYour code should pass these tests:\n"
                                        "```python\nassert add(1, 2) == 3\n```\n\n"))
        self.assertIn("defines the function `add`", user)
        self.assertNotIn("Complete this code", user)  # the starter-code section is empty here
        text = repr(messages)
        self.assertNotIn("SECRET", text)
        self.assertNotIn("REFERENCE", text)

    def test_starter_code_section_appears_when_non_empty(self):
        task = PublicTask("humaneval/0", "Add.", "add", "def add(a, b):\n", ())
        user = render_prompt(load_template("chat_default"), task)[1]["content"]
        self.assertEqual(user.split("Write a complete")[0],
                         "Add.\n\nComplete this code:\n```python\ndef add(a, b):\n\n```\n\n")

    def test_completion_default_ends_with_starter_code(self):
        task = PublicTask("humaneval/0", "Add.", "add", "def add(a, b):\n", ("assert add(1, 1) == 2",))
        text = render_prompt(load_template("completion_default"), task)
        self.assertEqual(text, '"""\nAdd.\nYour code should pass these tests:\nassert add(1, 1) == 2\n"""\n'
                               "def add(a, b):\n")
        self.assertEqual(load_template("completion_default").stop[0], "\nif __name__")

    def test_full_task_is_a_type_error(self):
        with self.assertRaisesRegex(TypeError, "takes a PublicTask.*got Task"):
            render_prompt(load_template("chat_default"), TASK)

    def test_subclass_of_public_task_is_refused(self):
        class Leaky(PublicTask):
            pass
        leaky = Leaky(PUBLIC.task_id, PUBLIC.prompt, PUBLIC.entry_point, PUBLIC.starter_code, PUBLIC.public_tests)
        with self.assertRaises(TypeError):
            render_prompt(load_template("chat_default"), leaky)

    def test_values_with_braces_are_not_reinterpreted(self):
        task = PublicTask("x/1", "Return {hidden_tests} literally.", "f", "", ("assert f() == {1: 2}",))
        template = template_from_dict(chat("{prompt} | {public_tests} | {{literal}}"))
        self.assertEqual(render_prompt(template, task)[1]["content"],
                         "Return {hidden_tests} literally. | assert f() == {1: 2} | {literal}")

    def test_empty_system_message_is_omitted(self):
        template = template_from_dict({"name": "t", "kind": "chat", "user": "{prompt}"})
        self.assertEqual(render_prompt(template, PUBLIC), [{"role": "user", "content": "Add two numbers."}])


class ValidationTest(unittest.TestCase):
    def test_hidden_fields_are_rejected_at_load_time(self):
        for field in ("hidden_tests", "reference_solution", "setup_code", "metadata", "task_id"):
            with self.subTest(field=field):
                with self.assertRaisesRegex(ValueError, f"placeholder {{{field}}} is not allowed"):
                    template_from_dict(chat(f"{{prompt}} {{{field}}}"))

    def test_attribute_index_and_positional_placeholders_are_rejected(self):
        for text in ("{prompt.__class__}", "{public_tests[0]}", "{0}", "{}", "{prompt!r}", "{prompt:>10}"):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    template_from_dict(chat(text))

    def test_sections_are_checked_too(self):
        with self.assertRaisesRegex(ValueError, r"sections.public_tests: placeholder \{hidden_tests\}"):
            template_from_dict(chat("{public_tests_section}", sections={"public_tests": "{hidden_tests}"}))
        with self.assertRaisesRegex(ValueError, "section 'hidden_tests' is not a template field"):
            template_from_dict(chat("x", sections={"hidden_tests": "x"}))
        with self.assertRaisesRegex(ValueError, r"\{prompt_section\} is not allowed"):
            template_from_dict(chat("{prompt_section}"))  # no [sections] entry for prompt

    def test_structure_errors(self):
        cases = [({"name": "t", "kind": "chatty", "user": "x"}, "'kind' must be one of"),
                 ({"name": "t", "kind": "chat"}, "needs a string 'user'"),
                 ({"name": "t", "kind": "completion", "text": "x", "user": "y"}, "do not belong"),
                 ({"name": "t", "kind": "completion", "text": "x", "stop": [""]}, "'stop' must be"),
                 ({"name": "t", "kind": "completion", "text": "x", "few_shot": []}, "unknown key"),
                 ({"name": "t", "kind": "chat", "user": "{prompt"}, "malformed placeholder")]
        for data, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(ValueError, message):
                    template_from_dict(data)

    def test_load_errors_name_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bad.toml"
            path.write_text('name = "bad"\nkind = "chat"\nuser = "{reference_solution}"\n')
            with self.assertRaisesRegex(ValueError, f"{path}: user: placeholder"):
                load_template(str(path))
            path.write_text('name = "other"\nkind = "chat"\nuser = "x"\n')
            with self.assertRaisesRegex(ValueError, "equal to the file name"):
                load_template(str(path))
            path.write_text("name = \n")
            with self.assertRaisesRegex(ValueError, "invalid TOML"):
                load_template(str(path))
        with self.assertRaisesRegex(ValueError, "not found.*bundled templates: .*chat_default"):
            load_template("no_such_template")

    def test_fields_constant(self):
        self.assertEqual(TEMPLATE_FIELDS, ("prompt", "starter_code", "public_tests", "entry_point"))


class LanguageTemplateTest(unittest.TestCase):
    """Templates ask for the task's language; one that does not is refused (issue 18)."""

    CPP = Task(task_id="multipl-e/humaneval-cpp/9", source="multipl-e-humaneval", prompt="long f(long x) {\n",
               entry_point="f", starter_code="long f(long x) {\n", public_tests=(),
               hidden_tests=("assert(candidate(1) == 2);",), setup_code="", reference_solution=None, split="test",
               metadata={"multipl_e": {"stop_tokens": ["\n}"]}}, language="cpp")

    def test_multipl_e_templates_ask_for_the_language(self):
        messages = render_prompt(load_template("chat_multipl_e"), self.CPP.public_view())
        self.assertEqual(messages[0]["content"], "You are an expert C++ programmer. Reply with the complete C++ "
                                                 "function in one ```cpp fenced code block.")
        self.assertTrue(messages[1]["content"].startswith("Complete this C++ function so that it does what its "
                                                          "comment says:\n```cpp\nlong f(long x) {\n\n```\n\n"))
        js = Task(**{**self.CPP.__dict__, "language": "js"}).public_view()
        self.assertIn("```javascript\n", render_prompt(load_template("chat_multipl_e"), js)[1]["content"])
        completion = load_template("completion_multipl_e")
        self.assertEqual(render_prompt(completion, self.CPP.public_view()), "long f(long x) {\n")
        self.assertEqual(completion.stop_for(self.CPP), ("\n}",))  # the task's own stop strings
        self.assertEqual(load_template("completion_default").stop_for(self.CPP), load_template("completion_default").stop)

    def test_a_template_refuses_languages_it_does_not_ask_for(self):
        with self.assertRaisesRegex(ValueError, r"^task multipl-e/humaneval-cpp/9 is written in cpp; prompt template "
                                                r"'chat_default' asks for python \(bundled templates for cpp: "
                                                r"chat_multipl_e, completion_multipl_e\)$"):
            render_prompt(load_template("chat_default"), self.CPP.public_view())
        with self.assertRaisesRegex(ValueError, "asks for cpp, java, js, rust"):
            render_prompt(load_template("chat_multipl_e"), PUBLIC)

    def test_language_keys_are_checked_and_hashed_only_when_set(self):
        plain = template_from_dict(chat("{prompt}"))
        self.assertNotIn("languages", plain.to_json())  # templates from before languages keep their hash
        multi = template_from_dict(chat("{language} {language_tag}", languages=["cpp", "python"]))
        self.assertEqual(multi.to_json()["languages"], ["cpp", "python"])
        self.assertEqual(render_prompt(multi, PUBLIC)[1]["content"], "Python python")
        self.assertNotEqual(config_hash(plain, {}), config_hash(template_from_dict(chat("{prompt}", languages=["cpp"])), {}))
        for data, message in [(chat("x", languages=["go"]), "'languages' must be a non-empty list"),
                              (chat("x", languages=[]), "'languages' must be a non-empty list"),
                              (chat("x", task_stop=True), "true only in a completion template"),
                              ({"name": "t", "kind": "completion", "text": "x", "task_stop": "yes"}, "'task_stop' must")]:
            with self.subTest(message=message):
                with self.assertRaisesRegex(ValueError, message):
                    template_from_dict(data)


class FormControlTest(unittest.TestCase):
    """Issue 16's answer forms: a stop string from the command line, a system turn with one format example."""

    def test_unescape_stop(self):
        # typed as --stop '\n```\n' in a shell: backslash-n twice; a lone or unknown escape stays as typed
        self.assertEqual(unescape_stop("\\n```\\n"), "\n```\n")
        self.assertEqual(unescape_stop("a\\tb\\\\n"), "a\tb\\n")
        self.assertEqual(unescape_stop("x\\"), "x\\")
        self.assertEqual(unescape_stop("\\q"), "\\q")

    def test_with_stop_strings_adds_once_and_changes_the_hash(self):
        base = load_template("completion_default")
        added = with_stop_strings(base, ["\\n```", "END"])  # "\n```" is already the template's
        self.assertEqual(added.stop, base.stop + ("END",))
        self.assertIs(with_stop_strings(base, []), base)
        backend = {"backend": "hf", "model": "m"}
        self.assertNotEqual(config_hash(added, backend), config_hash(base, backend))
        with self.assertRaisesRegex(ValueError, "--stop needs a non-empty string"):
            with_stop_strings(base, [""])

    def test_format_example_template(self):
        template = load_template("chat_format_example")
        messages = render_prompt(template, PUBLIC)
        self.assertEqual([m["role"] for m in messages], ["system", "user"])
        self.assertEqual(messages[1]["content"], render_prompt(load_template("chat_default"), PUBLIC)[1]["content"])
        system = messages[0]["content"]
        # the example answer is itself in the form the parser takes as "ok"
        example = system[system.rindex("```python"):]
        self.assertEqual(parse_completion(example, "", "greet").parse_status, "ok")
        self.assertNotIn("SECRET", repr(messages))

    def test_answer_cut_at_the_closing_fence_still_parses_to_its_code(self):
        # what the hf/openai backends return with --stop '\n```\n': the text before the closing fence
        cut = "Here it is:\n```python\ndef add(a, b):\n    return a + b"
        parsed = parse_completion(cut, "", "add")
        self.assertEqual(parsed.code, "def add(a, b):\n    return a + b\n")


class ConfigHashTest(unittest.TestCase):
    def test_hash_is_stable_and_sensitive(self):
        template = load_template("chat_default")
        backend = {"backend": "openai", "model": "m", "temperature": 0.8}
        first = config_hash(template, backend)
        self.assertEqual(first, config_hash(load_template("chat_default"), dict(reversed(backend.items()))))
        self.assertEqual(len(first), 64)
        self.assertNotEqual(first, config_hash(template, {**backend, "temperature": 0.7}))
        self.assertNotEqual(first, config_hash(load_template("completion_default"), backend))


if __name__ == "__main__":
    unittest.main()
