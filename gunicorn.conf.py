"""Settings gunicorn reads on its own from the folder it starts in (`gunicorn app:app`)."""
import gc
import os

# Each worker touches a file of its own (its heartbeat) before every request. gunicorn's
# settings warn that on a disk's filesystem this "may block a worker for arbitrary time"
# (while the filesystem's journal commits, e.g. PostgreSQL's fsyncs); in memory it cannot.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def post_worker_init(worker):
    """Leave what the app's import built out of the garbage collector's full passes."""
    # Those objects live as long as the worker, and a full collection walked them all: a
    # story page 40-65 ms late about every half a minute under load; frozen, about 3 ms.
    gc.collect()
    gc.freeze()
