"""A small real HTTP server on 127.0.0.1 speaking the OpenAI shapes, with faults on demand.

It answers ``/v1/completions`` (with ``echo`` + ``logprobs``: every character of the prompt is one
token of log-probability -0.5, so a continuation scores -0.5 per character) and
``/v1/chat/completions``; it can refuse the first requests with 429, stall the first requests past
the client's timeout, or fail every request after a number of answers (a server going down).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

TOKEN_LOGPROB = -0.5


class StubState:
    def __init__(self, *, reject_first: int = 0, stall_first: int = 0, stall_s: float = 0.0,
                 answers_before_down: int | None = None, prompt_logprobs: bool = True):
        self.reject_first = reject_first
        self.stall_first = stall_first
        self.stall_s = stall_s
        self.answers_before_down = answers_before_down
        self.prompt_logprobs = prompt_logprobs
        self.requests: list[dict] = []  # every body received, with its headers
        self.answered = 0
        self.lock = threading.Lock()


def answer_for(prompt: str) -> str:
    """A canned answer that depends on the prompt (so that cached answers can be told apart)."""
    return f"{len(prompt) % 97}\nmore text"


def _completion(body: dict, state: StubState) -> dict:
    prompt = body.get("prompt", "")
    if body.get("echo") and body.get("logprobs") is not None:
        text = prompt + "x"
        lp = None
        if state.prompt_logprobs:
            lp = {"tokens": list(text), "token_logprobs": [None] + [TOKEN_LOGPROB] * (len(text) - 1),
                  "text_offset": list(range(len(text))),
                  "top_logprobs": [None] + [{c: TOKEN_LOGPROB} for c in text[1:]]}
        return {"choices": [{"index": 0, "text": text, "logprobs": lp, "finish_reason": "length"}],
                "usage": {"prompt_tokens": len(prompt), "completion_tokens": 1}}
    text = answer_for(prompt)
    return {"choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(text)}}


def _chat(body: dict) -> dict:
    last = body["messages"][-1]["content"]
    text = "Reply: " + answer_for(last)
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(last), "completion_tokens": len(text)}}


def _handler(state: StubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, code: int, payload: dict, headers: dict | None = None):
            data = json.dumps(payload).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on a stalled answer (the timeout test)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with state.lock:
                n = len(state.requests)
                state.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                down = state.answers_before_down is not None and state.answered >= state.answers_before_down
            if n < state.reject_first:
                return self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
            if n < state.stall_first:
                time.sleep(state.stall_s)
            if down:
                return self._send(503, {"error": {"message": "unavailable"}})
            if self.path == "/v1/completions":
                reply = _completion(body, state)
            elif self.path == "/v1/chat/completions":
                reply = _chat(body)
            else:
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            with state.lock:
                state.answered += 1
            self._send(200, reply)

    return Handler


class StubServer:
    def __init__(self, state: StubState | None = None, port: int = 0):
        self.state = state or StubState()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
