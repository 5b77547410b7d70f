"""The floor under any round trip on this machine: a bare zmq REQ/REP
ping-pong over TCP on 127.0.0.1 between two Python processes, no Jupyter
messages. Prints figures; asserts nothing.

    .venv/bin/python benches/zmq_pingpong.py [COUNT]
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time

import zmq


def serve(port: int) -> None:
    context = zmq.Context()
    socket = context.socket(zmq.REP)
    socket.connect(f"tcp://127.0.0.1:{port}")
    while True:
        message = socket.recv()
        socket.send(message)
        if message == b"stop":
            break
    socket.close()
    context.term()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    port = socket.bind_to_random_port("tcp://127.0.0.1")
    server = multiprocessing.Process(target=serve, args=(port,))
    server.start()
    for _ in range(200):  # warm up
        socket.send(b"x")
        socket.recv()
    times = []
    for _ in range(count):
        began = time.perf_counter()
        socket.send(b"x")
        socket.recv()
        times.append(time.perf_counter() - began)
    socket.send(b"stop")
    socket.recv()
    server.join()
    socket.close()
    context.term()
    times.sort()
    print(f"zmq REQ/REP ping-pong over TCP, {count} round trips: median "
          f"{statistics.median(times) * 1e6:.0f} µs, p99 "
          f"{times[round((count - 1) * 0.99)] * 1e6:.0f} µs, min {times[0] * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
