"""A gunicorn worker that serves each request on its event loop's own thread.

gunicorn's gthread worker keeps connections alive on a selector in the main
thread and hands every request to a thread pool, then hands the connection back
through a pipe: two thread switches, a future and a pipe write per request. With
one thread per worker (the measured best here: more threads lose on the GIL
while a pair lock is held) that hand-off buys nothing and costs about a third of
the worker's own overhead (docs/performance.md). This worker keeps gthread's
loop, keep-alive and timeouts, and calls the request handler inline.

Like gunicorn's sync worker, it serves one request at a time and reads a
request's body in blocking mode, so it belongs behind a proxy that buffers
requests (Kong in production); and, like it, a request running past gunicorn's
timeout (WEB_TIMEOUT) gets the worker restarted, where gthread's loop would
have kept it alive. A new connection is not read until the selector
reports data on it, so an idle client never holds the loop.
"""

from concurrent import futures

from gunicorn.workers import gthread


class _NoPool:
    """Stands in for the thread pool gthread shuts down on exit."""

    def shutdown(self, wait=True, **kwargs):
        pass


class InlineWorker(gthread.ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._serving = False
        self._ready = []

    @classmethod
    def check_config(cls, cfg, log):
        if cfg.threads > 1:
            log.warning(
                "The inline worker serves one request at a time: threads=%s ignored.",
                cfg.threads,
            )
        super().check_config(cfg, log)

    def get_thread_pool(self):
        return _NoPool()

    def enqueue_req(self, conn):
        """Serve the connection's next request now, on this thread.

        A connection just accepted goes to the selector first, so the handler
        never waits for a client that has not sent anything. finish_request may
        call back here when the parser already holds the next request
        (pipelining); those are served in a loop, not by recursion.
        """
        if not conn.initialized and not conn.data_ready:
            self._finish(conn, gthread._DEFER)  # back to the selector
            return
        self._ready.append(conn)
        if self._serving:
            return
        self._serving = True
        try:
            while self._ready:
                ready = self._ready.pop()
                self._finish(ready, self.handle(ready))
        finally:
            self._serving = False

    def _finish(self, conn, result):
        """gthread's bookkeeping after a request, given its result directly."""
        done = futures.Future()
        done.set_result(result)
        self.finish_request(conn, done)
