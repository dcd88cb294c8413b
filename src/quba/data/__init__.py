"""Datasets: on-disk layouts, label spaces, suites, verification and downloads."""
