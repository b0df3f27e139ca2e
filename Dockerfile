# Multi-stage: the SDK builds, the slim ASP.NET runtime runs as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY Directory.Build.props Directory.Packages.props PostService.sln ./
COPY src/PostService/PostService.csproj src/PostService/
RUN dotnet restore src/PostService/PostService.csproj
COPY src/ src/
RUN dotnet publish src/PostService/PostService.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The data volume: compliance.db (with its -wal and -shm files, and the backups migrations make beside it) lives in
# /data, owned by the unprivileged 'app' user the base image provides. Mount a volume or a host folder there.
RUN mkdir -p /data && chown app:app /data
VOLUME /data
USER app
# JSON log lines for log collectors (Logging__Console__FormatterName=simple for plain text).
ENV ASPNETCORE_URLS=http://+:8080 \
    PostService__Database__Path=/data/compliance.db \
    Logging__Console__FormatterName=json
EXPOSE 8080
# Ready when the database answers (GET /readyz), asked by the service's own executable: the image needs no curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["dotnet", "postservice.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "postservice.dll"]
