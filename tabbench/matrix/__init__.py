"""The benchmark matrix: cells and their keys, config files, the runner, worker processes and Ray."""
