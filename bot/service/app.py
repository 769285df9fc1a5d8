"""The Ray Serve application: the Painter and Ingress deployments with options from [service]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray import serve
from ray.serve import Application
from ray.serve.config import BackpressureConfig

from bot.config import ServiceSettings, Settings, load_settings, override
from bot.service.ingress import Ingress
from bot.service.painter import Painter

APP_NAME = "stylebot"
INGRESS_MAX_ONGOING = 1000  # the ingress only waits on painters; painters' queues bound the load
# A request waiting for a busy painter is re-offered after a backoff; Serve's default grows to
# 0.5 s, which leaves a painter idle up to that long after each painting when max_ongoing is 1.
# 5 ms doubling to 40 ms keeps painters busy for a few cheap queue-length probes a second.
ROUTER_BACKOFF_S = (0.005, 0.04)  # first and longest pause; doubled in between


def painter_options(service: ServiceSettings) -> dict[str, Any]:
    """Serve options of the Painter deployment: replicas (or autoscaling), CPUs, queues."""
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": service.num_cpus, "num_gpus": service.num_gpus},
        "max_ongoing_requests": service.max_ongoing_requests,
        "max_queued_requests": service.max_queued_requests,
        "backpressure_config": BackpressureConfig(
            status_code=503, retry_after_s=service.retry_after
        ),
        "request_router_config": {
            "initial_backoff_s": ROUTER_BACKOFF_S[0],
            "backoff_multiplier": 2,
            "max_backoff_s": ROUTER_BACKOFF_S[1],
        },
        "health_check_period_s": 10,
        "graceful_shutdown_timeout_s": 30,
    }
    if service.max_replicas > 0:
        low = min(service.min_replicas, service.max_replicas)
        options["num_replicas"] = "auto"
        options["autoscaling_config"] = {
            "min_replicas": low,
            "initial_replicas": min(max(service.replicas, low), service.max_replicas),
            "max_replicas": service.max_replicas,
            "target_ongoing_requests": service.target_ongoing_requests,
        }
    else:
        options["num_replicas"] = service.replicas
    return options


def ingress_options(service: ServiceSettings) -> dict[str, Any]:
    """Serve options of the Ingress deployment: no CPU reserved, many requests at once."""
    return {
        "num_replicas": service.ingress_replicas,
        "ray_actor_options": {"num_cpus": 0},
        "max_ongoing_requests": INGRESS_MAX_ONGOING,
        "backpressure_config": BackpressureConfig(
            status_code=503, retry_after_s=service.retry_after
        ),
    }


def build_app(settings: Settings) -> Application:
    """The application for these settings (Painter replicas behind one Ingress)."""
    service = settings.service
    painter = serve.deployment(name="Painter", **painter_options(service))(Painter)
    ingress = serve.deployment(name="Ingress", **ingress_options(service))(Ingress)
    return ingress.bind(settings, painter.bind(settings))


def settings_from_args(args: Mapping[str, Any] | None) -> Settings:
    """Settings from a Serve config's args: `config` names the settings file (else
    $STYLEBOT_CONFIG, else the defaults); any other arg overrides that [service] setting."""
    values = dict(args or {})
    settings = load_settings(values.pop("config", None) or None)
    return override(settings, "service", values)


def build(args: Mapping[str, Any] | None = None) -> Application:
    """Application builder for Ray's `serve run` / `serve deploy` (deploy/serve.yaml)."""
    return build_app(settings_from_args(args))
