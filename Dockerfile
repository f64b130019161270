# The one image for the worker, the API and the publisher (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY corridor ./corridor
COPY stations ./stations
COPY streams ./streams
COPY api ./api
RUN pip install --no-cache-dir .
ENTRYPOINT ["corridor"]
