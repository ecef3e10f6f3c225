"""The scheduler daemon: publishes due posts from the store, exactly once, unattended."""

from scheduler.daemon.backoff import RetryPolicy
from scheduler.daemon.dispatch import DispatchConfig, Dispatcher, PassReport
from scheduler.daemon.service import Daemon, DaemonConfig

__all__ = ["Daemon", "DaemonConfig", "DispatchConfig", "Dispatcher", "PassReport", "RetryPolicy"]
