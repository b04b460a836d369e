"""An OpenAI-compatible inference server on 127.0.0.1, as vLLM serves a fine-tuned model.

For the endpoint backend's tests: the real openai client talks to it over HTTP. It
follows vLLM's OpenAI-compatible server for the routes the backend uses:

- ``GET /v1/models``: the served models (``owned_by: vllm``);
- ``POST /v1/completions`` and ``POST /v1/chat/completions``;
- errors as vLLM words them: ``{"object": "error", "message": "The model `x` does not
  exist.", "type": "NotFoundError", "param": null, "code": 404}``; with ``--api-key``,
  a request without the key gets 401 ``{"error": "Unauthorized"}``.

A served model is a classifier trained on a file when it is served, so the accuracy
the tests assert is measured. Faults (a proxy's 429, a 503 while loading) are
injected per method and path, in the OpenAI shape a gateway in front sends.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fake_openai import RAMBLE, FakeModel, _generate, _trained, _usage

from pytest_finetune.training.examples import Example


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    body: Any
    authorization: str | None


@dataclass
class Fault:
    """An error response given instead of the real one, ``times`` times (-1: always)."""

    method: str
    path: re.Pattern[str]
    status: int
    payload: dict[str, Any]
    headers: dict[str, str]
    times: int


class FakeServer:
    """The server: served models, faults and the HTTP server that exposes them."""

    def __init__(self, *, api_key: str | None = None, lists_models: bool = True) -> None:
        #: The key ``vllm serve --api-key`` would require (``None``: none).
        self.api_key = api_key
        #: Whether ``GET /v1/models`` exists (some servers have no list).
        self.lists_models = lists_models
        self.models: dict[str, FakeModel] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        """The base URL clients are given (``.../v1``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def serve(self, name: str, train: Path, *, chat: bool, seed: int = 42) -> None:
        """Serve under ``name`` a model fine-tuned on ``train`` (as ``--lora-modules`` does)."""
        classifier, _steps, examples = _trained(train.read_bytes(), b"", None, None, seed)
        self.models[name] = FakeModel(classifier, examples.separator, examples.stop, chat)

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        message: str,
        *,
        code: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer ``times`` requests matching ``path`` (a regular expression) with an error."""
        error = {"message": message, "type": "error", "param": None, "code": code}
        self.faults.append(
            Fault(method, re.compile(path), status, {"error": error}, headers or {}, times)
        )

    def count(self, method: str, path: str) -> int:
        """How many requests matched ``method`` and the regular expression ``path``."""
        pattern = re.compile(path)
        return sum(1 for r in self.requests if r.method == method and pattern.fullmatch(r.path))

    # -- the API ------------------------------------------------------------------

    def handle(
        self, method: str, path: str, authorization: str | None, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parsed = json.loads(body) if body else None
        with self._lock:
            self.requests.append(Request(method, path, parsed, authorization))
            if self.api_key is not None and authorization != f"Bearer {self.api_key}":
                return 401, {"error": "Unauthorized"}, {}
            for fault in self.faults:
                if fault.times != 0 and fault.method == method and fault.path.fullmatch(path):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault.status, fault.payload, fault.headers
            if path == "/v1/models" and method == "GET" and self.lists_models:
                return 200, self._list(), {}
            if path == "/v1/completions" and method == "POST":
                return self._complete(parsed)
            if path == "/v1/chat/completions" and method == "POST":
                return self._chat(parsed)
            return 404, {"detail": "Not Found"}, {}

    def _list(self) -> dict[str, Any]:
        created = int(time.time())
        return {
            "object": "list",
            "data": [
                {
                    "id": name,
                    "object": "model",
                    "created": created,
                    "owned_by": "vllm",
                    "root": f"/models/{name}",
                    "parent": None,
                    "max_model_len": 4096,
                }
                for name in self.models
            ],
        }

    def _complete(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        model = self.models.get(body.get("model", ""))
        if model is None:
            return _missing(body.get("model"))
        prompt = body["prompt"]
        label = model.answer(Example(0, "", prompt=prompt).text(model.separator))
        text, reason = _generate(
            label + model.stop + RAMBLE, body.get("stop"), body.get("max_tokens")
        )
        return (
            200,
            {
                "id": f"cmpl-{len(self.requests)}",
                "object": "text_completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": reason}],
                "usage": _usage(prompt, text),
            },
            {},
        )

    def _chat(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        model = self.models.get(body.get("model", ""))
        if model is None:
            return _missing(body.get("model"))
        messages = tuple(body["messages"])
        label = model.answer(Example(0, "", messages=messages).text(model.separator))
        text, reason = _generate(label, body.get("stop"), body.get("max_tokens"))
        return (
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": reason,
                        "logprobs": None,
                    }
                ],
                "usage": _usage(json.dumps(messages), text),
            },
            {},
        )


def _missing(model: object) -> tuple[int, Any, dict[str, str]]:
    return (
        404,
        {
            "object": "error",
            "message": f"The model `{model}` does not exist.",
            "type": "NotFoundError",
            "param": None,
            "code": 404,
        },
        {},
    )


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload, extra = server.handle(
                method, self.path, self.headers.get("authorization"), body
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``server.requests`` instead."""

    return Handler
