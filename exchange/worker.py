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

A client that starts a request and stalls (half the headers, part of the body)
would hold the worker until gunicorn's timeout killed it. Reading a request is
bounded instead: ``WEB_READ_TIMEOUT`` seconds (5 by default) from the moment
the worker starts on it, after which the connection is closed (or, when the
application was reading the body, the request is answered 400). Errors gunicorn
answers itself (a malformed request line, headers over its limits) are written
as Binance-shaped JSON, like every other error.
"""

import ctypes
import errno
import functools
import json
import multiprocessing
import os
import selectors
import socket
import time
import weakref

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.http.errors import NoMoreData
from gunicorn.workers import gthread

from exchange import errors

READ_TIMEOUT = float(os.environ.get("WEB_READ_TIMEOUT") or 5)
BALANCE = os.environ.get("WEB_BALANCE_CONNECTIONS", "1") != "0"
BALANCE_SECONDS = 1.0
HAND_OVER = os.environ.get("WEB_HAND_OVER", "1") != "0"

# Each worker's pid, open connections, and whether it is waiting for work (1)
# or serving (0), in memory the arbiter makes before it forks (gunicorn imports
# the worker class first), so every worker sees the others'. A slot per worker
# age; a slot whose pid is gone is ignored.
_SLOTS = 64
_pids = multiprocessing.RawArray(ctypes.c_long, _SLOTS)
_counts = multiprocessing.RawArray(ctypes.c_long, _SLOTS)
_idle = multiprocessing.RawArray(ctypes.c_byte, _SLOTS)
# Connections handed from a busy worker to an idle one travel as file descriptors
# over a datagram pair per slot, made before the fork: a worker sends on the
# pair of the idle worker it picked and reads only from its own. (Over one pair
# shared by all, the worker that handed a connection over could read it back
# itself before the idle one woke.)
_hands = [socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(_SLOTS)]
for _pair in _hands:
    for _end in _pair:
        _end.setblocking(False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The deadline by which the request a socket carries must have been read.
_deadlines: "weakref.WeakKeyDictionary[socket.socket, float]" = (
    weakref.WeakKeyDictionary()
)


class ReadTimeout(NoMoreData):
    """The client did not send its request in time. gunicorn treats it as a
    client gone away; Django, reading a body, as an unreadable request (400)."""

    def __str__(self):
        return f"request not read within {READ_TIMEOUT:g} s"


class _ReadTimeoutSocket(socket.socket):
    """A client socket whose blocking reads stop at the request's deadline.
    (Assigned as the ``__class__`` of the socket gunicorn accepted; no state of
    its own, so the layout is the same.)"""

    __slots__ = ()

    def setblocking(self, flag):
        if flag:
            self.settimeout(READ_TIMEOUT)
        else:
            super().setblocking(False)

    def recv(self, bufsize, flags=0):
        timeout = self.gettimeout()
        deadline = _deadlines.get(self)
        if timeout != 0.0 and deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReadTimeout()
            self.settimeout(min(remaining, READ_TIMEOUT))
        try:
            return super().recv(bufsize, flags)
        except TimeoutError:
            raise ReadTimeout() from None


def write_error(sock, status_int, reason, mesg):
    """gunicorn's own error answers (a malformed request, headers too large), in
    Binance's shape instead of an HTML page."""
    if status_int >= 500:
        code = errors.UNKNOWN
    elif status_int in (413, 414, 431):
        code = errors.TOO_MANY_PARAMETERS
    else:
        code = errors.ILLEGAL_CHARS
    msg = f"{reason}: {mesg}"[:200] if mesg else f"{reason}."
    body = json.dumps({"code": code, "msg": msg}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_error


class OneSendResponse(wsgi.Response):
    """gunicorn's response, whose head goes out with the first bytes of the body.

    gunicorn sends the head and the body with a send each: for an API answer,
    two packets, and a client woken twice to read one response. Held while the
    body's first bytes are written, the head goes with them in one send; where
    no body follows (HEAD, 204, an empty body) it goes alone, as before. Every
    other path (close, sendfile, early hints) sends it as gunicorn does.
    """

    _holding = False
    _head = b""

    def process_headers(self, headers):
        """gunicorn's checks of the application's headers, each name judged
        once per process: a name that passed them before and is neither
        ``Content-Length`` nor hop-by-hop only has its value checked (gunicorn's
        pattern) and stripped, and a ``Content-Length`` of ASCII digits is taken
        as it is. About a microsecond a header otherwise, and an API answer
        carries a dozen. Anything else goes through gunicorn's own
        method, one header at a time so that their order is kept."""
        kept = self.headers
        for header in headers:
            name, value = header
            if type(value) is str:
                if name in _PLAIN_NAMES and _VALUE.fullmatch(value):
                    kept.append((name, value.strip(" \t")))
                    continue
                if name == "Content-Length" and value.isascii() and value.isdigit():
                    self.response_length = int(value)
                    kept.append(header)
                    continue
            super().process_headers((header,))
            if (
                type(name) is str
                and name.lower() != "content-length"
                and not util.is_hoppish(name)
                and len(_PLAIN_NAMES) < _PLAIN_NAMES_MAX
            ):
                _PLAIN_NAMES.add(name)

    def send_headers(self):
        if not self._holding or self.headers_sent:
            return super().send_headers()
        tosend = self.default_headers()
        tosend.extend([f"{k}: {v}\r\n" for k, v in self.headers])
        self._head = f"{''.join(tosend)}\r\n".encode("latin-1")
        self.headers_sent = True

    def write(self, arg):
        self._holding = True
        try:
            super().write(arg)
        finally:
            self._holding = False
            self._send_head()  # write wrote no body bytes: the head alone

    def _emit_body(self, data):
        head = self._head
        if head and not self.chunked:
            self._head = b""
            self.sock.sendall(head + data)
            return
        self._send_head()
        super()._emit_body(data)

    def _send_head(self):
        head, self._head = self._head, b""
        if head:
            self.sock.sendall(head)


wsgi.Response = OneSendResponse  # what wsgi.create() makes for each request

# Header names that passed gunicorn's checks as ordinary headers (kept, not
# Content-Length, not hop-by-hop), and gunicorn's pattern for a header's value.
_PLAIN_NAMES: set[str] = set()
_PLAIN_NAMES_MAX = 256
_VALUE = wsgi.HEADER_VALUE_RE

_http_date = util.http_date
_date_now = [0, ""]


def http_date(timestamp=None):
    """gunicorn's Date header, formatted once a second rather than per response."""
    if timestamp is not None:
        return _http_date(timestamp)
    now = int(time.time())
    if now != _date_now[0]:
        _date_now[:] = now, _http_date(now)
    return _date_now[1]


util.http_date = http_date


def over_share(mine: int) -> bool:
    """Whether a worker holding ``mine`` connections holds more than one over the
    average of the live workers (itself included, from its slot)."""
    counts = [_counts[i] for i in range(_SLOTS) if _pids[i] and _pid_alive(_pids[i])]
    if len(counts) < 2:
        return False
    return mine > sum(counts) / len(counts) + 1


def idle_slots(own_pid: int) -> list[int]:
    """The slots of the live workers other than ``own_pid`` waiting for work."""
    return [
        i
        for i in range(_SLOTS)
        if _idle[i] and _pids[i] not in (0, own_pid) and _pid_alive(_pids[i])
    ]


class SettledConfig:
    """gunicorn's settings as the worker reads them: each value once.

    gunicorn's ``Config`` answers every setting through ``__getattr__``, which
    CPython 3.11 reaches only after building and discarding an AttributeError
    for the ordinary look-up; the parser, the environ and the response read
    about 23 settings a request that way. Here each setting is a plain
    attribute, and anything else of the config (its properties, its methods) is
    fetched from it once and kept. A worker's settings never change: a reload
    starts new workers with a new config.
    """

    def __init__(self, cfg):
        # A setting the config also defines on its class (worker_class, proc_name
        # and others) is answered by that property, not the raw value.
        self.__dict__.update(
            (name, setting.get())
            for name, setting in cfg.settings.items()
            if not hasattr(type(cfg), name)
        )
        self.__dict__["_cfg"] = cfg

    def __getattr__(self, name):
        value = getattr(self.__dict__["_cfg"], name)
        self.__dict__[name] = value
        return value


class _Done:
    """A request's result as gthread's ``finish_request`` reads it from the
    future a pool thread would have given it (a real Future is a lock and a
    condition, per request, for a value that is already there)."""

    __slots__ = ("_result",)

    def __init__(self, result):
        self._result = result

    def result(self):
        return self._result

    def cancelled(self) -> bool:
        return False


def _nothing() -> None:
    pass


class _NoPool:
    """Stands in for the thread pool gthread shuts down on exit."""

    def shutdown(self, wait=True, **kwargs):
        pass


class InlineWorker(gthread.ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cfg = SettledConfig(self.cfg)
        self._serving = False
        self._ready = []
        self._slot = self.age % _SLOTS
        self._balance_at = 0.0
        self._drain = _nothing

    def init_process(self):
        _pids[self._slot] = os.getpid()
        _counts[self._slot] = 0
        _idle[self._slot] = 0
        self.handed_over = 0
        super().init_process()

    def run(self):
        # Imported here: the arbiter imports this module before Django is set up.
        from exchange import bus

        # The events a request publishes go out from this thread: a pair's
        # commit's as it releases the pair lock, the rest after the response
        # is written (exchange/bus.py).
        bus.deliver_here()
        self._drain = bus.drain
        if HAND_OVER:
            hand_in = _hands[self._slot][1]
            self.poller.register(hand_in, selectors.EVENT_READ, self.take_over)
        try:
            super().run()
        finally:
            _idle[self._slot] = 0
            if HAND_OVER:
                self._pass_on_handed()
            if self.handed_over:
                self.log.info("handed %d connections over", self.handed_over)

    def wait_for_and_dispatch_events(self, timeout):
        """gthread's loop step, saying while it waits that this worker is idle,
        and handing over connections that would wait behind another request.

        A keep-alive connection stays with the worker that accepted it, so a
        request that arrives on it while that worker is busy waits, even when
        another worker has nothing to do; with each worker busy three quarters
        of the time, those waits are the tail of the latency
        (docs/performance.md). When a select returns several connections with
        a request ready, this worker serves the first and hands the others to
        idle workers, one each, as file descriptors; the connection moves with
        its client, which notices nothing.
        """
        try:
            _idle[self._slot] = 1 if self.alive else 0
            events = self.poller.select(timeout)
            if not events:
                # Woken by the timeout: the loop's housekeeping comes next and
                # the worker is as idle as before; a connection handed over
                # meanwhile waits on the pair for the next select, microseconds
                # away. Saying busy here made a busy worker that looked just
                # then keep its waiting requests.
                return
            _idle[self._slot] = 0
            if HAND_OVER and len(events) > 1 and self.alive:
                events = self._hand_over_waiting(events)
            for key, _ in events:
                key.data(key.fileobj)
        except OSError as e:
            if e.errno != errno.EINTR:
                raise

    def _hand_over_waiting(self, events):
        waiting = [
            i
            for i, (key, _) in enumerate(events)
            if isinstance(key.data, functools.partial)
            and key.data.func == self.on_client_socket_readable
        ]
        if len(waiting) < 2:
            return events
        given = set()
        for i, slot in zip(waiting[1:], idle_slots(os.getpid()), strict=False):
            conn = events[i][0].data.args[0]
            if self._hand_over(conn, slot):
                given.add(i)
        return [event for i, event in enumerate(events) if i not in given]

    def _hand_over(self, conn, slot: int) -> bool:
        """Send a kept-alive connection whose next request is waiting to the idle
        worker in ``slot``; False if it cannot go (it is then served here)."""
        if conn.parser is not None and conn.parser.unreader.buf.getvalue():
            return False  # bytes of the request already read here stay here
        try:
            socket.send_fds(_hands[slot][0], [b"c"], [conn.sock.fileno()])
        except OSError:
            return False
        self.poller.unregister(conn.sock)
        self.keepalived_conns.remove(conn)
        self.nr_conns -= 1
        self.handed_over += 1
        conn.sock.close()  # this process's descriptor; the connection lives on
        return True

    def take_over(self, hand_in):
        """Serve a connection another worker handed over."""
        if not self.alive:
            self.poller.unregister(hand_in)
            self._pass_on_handed()  # stopping: to the others
            return
        try:
            _, fds, _, _ = socket.recv_fds(hand_in, 1, 1)
        except (BlockingIOError, InterruptedError):
            return  # another idle worker was quicker
        for fd in fds:
            client = _ReadTimeoutSocket(fileno=fd)
            try:
                peer, local = client.getpeername(), client.getsockname()
            except OSError:
                client.close()  # the client left on the way
                continue
            conn = gthread.TConn(self.cfg, client, peer, local)
            conn.data_ready = True  # it was readable when it was handed over
            self.nr_conns += 1
            self.enqueue_req(conn)

    def _pass_on_handed(self) -> None:
        """Send the connections handed to this worker, as it stops, to another
        live worker (idle or not: it serves them after its current request)."""
        own = os.getpid()
        while True:
            try:
                _, fds, _, _ = socket.recv_fds(_hands[self._slot][1], 1, 1)
            except OSError:  # nothing left (or the pair is gone)
                return
            others = [
                i
                for i in idle_slots(own) or range(_SLOTS)
                if _pids[i] not in (0, own) and _pid_alive(_pids[i])
            ]
            for fd in fds:
                try:
                    if others:
                        socket.send_fds(_hands[others[0]][0], [b"c"], [fd])
                except OSError:
                    pass  # the client's connection ends with this descriptor
                finally:
                    os.close(fd)

    def handle(self, conn):
        """Serve one request; now and then, end a connection of a worker that has
        more than its share.

        A keep-alive connection stays with the worker that accepted it, and the
        kernel spreads new ones over the workers' sockets by a hash: 50 clients
        came out 20, 15 and 15 over three workers, and the one with 20 carried
        40% of the load (docs/performance.md). A worker holding more than one
        connection over the average answers one request a second with
        ``Connection: close``; the client reconnects, and lands on a socket the
        hash picks again, until the counts are even.
        """
        _counts[self._slot] = self.nr_conns
        now = time.monotonic()
        if BALANCE and now >= self._balance_at:
            self._balance_at = now + BALANCE_SECONDS
            if over_share(self.nr_conns):
                kept = self.max_keepalived
                self.max_keepalived = 0  # gthread closes once it holds this many
                try:
                    return super().handle(conn)
                finally:
                    self.max_keepalived = kept
        return super().handle(conn)

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
            if type(conn.sock) is socket.socket:
                conn.sock.__class__ = _ReadTimeoutSocket
            self._finish(conn, gthread._DEFER)  # back to the selector
            # gthread gives a deferred connection the keep-alive timeout to send
            # its first request; with keep-alive off (WEB_KEEPALIVE=0) that is
            # none at all, and every connection was closed unanswered. A new
            # connection has at least the read timeout.
            conn.timeout = time.monotonic() + max(self.cfg.keepalive, READ_TIMEOUT)
            return
        self._ready.append(conn)
        if self._serving:
            return
        self._serving = True
        try:
            while self._ready:
                ready = self._ready.pop()
                _deadlines[ready.sock] = time.monotonic() + READ_TIMEOUT
                self._finish(ready, self.handle(ready))
                self._drain()
        finally:
            self._serving = False

    def _finish(self, conn, result):
        """gthread's bookkeeping after a request, given its result directly."""
        self.finish_request(conn, _Done(result))
