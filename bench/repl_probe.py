#!/usr/bin/env python3
"""Timing probe for bench/repl.sh: talks RESP to a master and its replica on
127.0.0.1 over long-lived connections, so that polls every 10-20 ms cost no
process start and the two servers are asked as close together in time as a
client can (see offsets).

  repl_probe.py fullsync MASTER REPLICA POLL TIMEOUT
      send REPLICAOF 127.0.0.1 MASTER to REPLICA; poll INFO replication and
      DBSIZE on it (pipelined) every POLL s until master_link_status:up and
      DBSIZE equals the master's.
  repl_probe.py lag MASTER REPLICA INTERVAL DURATION STOP_PID TIMEOUT
      wait for the master's offset to move (the write load started), sample
      both offsets (the master's, then the replica's as soon as the master
      has answered) every INTERVAL s for DURATION s, SIGTERM STOP_PID (the
      load), then wait for the replica to reach the master's offset.
  repl_probe.py psync MASTER REPLICA POLL WARMUP STOP_PID TIMEOUT
      wait for the load, WARMUP s more; CLIENT KILL TYPE master on the
      replica (or, if that kills nothing, the replica's connection on the
      master by ID), SIGTERM STOP_PID, then poll until the replica's
      slave_repl_offset equals the master's master_repl_offset.

Results go to stdout as "name value" lines; a failure is a message on
stderr and exit status 1. Standard library only.
"""

import bisect
import os
import signal
import socket
import sys
import time

now = time.monotonic


class ReplyError(Exception):
    pass


class Conn:
    def __init__(self, port, timeout):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def send(self, *cmds):
        out = []
        for cmd in cmds:
            out.append(b"*%d\r\n" % len(cmd))
            for a in cmd:
                a = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("127.0.0.1:%d closed the connection" % self.port)
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def reply(self):
        """One reply; an error reply is returned as a ReplyError, not raised."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return ReplyError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ConnectionError("127.0.0.1:%d: bad reply %r" % (self.port, line[:80]))

    def call(self, *args):
        self.send(args)
        r = self.reply()
        if isinstance(r, ReplyError):
            raise r
        return r


def parse_info(raw):
    if isinstance(raw, ReplyError):
        raise raw
    fields = {}
    for line in raw.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


def field(info, name, port):
    if name not in info:
        raise SystemExit("error: INFO on 127.0.0.1:%d has no %s field" % (port, name))
    return info[name]


def info(conn, section):
    return parse_info(conn.call("INFO", section))


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    if not v:
        return "n/a"
    k = max(0, min(len(v) - 1, -(-p * len(v) // 100) - 1))
    return v[int(k)]


def out(name, value):
    if isinstance(value, float):
        value = "%.6f" % value
    print(name, value)


def stop(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def sleep_until(t):
    d = t - now()
    if d > 0:
        time.sleep(d)


def wait_load(master, timeout):
    """Wait for the master's offset to move: the write load has started."""
    first = int(field(info(master, "replication"), "master_repl_offset", master.port))
    deadline = now() + timeout
    while now() < deadline:
        off = int(info(master, "replication")["master_repl_offset"])
        if off != first:
            return
        time.sleep(0.005)
    raise SystemExit("error: the master's offset did not move within %gs: the write load did not start" % timeout)


def fullsync(mport, rport, poll, timeout):
    master = Conn(mport, timeout)
    replica = Conn(rport, timeout)
    want = master.call("DBSIZE")
    t0 = now()
    r = replica.call("REPLICAOF", "127.0.0.1", mport)
    if not str(r).startswith("OK"):
        raise SystemExit("error: REPLICAOF answered %r" % r)
    deadline = t0 + timeout
    polls = 0
    link_up = None
    status, n = "?", "?"
    tick = t0
    while True:
        replica.send(("INFO", "replication"), ("DBSIZE",))
        rinfo, n = replica.reply(), replica.reply()
        t = now()
        polls += 1
        if not isinstance(rinfo, ReplyError):
            status = parse_info(rinfo).get("master_link_status", "missing")
            if status == "up" and link_up is None:
                link_up = t
            if status == "up" and n == want:
                break
        if t > deadline:
            raise SystemExit(
                "error: after %gs the replica shows master_link_status:%s and DBSIZE %s (master: %d)"
                % (timeout, status, n, want)
            )
        tick += poll
        sleep_until(tick)
    out("full_secs", t - t0)
    out("full_link_up_secs", link_up - t0)
    out("full_keys", n)
    out("full_polls", polls)


def offsets(master, replica):
    """(time, master offset, replica offset, replica's link status): the
    master is asked first and the replica as soon as the master has answered,
    so the replica's offset is never older than the master's. (Asked both at
    once, the master, busy with the load, may answer its INFO many
    milliseconds after the idle replica, overstating the lag.) The time is
    when the master's answer came."""
    master.send(("INFO", "replication"))
    m = parse_info(master.reply())
    t = now()
    replica.send(("INFO", "replication"))
    r = parse_info(replica.reply())
    return (
        t,
        int(field(m, "master_repl_offset", master.port)),
        int(field(r, "slave_repl_offset", replica.port)),
        r.get("master_link_status", "missing"),
    )


def lag(mport, rport, interval, duration, stop_pid, timeout):
    master = Conn(mport, timeout)
    replica = Conn(rport, timeout)
    try:
        wait_load(master, 10)
        cmds0 = int(info(master, "stats")["total_commands_processed"])
        ts, ms, rs = [], [], []
        t0 = now()
        tick = t0
        while True:
            t, m, r, _ = offsets(master, replica)
            if t - t0 > duration:
                break
            ts.append(t)
            ms.append(m)
            rs.append(r)
            tick += interval
            if tick < now():  # fell behind: skip the missed ticks
                tick = now()
            sleep_until(tick)
        if not alive(stop_pid):
            raise SystemExit("error: the write load ended before the %gs of sampling did; raise BENCH_REPL_WRITES" % duration)
        cmds1 = int(info(master, "stats")["total_commands_processed"])
        t1 = now()
    finally:
        stop(stop_pid)
    # Lag when the load stopped, and how long the replica takes to reach the
    # master from there.
    t_stop = now()
    t, m, r, _ = offsets(master, replica)
    left = max(0, m - r)
    drained = None
    while now() - t_stop < timeout:
        t, m, r, _ = offsets(master, replica)
        if r >= m:
            drained = t - t_stop
            break
        time.sleep(0.005)

    # A replica already past the master's sample (asked a moment later)
    # counts as no lag.
    byte_lag = [max(0, m - r) for m, r in zip(ms, rs)]
    time_lag = []
    for t, m, r in zip(ts, ms, rs):
        if r >= m:
            time_lag.append(0.0)
            continue
        # The first sample whose master offset reached r, interpolated
        # linearly between it and the sample before.
        j = bisect.bisect_left(ms, r)
        if j == 0:
            reached = ts[0]
        else:
            span = ms[j] - ms[j - 1]
            reached = ts[j - 1] + (ts[j] - ts[j - 1]) * (r - ms[j - 1]) / span
        time_lag.append((t - reached) * 1000)
    n = len(ts)
    fifth = max(1, n // 5)
    out("lag_samples", n)
    out("lag_interval_ms", (ts[-1] - ts[0]) / max(1, n - 1) * 1000)
    out("lag_bytes_p50", pct(byte_lag, 50))
    out("lag_bytes_p99", pct(byte_lag, 99))
    out("lag_bytes_max", max(byte_lag))
    out("lag_bytes_first_p50", pct(byte_lag[:fifth], 50))
    out("lag_bytes_last_p50", pct(byte_lag[-fifth:], 50))
    out("lag_ms_p50", pct(time_lag, 50))
    out("lag_ms_p99", pct(time_lag, 99))
    out("lag_ms_max", max(time_lag))
    out("lag_stream_mbps", (ms[-1] - ms[0]) / (ts[-1] - ts[0]) / 1e6)
    out("lag_cmds_per_sec", (cmds1 - cmds0) / (t1 - t0))
    out("lag_left_bytes", left)
    if drained is None:
        raise SystemExit(
            "error: %gs after the load stopped the replica is still behind: master_repl_offset %d, slave_repl_offset %d"
            % (timeout, m, r)
        )
    out("lag_drain_ms", drained * 1000)


def replica_conn_id(master):
    """The ID of the replica's connection in the master's CLIENT LIST: flag S
    (Redis), or else the connection whose last command was the replica's."""
    lines = master.call("CLIENT", "LIST").decode().splitlines()
    found = []
    for line in lines:
        kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
        if "S" in kv.get("flags", "") or kv.get("cmd") in ("replconf", "psync", "sync"):
            found.append(kv["id"])
    if len(found) != 1:
        raise SystemExit("error: %d replica connections in the master's CLIENT LIST:\n%s" % (len(found), "\n".join(lines)))
    return found[0]


def psync(mport, rport, poll, warmup, stop_pid, timeout):
    master = Conn(mport, timeout)
    replica = Conn(rport, timeout)
    master_killed = None
    try:
        st = info(master, "stats")
        full0 = int(field(st, "sync_full", mport))
        ok0 = int(field(st, "sync_partial_ok", mport))
        conn_id = replica_conn_id(master)
        wait_load(master, 10)
        time.sleep(warmup)
        if not alive(stop_pid):
            raise SystemExit("error: the write load ended before the kill; raise BENCH_REPL_WRITES")
        t0 = now()
        # The INFO right behind the kill shows the replica's offset at the cut.
        replica.send(("CLIENT", "KILL", "TYPE", "master"), ("INFO", "replication"))
        killed, r_info = replica.reply(), parse_info(replica.reply())
        if isinstance(killed, ReplyError):
            raise killed
        method = "type-master"
        if killed != 1:
            method = "master-side-id"
            master.send(("CLIENT", "KILL", "ID", conn_id))
            stop(stop_pid)  # the master's reply waits behind the load's commands
            master_killed = master.reply()
    finally:
        stop(stop_pid)
    t_stop = now()
    if method == "master-side-id" and master_killed != 1:
        raise SystemExit(
            "error: CLIENT KILL TYPE master on the replica answered %r, CLIENT KILL ID %s on the master %r"
            % (killed, conn_id, master_killed)
        )
    # The replica's offset when it first shows the link down: with a kill on
    # the master's side it may still apply what was in its socket before.
    r_at_kill = None
    if method == "type-master" and r_info.get("master_link_status") != "up":
        r_at_kill = int(field(r_info, "slave_repl_offset", rport))
    link_up = None
    tick = t_stop
    while True:
        t, m, r, status = offsets(master, replica)
        if status != "up":
            if r_at_kill is None:
                r_at_kill = r
        elif r_at_kill is not None and link_up is None:
            link_up = t
        if r == m and link_up is not None:
            break
        if r == m and r_at_kill is None and int(info(master, "stats")["sync_partial_ok"]) > ok0:
            link_up = t  # down and up again between two polls
            break
        if t - t0 > timeout:
            raise SystemExit(
                "error: %gs after the kill: master_link_status:%s, slave_repl_offset %d, master_repl_offset %d"
                % (timeout, status, r, m)
            )
        tick += poll
        sleep_until(tick)
    st = info(master, "stats")
    out("psync_method", method)
    out("psync_kill_reply", killed)
    out("psync_stop_ms", (t_stop - t0) * 1000)
    out("psync_secs", t - t0)
    out("psync_link_up_secs", link_up - t0)
    out("psync_replica_off_at_kill", "n/a" if r_at_kill is None else r_at_kill)
    out("psync_master_off_end", m)
    out("psync_backlog_bytes", "n/a" if r_at_kill is None else m - r_at_kill)
    out("psync_partial_ok_delta", int(st["sync_partial_ok"]) - ok0)
    out("psync_full_delta", int(st["sync_full"]) - full0)


def main(argv):
    usage = __doc__.split("\n\n")[1]
    if len(argv) < 2:
        raise SystemExit(usage)
    mode, a = argv[1], argv[2:]
    try:
        if mode == "fullsync" and len(a) == 4:
            fullsync(int(a[0]), int(a[1]), float(a[2]), float(a[3]))
        elif mode == "lag" and len(a) == 6:
            lag(int(a[0]), int(a[1]), float(a[2]), float(a[3]), int(a[4]), float(a[5]))
        elif mode == "psync" and len(a) == 6:
            psync(int(a[0]), int(a[1]), float(a[2]), float(a[3]), int(a[4]), float(a[5]))
        else:
            raise SystemExit(usage)
    except (OSError, ReplyError) as e:
        raise SystemExit("error: %s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main(sys.argv)
