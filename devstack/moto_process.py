"""moto's server in a process of its own: `python devstack/moto_process.py`.

Devstack runs every function, both emulators and moto in one Python process, which one core (one
interpreter lock) carries; moto alone is about a third of that work under load. Served from a second
process, it runs on the machine's other core. Prints `ready <url>` once serving; serves until its standard
input closes (the parent has gone).
"""

import logging
import sys

from moto.server import ThreadedMotoServer

from devstack import meter, moto_dispatch, moto_queries, moto_queues, moto_transactions


def start_in_process() -> str:
    """moto's server in this process, with devstack's changes to it; its URL."""
    moto_transactions.install()
    moto_queues.install()
    moto_queries.install()
    moto_dispatch.install()
    meter.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"ready {start_in_process()}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
