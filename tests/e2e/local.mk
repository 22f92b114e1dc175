# tests/e2e: pytest suites against the real daemon.
