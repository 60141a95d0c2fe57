# The Veiviser image: every service and worker runs `veiviser <command>` from it (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY veiviser ./veiviser
COPY infra ./infra
COPY geo ./geo
COPY events ./events
COPY streams ./streams
COPY services ./services
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT ["veiviser"]
CMD ["--help"]
