#!/usr/bin/env python3
"""console_pty.py — bench/console.sh's driver: runs the console in a real
pseudo-terminal and measures it through TARMAC_CONSOLE_TRACE.

  console_pty.py session --trace FILE --json OUT [options] -- CMD ARGS...
      one console session: first full screen, resident memory, key latency
      idle, key latency while the selected database's SSM command streams
  console_pty.py emit RATE SECONDS
      the streaming source the emulated host runs: RATE lines a second
  console_pty.py report OUT.json...
      the summary table of all sessions

The pty is read all the time, the way a terminal would, and its bytes are
discarded except for two checks: the loaded screen shows what it should,
and (while streaming) the newest stream line that reached the screen. The
stream's lines carry "CRC-SEQ" tokens (CRC32 of SEQ), so a token cut up by
curses' partial line updates never passes for a line number.

Every time is wall-clock microseconds (time.time() here, CLOCK_REALTIME in
the console), so send times and trace times compare directly.
"""
import argparse
import bisect
import fcntl
import json
import os
import re
import select
import signal
import statistics
import struct
import sys
import termios
import textwrap
import time
import zlib

TRACE_RE = re.compile(rb"^(\w+) (\d+) keys=(\d+) loading=(\d+) lines=(\d+)$")
TOKEN_RE = re.compile(rb"([0-9a-f]{8})-(\d{9})")


def now_us():
    return int(time.time() * 1e6)


def token(seq):
    return "%08x-%09d" % (zlib.crc32(b"%d" % seq), seq)


class Trace:
    """The console's trace file, read as it grows."""

    def __init__(self, path):
        self.path, self.f, self.rest, self.events = path, None, b"", []

    def poll(self):
        if self.f is None:
            try:
                self.f = open(self.path, "rb")
            except FileNotFoundError:
                return
        data = self.f.read()
        if not data:
            return
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            m = TRACE_RE.match(line)
            if m:
                self.events.append((m.group(1).decode(), int(m.group(2)), int(m.group(3)),
                                    int(m.group(4)), int(m.group(5))))

    def frames(self):
        return [e for e in self.events if e[0] == "frame"]


class Console:
    """One console process on a pty of cols x rows."""

    def __init__(self, argv, env, cols, rows, trace):
        self.trace = Trace(trace)
        self.keys = 0               # bytes sent: the console reads one key per byte
        self.sent_times = []        # send time of each of them (µs)
        self.seen = b""             # the last bytes of terminal output (tokens cut by reads)
        self.capture = bytearray()  # terminal output since mark(), or None: not kept
        self.out_bytes = 0
        self.best_seq = -1          # newest stream line seen on the screen
        self.seq_log = []           # (time µs, best_seq) whenever it grows
        self.spawned = now_us()
        self.pid, self.fd = os.forkpty()
        if self.pid == 0:
            try:
                fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.status = None

    def _scan(self, chunk):
        self.out_bytes += len(chunk)
        if self.capture is not None:
            self.capture += chunk
        buf = self.seen + chunk
        for m in TOKEN_RE.finditer(buf):
            seq = int(m.group(2))
            if seq > self.best_seq and token(seq).encode() == m.group(0):
                self.best_seq = seq
                self.seq_log.append((now_us(), seq))
        self.seen = buf[-64:]

    def mark(self, keep=True):
        """Keeps the terminal output from now on (keep) or stops keeping it."""
        self.capture = bytearray() if keep else None

    def shown(self, text):
        """Whether the output since mark() holds text (curses writes changed cells only)."""
        return self.capture is not None and text in self.capture

    def pump(self, until_s):
        """Reads the terminal and the trace until time.time() >= until_s."""
        while True:
            left = until_s - time.time()
            r, _, _ = select.select([self.fd], [], [], max(0.0, min(left, 0.005)))
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self.reap(block=True)
                    self.trace.poll()
                    return
                self._scan(chunk)
            self.trace.poll()
            if left <= 0:
                return

    def wait(self, pred, timeout_s):
        end = time.time() + timeout_s
        while time.time() < end:
            if pred():
                return True
            if self.exited():
                return pred()
            self.pump(min(end, time.time() + 0.005))
        return pred()

    def send(self, data):
        """Writes data one byte at a time; returns [(keys count, send time µs)]."""
        sent = []
        for b in data:
            t = now_us()
            os.write(self.fd, bytes([b]))
            self.keys += 1
            sent.append((self.keys, t))
            self.sent_times.append(t)
        return sent

    def complete(self, frame):
        """Whether no key was waiting while the frame was painted: curses
        postpones the rest of an update when it finds input pending, so a
        frame painted with a key already sent but not read yet may be cut."""
        return frame[2] >= bisect.bisect_left(self.sent_times, frame[1])

    def frame_covering(self, k):
        """The first complete frame that shows key k."""
        for e in self.trace.events:
            if e[0] == "frame" and e[2] >= k and self.complete(e):
                return e
        return None

    def last_frame(self):
        f = self.trace.frames()
        return f[-1] if f else None

    def key_and_frame(self, data, timeout_s=5):
        sent = self.send(data)
        self.wait(lambda: self.frame_covering(self.keys) is not None, timeout_s)
        return sent

    def proc_status(self):
        out = {}
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("VmHWM", "VmRSS"):
                        out[k] = int(v.split()[0])
        except OSError:
            pass
        return out

    def reap(self, block=False):
        if self.status is None:
            try:
                pid, st = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                pid, st = self.pid, 0
            if pid == self.pid:
                self.status = st
        return self.status

    def exited(self):
        return self.reap() is not None

    def quit(self, timeout_s=15):
        try:
            self.send(b"q")
        except OSError:
            pass
        if not self.wait(self.exited, timeout_s / 2):
            try:
                self.send(b"q")     # a second q quits while a run is going
            except OSError:
                pass
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig:
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    pass
            if self.wait(self.exited, timeout_s / 2):
                break
        try:
            os.close(self.fd)
        except OSError:
            pass


def key_latency(con, seconds, interval_ms):
    """j/k alternately every interval_ms for seconds; frame time - send time, ms."""
    sent = []
    t0 = time.time()
    n = int(seconds * 1000 / interval_ms)
    for i in range(n):
        con.pump(t0 + i * interval_ms / 1000)
        if con.exited():
            break
        sent += con.send(b"j" if i % 2 == 0 else b"k")
    con.wait(lambda: con.frame_covering(con.keys) is not None, 5)
    lat, paint, missed = [], [], 0
    frames = [e for e in con.trace.events if e[0] == "frame" and con.complete(e)]
    read = {e[2]: e[1] for e in con.trace.events if e[0] == "key"}
    fi = 0
    for k, t in sent:      # sent and frames are both in order
        while fi < len(frames) and frames[fi][2] < k:
            fi += 1
        if fi == len(frames):
            missed += 1
            continue
        lat.append((frames[fi][1] - t) / 1000.0)
        if k in read:      # the console's own share: key read -> frame painted
            paint.append((frames[fi][1] - read[k]) / 1000.0)
    return lat, paint, missed, sent[0][1] if sent else now_us(), sent[-1][1] if sent else now_us()


PROBE = b"\x07"   # a key the console does not bind: it only repaints


def first_screen(con, res, a):
    """Waits for the first complete frame that has every database loaded.
    With probe_ms, an unbound key every probe_ms while loading makes the
    console write a trace event about that often, so the last event before
    the loaded frame is close to the moment the last result came in."""
    def loaded_frame():
        # the console paints once before it starts loading: the screen is
        # full at the first complete frame with nothing loading after that
        seen_loading = False
        for e in con.trace.events:
            seen_loading |= e[3] > 0
            if seen_loading and e[0] == "frame" and e[3] == 0 and con.complete(e):
                return e
        return None
    end = time.time() + a.load_timeout
    while loaded_frame() is None and time.time() < end and not con.exited():
        if a.probe_ms and any(e[0] == "frame" for e in con.trace.events):
            con.send(PROBE)
        con.pump(time.time() + (a.probe_ms or 5) / 1000)
    f = loaded_frame()
    ev = con.trace.events
    start = next((e for e in ev if e[0] == "start"), None)
    if not f or not start:
        raise SystemExit("console_pty: the console never showed every database loaded "
                         "within %ds (trace: %d events)" % (a.load_timeout, len(ev)))
    i = ev.index(f)
    i0 = next(k for k, e in enumerate(ev) if e[3] > 0)
    # the last event that still saw a database loading (a key read after
    # the drain that took the last result already says loading=0)
    prev = next(e for e in reversed(ev[:i]) if e[3] > 0)
    # An explicit "load" event (the UI thread taking a result), if the
    # console writes one, is exact: then no probes are needed.
    loads = [e for e in ev[:i] if e[0] in ("load", "loaded")]
    # How tight the bound is: the result came in before the first probe
    # sent after prev was read, unless the console was slow to wake.
    after = [t for t in con.sent_times if t > prev[1]]
    first = next(e for e in ev if e[0] == "frame")
    one = next(e for e in ev[i0:i + 1] if e[0] == "frame" and e[3] <= 1)
    res.update(spawned_us=con.spawned, start_us=start[1], first_frame_us=first[1],
               all_but_one_us=one[1], loaded_frame_us=f[1], before_us=prev[1],
               before_kind=prev[0], last_load_us=loads[-1][1] if loads else None,
               probes=con.keys, probe_ms=a.probe_ms,
               probe_gap_us=after[0] - prev[1] if after and after[0] < f[1] else None,
               frames_while_loading=sum(1 for e in ev[:i] if e[0] == "frame"),
               first_loaded_frame_cut=f is not next(e for e in ev[i0:] if e[0] == "frame" and e[3] == 0))
    con.pump(time.time() + 0.3)
    res["screen_ok"] = con.shown(b"v%d" % a.rows_expected)


def memory_and_scroll(con, res, rows_expected):
    st = con.proc_status()
    res.update(hwm_screen_kb=st.get("VmHWM"), rss_screen_kb=st.get("VmRSS"))
    con.key_and_frame(b"l")          # focus the migrations pane
    con.mark()
    con.key_and_frame(b"G")
    con.pump(time.time() + 0.2)
    res["last_row_shown"] = con.shown(b"%d" % rows_expected)
    con.key_and_frame(b"g")
    con.mark(False)
    con.pump(time.time() + 0.2)
    st = con.proc_status()
    res.update(hwm_scrolled_kb=st.get("VmHWM"), rss_scrolled_kb=st.get("VmRSS"))


def stream(con, res, a):
    """S, Tab, Enter; then key latency while the output streams in."""
    base = con.last_frame()[4]
    con.mark()
    con.key_and_frame(b"S")
    con.key_and_frame(b"\t")
    con.key_and_frame(b"\r")
    started = con.wait(lambda: con.last_frame()[4] >= base + a.stream_min_lines
                       and con.best_seq >= 0, a.stream_wait)
    if not started:
        why = "lines= stayed at %d" % con.last_frame()[4]
        if con.shown(b"not in the console yet"):
            why += "; S says: not in the console yet"
        res["stream_status"] = "not available in this build (%s)" % why
        return
    con.mark(False)
    con.pump(time.time() + a.stream_settle)      # the ring fills; steady state
    lat, paint, missed, t0, t1 = key_latency(con, a.seconds, a.key_ms)

    def newest_at(t):
        return max([s for ts, s in con.seq_log if ts <= t], default=-1)
    # lines may come in bursts (CloudWatch is polled): over the whole window
    rate = (newest_at(t1) - newest_at(t0)) * 1e6 / max(1, t1 - t0)
    fr = [e for e in con.trace.events if e[0] == "frame" and t0 <= e[1] <= t1]
    res.update(stream=lat, stream_paint=paint, stream_missed=missed, stream_rate=rate,
               stream_frames_per_s=len(fr) * 1e6 / max(1, t1 - t0))
    res["stream_status"] = "ok" if rate >= a.stream_rate * 0.8 else \
        "too slow: %.0f lines/s reached the screen (wanted %d)" % (rate, a.stream_rate)


def cmd_session(a):
    env = dict(os.environ, TERM=a.term, LANG="C.UTF-8", TARMAC_CONSOLE_TRACE=a.trace)
    env.pop("LC_ALL", None)
    try:
        os.unlink(a.trace)
    except FileNotFoundError:
        pass
    con = Console(a.cmd, env, a.cols, a.rows, a.trace)
    res = {"cols": a.cols, "rows": a.rows}
    try:
        first_screen(con, res, a)
        con.mark(False)
        memory_and_scroll(con, res, a.rows_expected)
        lat, paint, missed, _, _ = key_latency(con, a.seconds, a.key_ms)
        res.update(idle=lat, idle_paint=paint, idle_missed=missed)
        if a.stream_rate:
            stream(con, res, a)
        res["out_bytes"] = con.out_bytes
    finally:
        con.quit()
    res["exit_status"] = con.status
    with open(a.json, "w") as f:
        json.dump(res, f)


def cmd_emit(a):
    """rate lines a second, paced by the clock (not by sleeps adding up)."""
    out = sys.stdout
    t0, n = time.time(), 0
    while True:
        el = time.time() - t0
        if el >= a.seconds:
            break
        want = int(el * a.rate)
        if want > n:
            out.write("".join("%s streamed line\n" % token(i) for i in range(n, want)))
            out.flush()
            n = want
        time.sleep(0.005)


def pct(v, p):
    """The p-th percentile, nearest rank."""
    s = sorted(v)
    return s[min(len(s) - 1, max(0, -(-p * len(s) // 100) - 1))]


def verdict(ok):
    return "pass" if ok else "FAIL"


def cmd_report(a):
    runs = [json.load(open(p)) for p in a.files]
    med = statistics.median

    def say(text):
        print(textwrap.fill(text, 100, subsequent_indent="    "))

    def spread(v, fmt="%.0f"):
        return (fmt + " ms  (" + fmt + "-" + fmt + ")") % (med(v), min(v), max(v))

    def ms(key_a, key_b):
        return spread([(r[key_a] - r[key_b]) / 1000.0 for r in runs])
    explicit = all(r["last_load_us"] for r in runs)
    renders = [(r["loaded_frame_us"] - (r["last_load_us"] or r["before_us"])) / 1000.0 for r in runs]
    render = med(renders)
    hwm = max(r["hwm_scrolled_kb"] for r in runs) / 1024.0
    idle = [x for r in runs for x in r["idle"]]
    stream = [x for r in runs for x in r.get("stream", [])]
    idle_paint = [x for r in runs for x in r["idle_paint"]]
    stream_paint = [x for r in runs for x in r.get("stream_paint", [])]
    streamed = all(r.get("stream_status") == "ok" for r in runs)
    rows = [
        ("start -> first frame", ms("first_frame_us", "start_us"), "", ""),
        ("start -> all databases but one loaded", ms("all_but_one_us", "start_us"), "", ""),
        ("start -> every database loaded, screen full", ms("loaded_frame_us", "start_us"), "", ""),
        ("first full screen after the last load" + ("" if explicit else " (*)"),
         spread(renders, "%.1f"), "< 300 ms", verdict(render < 300)),
        ("key -> screen, idle (p50 / p99 / max)",
         "%.1f / %.1f / %.1f ms" % (pct(idle, 50), pct(idle, 99), max(idle)), "baseline",
         "p99 %s 50 ms" % ("<" if pct(idle, 99) < 50 else ">=")),
        ("  of which key read -> frame painted (p50 / p99)",
         "%.2f / %.2f ms" % (pct(idle_paint, 50), pct(idle_paint, 99)), "", ""),
    ]
    if stream:
        rows.append(("key -> screen, %d lines/s streaming (p50 / p99 / max)" % a.stream_rate,
                     "%.1f / %.1f / %.1f ms" % (pct(stream, 50), pct(stream, 99), max(stream)),
                     "p99 < 50 ms", verdict(pct(stream, 99) < 50) if streamed else "no: see below"))
        rows.append(("  of which key read -> frame painted (p50 / p99)",
                     "%.2f / %.2f ms" % (pct(stream_paint, 50), pct(stream_paint, 99)), "", ""))
        rows.append(("  stream lines reaching the screen",
                     "%.0f lines/s" % med([r["stream_rate"] for r in runs]), "", ""))
    else:
        rows.append(("key -> screen, %d lines/s streaming" % a.stream_rate,
                     "streaming: not available in this build" if a.stream_rate
                     else "streaming: not run", "p99 < 50 ms", "-"))
    rows.append(("resident memory, db01 loaded and scrolled (VmHWM)", "%.1f MB" % hwm, "< 40 MB",
                 verdict(hwm < 40)))
    print("%-54s %-40s %-12s %s" % ("figure", "measured", "target", "result"))
    for r in rows:
        print("%-54s %-40s %-12s %s" % r)
    print()
    say("Screen figures: median (min-max) of %d runs. Latencies: %d idle and %d streaming keys pooled over "
          "the runs, each from its send to the first complete frame painted after it. Memory: "
          "the largest VmHWM." % (len(runs), len(idle), len(stream)))
    if not explicit:
        gaps = [r["probe_gap_us"] / 1000.0 for r in runs if r.get("probe_gap_us") is not None]
        say("(*) the loaded frame minus the last trace event that still saw a database "
              "loading: the last result came in after that event, or at most while its frame "
              "was painted. The console writes no event when a result arrives; one would make "
              "this exact.")
        if runs[0]["probe_ms"]:
            say("    An unbound key sent every %g ms while loading keeps that event close to the "
                  "result: the first one after it was sent %s ms later (median over the runs "
                  "where one was; a busy machine makes it later)."
                  % (runs[0]["probe_ms"], "%.1f" % med(gaps) if gaps else "-"))
    notes = []
    for i, r in enumerate(runs, 1):
        if not r.get("screen_ok"):
            notes.append("run %d: the loaded screen never showed db01's last version" % i)
        if not r.get("last_row_shown"):
            notes.append("run %d: G did not show db01's last row" % i)
        if r.get("idle_missed") or r.get("stream_missed"):
            notes.append("run %d: %d keys never got a frame" % (i, r.get("idle_missed", 0) + r.get("stream_missed", 0)))
        if r.get("stream_status", "ok") != "ok":
            notes.append("run %d: streaming %s" % (i, r["stream_status"]))
        st = r.get("exit_status")
        if st and (os.WIFSIGNALED(st) or os.WEXITSTATUS(st) > 128):
            notes.append("run %d: the console did not quit on q; stopped by signal %d"
                         % (i, os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st) - 128))
        elif st:
            notes.append("run %d: the console exited with %d" % (i, os.WEXITSTATUS(st)))
    for n in notes:
        print(n)
    return 0


def main():
    ap = argparse.ArgumentParser(prog="console_pty.py")
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("session")
    s.add_argument("--trace", required=True)
    s.add_argument("--json", required=True)
    s.add_argument("--cols", type=int, default=120)
    s.add_argument("--rows", type=int, default=40)
    s.add_argument("--term", default="xterm-256color")
    s.add_argument("--rows-expected", type=int, default=10000,
                   help="the selected database's last version")
    s.add_argument("--load-timeout", type=float, default=120)
    s.add_argument("--seconds", type=float, default=10, help="each key-latency window")
    s.add_argument("--key-ms", type=float, default=20)
    s.add_argument("--probe-ms", type=float, default=5,
                   help="an unbound key this often while loading (0: none)")
    s.add_argument("--stream-rate", type=int, default=5000, help="0: no streaming phase")
    s.add_argument("--stream-min-lines", type=int, default=2000)
    s.add_argument("--stream-wait", type=float, default=10)
    s.add_argument("--stream-settle", type=float, default=2)
    s.add_argument("cmd", nargs="+")
    e = sub.add_parser("emit")
    e.add_argument("rate", type=int)
    e.add_argument("seconds", type=float)
    r = sub.add_parser("report")
    r.add_argument("--stream-rate", type=int, default=5000)
    r.add_argument("files", nargs="+")
    a = ap.parse_args()
    sys.exit({"session": cmd_session, "emit": cmd_emit, "report": cmd_report}[a.what](a) or 0)


if __name__ == "__main__":
    main()
