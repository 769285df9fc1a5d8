"""deploy/serve.yaml is a valid Ray Serve config whose import path builds the application."""

from __future__ import annotations

from pathlib import Path

import yaml
from ray.serve import Application
from ray.serve._private.utils import import_attr
from ray.serve.schema import ServeDeploySchema

from bot.config import ServiceSettings
from bot.service.app import (
    PAINTER_APP_NAME,
    build,
    build_painters,
    painter_options,
    settings_from_args,
)
from bot.service.proxy import (
    CALLBACK_PATH,
    controller_options,
    proxy_middlewares,
    serve_env,
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "serve.yaml"


def test_serve_yaml_is_valid_and_its_two_apps_build(monkeypatch):
    monkeypatch.delenv("STYLEBOT_CONFIG", raising=False)
    config = ServeDeploySchema.model_validate(yaml.safe_load(DEPLOY.read_text()))
    painters, front = config.applications
    assert (painters.name, painters.route_prefix) == (PAINTER_APP_NAME, "/v1/stylize")
    assert (front.route_prefix, front.args["painter_app"]) == ("/", PAINTER_APP_NAME)
    assert import_attr(painters.import_path) is build_painters
    assert import_attr(front.import_path) is build
    for app in (painters, front):
        assert isinstance(import_attr(app.import_path)(app.args), Application)
    # Serve's processes get the HAProxy ingress and the JSON error middleware from the
    # controller's environment, the same as `stylebot serve` gives them
    assert config.controller_options.runtime_env == controller_options(
        "haproxy", ServiceSettings().control_loop_interval)["runtime_env"]
    assert painter_options(settings_from_args(painters.args).service)["ray_actor_options"][
        "runtime_env"]["env_vars"] == serve_env("haproxy")
    assert import_attr(CALLBACK_PATH.replace(":", ".")) is proxy_middlewares


def test_builder_args_override_service_settings_and_name_a_config(tmp_path, monkeypatch):
    monkeypatch.delenv("STYLEBOT_CONFIG", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("[service]\nnum_cpus = 2\nmax_replicas = 4\n")
    settings = settings_from_args({"config": str(config), "replicas": 3})
    assert (settings.service.num_cpus, settings.service.replicas) == (2, 3)
    options = painter_options(settings.service)
    assert options["ray_actor_options"]["num_cpus"] == 2
    assert options["autoscaling_config"]["max_replicas"] == 4
    assert options["autoscaling_config"]["initial_replicas"] == 3
    assert options["num_replicas"] == "auto"


def test_a_bad_arg_is_the_settings_sentence():
    import pytest

    from bot.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"^service.replicas must be an integer of at least 1, not 0\.$"
    ):
        settings_from_args({"replicas": 0})
