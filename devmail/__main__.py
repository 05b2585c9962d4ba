"""`python -m devmail --host 127.0.0.1 --port 1025 --folder instance/mail`"""
import argparse
import signal
import sys
import threading

from . import start_server


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m devmail",
        description="A local SMTP server that keeps every message it receives as an .eml file "
                    "and sends nothing on.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", default="instance/mail", help="where messages are kept")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server = start_server(args.folder, args.host, args.port)
    except OSError as exc:
        print(f"Local mail server: cannot listen on {args.host}:{args.port} ({exc.strerror})",
              file=sys.stderr)
        return 1
    print(f"Local mail server on {server.url}, keeping messages in {args.folder}/", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
