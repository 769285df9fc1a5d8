# syntax=docker/dockerfile:1
# stylebot: the Discord bot, with its model files and preset paintings baked in so that the
# container starts without reaching the internet. Needs BuildKit (the default since Docker 23).
#
#   docker build -t stylebot .                                # models/presets from the official URLs
#   docker build --build-context mirror=../shared -t stylebot .   # ... or from a local mirror
#   docker run -e DISCORD_TOKEN=... -v stylebot-data:/data stylebot

# --- build the stylebot wheel from the source (pyproject.toml, README.md, bot/) ---
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- the offline mirror: this stage has no models/ or presets/ folder, so `stylebot download`
# fetches everything; `--build-context mirror=DIR` replaces it with DIR (models/<official file>,
# presets/<slug>.jpg), whose files are copied into the cache and verified instead ---
FROM python:3.11-slim-bookworm AS mirror

# --- the image ---
FROM python:3.11-slim-bookworm

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1 \
    STYLEBOT_CACHE_DIR=/opt/stylebot/cache \
    STYLEBOT_DATA_DIR=/data

# The wheel is the project itself; its dependencies are pinned by pyproject.toml's ranges.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/stylebot-*.whl

# Model files and preset images, read-only at run time. OpenVINO's compile cache and the style
# vector cache live under the cache dir too: they are skipped when it is not writable.
RUN --mount=type=bind,from=mirror,target=/mirror \
    set -eu; \
    mkdir -p "$STYLEBOT_CACHE_DIR"; \
    for folder in models presets; do \
        if [ -d "/mirror/$folder" ]; then cp -R "/mirror/$folder" "$STYLEBOT_CACHE_DIR/"; fi; \
    done; \
    stylebot download; \
    chmod -R u=rwX,go=rX /opt/stylebot

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
