"""The one worker pool and what every worker process shares: the pool (lines of jobs, withdrawal,
kills at the deadline), the worker process's loop (batched answers, demotion of long jobs), the
messages between them, kernel containment, and fair shares of the pool.

Knows nothing of queries or validation: the jobs are given to it.

May import: nothing of the server.
"""
