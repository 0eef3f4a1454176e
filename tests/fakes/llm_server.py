"""A fake OpenAI-compatible server: FastAPI under uvicorn in a thread, on 127.0.0.1.

    with FakeLLM() as llm:
        llm.reply("consultar_precio", "¡Claro! 😊", calls=[("add_to_cart", {"sku": "TOR-CHOC", "quantity": 2})])
        llm.fail(500)          # the next request gets an HTTP 500
        llm.stall(3.0)         # the next request is answered after 3 s (a timeout for the client)
        llm.responder = fn     # answers requests nobody scripted: fn(request_json) -> Answer
        ... point CHASQUI_LLM_BASE_URL at llm.base_url ...
        llm.requests           # every request's JSON body, in order

Unscripted requests without a responder get ``label_intent(fuera_de_alcance)`` and no text.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class Answer:
    intent: str | None = None
    reply: str = ""
    calls: list[tuple[str, Any]] = field(default_factory=list)  # (tool name, arguments dict or raw str)
    content: str | None = None
    status: int = 200
    delay_s: float = 0.0
    prompt_tokens: int = 120
    completion_tokens: int = 30

    def body(self, model: str, number: int) -> dict[str, Any]:
        calls = list(self.calls)
        if self.intent is not None:
            calls.insert(0, ("label_intent", {"intent": self.intent, "reply": self.reply}))
        tool_calls = [
            {"id": f"call_{number}_{i}", "type": "function",
             "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
            for i, (name, args) in enumerate(calls)
        ]
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return {
            "id": f"chatcmpl-fake-{number}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if tool_calls else "stop"}],
            "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                      "total_tokens": self.prompt_tokens + self.completion_tokens},
        }


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.responder: Callable[[dict[str, Any]], Answer] | None = None
        self._script: list[Answer] = []
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self._app(), log_level="error", lifespan="off", access_log=False,
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="fake-llm", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}/v1"

    # -- scripting ------------------------------------------------------------------------------
    def reply(self, intent: str | None, text: str = "", calls: list[tuple[str, Any]] | None = None,
              **extra: Any) -> None:
        self.push(Answer(intent=intent, reply=text, calls=list(calls or []), **extra))

    def fail(self, status: int = 500, times: int = 1) -> None:
        for _ in range(times):
            self.push(Answer(status=status))

    def stall(self, seconds: float, times: int = 1) -> None:
        for _ in range(times):
            self.push(Answer(intent="saludo", reply="tarde", delay_s=seconds))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.headers.clear()
            self._script.clear()
            self.responder = None

    def last_user_text(self, index: int = -1) -> str:
        """The last customer message of request ``index``."""
        messages = self.requests[index]["messages"]
        return next(m["content"] for m in reversed(messages) if m["role"] == "user")

    def push(self, answer: Answer) -> None:
        with self._lock:
            self._script.append(answer)

    # -- server ---------------------------------------------------------------------------------
    def _next(self, body: dict[str, Any]) -> Answer:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        if self.responder is not None:
            return self.responder(body)
        return Answer(intent="fuera_de_alcance")

    def _app(self) -> FastAPI:
        app = FastAPI()
        fake = self

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> JSONResponse:
            body = await request.json()
            with fake._lock:
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in request.headers.items()})
                number = len(fake.requests)
            answer = fake._next(body)
            if answer.delay_s:
                await asyncio.sleep(answer.delay_s)
            if answer.status != 200:
                return JSONResponse({"error": {"message": "fake failure", "type": "server_error"}},
                                    status_code=answer.status)
            return JSONResponse(answer.body(body.get("model", ""), number))

        return app

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()
