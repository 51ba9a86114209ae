"""gunicorn's settings for RightsGuard's web processes (``gunicorn -c deploy/gunicorn.conf.py rightsguard.wsgi``):
Prometheus' multiprocess mode for the metrics (rightsguard/metrics.py).

Each worker writes its counts to files under ``PROMETHEUS_MULTIPROC_DIR``, and ``/metrics``, answered by any worker,
adds them up. Unless the environment names a directory, the master makes a new empty one at each start (in the
service's private /tmp under systemd, in the container's under compose), before it forks the workers that inherit
it; counts from an earlier start would otherwise be added to this one's. When a worker exits, its live gauges are
dropped so the scrape does not count the dead.
"""

import os
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rightsguard-metrics-")


def child_exit(server, worker):  # gunicorn's hook
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
