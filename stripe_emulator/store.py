"""The emulator's state: every object by id, in creation order, behind one lock.

Objects are stored in their API shape (plain dicts) and updated in place;
reads hand out deep copies, so a caller can never change stored state by
accident. Data that Stripe does not show (a card's number, a session's line
items, an event's delivery) lives in `private`, keyed by the same id, as
plain JSON values.

Every change happens inside `transaction()`. With a state file, the end of
the outermost transaction writes each object that was added or looked up
(`get`, `private[...]`) and has changed since it was last written; so an
object must be fetched with `get` to be changed (the lists `newest_first` and
`oldest_first` are for reading). Callbacks queued with `after_commit` run
once the changes are on disk, still under the lock (webhooks are queued
there, so an event is never sent before it is saved).
"""

import copy
import threading
from contextlib import contextmanager

from .statefile import StateFile, dumps


class _TrackedDict(dict):
    """`private`: remembers which ids were read or written in this transaction."""

    def __init__(self, touch):
        super().__init__()
        self._touch = touch

    def __getitem__(self, key):
        self._touch(key)
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        self._touch(key)
        super().__setitem__(key, value)

    def get(self, key, default=None):
        self._touch(key)
        return super().get(key, default)


class Store:
    def __init__(self, path=None):
        # Re-entrant: a service holding the lock may call another service.
        self.lock = threading.RLock()
        self.file = StateFile(path) if path else None
        self._depth = 0
        self._after_commit = []
        self._clear()
        if self.file:
            self._load()

    def reset(self):
        """Forget everything (and empty the state file)."""
        with self.lock:
            self._clear()
            if self.file:
                self.file.clear()

    def _clear(self):
        self._objects = {}
        self._by_type = {}
        self.private = _TrackedDict(self._touch)
        self._idempotency = {}
        self._saved = {}  # id -> (body JSON, private JSON) as last written
        self._touched = set()
        self._new = []
        self._new_keys = set()

    def _load(self):
        rows, self._idempotency = self.file.load()
        for object_id, object_type, body, private, body_value, private_value in rows:
            self._objects[object_id] = body_value
            self._by_type.setdefault(object_type, []).append(object_id)
            dict.__setitem__(self.private, object_id, private_value)
            self._saved[object_id] = (body, private)

    @contextmanager
    def transaction(self):
        """Hold the lock; on leaving the outermost one, save what changed."""
        with self.lock:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._commit()

    def after_commit(self, callback):
        """Run `callback()` once this transaction's changes are saved."""
        with self.lock:
            if self._depth:
                self._after_commit.append(callback)
            else:
                callback()

    def add(self, obj, **private):
        """Store a new object (it must carry `id` and `object`); returns it."""
        with self.lock:
            self._objects[obj["id"]] = obj
            self._by_type.setdefault(obj["object"], []).append(obj["id"])
            self.private[obj["id"]] = private
            self._new.append(obj["id"])
            return obj

    def get(self, object_id, object_type=None, include_deleted=False):
        """The stored object itself (not a copy), or None.

        A deleted object (`"deleted": true`) only comes back with `include_deleted`.
        """
        obj = self._objects.get(object_id) if isinstance(object_id, str) else None
        if obj is None or (object_type and obj["object"] != object_type):
            return None
        if obj.get("deleted") and not include_deleted:
            return None
        self._touch(object_id)
        return obj

    def mark_deleted(self, object_id):
        """Replace an object by Stripe's deleted stub; its private data stays."""
        with self.lock:
            obj = self._objects[object_id]
            self._objects[object_id] = {"id": object_id, "object": obj["object"], "deleted": True}
            self._touch(object_id)
            return self._objects[object_id]

    def newest_first(self, object_type):
        """Stored objects of one type, newest first, as Stripe lists them (to read)."""
        return list(reversed(self.oldest_first(object_type)))

    def oldest_first(self, object_type):
        with self.lock:
            objects = (self._objects[i] for i in self._by_type.get(object_type, []))
            return [obj for obj in objects if not obj.get("deleted")]

    def replay(self, key):
        """What was saved for an idempotency key, or None."""
        with self.lock:
            return self._idempotency.get(key)

    def remember(self, key, saved):
        with self.lock:
            self._idempotency[key] = saved
            self._new_keys.add(key)

    @staticmethod
    def copy(obj):
        return copy.deepcopy(obj)

    def close(self):
        with self.lock:  # not in the middle of a request's commit
            if self.file:
                self.file.close()

    def _touch(self, object_id):
        self._touched.add(object_id)

    def _commit(self):
        callbacks, self._after_commit = self._after_commit, []
        if self.file:
            # If this raises (disk full), the changes stay marked for the next commit.
            self._write()
        self._touched, self._new, self._new_keys = set(), [], set()
        for callback in callbacks:
            callback()

    def _write(self):
        new = set(self._new)
        # New rows first and in creation order: their row order is the list order.
        ordered = self._new + [i for i in list(self._touched) if i not in new]
        rows, saved = [], {}
        for object_id in ordered:
            obj = self._objects.get(object_id)
            if obj is None:
                continue  # a private-only key, or forgotten by a reset
            dumped = (dumps(obj), dumps(dict.get(self.private, object_id, {})))
            if self._saved.get(object_id) != dumped:
                rows.append((object_id, obj["object"], *dumped))
                saved[object_id] = dumped
        keys = {key: dumps(self._idempotency[key]) for key in self._new_keys}
        if rows or keys:
            self.file.write(rows, keys)
            self._saved.update(saved)
