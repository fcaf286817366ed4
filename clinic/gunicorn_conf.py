"""gunicorn's settings for Interval: `gunicorn -c python:clinic.gunicorn_conf clinic.wsgi`.

Workers: WEB_CONCURRENCY (gunicorn reads it), e.g. 2 x cores + 1. With PROMETHEUS_MULTIPROC_DIR
set, each worker writes its metrics there and /metrics adds them up; the folder must be empty
when the server starts (figures of processes from before a restart would be counted again).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Behind the load balancer: its address is the client's (X-Forwarded-For is read by Interval
# only where RATELIMIT_IP_META_KEY says so).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker) -> None:
    """A worker that stopped keeps its counters in the totals, and leaves the live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
