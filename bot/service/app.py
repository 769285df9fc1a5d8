"""The service's two Ray Serve applications (painters, front) with options from [service]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray import serve
from ray.serve import Application
from ray.serve.config import BackpressureConfig

from bot.config import ServiceSettings, Settings, load_settings, override
from bot.service.answers import STYLIZE_PATH
from bot.service.ingress import Ingress
from bot.service.painter import Painter
from bot.service.proxy import controller_options, serve_env

APP_NAME = "stylebot"  # the front application, at "/"
PAINTER_APP_NAME = "stylebot-painters"  # the Painter application, at /v1/stylize
INGRESS_MAX_ONGOING = 1000  # the front never paints: health checks and preset lists
# A request waiting for a busy painter is re-offered after a backoff; Serve's default grows to
# 0.5 s, which leaves a painter idle up to that long after each painting when max_ongoing is 1.
# 5 ms doubling to 40 ms keeps painters busy for a few cheap queue-length probes a second.
ROUTER_BACKOFF_S = (0.005, 0.04)  # first and longest pause; doubled in between


def actor_options(service: ServiceSettings, **resources: float) -> dict[str, Any]:
    """`ray_actor_options` of a deployment: its resources, and the environment every Serve
    process of the service gets (bot.service.proxy.serve_env)."""
    return {**resources, "runtime_env": {"env_vars": serve_env(service.ingress)}}


def painter_options(service: ServiceSettings) -> dict[str, Any]:
    """Serve options of the Painter deployment: replicas (or autoscaling), CPUs, queues."""
    options: dict[str, Any] = {
        "ray_actor_options": actor_options(
            service, num_cpus=service.num_cpus, num_gpus=service.num_gpus
        ),
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
    """Serve options of the front's Ingress deployment: no CPU reserved, many at once."""
    return {
        "num_replicas": service.ingress_replicas,
        "ray_actor_options": actor_options(service, num_cpus=0),
        "max_ongoing_requests": INGRESS_MAX_ONGOING,
    }


def build_painter_app(settings: Settings) -> Application:
    """The Painter application: Serve's proxy sends each POST /v1/stylize straight to one of
    its replicas, which reads the form and paints (deploy it at STYLIZE_PATH)."""
    painter = serve.deployment(name="Painter", **painter_options(settings.service))(Painter)
    return painter.bind(settings)


def build_front_app(settings: Settings, painter_app: str = PAINTER_APP_NAME) -> Application:
    """The front application (deploy it at "/"): /healthz, /v1/presets and the JSON 404/405s;
    its /healthz counts the running replicas of the Painter application `painter_app`."""
    ingress = serve.deployment(name="Ingress", **ingress_options(settings.service))(Ingress)
    return ingress.bind(settings, painter_app)


def run_service(settings: Settings, prefix: str = "", name: str = APP_NAME) -> None:
    """Deploy both applications (Serve must be started): the painters at prefix/v1/stylize,
    named `name`-painters, and the front at prefix (or "/"), named `name`."""
    painter_app = f"{name}-painters"
    serve.run(
        build_painter_app(settings), name=painter_app, route_prefix=prefix + STYLIZE_PATH
    )
    serve.run(build_front_app(settings, painter_app), name=name, route_prefix=prefix or "/")


def delete_service(name: str = APP_NAME) -> None:
    """Remove both applications deployed by `run_service(..., name=name)`."""
    serve.delete(name)
    serve.delete(f"{name}-painters")


def settings_from_args(args: Mapping[str, Any] | None) -> Settings:
    """Settings from a Serve config's args: `config` names the settings file (else
    $STYLEBOT_CONFIG, else the defaults); any other arg overrides that [service] setting."""
    values = dict(args or {})
    settings = load_settings(values.pop("config", None) or None)
    return override(settings, "service", values)


def build(args: Mapping[str, Any] | None = None) -> Application:
    """The front application's builder for Ray's `serve run` / `serve deploy`
    (deploy/serve.yaml); `painter_app` names the Painter application (default
    stylebot-painters), the other args are as for `build_painters`."""
    values = dict(args or {})
    painter_app = str(values.pop("painter_app", PAINTER_APP_NAME))
    return build_front_app(settings_from_args(values), painter_app)


def build_painters(args: Mapping[str, Any] | None = None) -> Application:
    """The Painter application's builder for Ray's `serve run` / `serve deploy`."""
    return build_painter_app(settings_from_args(args))


def start_serve(service: ServiceSettings, port: int | None = None) -> None:
    """Start Serve (controller and HTTP ingress: HAProxy, or Serve's Python proxies) as
    [service] says (on `port` if given) unless this cluster runs it already; its own answers
    are the API's JSON sentences (bot.service.proxy)."""
    serve.start(
        http_options={"host": service.host, "port": service.port if port is None else port},
        proxy_location=service.proxy_location,
        controller_options=controller_options(service.ingress, service.control_loop_interval),
    )
