"""uq: a terminal work queue for physician utilization-management reviewers."""

__version__ = "0.1.0"
