"""A minimal OpenAI-compatible server around a real HFPolicy, for testing OpenAIPolicy on loopback.

It serves /v1/completions and /v1/chat/completions with a real (tiny) model. With `ignore_n=True` it behaves like
servers that return one choice whatever `n` asks (llama.cpp server), which OpenAIPolicy must handle by calling again.
"""
import socket, threading, time
import uvicorn
from fastapi import FastAPI, Request

from reasoner_kit.policy.base import SamplingParams

def make_app(policy, ignore_n=False):
    app = FastAPI()
    app.state.calls = 0
    def run(prompt, body):
        app.state.calls += 1
        n = 1 if ignore_n else body.get('n', 1)
        sp = SamplingParams(n=n, temperature=body.get('temperature', 1.0), top_p=body.get('top_p', 1.0),
                            max_tokens=body.get('max_tokens', 16), stop=body.get('stop'), seed=body.get('seed'))
        return policy.generate([prompt], sp)[0]
    def usage(ss): return dict(prompt_tokens=ss[0].prompt_tokens, completion_tokens=sum(s.completion_tokens for s in ss),
                               total_tokens=ss[0].prompt_tokens + sum(s.completion_tokens for s in ss))
    @app.post('/v1/completions')
    async def completions(req: Request):
        b = await req.json(); ss = run(b['prompt'], b)
        return dict(id='c', object='text_completion', created=int(time.time()), model=b['model'], usage=usage(ss),
                    choices=[dict(index=i, text=s.text, finish_reason=s.finish_reason, logprobs=None) for i, s in enumerate(ss)])
    @app.post('/v1/chat/completions')
    async def chat(req: Request):
        b = await req.json(); ss = run(b['messages'], b)
        return dict(id='c', object='chat.completion', created=int(time.time()), model=b['model'], usage=usage(ss),
                    choices=[dict(index=i, message=dict(role='assistant', content=s.text), finish_reason=s.finish_reason)
                             for i, s in enumerate(ss)])
    return app

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

class ServerThread:
    "Run a FastAPI app with uvicorn on a loopback port in a thread."
    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=self.port, log_level='error'))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
    def __enter__(self):
        self.thread.start()
        for _ in range(200):
            if self.server.started: break
            time.sleep(0.05)
        return f'http://127.0.0.1:{self.port}/v1'
    def __exit__(self, *a):
        self.server.should_exit = True; self.thread.join(10)
