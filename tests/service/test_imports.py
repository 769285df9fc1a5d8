"""The bot's side of the service (the client, the form and order checks) and the modules the
proxy loads never import Ray."""

from __future__ import annotations

import subprocess
import sys


def test_client_form_order_errors_answers_stream_and_proxy_import_no_ray():
    code = (
        "import sys, bot.service, bot.service.client, bot.service.errors, bot.service.form, "
        "bot.service.order, bot.service.answers, bot.service.stream, bot.service.proxy; "
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
