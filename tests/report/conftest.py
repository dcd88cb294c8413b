"""Fixtures of the report's tests."""

from __future__ import annotations

import pandas as pd
import pytest
from _report_fakes import fake_results


@pytest.fixture
def results() -> pd.DataFrame:
    """Six models with all nine dimensions under the paper protocol."""
    return fake_results()
