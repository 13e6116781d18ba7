"""nbgrader's execution step, hardened: a sandboxed kernel, honest timeouts, no grades for cells that never ran.

nbgrader's own ``Execute`` preprocessor has three failure modes that cost students real
points or hand out free ones:

- a cell that runs past the timeout only shows a ``KeyboardInterrupt``, and a kernel that
  ignores the interrupt makes every later cell time out as well;
- when the kernel dies (a memory bomb, a segfault, the CPU limit), nbclient raises and the
  cells that never ran keep *no* output, which nbgrader's grade step reads as "passed";
- the kernel runs with the grader's rights.

``SafeExecute`` replaces it in ``Autograde.autograde_preprocessors`` (the grading course's
config sets that up). It starts the kernel through ``SandboxedKernelManager`` (see
``metarl_course.sandbox``), names the cell and the limit in a timeout's error, kills a
kernel that does not answer within a grace period after the interrupt, and gives every
code cell after a kernel death an error output saying why it did not run. What happened
is appended, one JSON object per line, to the file named by ``$METARL_GRADING_EVENTS``, so
that the grade report can say "timeout in cell X" or "kernel died in cell Y".
"""

from __future__ import annotations

import json
import os
import signal
import typing as t
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Integer

from nbgrader.preprocessors import Execute
from nbgrader.preprocessors.base import NbGraderPreprocessor
from metarl_course import sandbox

EVENTS_VARIABLE = "METARL_GRADING_EVENTS"


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in the sandbox, reached over Unix sockets.

    The sandbox has no network, so the kernel cannot use the grader's TCP loopback;
    ``transport = "ipc"`` puts the kernel's sockets next to its connection file, in the
    runtime folder, which is bound into the sandbox with the notebook's own folder.
    """

    use_sandbox = Bool(True, help="run the kernel under bubblewrap and prlimit").tag(config=True)
    cpu_seconds = Integer(sandbox.Limits.cpu_seconds).tag(config=True)
    memory_bytes = Integer(sandbox.Limits.memory_bytes).tag(config=True)

    def _transport_default(self) -> str:  # traitlets dynamic default
        return "ipc"

    async def _async_pre_start_kernel(self, **kw: t.Any) -> tuple[list[str], dict[str, t.Any]]:
        # Absolute socket paths in the runtime folder (the default "kernel-ipc" is relative to
        # each process's own working directory, and the kernel's is the notebook's folder).
        runtime = Path(jupyter_runtime_dir()).resolve()
        runtime.mkdir(parents=True, exist_ok=True)
        name = f"kernel-{uuid.uuid4().hex[:12]}"
        self.connection_file = str(runtime / f"{name}.json")
        self.ip = str(runtime / name)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: t.Any) -> None:
        if self.use_sandbox:
            cwd = Path(kw.get("cwd") or os.getcwd()).resolve()
            runtime = Path(self.connection_file).resolve().parent
            limits = sandbox.Limits(cpu_seconds=self.cpu_seconds, memory_bytes=self.memory_bytes)
            kernel_cmd = sandbox.sandboxed(kernel_cmd, [cwd, runtime], cwd, kw.get("env") or dict(os.environ), limits)
        await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_interrupt_kernel(self) -> None:
        """SIGINT to the kernel and its children, not to bwrap: bwrap has no handler and would die of it."""
        if not self.use_sandbox:
            return await super()._async_interrupt_kernel()
        import psutil

        process = getattr(self.provisioner, "process", None)
        if process is None:
            return None
        try:
            inside = [p for p in psutil.Process(process.pid).children(recursive=True) if p.name() not in ("bwrap", "prlimit")]
        except psutil.Error:
            return None
        for p in inside:
            try:
                p.send_signal(signal.SIGINT)
            except psutil.Error:
                pass
        return None

    interrupt_kernel = _async_interrupt_kernel  # AsyncKernelManager exposes the coroutine itself

    def exit_status(self) -> int | None:
        """The kernel process's exit code once it has died (bwrap passes its child's on)."""
        process = getattr(self.provisioner, "process", None)
        return None if process is None else process.poll()


def describe_exit(code: int | None, cpu_seconds: int) -> str:
    """Why a kernel process ended, in an instructor's words."""
    if code is None:
        return "the kernel stopped answering"
    signum = -code if code < 0 else code - 128 if code > 128 else None
    if signum == signal.SIGXCPU:
        return f"the kernel used more than {cpu_seconds} s of CPU time and was stopped"
    if signum == signal.SIGKILL:
        return "the kernel was killed (out of memory, or it did not stop after a timeout)"
    if signum == signal.SIGSEGV:
        return "the kernel crashed (segmentation fault)"
    if signum == signal.SIGABRT:
        return "the kernel aborted (often an allocation beyond the memory limit)"
    if signum:
        return f"the kernel was ended by signal {signal.Signals(signum).name}"
    return f"the kernel exited with code {code}"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SafeExecute(Execute):
    """nbgrader's ``Execute`` with the sandbox, named timeouts and honest handling of dead kernels."""

    kill_grace = Integer(10, help="seconds a kernel gets to answer after a timeout's interrupt").tag(config=True)

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        self.raise_on_iopub_timeout = False  # a killed kernel never sends its idle status
        self._death: str | None = None

    # -- what happened --------------------------------------------------------------
    def _record(self, kind: str, cell: NotebookNode | None, **details: t.Any) -> None:
        path = os.environ.get(EVENTS_VARIABLE)
        if not path:
            return
        with open(path, "a") as f:
            f.write(json.dumps({"event": kind, "cell": _grade_id(cell), "index": getattr(self, "_cell_index", None),
                                **details}) + "\n")

    # -- timeouts -------------------------------------------------------------------
    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> dict[str, t.Any] | None:
        name = _cell_name(cell, getattr(self, "_cell_index", None))
        self.log.error("cell %s: no reply within %s s; interrupting the kernel", name, timeout)
        self._record("timeout", cell, seconds=timeout)
        assert self.km is not None and self.kc is not None
        await self.km.interrupt_kernel()
        try:  # the shell answers kernel_info only once the interrupted cell has stopped
            await self.kc.kernel_info(reply=True, timeout=self.kill_grace)
        except Exception:  # noqa: BLE001 - any failure to answer means the kernel is stuck
            self.log.error("the kernel did not stop within %s s of the interrupt: killing it", self.kill_grace)
            self._record("killed", cell, seconds=self.kill_grace)
            self._death = f"the kernel did not stop after the timeout in cell {name} and was killed"
            await self.km.shutdown_kernel(now=True)
        message = f"cell {name} ran longer than the grading limit of {timeout} s per cell and was stopped"
        return {"content": {"status": "error", "ename": "CellTimeoutError", "evalue": message,
                            "traceback": [f"CellTimeoutError: {message}"]}}

    # -- dead kernels ---------------------------------------------------------------
    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        self._cell_index = index
        if cell.cell_type != "code":
            return cell, resources
        if self._death is not None:
            cell.outputs = [error_output("NotRun", f"not run: {self._death}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            if self._death is not None:  # killed by the timeout handler: already explained
                return cell, resources
            sandboxed = isinstance(self.km, SandboxedKernelManager)
            code = self.km.exit_status() if sandboxed else None
            reason = describe_exit(code, self.km.cpu_seconds if sandboxed else 0)
            name = _cell_name(cell, index)
            self._death = f"{reason} in cell {name}"
            self._record("kernel_died", cell, exit_code=code, reason=reason)
            cell.outputs = list(cell.get("outputs", [])) + [error_output("DeadKernelError", self._death)]
            return cell, resources

    def preprocess(self, nb: NotebookNode, resources: t.Any = None, km: t.Any = None) -> tuple[NotebookNode, t.Any]:
        self._death = None
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:  # died between cells or while shutting down: the outputs are already marked
            return nb, resources


def _grade_id(cell: NotebookNode | None) -> str | None:
    return None if cell is None else cell.metadata.get("nbgrader", {}).get("grade_id")


def _cell_name(cell: NotebookNode | None, index: int | None) -> str:
    return _grade_id(cell) or f"#{index}"


class LimitOutputBytes(NbGraderPreprocessor):
    """Cut every output to ``max_chars`` characters (an image to ``max_image_chars`` of base64).

    nbgrader's ``LimitOutput`` counts lines, so one print of a long list (one line of 60 MB) went
    whole into the graded notebook and the feedback page. Runs after execution, before saving."""

    max_chars = Integer(100_000, help="characters kept of each text output").tag(config=True)
    max_image_chars = Integer(2_000_000, help="base64 characters kept of each image").tag(config=True)

    def _cut(self, text: str) -> str:
        return text if len(text) <= self.max_chars else (
            text[:self.max_chars] + f"\n... [{len(text) - self.max_chars} more characters cut by the grader]")

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if isinstance(output.get("text"), str):
                output["text"] = self._cut(output["text"])
            if "traceback" in output:
                output["traceback"] = [self._cut(line) for line in output["traceback"]]
            data = output.get("data", {})
            notes = []
            for mime in [m for m in data if m.startswith("image/")]:
                if isinstance(data[mime], str) and len(data[mime]) > self.max_image_chars:
                    notes.append(f"[an image of {len(data.pop(mime))} base64 characters, left out by the grader]")
            for mime, value in data.items():
                if isinstance(value, str) and not mime.startswith("image/"):
                    data[mime] = self._cut(value)
            if notes:
                data["text/plain"] = "\n".join(([data["text/plain"]] if "text/plain" in data else []) + notes)
        return cell, resources
