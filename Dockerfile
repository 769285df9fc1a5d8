# syntax=docker/dockerfile:1
# stylebot: the Discord bot, with its model files and preset paintings baked in so that the
# container starts without reaching the internet. Needs BuildKit (the default since Docker 23).
#
#   docker build -t stylebot .                                # models/presets from the official URLs
#   docker build --build-context mirror=../shared -t stylebot .   # ... or from a local mirror
#   docker build --build-arg EXTRAS=hub -t stylebot .         # with the hub engine (TensorFlow)
#   docker run -e DISCORD_TOKEN=... -v stylebot-data:/data stylebot

# --- build the stylebot wheel from the source (pyproject.toml, README.md, bot/) ---
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- the offline mirror: this stage has no models/ or presets/ folder, so `stylebot download`
# fetches everything; `--build-context mirror=DIR` replaces it with DIR (models/<official file>,
# presets/<slug>.jpg), from which the files the catalog names are copied into the cache and
# verified instead (nothing else of DIR enters the image) ---
FROM python:3.11-slim-bookworm AS mirror

# --- the image ---
FROM python:3.11-slim-bookworm

# "" = the lite engine only; "hub" adds the hub engine's TensorFlow (stylebot[hub]).
ARG EXTRAS=""

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1 \
    STYLEBOT_CACHE_DIR=/opt/stylebot/cache \
    STYLEBOT_DATA_DIR=/data

# The dependencies are pinned, each to one version and its SHA-256 hashes, by requirements.lock
# (requirements-hub.lock with EXTRAS=hub), generated from pyproject.toml by the command at the
# top of the file; the wheel is the project itself; `pip check` proves the pins satisfy it.
RUN --mount=type=bind,source=.,target=/context \
    --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --require-hashes --no-deps \
        -r "/context/requirements${EXTRAS:+-$EXTRAS}.lock" \
    && pip install --no-cache-dir --no-deps /wheels/stylebot-*.whl \
    && pip check

# Model files and preset images, read-only at run time: `stylebot download` fetches what the
# default engine and the built-in presets need, copying what the mirror has into the cache.
# OpenVINO's compile cache and the style vector cache live under the cache dir too: they are
# skipped when it is not writable.
RUN --mount=type=bind,from=mirror,target=/mirror \
    STYLEBOT_MIRROR=/mirror stylebot download --into-cache \
    && chmod -R u=rwX,go=rX /opt/stylebot

# An unprivileged user whose only writable place is the data volume (SQLite store of the
# servers' own presets).
RUN useradd --system --no-log-init --uid 10001 --user-group --home-dir /data \
        --shell /usr/sbin/nologin stylebot \
    && mkdir -p /data \
    && chown stylebot:stylebot /data \
    && chmod 700 /data

VOLUME ["/data"]
WORKDIR /data
USER 10001:10001

# The token comes from the environment at run time (docker run -e DISCORD_TOKEN=...).
CMD ["stylebot", "run"]
