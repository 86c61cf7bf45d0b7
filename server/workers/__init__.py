"""The parts every worker process shares: kernel containment, fair shares of the pool, and job
priority.

Knows nothing of queries or validation: the jobs are given to it.

May import: nothing of the server.
"""
