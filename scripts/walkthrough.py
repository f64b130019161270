"""Follow the README's quickstart literally, as a newcomer would, and fail where they would.

CI's `.ci/run` is this script. It reads the `bash` code blocks of the README's "Quickstart"
section and runs every command in them, in order, with bash, in the checkout: the install, then
`corridor up`, then the planner's `corridor simulate`, then `bash scripts/test.sh` (the test
suite). A command that fails stops the walk-through with its exit code.

`corridor up` runs until Ctrl-C, so it is bounded here: once it prints the dashboard's address,
the script waits (at most `UP_WARM_S`) until the API shows all the yards with trucks counted and
at least 20 points in each 24 h chart series (the dashboard's own queries), then sends SIGINT
to its process group, as Ctrl-C at a terminal does, and checks that it stops cleanly within
`UP_STOP_S` and leaves its port free. Only the standard library: it runs before anything is
installed.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UP = re.compile(r"\bcorridor up\b")
DASHBOARD = re.compile(r"corridor up: dashboard (http://\S+)")
UP_WARM_S = 420.0
UP_STOP_S = 90.0
MIN_POINTS = 20


def quickstart_commands(readme: str) -> list[str]:
    """The commands of the `bash` blocks in the README's "Quickstart" section, in order."""
    section = re.search(r"^## Quickstart.*?$(.*?)(?=^## )", readme, re.M | re.S)
    if section is None:
        raise SystemExit("walkthrough: README.md has no '## Quickstart' section")
    commands: list[str] = []
    for block in re.findall(r"^```(?:bash|sh)\n(.*?)^```", section.group(1), re.M | re.S):
        text = block.replace("\\\n", " ")
        commands += [line.strip() for line in text.splitlines() if _is_command(line)]
    return commands


def _is_command(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def run(command: str) -> None:
    """Run one command as the README shows it; stop the walk-through if it fails."""
    print(f"walkthrough: $ {command}", flush=True)
    if UP.search(command):
        run_up(command)
        return
    code = subprocess.run(["bash", "-c", command], cwd=ROOT, check=False).returncode
    if code != 0:
        raise SystemExit(f"walkthrough: `{command}` exited with code {code}")


def run_up(command: str) -> None:
    """`corridor up` until its dashboard is warm, then Ctrl-C (SIGINT to its process group)."""
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    said: list[str] = []
    reader = threading.Thread(target=_echo, args=(process, said), daemon=True)
    reader.start()
    try:
        base = _wait_warm(process, said)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            code = process.wait(timeout=UP_STOP_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            late = f"walkthrough: `{command}` did not stop {UP_STOP_S:.0f} s after Ctrl-C"
            raise SystemExit(late) from None
    reader.join(timeout=10)
    if code != 0 or "corridor up: stopped" not in "".join(said):
        raise SystemExit(f"walkthrough: `{command}` did not stop cleanly (exit code {code})")
    port = int(base.rsplit(":", 1)[1].strip("/"))
    if _listening(port):
        raise SystemExit(f"walkthrough: port {port} still bound after `{command}` stopped")
    print(f"walkthrough: `{command}` was warm, and stopped cleanly on Ctrl-C", flush=True)


def _echo(process: "subprocess.Popen[str]", said: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        said.append(line)
        print(line, end="", flush=True)


def _wait_warm(process: "subprocess.Popen[str]", said: list[str]) -> str:
    deadline = time.monotonic() + UP_WARM_S
    base = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"walkthrough: corridor up exited early (code {process.returncode})")
        found = DASHBOARD.search("".join(said))
        base = found.group(1).rstrip("/") if found else None
        if base and _warm(base):
            return base
        time.sleep(2.0)
    raise SystemExit(f"walkthrough: the dashboard was not warm after {UP_WARM_S:.0f} s")


def _warm(base: str) -> bool:
    """All yards have trucks counted and >= MIN_POINTS hourly points in the last 24 h."""
    try:
        yards = [yard["id"] for yard in _get(base, "/yards")]
        for path in [*(f"/yards/{yard}/kpis" for yard in yards), "/corridor/kpis"]:
            if _get(base, f"{path}?window=24h")["kpis"]["trucks"] <= 0:
                return False
            history = _get(base, f"{path}/history?window=1h&interval=1h")
            if len(history["points"]) < MIN_POINTS:
                return False
        with urllib.request.urlopen(base + "/", timeout=10) as page:
            return bool(page.status == 200) and bool(yards)
    except (OSError, ValueError, KeyError):
        return False


def _get(base: str, path: str) -> Any:
    with urllib.request.urlopen(base + path, timeout=10) as response:
        return json.load(response)


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    commands = quickstart_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    if not any(UP.search(command) for command in commands):
        raise SystemExit("walkthrough: the quickstart runs no `corridor up`")
    for command in commands:
        run(command)
    print(f"walkthrough: all {len(commands)} quickstart commands ran as the README shows them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
