"""The README's quickstart is what CI runs (`.ci/run` is `scripts/walkthrough.py`), and each
`corridor` command in it is one the command line accepts as written.

The walk-through itself (install, `corridor up` until warm then Ctrl-C, simulate, the test
suite) runs in CI, not here: it installs from the package index.
"""

import importlib.util
import shlex
from pathlib import Path
from types import ModuleType

from corridor.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def walkthrough() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "walkthrough", ROOT / "scripts" / "walkthrough.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_follows_the_readme_quickstart() -> None:
    assert "scripts/walkthrough.py" in (ROOT / ".ci" / "run").read_text()
    commands = walkthrough().quickstart_commands((ROOT / "README.md").read_text())
    install = "python3 -m venv .venv && .venv/bin/pip install -c requirements/constraints.txt"
    assert commands[0] == f"{install} -e '.[broker]'", "the newcomer installs from the lock"
    assert ".venv/bin/corridor up" in commands
    assert commands.index(".venv/bin/corridor up") < commands.index("bash scripts/test.sh")


def test_every_corridor_command_of_the_quickstart_parses() -> None:
    commands = walkthrough().quickstart_commands((ROOT / "README.md").read_text())
    parser = build_parser()
    corridor = [shlex.split(c) for c in commands if c.startswith(".venv/bin/corridor ")]
    assert len(corridor) >= 2
    for words in corridor:
        args = parser.parse_args(words[1:])
        assert callable(args.handler)


def test_the_quickstart_blocks_are_read_as_a_newcomer_copies_them() -> None:
    readme = """# x

## Quickstart

```bash
one --flag \\
  two
# a comment
```

```text
not a command
```

```sh
three
```

## Next

```bash
not in the quickstart
```
"""
    assert walkthrough().quickstart_commands(readme) == ["one --flag    two", "three"]
