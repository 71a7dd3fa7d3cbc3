# dbtool as a container: small, non-root, migrations included, `dbtool` as the entrypoint.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dbtool ./dbtool
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 dbtool
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER dbtool
WORKDIR /home/dbtool
ENTRYPOINT ["dbtool"]
CMD ["--help"]
