"""The Open311 interface against its own OpenAPI document, by schemathesis, on the live server.

Schemathesis reads /open311/v2/openapi.json from the running webhook server and sends a few
hundred generated requests (valid and invalid, with a real API key in the X-Api-Key header):
no server error, every status and body as documented, invalid input refused, undeclared methods
answered 405. Its exit code is the verdict; its report is printed on failure.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from tests.databases import Database
from tests.following import Desk
from tests.harness import webhook_bot, webhook_settings
from tests.open311_desk import SECRET, operator


@pytest.mark.slow
async def test_schemathesis_finds_nothing(
    sandbox: Sandbox, db_path: Database, tmp_path: Path
) -> None:
    # Quotas high enough for the run: its requests are to test the interface, not the limits
    # (tests/test_open311_privacy.py does), though 429 is in the document.
    settings = webhook_settings(
        sandbox, db_path, SECRET, MINSHENG_OPEN311_READS_PER_MINUTE="100000"
    )
    async with webhook_bot(settings, sandbox, db_path) as runtime:
        await Desk(sandbox, runtime, db_path).file_case(5151)  # something to list and read
        key = await operator(
            db_path,
            "apikey",
            "add",
            "schemathesis",
            "--read-private",
            "--per-minute",
            "100000",
            "--per-day",
            "100000",
        )
        base = f"http://{settings.webhook_listen}"
        # Beside this Python (the venv's bin may not be on PATH: the README runs .venv/bin/pytest).
        st = Path(sys.executable).with_name("st")
        assert st.exists(), "schemathesis is a test dependency"
        process = await asyncio.create_subprocess_exec(
            st,
            "run",
            f"{base}/open311/v2/openapi.json",
            "--url",
            base,
            "--header",
            f"X-Api-Key: {key}",
            "--checks",
            "all",
            # Schema-valid filings with an unknown service_code are refused (404), rightly.
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "25",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "311",
            "--no-color",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 300)
        report = out.decode()
        assert process.returncode == 0, report
        assert "passed" in report
        print(report[-600:])
