"""In-memory state: every object by id, in creation order, behind one lock.

Objects are stored in their API shape (plain dicts) and updated in place;
reads hand out deep copies, so a caller can never change stored state by
accident. Data that Stripe does not show (the card behind a payment method,
a session's line items) lives in `private`, keyed by the same id.
"""

import copy
import threading


class Store:
    def __init__(self):
        # Re-entrant: a service holding the lock may call another service.
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self._objects = {}
            self._by_type = {}
            self.private = {}
            self.idempotency = {}

    def add(self, obj, **private):
        """Store a new object (it must carry `id` and `object`); returns it."""
        with self.lock:
            self._objects[obj["id"]] = obj
            self._by_type.setdefault(obj["object"], []).append(obj["id"])
            self.private[obj["id"]] = private
            return obj

    def get(self, object_id, object_type=None):
        """The stored object itself (not a copy), or None."""
        obj = self._objects.get(object_id) if isinstance(object_id, str) else None
        if obj is None or (object_type and obj["object"] != object_type):
            return None
        return obj

    def newest_first(self, object_type):
        """Stored objects of one type, newest first, as Stripe lists them."""
        with self.lock:
            ids = self._by_type.get(object_type, [])
            return [self._objects[i] for i in reversed(ids)]

    def oldest_first(self, object_type):
        with self.lock:
            return [self._objects[i] for i in self._by_type.get(object_type, [])]

    @staticmethod
    def copy(obj):
        return copy.deepcopy(obj)
