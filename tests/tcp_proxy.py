"""A TCP proxy in front of PostgreSQL that a test can cut and restore: a real outage.

Cut, it drops every open connection and closes each new one at once (counting them), as a
database server that has gone away does; restored, it forwards new connections again.
"""
import socket
import threading


class CuttableProxy:
    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_cut = False
        self.attempts_while_cut = 0
        self._open = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.is_cut:
                self.attempts_while_cut += 1
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        self._drop(src, dst)

    def _drop(self, *sockets):
        for sock in sockets:
            with self._lock:
                self._open.discard(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def cut(self):
        """Drop every open connection; close new ones at once until restored."""
        self.is_cut = True
        with self._lock:
            sockets = list(self._open)
        self._drop(*sockets)

    def restore(self):
        self.is_cut = False

    def close(self):
        self.listener.close()
        self.cut()
