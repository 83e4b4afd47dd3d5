"""Rasa's own checks: data validation and the conversation tests (NLU + dialogue)."""
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

RASA = [sys.executable, "-m", "bot.runtime.rasa_entry"]  # Rasa's command line, see there


def run_rasa(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*RASA, *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_rasa_data_validate_passes_without_errors():
    result = run_rasa("data", "validate", "--domain", "domain.yml", "--config", "config.yml",
                      "--data", "data/nlu", "data/stories", "data/rules")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_conversation_stories_have_no_failures(trained_model, tmp_path):
    result = run_rasa("test", "core", "--model", str(trained_model),
                      "--stories", str(PROJECT_ROOT / "tests" / "test_stories.yml"),
                      "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot")
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + result.stdout[-3000:] + result.stderr[-3000:]
    assert "test stories" not in details or "# None of the test stories failed" in details
