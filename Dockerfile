# Retour for scaled mode (docker-compose.yml): one image, run as `web`, `worker` or a command (`migrate`, `demo seed`).
# The same processes scripts/cluster.sh starts on one machine; the variables are those of docs/configuration.md.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# The console's Chart.js is vendored from npm (with its lockfile) at build time.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN dotnet publish src/Retour/Retour.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# Fonts for return labels (Latin, Cyrillic, Arabic, Korean); curl for the health checks.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-core fonts-nanum fonts-dejavu-core curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
RUN useradd --system --uid 10001 retour && mkdir -p /data && chown retour /data
USER retour
ENV RETOUR_URLS=http://0.0.0.0:8080 \
    RETOUR_DATA_DIR=/data \
    RETOUR_LOG_FORMAT=json \
    RETOUR_MIGRATE_ON_START=false \
    RETOUR_SHUTDOWN_DELAY_MS=5000
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["dotnet", "retour.dll"]
CMD ["web"]
