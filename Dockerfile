# Cairn's intake server (docker-compose.yml; docs/operators.md).
#
# Runs as an unprivileged user and works with a read-only root filesystem: the instance (config,
# secrets and, by default, the SQLite database) lives on a volume at /data/instance, bundles from
# `intake export` on one at /data/exports, and /tmp should be a small tmpfs (docker-compose.yml
# mounts one). Cairn never writes a plaintext tip anywhere (DESIGN.md I1); Python and gunicorn
# only keep small control files in TMPDIR.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 cairn \
    && useradd --system --uid 10001 --gid cairn --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin cairn

# The project only, without the dev extras; .dockerignore keeps everything else out.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY keys ./keys
COPY intake ./intake
COPY review ./review
RUN pip install . && rm -rf /build

# /run/cairn-onion receives tor's onion addresses (read-only here) for `intake check`.
RUN install -d -o cairn -g cairn -m 700 /data/instance /data/exports \
    && install -d -m 1777 /run/cairn-onion

WORKDIR /data
USER 10001:10001
ENV CAIRN_INSTANCE=/data/instance \
    TMPDIR=/tmp
EXPOSE 8080

# From inside the container only: the stylesheet every source page already loads, over
# loopback. No route exists for it beyond the normal pages.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/static/style.css', timeout=8)"]

# --proxy-protocol: tor sends each connection's circuit id (HiddenServiceExportCircuitID
# haproxy); CAIRN_PROXY_ALLOW_IPS names tor's address (docker-compose.yml sets it).
CMD ["intake", "serve", "--instance", "/data/instance", "--host", "0.0.0.0", "--port", "8080", \
     "--threads", "32", "--proxy-protocol"]
