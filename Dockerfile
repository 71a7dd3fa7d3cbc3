# dbtool as a container: small, non-root, migrations included, `dbtool` as the entrypoint.
# Build: docker build -t dbtool .    Run: docker run --rm -e DATABASE_URL=... dbtool reset --yes
# PYTHON_IMAGE swaps the base where python:3.12-slim cannot be pulled (scripts/containers.sh builds
# dbtool-local/python:3.11 from Debian packages): docker build --build-arg PYTHON_IMAGE=... -t dbtool .
ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dbtool ./dbtool
# The wheel carries the Alembic environment as dbtool/migrations (hatch force-include in pyproject.toml).
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
# Numeric, fixed ids so Kubernetes can check runAsNonRoot and deploy/k8s/cronjob.yaml can match them.
RUN groupadd --gid 10001 dbtool && useradd --create-home --uid 10001 --gid 10001 dbtool
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# Bytecode was compiled at install time; never try to write it at run time (read-only root file systems).
ENV PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /home/dbtool
ENTRYPOINT ["dbtool"]
CMD ["--help"]
