"""A loopback Daytona for the real SDK: REST API, toolbox, live logs over WebSocket.

Each sandbox is a temporary folder; commands run there as real processes with the
sandbox's environment and the scripted fake `claude` first on PATH. The stand-in
records what was created and deleted and can inject the faults a real service has.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, MultipartWriter, WSCloseCode, web

from tests.standins import LoopbackServer, sandbox_list_item

VALID_DAYTONA_KEY = "dtn_" + "d" * 28 + "good"
STDOUT_PREFIX = b"\x01\x01\x01"
STDERR_PREFIX = b"\x02\x02\x02"
FAKE_CLAUDE = Path(__file__).with_name("fake_claude.py")


@dataclasses.dataclass
class Command:
    id: str
    command: str
    process: asyncio.subprocess.Process | None = None
    stdout: bytearray = dataclasses.field(default_factory=bytearray)
    stderr: bytearray = dataclasses.field(default_factory=bytearray)
    frames: list[bytes] = dataclasses.field(default_factory=list)
    exit_code: int | None = None
    changed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    pump: asyncio.Future[None] | None = None
    started_at: float = dataclasses.field(default_factory=time.monotonic)


@dataclasses.dataclass
class Sandbox:
    id: str
    env: dict[str, str]
    labels: dict[str, str]
    home: Path
    body: dict[str, Any]
    created_at: float
    commands: dict[str, Command] = dataclasses.field(default_factory=dict)
    processes: list[asyncio.subprocess.Process] = dataclasses.field(default_factory=list)


class DaytonaStandIn(LoopbackServer):
    """``mode`` as in the validation tests; the fault lists are consumed one per call."""

    def __init__(self, root: Path | None = None) -> None:
        self.mode = "by_key"
        self.root = root or Path(os.environ.get("TMPDIR", "/tmp"))
        self.shared = self.root / "shared"
        self.bin = self.root / "fakebin"
        self.sandboxes: dict[str, Sandbox] = {}
        self.created: list[Sandbox] = []
        self.deleted: list[str] = []
        self.create_faults: list[int] = []
        self.delete_faults: list[int] = []
        self.create_delay = 0.0  # before the create request answers (the sandbox does not exist)
        self.start_delay = 0.0  # a created sandbox says "starting" this long
        self.delete_delay = 0.0
        self._pumps: set[asyncio.Future[None]] = set()
        self.reject_with = 401  # how a wrong key is refused: 401, or 403 (no permission)
        self.fail_start = False
        self.drop_stream_after_bytes: int | None = None
        self.drop_close_code = WSCloseCode.INTERNAL_ERROR  # OK: a "normal" close mid-run
        self.extra_env: dict[str, str] = {}
        self.uploads: list[str] = []
        self.claude_preinstalled = True
        self.real_claude: Path | None = None  # the real CLI's executable, instead of the fake
        self._ids = itertools.count(1)
        super().__init__(
            [
                ("GET", "/api/sandbox", self._list),
                ("POST", "/api/sandbox", self._create),
                ("GET", "/api/sandbox/{id}", self._get),
                ("DELETE", "/api/sandbox/{id}", self._delete),
                ("GET", "/toolbox/{id}/user-home-dir", self._home),
                ("POST", "/toolbox/{id}/process/execute", self._execute),
                ("POST", "/toolbox/{id}/git/clone", self._clone),
                ("POST", "/toolbox/{id}/process/session", self._session),
                ("POST", "/toolbox/{id}/process/session/{sid}/exec", self._session_exec),
                ("GET", "/toolbox/{id}/process/session/{sid}/command/{cid}", self._command),
                ("GET", "/toolbox/{id}/process/session/{sid}/command/{cid}/logs", self._logs),
                ("POST", "/toolbox/{id}/files/bulk-download", self._download),
                ("POST", "/toolbox/{id}/files/bulk-upload", self._upload),
            ]
        )

    def __enter__(self) -> DaytonaStandIn:
        self.shared.mkdir(parents=True, exist_ok=True)
        self.bin.mkdir(parents=True, exist_ok=True)
        super().__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sandbox in list(self.sandboxes.values()):
            kill_all(sandbox)
        # Let every killed process's pump read its last bytes and reap it on this loop:
        # a subprocess transport left for the garbage collector after the loop closes
        # raises "Event loop is closed" in some later test.
        asyncio.run_coroutine_threadsafe(self._finish_pumps(), self._loop).result(timeout=30)
        super().__exit__(*exc_info)

    async def _finish_pumps(self) -> None:
        if self._pumps:
            await asyncio.wait(self._pumps, timeout=20)

    def install_claude(self) -> None:
        """Put the fake `claude` on the sandboxes' PATH, or a fake `npm` that installs it."""
        claude = self.bin / "claude"
        if self.real_claude is not None:
            claude.symlink_to(self.real_claude)
            return
        script = f'#!/bin/sh\nexec {sys.executable} {FAKE_CLAUDE} "$@"\n'
        if self.claude_preinstalled:
            claude.write_text(script)
            claude.chmod(0o755)
            return
        npm = self.bin / "npm"
        npm.write_text(
            "#!/bin/sh\n"
            f'[ "$*" = "install -g @anthropic-ai/claude-code" ] || exit 1\n'
            f"cat > {claude} <<'EOF'\n{script}EOF\nchmod 755 {claude}\n"
        )
        npm.chmod(0o755)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def live(self) -> list[Sandbox]:
        return list(self.sandboxes.values())

    # -- REST API --------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {VALID_DAYTONA_KEY}"

    def _unauthorised(self) -> web.Response:
        if self.reject_with == 403:  # a key without sandbox permissions
            return web.json_response(
                {"statusCode": 403, "message": "Forbidden resource", "error": "Forbidden"},
                status=403,
            )
        return web.json_response(
            {"statusCode": 401, "message": "Invalid API key", "error": "Unauthorized"}, status=401
        )

    def _sandbox_json(self, sandbox: Sandbox, state: str = "started") -> dict[str, Any]:
        item = sandbox_list_item(sandbox.id, sandbox.labels, f"{self.url}/toolbox")
        return {**item, "env": sandbox.env, "kvm": False, "state": state}

    async def _list(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "server_error":
            return web.json_response(
                {"statusCode": 503, "message": "Service Unavailable"}, status=503
            )
        if self.mode == "rate_limited":
            return web.json_response(
                {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}, status=429
            )
        if not self._authorised(request):
            return self._unauthorised()
        wanted = json.loads(request.query.get("labels") or "{}")
        items = [
            self._sandbox_json(s)
            for s in self.sandboxes.values()
            if all(s.labels.get(k) == v for k, v in wanted.items())
        ]
        if not wanted:
            items.append(sandbox_list_item("sb-other", {"app": "other"}, f"{self.url}/toolbox"))
        for item in items:
            item.pop("env", None)
        return web.json_response({"items": items, "nextCursor": None})

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return self._unauthorised()
        if self.create_delay:
            await asyncio.sleep(self.create_delay)
        if self.create_faults:
            status = self.create_faults.pop(0)
            return web.json_response(
                {"statusCode": status, "message": "injected fault"}, status=status
            )
        body = await request.json()
        if not (self.bin / "claude").exists() and not (self.bin / "npm").exists():
            self.install_claude()
        sandbox_id = f"sb-{next(self._ids)}"
        home = self.root / "sandboxes" / sandbox_id / "home"
        home.mkdir(parents=True)
        sandbox = Sandbox(
            sandbox_id,
            dict(body.get("env") or {}),
            dict(body.get("labels") or {}),
            home,
            body,
            time.time(),
        )
        self.sandboxes[sandbox_id] = sandbox
        self.created.append(sandbox)
        return web.json_response(self._sandbox_json(sandbox, self._state(sandbox)))

    async def _get(self, request: web.Request) -> web.StreamResponse:
        sandbox = self.sandboxes.get(request.match_info["id"])
        if sandbox is None:
            return web.json_response(
                {"statusCode": 404, "message": "Sandbox not found"}, status=404
            )
        return web.json_response(self._sandbox_json(sandbox, self._state(sandbox)))

    def _state(self, sandbox: Sandbox) -> str:
        if self.fail_start:
            return "error"
        return "starting" if time.time() < sandbox.created_at + self.start_delay else "started"

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        if self.delete_delay:
            await asyncio.sleep(self.delete_delay)
        if self.delete_faults:
            status = self.delete_faults.pop(0)
            return web.json_response(
                {"statusCode": status, "message": "injected fault"}, status=status
            )
        sandbox = self.sandboxes.pop(request.match_info["id"], None)
        if sandbox is None:
            return web.json_response(
                {"statusCode": 404, "message": "Sandbox not found"}, status=404
            )
        kill_all(sandbox)
        self.deleted.append(sandbox.id)
        return web.json_response(self._sandbox_json(sandbox, "destroying"))

    # -- toolbox -------------------------------------------------------------------------

    def _sandbox(self, request: web.Request) -> Sandbox:
        sandbox = self.sandboxes.get(request.match_info["id"])
        if sandbox is None:
            raise web.HTTPNotFound(
                text=json.dumps({"message": "no such sandbox"}), content_type="application/json"
            )
        return sandbox

    def _process_env(self, sandbox: Sandbox, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "HOME": str(sandbox.home),
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "FAKE_CLAUDE_SHARED": str(self.shared),
            **self.extra_env,
            **sandbox.env,
            **(extra or {}),
        }

    async def _home(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"dir": str(self._sandbox(request).home)})

    async def _execute(self, request: web.Request) -> web.StreamResponse:
        sandbox = self._sandbox(request)
        body = await request.json()
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            body["command"],
            cwd=body.get("cwd") or sandbox.home,
            env=self._process_env(sandbox, body.get("envs")),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        sandbox.processes.append(process)
        output, _ = await process.communicate()
        return web.json_response(
            {"exitCode": process.returncode, "result": output.decode("utf-8", "replace")}
        )

    async def _clone(self, request: web.Request) -> web.StreamResponse:
        sandbox = self._sandbox(request)
        body = await request.json()
        branch = ["--branch", body["branch"]] if body.get("branch") else []
        process = await asyncio.create_subprocess_exec(
            "git",
            "clone",
            "-q",
            *branch,
            body["url"],
            body["path"],
            env=self._process_env(sandbox),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode:
            return web.json_response(
                {"statusCode": 400, "message": output.decode().strip()}, status=400
            )
        return web.json_response({})

    async def _session(self, request: web.Request) -> web.StreamResponse:
        self._sandbox(request)
        return web.json_response({}, status=201)

    async def _session_exec(self, request: web.Request) -> web.StreamResponse:
        sandbox = self._sandbox(request)
        body = await request.json()
        command = Command(id=f"cmd-{next(self._ids)}", command=body["command"])
        sandbox.commands[command.id] = command
        command.process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            body["command"],
            cwd=sandbox.home,
            env=self._process_env(sandbox),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        sandbox.processes.append(command.process)
        command.pump = asyncio.ensure_future(self._pump(command))
        self._pumps.add(command.pump)
        command.pump.add_done_callback(self._pumps.discard)
        return web.json_response({"cmdId": command.id})

    async def _pump(self, command: Command) -> None:
        process = command.process
        assert process is not None
        assert process.stdout is not None
        assert process.stderr is not None

        async def read(stream: asyncio.StreamReader, into: bytearray, prefix: bytes) -> None:
            while True:
                line = await stream.readline()
                if not line:
                    return
                into.extend(line)
                command.frames.append(prefix + line)
                command.changed.set()

        await asyncio.gather(
            read(process.stdout, command.stdout, STDOUT_PREFIX),
            read(process.stderr, command.stderr, STDERR_PREFIX),
        )
        command.exit_code = await process.wait()
        if process.stdin is not None:
            process.stdin.close()  # the last open pipe: the transport closes on this loop
        command.changed.set()

    def _command_of(self, request: web.Request) -> Command:
        command = self._sandbox(request).commands.get(request.match_info["cid"])
        if command is None:
            raise web.HTTPNotFound()
        return command

    async def _command(self, request: web.Request) -> web.StreamResponse:
        command = self._command_of(request)
        return web.json_response(
            {"id": command.id, "command": command.command, "exitCode": command.exit_code}
        )

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        command = self._command_of(request)
        if request.query.get("follow") != "true":
            stdout = command.stdout.decode("utf-8", "replace")
            stderr = command.stderr.decode("utf-8", "replace")
            return web.json_response(
                {"output": stdout + stderr, "stdout": stdout, "stderr": stderr}
            )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sent = 0
        sent_bytes = 0
        while True:
            command.changed.clear()
            while sent < len(command.frames):
                # Like a daemon forwarding pipe reads: what is waiting goes as one frame.
                frame = bytearray(command.frames[sent])
                sent += 1
                while (
                    sent < len(command.frames)
                    and command.frames[sent][:3] == frame[:3]
                    and len(frame) < 64 * 1024
                ):
                    frame += command.frames[sent][3:]
                    sent += 1
                sent_bytes += len(frame)
                try:
                    await ws.send_bytes(bytes(frame))
                except ConnectionResetError:  # the follower went away: nothing to send to
                    return ws
                if (
                    self.drop_stream_after_bytes is not None
                    and sent_bytes >= self.drop_stream_after_bytes
                ):
                    await ws.close(code=self.drop_close_code, message=b"injected drop")
                    return ws
            if command.exit_code is not None and sent == len(command.frames):
                await ws.close(code=WSCloseCode.OK)
                return ws
            await command.changed.wait()

    async def _download(self, request: web.Request) -> web.StreamResponse:
        self._sandbox(request)
        body = await request.json()
        writer = MultipartWriter("form-data")
        for path in body["paths"]:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                part = writer.append_json({"message": str(exc), "statusCode": 404})
                part.set_content_disposition(
                    "form-data", quote_fields=False, name="error", filename=path
                )
                continue
            part = writer.append(data, {"Content-Type": "application/octet-stream"})
            part.set_content_disposition(
                "form-data", quote_fields=False, name="file", filename=path
            )
        return web.Response(
            body=writer, content_type=f"multipart/form-data; boundary={writer.boundary}"
        )

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """Multipart fields ``files[i].path`` and ``files[i].file``, as the SDK sends them."""
        self._sandbox(request)
        paths: dict[str, str] = {}
        contents: dict[str, bytes] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            index = part.name.split("]", 1)[0]
            if part.name.endswith(".path"):
                paths[index] = await part.text()
            else:
                contents[index] = bytes(await part.read())
        for index, path in paths.items():
            target = Path(path)
            if not target.parent.is_dir():
                return web.json_response(
                    {"statusCode": 400, "message": f"no such folder: {target.parent}"}, status=400
                )
            target.write_bytes(contents.get(index, b""))
        self.uploads.extend(paths.values())
        return web.json_response({})


def kill_all(sandbox: Sandbox) -> None:
    """Deleting a sandbox ends everything in it, grandchildren included."""
    for process in sandbox.processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def serve() -> None:
    """`python -m tests.daytona_standin ROOT [KEY=VALUE ...]`: serve until stdin closes.

    Prints the API URL on its first line. Benchmarks run it in its own process so
    that the app's CPU and memory are measured alone.
    """
    root = Path(sys.argv[1])
    with DaytonaStandIn(root) as standin:
        standin.extra_env.update(dict(arg.split("=", 1) for arg in sys.argv[2:]))
        print(standin.api_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve()
