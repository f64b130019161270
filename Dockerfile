# The one image for the worker, the API, the migrations and the publisher (docker-compose.yml).
# Two stages: the first installs the project into a virtual environment at the versions locked in
# requirements/constraints.txt (the same lock CI installs from), without the `broker` extra: a
# deployment talks to Apache Kafka, not to the embedded development broker. The second copies
# that environment onto a clean base and runs it as an unprivileged user.
FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/corridor
WORKDIR /src
COPY requirements/constraints.txt requirements/constraints.txt
COPY pyproject.toml README.md ./
COPY corridor ./corridor
COPY stations ./stations
COPY streams ./streams
COPY api ./api
RUN /opt/corridor/bin/pip install -c requirements/constraints.txt .

FROM python:3.11.13-slim-bookworm
ENV PATH=/opt/corridor/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 corridor \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/corridor corridor
COPY --from=build /opt/corridor /opt/corridor
USER 10001:10001
WORKDIR /home/corridor
ENTRYPOINT ["corridor"]
CMD ["--help"]
