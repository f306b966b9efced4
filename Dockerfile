# syntax=docker/dockerfile:1
# The kyoso worker, and the `kyoso` command line of the secretariat, as a non-root image.
#
#   docker build -t kyoso .
#   docker run --rm -e DATABASE_URL=... -e TEMPORAL_ADDRESS=... kyoso            # the worker
#   docker run --rm -e DATABASE_URL=... -e TEMPORAL_ADDRESS=... kyoso kyoso list # the CLI
#
# Configuration is the environment only (infra/settings.py lists every variable). There is no
# HEALTHCHECK here: the worker serves no port, and whether it is healthy (polling its task
# queue in Temporal) depends on the deployment's Temporal settings, so docker-compose.yml
# checks that instead.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/kyoso
WORKDIR /src

# The dependencies first, read from pyproject.toml, so that a code change reuses this layer.
COPY pyproject.toml README* ./
RUN /opt/kyoso/bin/python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', *deps])"

# Then the project itself, non-editable: the package data (migrations, the municipality
# registry, the policies file) is installed with it.
COPY domain/ domain/
COPY eventstore/ eventstore/
COPY activities/ activities/
COPY workflows/ workflows/
COPY infra/ infra/
COPY cli/ cli/
COPY demo/ demo/
COPY bench/ bench/
COPY worker.py starter.py ./
RUN /opt/kyoso/bin/pip install . \
 && cd / && /opt/kyoso/bin/python -c "import worker, starter; \
from eventstore.migrate import discover; from infra.files import load_policies; \
from infra.registry import load_registry; discover(); load_policies(None); load_registry()"

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 kyoso \
 && useradd --system --uid 10001 --gid kyoso --create-home --home-dir /home/kyoso \
            --shell /usr/sbin/nologin kyoso
COPY --from=build /opt/kyoso /opt/kyoso
ENV PATH=/opt/kyoso/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KYOSO_LOG_FORMAT=json
WORKDIR /home/kyoso
USER 10001:10001
# The worker shuts down gracefully on SIGTERM, finishing the activities under way.
STOPSIGNAL SIGTERM
CMD ["kyoso-worker"]
