"""A scrape of /metrics while another process of the replica is starting (issue 18 review:
a 500 seen in CI when the due-work runner had just created its metrics file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_scrape_while_a_process_creates_its_metrics_file_still_shows_the_others(
    tmp_path: Path,
) -> None:
    # A process that counted something, in the replica's shared metrics directory.
    code = "from prometheus_client import Counter\nCounter('samverkan_demo_ticks', 'demo').inc(3)\n"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    # Another process has just created its file and not yet sized it (prometheus_client
    # opens the file, then truncates it to its initial size).
    (tmp_path / "counter_99999.db").touch()
    scrape = (
        "from bot.web import _metrics_body\n"
        "import sys; sys.stdout.write(_metrics_body().decode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", scrape],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "samverkan_demo_ticks_total 3.0" in result.stdout
