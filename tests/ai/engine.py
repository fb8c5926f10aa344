"""A real local inference engine for the AI tests, and Ollama's API in front of it.

Starts llama.cpp's server (the xllamacpp wheel) on a free loopback port with SmolLM2-135M, one
thread, a fixed seed; a second instance serves the same model with a context of 8192 tokens
per request (the first gives 2048), and a third serves embeddings. Then serves
Ollama's documented HTTP API on another free loopback port, translated onto llama.cpp's
OpenAI-compatible API, so generation, token counts and timings stay real. Prints one JSON line
with the addresses and runs until its stdin closes (the test process ending closes it, so
nothing is left running).

    python engine.py --model SmolLM2-135M-Instruct.Q4_1.gguf

Ollama names served: `smollm2:135m` (chat and generate) and `all-minilm:latest` (embed, here
the same SmolLM2 file with embedding on). The translation is ours; its shapes follow Ollama's
API documentation.
"""

import argparse
import datetime
import hashlib
import http.server
import json
import os
import shutil
import socket
import socketserver
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import xllamacpp

CHAT_MODEL = "smollm2:135m"
# The same model on a server with a larger context per request: 8192 tokens against the
# 2048 of CHAT_MODEL's (4096 over two parallel slots), for the context budgeting tests.
CHAT_MODEL_8K = "smollm2:135m-8k"
EMBED_MODEL = "all-minilm:latest"
FAMILY = "llama"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# The slot folders made, removed when the engine ends.
SLOT_DIRS = []


def start_llama(model: str, embedding: bool, n_ctx: int = 4096, n_parallel: int = 2,
                alias: str = "chat") -> tuple:
    p = xllamacpp.CommonParams()
    p.model.path = model
    p.hostnames = ["127.0.0.1"]
    port = free_port()
    p.port = port
    p.n_ctx = n_ctx
    p.n_parallel = n_parallel
    p.cpuparams.n_threads = 1
    p.cpuparams_batch.n_threads = 1
    p.sampling.seed = 42
    p.offline = True
    p.use_jinja = True
    p.model_alias = {"embed" if embedding else alias}
    # Lets a test empty a slot's prompt cache (POST /slots/N?action=erase) for a run that must
    # not depend on what an earlier test left there.
    p.slot_save_path = tempfile.mkdtemp(prefix="engine-slots-")
    SLOT_DIRS.append(p.slot_save_path)
    if embedding:
        p.embedding = True
        p.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    server = xllamacpp.Server(p)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    else:
        raise SystemExit(f"llama.cpp did not become healthy on {base}")
    return server, base


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def slot_context(base: str) -> int:
    """What one request gets on a llama.cpp server: its /props say."""
    with urllib.request.urlopen(base + "/props", timeout=5) as r:
        props = json.loads(r.read())
    return props["default_generation_settings"]["n_ctx"]


class Engine:
    def __init__(self, model_path: str, chat_bases: dict, embed_base: str):
        self.model_path = model_path
        self.chat_bases = chat_bases
        self.embed_base = embed_base
        # The context each model runs with, as Ollama's /api/ps reports a loaded model's.
        self.contexts = {name: slot_context(base) for name, base in chat_bases.items()}
        self.contexts[EMBED_MODEL] = slot_context(embed_base)
        self.size = os.path.getsize(model_path)
        h = hashlib.sha256()
        with open(model_path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        self.digest = h.hexdigest()
        self.loaded_at = now_iso()

    def details(self) -> dict:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": FAMILY,
            "families": [FAMILY],
            "parameter_size": "134.52M",
            "quantization_level": "Q4_1",
        }

    def entry(self, name: str) -> dict:
        return {
            "name": name,
            "model": name,
            "modified_at": self.loaded_at,
            "size": self.size,
            "digest": self.digest,
            "details": self.details(),
        }

    def known(self, name: str) -> bool:
        return name in (CHAT_MODEL, CHAT_MODEL_8K, EMBED_MODEL)


def not_found(name: str) -> tuple:
    return 404, {"error": f'model "{name}" not found, try pulling it first'}


def options_to_openai(body: dict) -> dict:
    out = {}
    opts = body.get("options") or {}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "top_p"), ("seed", "seed"),
                         ("num_predict", "max_tokens"), ("stop", "stop"), ("top_k", "top_k")):
        if ours in opts:
            out[theirs] = opts[ours]
    fmt = body.get("format")
    if fmt == "json":
        out["response_format"] = {"type": "json_object"}
    elif isinstance(fmt, dict):
        out["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt}}
    return out


def sse_events(resp):
    """The `data:` payloads of an SSE response, parsed."""
    for raw in resp:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


def stats(timings: dict, usage: dict, started: float) -> dict:
    prompt_ms = timings.get("prompt_ms", 0.0)
    eval_ms = timings.get("predicted_ms", 0.0)
    return {
        "total_duration": int((time.time() - started) * 1e9),
        "load_duration": 0,
        "prompt_eval_count": usage.get("prompt_tokens", timings.get("prompt_n", 0)),
        "prompt_eval_duration": int(prompt_ms * 1e6),
        "eval_count": usage.get("completion_tokens", timings.get("predicted_n", 0)),
        "eval_duration": int(eval_ms * 1e6),
    }


class Handler(http.server.BaseHTTPRequestHandler):
    engine: Engine = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # -- plumbing
    def reply(self, status: int, obj: dict) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, obj: dict) -> None:
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def body(self) -> dict:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b"{}"
        return json.loads(raw or b"{}")

    def upstream(self, base: str, path: str, payload: dict, stream: bool):
        req = urllib.request.Request(base + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
        return urllib.request.urlopen(req, timeout=300)

    # -- routes
    def do_GET(self):
        e = self.engine
        if self.path == "/api/version":
            return self.reply(200, {"version": "0.12.6"})
        if self.path == "/api/tags":
            return self.reply(200, {"models": [e.entry(n) for n in (CHAT_MODEL, CHAT_MODEL_8K, EMBED_MODEL)]})
        if self.path == "/api/ps":
            expires = (datetime.datetime.now(datetime.timezone.utc)
                       + datetime.timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
            models = []
            for name in (CHAT_MODEL, CHAT_MODEL_8K, EMBED_MODEL):
                m = e.entry(name)
                m.pop("modified_at")
                m.update({"expires_at": expires, "size_vram": 0, "context_length": e.contexts[name]})
                models.append(m)
            return self.reply(200, {"models": models})
        if self.path == "/":
            body = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        return self.reply(404, {"error": "404 page not found"})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        try:
            body = self.body()
        except json.JSONDecodeError as err:
            return self.reply(400, {"error": f"invalid JSON: {err}"})
        route = {
            "/api/chat": self.chat,
            "/api/generate": self.generate,
            "/api/embed": self.embed,
            "/api/show": self.show,
            "/api/pull": self.pull,
        }.get(self.path)
        if route is None:
            return self.reply(404, {"error": "404 page not found"})
        name = body.get("model") or body.get("name") or ""
        if self.path != "/api/pull" and not self.engine.known(name):
            return self.reply(*not_found(name))
        try:
            route(name, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (cancellation); llama.cpp stops with the connection
        except urllib.error.HTTPError as err:
            # llama.cpp refused the request: Ollama answers such errors as {"error": ...}.
            try:
                message = json.loads(err.read()).get("error", {}).get("message", str(err))
            except (json.JSONDecodeError, AttributeError):
                message = str(err)
            self.reply(400 if err.code < 500 else 500, {"error": message})

    def show(self, name, body):
        e = self.engine
        caps = ["embedding"] if name == EMBED_MODEL else ["completion", "tools"]
        self.reply(200, {
            "modelfile": f"FROM {e.model_path}\n",
            "parameters": "stop \"<|im_end|>\"",
            "template": "{{ .Prompt }}",
            "details": e.details(),
            "model_info": {"general.architecture": FAMILY, "general.parameter_count": 134515008,
                           "llama.context_length": 8192,
                           "llama.embedding_length": 576},
            "capabilities": caps,
            "modified_at": e.loaded_at,
        })

    def run_chat(self, name, messages, body, wrap):
        """Runs a chat on llama.cpp; `wrap(text, done, extra)` makes each Ollama object."""
        started = time.time()
        payload = {"model": name, "messages": messages, **options_to_openai(body)}
        if body.get("tools"):
            payload["tools"] = body["tools"]
        stream = body.get("stream", True)
        if not stream:
            with self.upstream(self.engine.chat_bases[name], "/v1/chat/completions", payload, False) as r:
                out = json.loads(r.read())
            msg = out["choices"][0]["message"]
            extra = stats(out.get("timings", {}), out.get("usage", {}), started)
            extra["done_reason"] = out["choices"][0].get("finish_reason") or "stop"
            return self.reply(200, wrap(msg.get("content") or "", True, extra, msg))
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
        self.start_stream()
        timings, usage, reason, calls = {}, {}, "stop", []
        with self.upstream(self.engine.chat_bases[name], "/v1/chat/completions", payload, True) as r:
            for ev in sse_events(r):
                timings = ev.get("timings", timings)
                usage = ev.get("usage") or usage
                for ch in ev.get("choices", []):
                    delta = ch.get("delta", {})
                    if delta.get("content"):
                        self.chunk(wrap(delta["content"], False, {}, None))
                    for tc in delta.get("tool_calls") or []:
                        calls.append(tc)
                    reason = ch.get("finish_reason") or reason
        extra = stats(timings, usage, started)
        extra["done_reason"] = reason
        final = {"role": "assistant", "content": ""}
        if calls:
            final["tool_calls"] = merge_tool_calls(calls)
        self.chunk(wrap("", True, extra, final))
        self.end_stream()

    def chat(self, name, body):
        messages = body.get("messages") or []

        def wrap(text, done, extra, message):
            m = {"role": "assistant", "content": text}
            if message and message.get("tool_calls"):
                m["tool_calls"] = [
                    {"function": {"name": c["function"]["name"],
                                  "arguments": parse_args(c["function"].get("arguments"))}}
                    for c in message["tool_calls"]
                ]
            return {"model": name, "created_at": now_iso(), "message": m, "done": done, **extra}

        self.run_chat(name, messages, body, wrap)

    def generate(self, name, body):
        messages = []
        if body.get("system"):
            messages.append({"role": "system", "content": body["system"]})
        messages.append({"role": "user", "content": body.get("prompt", "")})

        def wrap(text, done, extra, message):
            if message and not text:
                text = message.get("content") or ""
            return {"model": name, "created_at": now_iso(), "response": text, "done": done, **extra}

        self.run_chat(name, messages, body, wrap)

    def embed(self, name, body):
        started = time.time()
        inputs = body.get("input", "")
        if isinstance(inputs, str):
            inputs = [inputs]
        with self.upstream(self.engine.embed_base, "/v1/embeddings",
                           {"model": name, "input": inputs}, False) as r:
            out = json.loads(r.read())
        vectors = [d["embedding"] for d in sorted(out["data"], key=lambda d: d["index"])]
        self.reply(200, {
            "model": name,
            "embeddings": vectors,
            "total_duration": int((time.time() - started) * 1e9),
            "load_duration": 0,
            "prompt_eval_count": out.get("usage", {}).get("prompt_tokens", 0),
        })

    def pull(self, name, body):
        """Pulls are offline here: a known model "downloads" its own file in chunks (real
        bytes read and hashed, so progress is real); any other name fails as Ollama does."""
        e = self.engine
        if not e.known(name):
            return self.reply(500, {"error": "pull model manifest: file does not exist"})
        steps = [{"status": "pulling manifest"}]
        stream = body.get("stream", True)
        if not stream:
            return self.reply(200, {"status": "success"})
        self.start_stream()
        for s in steps:
            self.chunk(s)
        digest = "sha256:" + e.digest
        done = 0
        with open(e.model_path, "rb") as f:
            while True:
                block = f.read(8 << 20)
                if not block:
                    break
                done += len(block)
                self.chunk({"status": f"pulling {e.digest[:12]}", "digest": digest,
                            "total": e.size, "completed": done})
                time.sleep(0.05)
        for s in ("verifying sha256 digest", "writing manifest", "success"):
            self.chunk({"status": s})
        self.end_stream()


def parse_args(a):
    if isinstance(a, str):
        try:
            return json.loads(a)
        except json.JSONDecodeError:
            return {}
    return a or {}


def merge_tool_calls(deltas: list) -> list:
    """OpenAI streams a tool call in pieces by index; Ollama sends it whole."""
    by_index = {}
    for d in deltas:
        i = d.get("index", 0)
        slot = by_index.setdefault(i, {"function": {"name": "", "arguments": ""}})
        fn = d.get("function", {})
        slot["function"]["name"] += fn.get("name") or ""
        slot["function"]["arguments"] += fn.get("arguments") or ""
    return [by_index[i] for i in sorted(by_index)]


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    chat_server, chat_base = start_llama(args.model, embedding=False)
    chat8k_server, chat8k_base = start_llama(args.model, embedding=False, n_ctx=8192, n_parallel=1,
                                             alias="chat8k")
    embed_server, embed_base = start_llama(args.model, embedding=True)
    Handler.engine = Engine(args.model, {CHAT_MODEL: chat_base, CHAT_MODEL_8K: chat8k_base}, embed_base)
    ollama = ThreadingServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=ollama.serve_forever, daemon=True).start()
    print(json.dumps({
        "ollama": f"http://127.0.0.1:{ollama.server_address[1]}",
        "openai": chat_base + "/v1",
        "openai_8k": chat8k_base + "/v1",
        "openai_embed": embed_base + "/v1",
        "chat_model": CHAT_MODEL,
        "embed_model": EMBED_MODEL,
    }), flush=True)
    sys.stdin.read()  # until the test process closes our stdin
    ollama.shutdown()
    del chat_server, chat8k_server, embed_server
    for d in SLOT_DIRS:
        shutil.rmtree(d, ignore_errors=True)
    os._exit(0)


if __name__ == "__main__":
    main()
