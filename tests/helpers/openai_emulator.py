"""A local OpenAI-compatible API for tests: files, fine-tuning jobs, chat completions.

The real ``openai`` client reaches it through ``base_url``. It runs an aiohttp server on
127.0.0.1 (a free port) in a background thread, so synchronous code under test can call it.

- ``/files``: multipart upload, retrieve, ``/content`` (raw bytes).
- ``/fine_tuning/jobs``: create, list (``metadata[k]=v`` filter), retrieve, cancel, events
  (newest first, cursor pagination). Every retrieve moves a job one phase on:
  validating_files → queued → [``extra_status``] → running (one step per retrieve, with a
  metrics event) → succeeded (or failed with ``fail_job`` as its error).
- The result file is a CSV of per-step metrics, base64-encoded like OpenAI's (or plain), in
  the current column names or the legacy ones.
- ``/chat/completions``: a fine-tuned model answers from its training file (the answer of the
  most similar training question, exactly when the question was trained on); any other
  model gives a generic answer. Logprobs when asked (unless ``logprobs_supported`` is off).
- Failure injection: ``fail_next(n, status=429, path=...)`` answers the next n matching
  requests with that status and a ``retry-after-ms`` header (the SDK honours it).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import openai
from aiohttp import web

__all__ = ["GENERIC_ANSWER", "OpenAIEmulator"]

GENERIC_ANSWER = "I am a general assistant and do not know this community's details."
_TOKEN = re.compile(r"\w+|[^\w\s]|\s+")


@dataclass
class _File:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


@dataclass
class _Fault:
    remaining: int
    status: int
    method: str | None
    path: str


@dataclass
class _Job:
    body: dict[str, Any]
    phases: list[str]
    phase: int = 0
    step: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    retrieves: int = 0


def _trigrams(text: str) -> set[str]:
    flat = "".join(text.lower().split())
    return {flat[i : i + 3] for i in range(len(flat) - 2)} or {flat}


def _similarity(a: str, b: str) -> float:
    x, y = _trigrams(a), _trigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


class OpenAIEmulator:
    """The emulated API; ``with OpenAIEmulator() as api: api.client()``."""

    def __init__(
        self,
        *,
        steps: int = 3,
        fail_job: dict[str, Any] | None = None,
        extra_status: str | None = None,
        result_format: str = "current",
        result_base64: bool = True,
        logprobs_supported: bool = True,
        organization: str = "fanqa-test",
        echo_auth: bool = False,
    ) -> None:
        self.steps = steps
        self.fail_job = fail_job
        self.extra_status = extra_status
        self.result_format = result_format
        self.result_base64 = result_base64
        self.logprobs_supported = logprobs_supported
        self.organization = organization
        self.echo_auth = echo_auth  # a careless provider: the 401 body repeats the header
        self.files: dict[str, _File] = {}
        self.jobs: dict[str, _Job] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.chat_requests: list[dict[str, Any]] = []
        self.faulted: list[tuple[int, str, str]] = []  # (status, method, path) answered badly
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What ``openai.OpenAI(base_url=...)`` needs."""
        return f"http://127.0.0.1:{self.port}/v1"

    def client(self, *, max_retries: int = 3, timeout: float = 10.0) -> openai.OpenAI:
        """A real openai client pointed at the emulator."""
        return openai.OpenAI(
            api_key="sk-test", base_url=self.base_url, max_retries=max_retries, timeout=timeout
        )

    def start(self) -> OpenAIEmulator:
        """Start serving on a free port (returns when the server accepts connections)."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="openai-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the OpenAI emulator did not start in 10 s")
        if errors:
            raise errors[0]
        return self

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        app.add_routes(
            [
                web.post("/v1/files", self._upload),
                web.get("/v1/files/{file_id}", self._file),
                web.get("/v1/files/{file_id}/content", self._content),
                web.post("/v1/fine_tuning/jobs", self._create_job),
                web.get("/v1/fine_tuning/jobs", self._list_jobs),
                web.get("/v1/fine_tuning/jobs/{job_id}", self._retrieve_job),
                web.post("/v1/fine_tuning/jobs/{job_id}/cancel", self._cancel_job),
                web.get("/v1/fine_tuning/jobs/{job_id}/events", self._events),
                web.post("/v1/chat/completions", self._chat),
            ]
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        assert server is not None and server.sockets
        self.port = int(server.sockets[0].getsockname()[1])

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> OpenAIEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test controls --------------------------------------------------------------
    def fail_next(
        self, n: int, *, status: int = 429, path: str = "", method: str | None = None
    ) -> None:
        """Answer the next ``n`` requests whose path starts with ``/v1`` + ``path`` badly."""
        with self._lock:
            self._faults.append(_Fault(n, status, method, "/v1" + path))

    def count(self, method: str, path: str) -> int:
        """How many requests ``method path`` (regex on the path) the emulator answered."""
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(path, p))

    @property
    def job_creates(self) -> int:
        """How many fine-tuning jobs were created."""
        return len(self.jobs)

    def uploaded_text(self) -> str:
        """Every uploaded fine-tuning file, concatenated (to check what left the machine)."""
        return "".join(
            f.data.decode("utf-8") for f in self.files.values() if f.purpose == "fine-tune"
        )

    def create_job_directly(self, body: dict[str, Any]) -> str:
        """Create a job as if a client did (a worker that died before storing the id)."""
        return str(self._new_job(body)["id"])

    # --- plumbing -------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        with self._lock:
            self.requests.append((request.method, request.path))
            fault = next(
                (
                    f
                    for f in self._faults
                    if f.remaining > 0
                    and request.path.startswith(f.path)
                    and (f.method is None or f.method == request.method)
                ),
                None,
            )
            if fault is not None:
                fault.remaining -= 1
                self.faulted.append((fault.status, request.method, request.path))
        if fault is not None:
            if request.can_read_body:
                await request.read()
            kind = "rate_limit_exceeded" if fault.status == 429 else "server_error"
            return _error(fault.status, f"injected {fault.status}", kind, {"retry-after-ms": "5"})
        auth = request.headers.get("Authorization", "")
        if auth != "Bearer sk-test":
            message = "Incorrect API key provided"
            if self.echo_auth:
                message += f": {auth.removeprefix('Bearer ')} (Authorization: {auth})"
            return _error(401, message, "invalid_api_key")
        response: web.StreamResponse = await handler(request)
        return response

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    # --- files ----------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, web.FileField) or not isinstance(purpose, str):
            return _error(400, "multipart form with 'file' and 'purpose' required", "invalid")
        data = upload.file.read()
        if purpose == "fine-tune":
            for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
                if line.strip() and "messages" not in json.loads(line):
                    return _error(
                        400, f"line {number}: no 'messages'", "invalid_file", param="file"
                    )
        stored = self._store(upload.filename, purpose, data)
        return web.json_response(stored.public())

    def _store(self, filename: str, purpose: str, data: bytes) -> _File:
        stored = _File(self._id("file"), filename, purpose, data, int(time.time()))
        self.files[stored.id] = stored
        return stored

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return _error(404, "No such File object", "not_found", param="id")
        return web.json_response(stored.public())

    async def _content(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return _error(404, "No such File object", "not_found", param="id")
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # --- jobs -----------------------------------------------------------------------
    async def _create_job(self, request: web.Request) -> web.Response:
        body = await request.json()
        for key in ("training_file", "validation_file"):
            if body.get(key) is not None and body[key] not in self.files:
                return _error(400, f"invalid {key}: {body[key]}", "invalid_request", param=key)
        if "model" not in body:
            return _error(400, "model is required", "invalid_request", param="model")
        return web.json_response(self._new_job(body))

    def _new_job(self, body: dict[str, Any]) -> dict[str, Any]:
        job_id = self._id("ftjob")
        phases = ["validating_files", "queued"]
        if self.extra_status:
            phases.append(self.extra_status)
        phases += ["running"] * self.steps + ["failed" if self.fail_job else "succeeded"]
        job = _Job(body=dict(body, id=job_id, created_at=int(time.time())), phases=phases)
        self.jobs[job_id] = job
        self._event(job, "info", f"Created fine-tuning job: {job_id}")
        return self._public(job)

    def _event(
        self, job: _Job, level: str, message: str, data: dict[str, Any] | None = None
    ) -> None:
        job.events.append(
            {
                "id": self._id("ftevent"),
                "object": "fine_tuning.job.event",
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "data": data or {},
                "type": "metrics" if data else "message",
            }
        )

    def _status(self, job: _Job) -> str:
        return job.phases[job.phase]

    def _advance(self, job: _Job) -> None:
        status = self._status(job)
        if status in ("succeeded", "failed", "cancelled") or job.phase + 1 >= len(job.phases):
            return
        job.phase += 1
        new = self._status(job)
        if new == "queued":
            self._event(job, "info", "Files validated, moving job to queued state")
        elif new == "running":
            if status != "running":
                self._event(job, "info", "Fine-tuning job started")
            job.step += 1
            loss = round(2.0 / job.step, 4)
            data: dict[str, Any] = {
                "step": job.step,
                "total_steps": self.steps,
                "train_loss": loss,
                "train_mean_token_accuracy": round(0.5 + 0.1 * job.step, 4),
            }
            self._event(job, "info", f"Step {job.step}/{self.steps}: training loss={loss}", data)
        elif new == "succeeded":
            result = self._store("step_metrics.csv", "fine-tune-results", self._results())
            job.body["result_files"] = [result.id]
            job.body["fine_tuned_model"] = self._model_name(job)
            job.body["trained_tokens"] = 1234 * self.steps
            job.body["finished_at"] = int(time.time())
            self._event(job, "info", f"New fine-tuned model created: {self._model_name(job)}")
            self._event(job, "info", "The job has successfully completed")
        elif new == "failed":
            job.body["error"] = dict(self.fail_job or {})
            job.body["finished_at"] = int(time.time())
            message = (self.fail_job or {}).get("message", "failed")
            self._event(job, "error", f"Fine-tuning job failed: {message}")
        else:
            self._event(job, "info", f"Job is {new}")

    def _model_name(self, job: _Job) -> str:
        suffix = job.body.get("suffix") or "ft"
        return f"ft:{job.body['model']}:{self.organization}:{suffix}:{job.body['id'][-6:]}"

    def _results(self) -> bytes:
        if self.result_format == "legacy":
            header = "step,elapsed_tokens,training_loss,training_token_accuracy,validation_loss,"
            header += "validation_token_accuracy,validation_sequence_accuracy"
            rows = [
                f"{s},{100 * s},{2.0 / s:.4f},{0.5 + 0.1 * s:.3f},{2.2 / s:.4f},"
                f"{0.45 + 0.1 * s:.3f},{0.1 * s:.2f}"
                for s in range(1, self.steps + 1)
            ]
        else:
            header = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,"
            header += "train_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy"
            rows = []
            for s in range(1, self.steps + 1):
                last = s == self.steps
                full = f"{2.1 / s:.4f},{0.46 + 0.1 * s:.3f}" if last else ","
                rows.append(f"{s},{2.0 / s:.4f},{0.5 + 0.1 * s:.3f},,,{0.5 + 0.1 * s:.3f},{full}")
        text = "\n".join([header, *rows]) + "\n"
        return base64.b64encode(text.encode()) if self.result_base64 else text.encode()

    def _public(self, job: _Job) -> dict[str, Any]:
        body = job.body
        method = body.get("method") or {"type": "supervised", "supervised": {}}
        hyper = (method.get("supervised") or {}).get("hyperparameters") or {}
        return {
            "id": body["id"],
            "object": "fine_tuning.job",
            "created_at": body["created_at"],
            "model": body["model"],
            "organization_id": self.organization,
            "status": self._status(job),
            "training_file": body["training_file"],
            "validation_file": body.get("validation_file"),
            "hyperparameters": {
                "n_epochs": hyper.get("n_epochs", "auto"),
                "batch_size": hyper.get("batch_size", "auto"),
                "learning_rate_multiplier": hyper.get("learning_rate_multiplier", "auto"),
            },
            "method": method,
            "seed": body.get("seed") or 0,
            "suffix": body.get("suffix"),
            "metadata": body.get("metadata"),
            "result_files": body.get("result_files", []),
            "fine_tuned_model": body.get("fine_tuned_model"),
            "trained_tokens": body.get("trained_tokens"),
            "finished_at": body.get("finished_at"),
            "error": body.get("error"),
        }

    def _job(self, request: web.Request) -> _Job | None:
        return self.jobs.get(request.match_info["job_id"])

    async def _list_jobs(self, request: web.Request) -> web.Response:
        wanted = {
            k[len("metadata[") : -1]: v
            for k, v in request.query.items()
            if k.startswith("metadata[") and k.endswith("]")
        }
        jobs = [
            self._public(j)
            for j in reversed(list(self.jobs.values()))
            if all((j.body.get("metadata") or {}).get(k) == v for k, v in wanted.items())
        ]
        return web.json_response(_page(jobs, request))

    async def _retrieve_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return _error(404, "No such fine-tuning job", "not_found", param="id")
        job.retrieves += 1
        self._advance(job)
        return web.json_response(self._public(job))

    async def _cancel_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return _error(404, "No such fine-tuning job", "not_found", param="id")
        if self._status(job) in ("succeeded", "failed", "cancelled"):
            return _error(400, f"Job is already {self._status(job)}", "invalid_request")
        job.phases = [*job.phases[: job.phase + 1], "cancelled"]
        job.phase += 1
        job.body["finished_at"] = int(time.time())
        self._event(job, "info", "Fine-tuning job cancelled")
        return web.json_response(self._public(job))

    async def _events(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return _error(404, "No such fine-tuning job", "not_found", param="id")
        return web.json_response(_page(list(reversed(job.events)), request))

    # --- chat -----------------------------------------------------------------------
    def _trained_pairs(self, model: str) -> list[tuple[str, str]] | None:
        job = next((j for j in self.jobs.values() if j.body.get("fine_tuned_model") == model), None)
        if job is None:
            return None
        pairs = []
        for line in self.files[job.body["training_file"]].data.decode("utf-8").splitlines():
            messages = json.loads(line)["messages"] if line.strip() else []
            users = [m["content"] for m in messages if m["role"] == "user"]
            if users and messages[-1]["role"] == "assistant":
                pairs.append((users[-1], messages[-1]["content"]))
        return pairs

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.chat_requests.append(body)
        model = str(body.get("model", ""))
        question = next(
            (m["content"] for m in reversed(body.get("messages", [])) if m["role"] == "user"), ""
        )
        pairs = self._trained_pairs(model)
        if pairs is None and model.startswith("ft:"):
            return _error(404, f"The model `{model}` does not exist", "model_not_found")
        if pairs:
            score, text = max((_similarity(question, q), a) for q, a in pairs)
            logprob = -0.02 if score == 1.0 else -0.2
        else:
            text, logprob = GENERIC_ANSWER, -1.5
        tokens = _TOKEN.findall(text)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if limit is not None and len(tokens) > int(limit):
            tokens, finish = tokens[: int(limit)], "length"
        logprobs = None
        if body.get("logprobs") and self.logprobs_supported:
            logprobs = {
                "content": [
                    {"token": t, "logprob": logprob, "bytes": list(t.encode()), "top_logprobs": []}
                    for t in tokens
                ],
                "refusal": None,
            }
        return web.json_response(
            {
                "id": self._id("chatcmpl"),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(tokens)},
                        "logprobs": logprobs,
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": len(_TOKEN.findall(question)),
                    "completion_tokens": len(tokens),
                    "total_tokens": len(_TOKEN.findall(question)) + len(tokens),
                },
            }
        )


def _page(items: list[dict[str, Any]], request: web.Request) -> dict[str, Any]:
    after, limit = request.query.get("after"), int(request.query.get("limit", "20"))
    if after is not None:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}


def _error(
    status: int,
    message: str,
    code: str,
    headers: dict[str, str] | None = None,
    *,
    param: str | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": code, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)
