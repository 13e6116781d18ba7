"""Run untrusted student code in a sandbox: bubblewrap namespaces plus resource limits.

While grading, every student's Jupyter kernel runs under ``bwrap`` (Debian's
``bubblewrap``), wrapped in ``prlimit``:

- **no network**: a fresh network namespace with nothing but its own loopback, so the
  grader's own sockets (and the internet) are out of reach; the kernel talks to nbgrader
  over Unix sockets in a private runtime folder instead of TCP (``transport = "ipc"``);
- **a read-only view of what the code needs, and nothing else**: the Python interpreter,
  the virtual environment, the ``metarl_course`` package and the system libraries. The
  solutions, the hidden tests, the gradebook, the repository's other files and the other
  students' submissions are not in the sandbox at all;
- **one private writable folder**: the copy of this student's submission that is being
  graded (the kernel's working directory and ``$HOME``), plus a small private ``/tmp``;
- **processes die with the kernel**: a fresh PID namespace, killed as a whole when the
  kernel exits or the grader dies (``--die-with-parent``);
- **limits**: CPU seconds, address space (memory) and file size per process
  (``prlimit``), so a busy loop or a memory bomb ends in that student's kernel alone.

What it does not protect against: student code can read the package's reference
implementations (the notebooks import that package anyway) and can tamper with the checks
inside its own kernel, for example by replacing a check function before a test cell
calls it. Grades are as trustworthy as the checks are unreachable, which inside one
Python process they are not; a careful instructor reads any suspicious full mark. It does
not bound the number of processes (each one has its own CPU and memory limits, and all
of them die with the kernel) nor protect against kernel exploits of the host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import metarl_course

GiB = 2**30


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits of a sandboxed kernel."""

    cpu_seconds: int = 900          # RLIMIT_CPU: SIGXCPU after this much CPU time (SIGKILL 10 s later)
    memory_bytes: int = 6 * GiB     # RLIMIT_AS: allocations beyond this fail (MemoryError) or kill
    file_bytes: int = 1 * GiB       # RLIMIT_FSIZE: the largest file the code may write
    tmp_bytes: int = 256 * 2**20    # size of the private /tmp (memory-backed)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; `make sandbox`, which `make test` and "
                "`make grade` run, does it as root), or grade with --no-sandbox on a machine you do not mind students' code running on")

# System folders a Python kernel needs: executables, shared libraries and their caches.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
                "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/fonts",
                "/etc/mime.types", "/etc/ssl/certs")

# The environment a kernel starts with: nothing else of the grader's reaches student code.
PASSED_ENVIRONMENT = ("METARL_PRESET", "NBGRADER_EXECUTION", "MPLBACKEND", "METARL_HEADLESS", "METARL_DEVICE",
                      "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "PYTHONHASHSEED",
                      "MUJOCO_GL", "PYOPENGL_PLATFORM", "LANG", "LC_ALL", "TZ", "JPY_SESSION_NAME")


def bwrap() -> str | None:
    return shutil.which("bwrap")


def python_paths() -> list[Path]:
    """The interpreter, the environment it runs in, and the ``metarl_course`` package."""
    package = Path(metarl_course.__file__).resolve().parent
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), package,
             Path(sys.executable).resolve().parent}
    return sorted(paths)


def bwrap_arguments(writable: list[Path], cwd: Path, environment: dict[str, str], limits: Limits) -> list[str]:
    """bwrap's options for a kernel whose only writable folders are ``writable``."""
    args = ["--unshare-all", "--die-with-parent", "--clearenv",
            "--dev", "/dev", "--proc", "/proc", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    for path in SYSTEM_PATHS:
        if os.path.lexists(path):
            args += ["--ro-bind", path, path]
    for path in python_paths():
        args += ["--ro-bind", str(path), str(path)]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    home = str(cwd)
    env = {name: environment[name] for name in PASSED_ENVIRONMENT if name in environment}
    env.update(HOME=home, PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
               MPLCONFIGDIR="/tmp/matplotlib", TMPDIR="/tmp", IPYTHONDIR="/tmp/ipython",
               JUPYTER_RUNTIME_DIR=environment.get("JUPYTER_RUNTIME_DIR", "/tmp"))
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    return args + ["--chdir", str(cwd)]


def sandboxed(command: list[str], writable: list[Path], cwd: Path, environment: dict[str, str] | None = None,
              limits: Limits = Limits()) -> list[str]:
    """``command`` wrapped so that it runs in the sandbox described in this module's docstring."""
    executable = bwrap()
    if executable is None:
        raise SandboxUnavailable(f"bwrap is not installed: {INSTALL_HINT}")
    environment = dict(os.environ if environment is None else environment)
    return ["prlimit", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 10}", f"--as={limits.memory_bytes}", f"--fsize={limits.file_bytes}",
            "--", executable, *bwrap_arguments(writable, cwd, environment, limits), "--", *command]


def check_sandbox() -> str:
    """Start a trivial sandboxed Python once; raise SandboxUnavailable with the reason if it fails."""
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    command = sandboxed([sys.executable, "-c", "import metarl_course; print('sandbox ok')"], [], folder)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"the sandbox did not start ({error}): {INSTALL_HINT}") from error
    if result.returncode != 0 or "sandbox ok" not in result.stdout:
        raise SandboxUnavailable(f"the sandbox did not start: {result.stderr.strip()[-500:]}\n{INSTALL_HINT}")
    return f"ok: bubblewrap {subprocess.run([bwrap(), '--version'], capture_output=True, text=True).stdout.strip()}"
